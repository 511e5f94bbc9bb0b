"""Change sets, execution and stack events through boto3: what ``diff`` and ``deploy`` do.

The calls are those of ``aws cloudformation deploy``: a change set (CREATE when the
stack does not exist, UPDATE otherwise) with ``CAPABILITY_IAM``, Parameters not given
kept with ``UsePreviousValue``, then ``ExecuteChangeSet``. boto3 is an optional extra
(``infra-gen[deploy]``) and is imported only here, when a command needs it;
credentials come from boto3's usual chain, the Region as the AWS CLI reads it
(:data:`REGION_VARIABLES`, then the profile).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..template.budget import INLINE_TEMPLATE_LIMIT

__all__ = [
    "EXTRA",
    "INLINE_LIMIT",
    "Change",
    "Clients",
    "DeployError",
    "Event",
    "InputError",
    "Preview",
    "client",
    "discard",
    "execute",
    "first_failure",
    "outputs",
    "parameters_for",
    "preview",
    "region_source",
    "template_source",
    "watch",
]

EXTRA = "infra-gen[deploy]"
# From a clone: the extra is not on a package index.
INSTALL_HINT = ".venv/bin/pip install -e '.[deploy]'"
# The AWS CLI's order; boto3 alone reads only the second.
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
# CloudFormation's limit for TemplateBody; a larger template must come from S3.
INLINE_LIMIT = INLINE_TEMPLATE_LIMIT
# The AWS CLI's words for the same refusal.
TOO_LARGE = (
    "Templates with a size greater than 51,200 bytes must be deployed via an S3 Bucket. "
    "Please add the --s3-bucket parameter to your command."
)
# Real CloudFormation fails the change set with the first; some endpoints answer the
# CreateChangeSet call itself with the second.
NO_CHANGES = (
    "The submitted information didn't contain changes",
    "No updates are to be performed",
)
CAPABILITIES = ("CAPABILITY_IAM",)
CHANGE_SET_PREFIX = "infra-gen-"
# A stack in these states cannot take a change set; the message says what to do.
_BLOCKED = {
    "ROLLBACK_COMPLETE": "it failed to create and must be deleted first: "
    "aws cloudformation delete-stack --stack-name {name}",
    "ROLLBACK_FAILED": "it failed to create and to roll back; delete it first: "
    "aws cloudformation delete-stack --stack-name {name}",
    "UPDATE_ROLLBACK_FAILED": "continue the rollback first: "
    "aws cloudformation continue-update-rollback --stack-name {name}",
    "DELETE_FAILED": "delete it first: aws cloudformation delete-stack --stack-name {name}",
}

Sleep = Callable[[float], None]


class DeployError(Exception):
    """What stopped a command, in one line; the command exits non-zero."""


class InputError(DeployError):
    """The user's input is wrong (exit status 2)."""


def one_line(text: str) -> str:
    """``text`` with its line breaks and other control characters escaped."""
    return re.sub("[\x00-\x1f\x7f-\x9f\u2028\u2029]", lambda m: repr(m[0])[1:-1], text)


def region_source(environ: Mapping[str, str] = os.environ) -> tuple[str, str] | None:
    """(Region, the variable it came from) when the environment names one."""
    for name in REGION_VARIABLES:
        if environ.get(name):
            return environ[name], name
    return None


def _check_environment(environ: Mapping[str, str]) -> None:
    """What botocore would fail on with a traceback, refused in one line naming it."""
    for name in sorted(environ):
        if name != "AWS_ENDPOINT_URL" and not name.startswith("AWS_ENDPOINT_URL_"):
            continue
        value = environ[name]
        try:
            url = urllib.parse.urlsplit(value)
            url.port  # noqa: B018 - raises on a port that is not a number
            ok = url.scheme in ("http", "https") and bool(url.hostname)
        except ValueError:
            ok = False
        if not ok:
            raise InputError(
                f"{name}={one_line(repr(value))}: not an endpoint URL; expected "
                "e.g. http://localhost:5000 or https://cloudformation.us-east-1"
                ".amazonaws.com"
            )
    attempts = environ.get("AWS_MAX_ATTEMPTS")
    if attempts is not None and not (attempts.strip().isdigit() and int(attempts) >= 1):
        raise InputError(
            f"AWS_MAX_ATTEMPTS={one_line(repr(attempts))}: expected an integer of at least 1"
        )


class Clients:
    """service -> boto3 client, from one session made on first use.

    The Region is the AWS CLI's: ``AWS_REGION``, then ``AWS_DEFAULT_REGION``, then the
    profile's (``AWS_PROFILE``, else the default profile).
    """

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        self._environ = environ
        self._session: Any = None
        self._clients: dict[str, Any] = {}

    def _make_session(self) -> Any:
        try:
            import boto3
            from botocore.exceptions import BotoCoreError
        except ImportError:
            raise DeployError(
                f"boto3 is not installed; install it, or the deploy extra (from a clone: "
                f"{INSTALL_HINT})"
            ) from None
        _check_environment(self._environ)
        found = region_source(self._environ)
        try:
            session = boto3.session.Session(region_name=found[0] if found else None)
        except BotoCoreError as e:  # e.g. a profile that does not exist
            raise InputError(one_line(str(e))) from None
        if not session.region_name:
            raise InputError(
                "no AWS Region: set AWS_REGION (or AWS_DEFAULT_REGION), or use a profile "
                "(AWS_PROFILE) that sets region"
            )
        return session

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            if self._session is None:
                self._session = self._make_session()
            try:
                self._clients[service] = self._session.client(service)
            except Exception as e:  # botocore's errors, and its ValueErrors
                found = region_source(self._environ)
                where = f" (Region {found[0]!r} from {found[1]})" if found else ""
                raise InputError(
                    f"cannot make the AWS {service} client{where}: {one_line(str(e))}"
                ) from None
        return self._clients[service]


def client(service: str) -> Any:
    """A boto3 client, as :class:`Clients` makes it."""
    return Clients()(service)


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _message(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Message", error))


# --------------------------------------------------------------------------------------
# What goes into the change set.
# --------------------------------------------------------------------------------------


def template_source(
    text: str, *, s3_bucket: str | None, s3_prefix: str | None, s3: Callable[[], Any]
) -> dict[str, str]:
    """``TemplateBody``, or ``TemplateURL`` after an upload, as the AWS CLI decides.

    As ``aws cloudformation deploy --s3-bucket`` does, the object is named by the MD5 of
    its content plus ``.template``, so an unchanged template is not uploaded twice.
    """
    data = text.encode()
    if s3_bucket is None:
        if len(data) > INLINE_LIMIT:
            raise InputError(TOO_LARGE)
        return {"TemplateBody": text}
    key = hashlib.md5(data, usedforsecurity=False).hexdigest() + ".template"
    if s3_prefix:
        key = f"{s3_prefix.strip('/')}/{key}"
    bucket = s3()
    bucket.put_object(Bucket=s3_bucket, Key=key, Body=data)
    region = bucket.meta.region_name
    return {"TemplateURL": f"https://s3.{region}.amazonaws.com/{s3_bucket}/{key}"}


def parameters_for(
    declared: Sequence[str], overrides: Mapping[str, str], previous: Collection[str] | None
) -> list[dict[str, Any]]:
    """The change set's Parameters: overrides, else the stack's previous value, else default.

    ``previous`` is None for a new stack. An override the template does not declare is
    refused here, before any call.
    """
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise InputError(
            f"--parameter {unknown[0]}: not a Parameter of the template; "
            f"allowed: {', '.join(sorted(declared))}"
        )
    result: list[dict[str, Any]] = []
    for name in sorted(declared):
        if name in overrides:
            result.append({"ParameterKey": name, "ParameterValue": overrides[name]})
        elif previous is not None and name in previous:
            result.append({"ParameterKey": name, "UsePreviousValue": True})
    return result


# --------------------------------------------------------------------------------------
# The preview: a change set, read and (for diff, or when declined) deleted.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One resource change of a change set."""

    action: str
    """Add, Modify, Remove, Import or Dynamic."""
    logical_id: str
    resource_type: str
    physical_id: str
    replacement: str
    """True, Conditional or False for Modify; empty otherwise."""
    causes: tuple[str, ...]
    """Properties (or attributes) whose change causes this one, replacement first."""

    @property
    def replaces(self) -> bool:
        return self.replacement in ("True", "Conditional")


@dataclass(frozen=True)
class Preview:
    stack_name: str
    change_set_id: str
    change_set_type: str
    """CREATE (the stack does not exist yet) or UPDATE."""
    changes: tuple[Change, ...]
    last_event_id: str
    """The stack's newest event before the change set: the events of a run follow it."""
    previous: Mapping[str, str] = field(default_factory=dict)
    """The existing stack's Parameter values (empty for a new stack)."""


def stack_status(cfn: Any, stack_name: str) -> tuple[str, dict[str, str]] | None:
    """(status, Parameter values by name) of the stack, or None when it does not exist."""
    try:
        (stack,) = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except cfn.exceptions.ClientError as e:
        if _code(e) == "ValidationError" and "does not exist" in _message(e):
            return None
        raise
    values = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    return stack["StackStatus"], values


def _newest_event_id(cfn: Any, stack_name: str) -> str:
    events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    return str(events[0]["EventId"]) if events else ""


def _changes(cfn: Any, change_set_id: str, first: Mapping[str, Any]) -> Iterator[Change]:
    page: Mapping[str, Any] = first
    while True:
        for item in page.get("Changes", []):
            rc = item.get("ResourceChange")
            if rc is None:
                continue
            details = rc.get("Details", [])
            forced = [
                d
                for d in details
                if d.get("Target", {}).get("RequiresRecreation") in ("Always", "Conditionally")
            ]
            names = []
            for d in [*forced, *details]:
                name = d.get("Target", {}).get("Name") or d.get("Target", {}).get("Attribute")
                if name and name not in names:
                    names.append(name)
            yield Change(
                action=rc.get("Action", ""),
                logical_id=rc.get("LogicalResourceId", ""),
                resource_type=rc.get("ResourceType", ""),
                physical_id=rc.get("PhysicalResourceId", ""),
                replacement=rc.get("Replacement", "") if rc.get("Action") == "Modify" else "",
                causes=tuple(names),
            )
        token = page.get("NextToken")
        if not token:
            return
        page = cfn.describe_change_set(ChangeSetName=change_set_id, NextToken=token)


def preview(
    cfn: Any,
    stack_name: str,
    source: Mapping[str, str],
    declared: Sequence[str],
    overrides: Mapping[str, str],
    *,
    sleep: Sleep = time.sleep,
    interval: float = 2.0,
    timeout: float = 600.0,
) -> Preview:
    """Create a change set for the template and read its changes.

    No changes gives an empty ``changes`` and no change set left behind. Otherwise the
    caller executes the change set or hands it to :func:`discard`.
    """
    found = stack_status(cfn, stack_name)
    if found is not None and found[0] in _BLOCKED:
        status = found[0]
        raise DeployError(
            f"stack {stack_name} is {status}: " + _BLOCKED[status].format(name=stack_name)
        )
    if found is not None and found[0].endswith("_IN_PROGRESS") and found[0] != "REVIEW_IN_PROGRESS":
        raise DeployError(
            f"stack {stack_name} is {found[0]}: wait for it to finish "
            f"(aws cloudformation describe-stack-events --stack-name {stack_name})"
        )
    # A stack that only ever had a change set (REVIEW_IN_PROGRESS) is created, as the CLI does.
    exists = found is not None and found[0] != "REVIEW_IN_PROGRESS"
    change_set_type = "UPDATE" if exists else "CREATE"
    previous = found[1] if exists and found else {}
    parameters = parameters_for(declared, overrides, previous if exists else None)
    name = f"{CHANGE_SET_PREFIX}{time.strftime('%Y%m%d%H%M%S', time.gmtime())}"
    try:
        created = cfn.create_change_set(
            StackName=stack_name,
            ChangeSetName=name,
            ChangeSetType=change_set_type,
            Parameters=parameters,
            Capabilities=list(CAPABILITIES),
            Description="Created by infra-gen",
            **source,
        )
    except cfn.exceptions.ClientError as e:
        if any(m in _message(e) for m in NO_CHANGES):
            return Preview(stack_name, "", change_set_type, (), "", previous)
        if _code(e) == "ValidationError":
            raise InputError(_message(e)) from None
        raise
    change_set_id = created["Id"]
    deadline = time.monotonic() + timeout
    try:
        while True:
            described = cfn.describe_change_set(ChangeSetName=change_set_id)
            status = described["Status"]
            if status == "CREATE_COMPLETE":
                break
            if status == "FAILED":
                reason = described.get("StatusReason", "")
                if any(m in reason for m in NO_CHANGES):
                    discard(cfn, Preview(stack_name, change_set_id, change_set_type, (), ""))
                    return Preview(stack_name, "", change_set_type, (), "", previous)
                raise DeployError(f"change set failed: {reason}")
            if time.monotonic() > deadline:
                raise DeployError(f"change set still {status} after {timeout:.0f} s")
            sleep(interval)
        changes = tuple(_changes(cfn, change_set_id, described))
    except BaseException:
        # Ctrl-C or an error while waiting: leave nothing behind.
        discard(cfn, Preview(stack_name, change_set_id, change_set_type, (), ""))
        raise
    return Preview(
        stack_name,
        change_set_id,
        change_set_type,
        changes,
        _newest_event_id(cfn, stack_name),
        previous,
    )


def discard(cfn: Any, p: Preview) -> None:
    """Delete the change set, and the empty stack a CREATE change set made."""
    if p.change_set_id:
        try:
            cfn.delete_change_set(ChangeSetName=p.change_set_id)
        except cfn.exceptions.ClientError:
            pass  # already gone: nothing is left to clean up
    if p.change_set_type == "CREATE":
        found = stack_status(cfn, p.stack_name)
        if found is not None and found[0] == "REVIEW_IN_PROGRESS":
            cfn.delete_stack(StackName=p.stack_name)


# --------------------------------------------------------------------------------------
# Execution and its events.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    event_id: str
    timestamp: datetime
    logical_id: str
    resource_type: str
    status: str
    reason: str

    @property
    def is_stack(self) -> bool:
        return self.resource_type == "AWS::CloudFormation::Stack"


def execute(cfn: Any, p: Preview) -> None:
    """Execute the change set; when CloudFormation refuses, what this left is cleaned up
    (a new stack's change set and empty stack) or named with how to delete it."""
    try:
        cfn.execute_change_set(ChangeSetName=p.change_set_id, StackName=p.stack_name)
    except cfn.exceptions.ClientError as e:
        reason = one_line(_message(e))
        if p.change_set_type == "CREATE":
            discard(cfn, p)
            raise DeployError(
                f"cannot execute the change set: {reason}; deleted it and the "
                f"empty stack {p.stack_name} it made"
            ) from None
        raise DeployError(
            f"cannot execute the change set: {reason}; stack {p.stack_name} is unchanged; its "
            f"change set is left: aws cloudformation delete-change-set --change-set-name "
            f"{p.change_set_id} deletes it"
        ) from None


def left_behind(p: Preview, status: str) -> str:
    """What a run that ended in ``status`` left, and how to clear it."""
    name = p.stack_name
    if status in _BLOCKED:
        return f"stack {name} is left {status}: " + _BLOCKED[status].format(name=name)
    if status == "UPDATE_ROLLBACK_COMPLETE":
        return f"stack {name} is rolled back to its previous template; nothing is left to delete"
    return f"stack {name} is left {status}"


def _events_since(cfn: Any, stack_name: str, last_id: str) -> list[Event]:
    """Events newer than ``last_id``, oldest first (the API lists newest first)."""
    found: list[Event] = []
    kwargs: dict[str, str] = {"StackName": stack_name}
    while True:
        page = cfn.describe_stack_events(**kwargs)
        for e in page["StackEvents"]:
            if e["EventId"] == last_id:
                return found[::-1]
            found.append(
                Event(
                    event_id=e["EventId"],
                    timestamp=e["Timestamp"],
                    logical_id=e.get("LogicalResourceId", ""),
                    resource_type=e.get("ResourceType", ""),
                    status=e.get("ResourceStatus", ""),
                    reason=e.get("ResourceStatusReason", ""),
                )
            )
        if not page.get("NextToken"):
            return found[::-1]
        kwargs["NextToken"] = page["NextToken"]


def watch(
    cfn: Any,
    p: Preview,
    on_event: Callable[[Event], None],
    on_tick: Callable[[], None],
    *,
    sleep: Sleep = time.sleep,
    interval: float = 2.0,
) -> str:
    """Report the run's events until the stack settles; return its final status.

    Only watching: an interrupt (KeyboardInterrupt) stops this loop, never the stack.
    """
    last = p.last_event_id
    while True:
        status = cfn.describe_stacks(StackName=p.stack_name)["Stacks"][0]["StackStatus"]
        events = _events_since(cfn, p.stack_name, last)
        for event in events:
            on_event(event)
        if events:
            last = events[-1].event_id
        if not status.endswith("_IN_PROGRESS"):
            return str(status)
        on_tick()
        sleep(interval)


_CANCELLED = ("Resource creation cancelled", "Resource update cancelled")


def first_failure(events: Sequence[Event]) -> Event | None:
    """The resource that failed first: the cause, not the cancellations that follow it."""
    failed = [e for e in events if e.status.endswith("_FAILED") and not e.is_stack]
    causes = [e for e in failed if not any(e.reason.startswith(c) for c in _CANCELLED)]
    if causes or failed:
        return (causes or failed)[0]
    stacks = [e for e in events if e.status.endswith("_FAILED") or "ROLLBACK" in e.status]
    return next((e for e in stacks if e.reason), None)


def outputs(cfn: Any, stack_name: str) -> dict[str, str]:
    (stack,) = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
