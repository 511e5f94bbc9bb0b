"""Change sets, execution and stack events: what ``diff`` and ``deploy`` do.

The calls are those of ``aws cloudformation deploy``: a change set (CREATE when the
stack does not exist, UPDATE otherwise) with ``CAPABILITY_IAM``, Parameters not given
kept with ``UsePreviousValue``, then ``ExecuteChangeSet``. The clients come from the
caller (:class:`infra_gen.deploy.aws.Clients`).
"""

from __future__ import annotations

import hashlib
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import DeployError, UsageError, one_line
from ..template.budget import INLINE_TEMPLATE_LIMIT
from .aws import error_code, error_message
from .parameters import parameters_for
from .recovery import recovery

__all__ = [
    "INLINE_LIMIT",
    "Change",
    "Event",
    "Preview",
    "discard",
    "execute",
    "first_failure",
    "fits_inline",
    "left_behind",
    "outputs",
    "preview",
    "describe_stack",
    "newest_event_id",
    "read_changes",
    "stack_status",
    "template_source",
    "watch",
]

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


def fits_inline(body: str | int) -> bool:
    """Whether a template (its text, or its size in bytes) fits in a request as
    ``TemplateBody``: at most :data:`INLINE_LIMIT` bytes. A larger one must come from S3."""
    size = body if isinstance(body, int) else len(body.encode("utf-8"))
    return size <= INLINE_LIMIT


# --------------------------------------------------------------------------------------
# What goes into the change set.
# --------------------------------------------------------------------------------------


def template_source(
    text: str, *, s3_bucket: str | None, s3_prefix: str | None, s3: Callable[[], Any]
) -> dict[str, str]:
    """``TemplateBody``, or ``TemplateURL`` after an upload, as the AWS CLI decides.

    Args:
        text: the template as sent. Default: required.
        s3_bucket: upload to this bucket; None sends ``text`` in the request. Default: required.
        s3_prefix: key prefix in ``s3_bucket``. Default: required (None for none).
        s3: makes the S3 client, called only for an upload. Default: required.

    Returns:
        CreateChangeSet's template arguments. The object is named as ``aws cloudformation
        deploy`` names it, the MD5 of its content plus ``.template``; its key is
        percent-encoded in the URL.

    Raises:
        UsageError: over the request limit without ``s3_bucket``, in the AWS CLI's words.
    """
    data = text.encode()
    if s3_bucket is None:
        if not fits_inline(len(data)):
            raise UsageError(TOO_LARGE)
        return {"TemplateBody": text}
    key = hashlib.md5(data, usedforsecurity=False).hexdigest() + ".template"
    if s3_prefix:
        key = f"{s3_prefix.strip('/')}/{key}"
    bucket = s3()
    bucket.put_object(Bucket=s3_bucket, Key=key, Body=data)
    region = bucket.meta.region_name
    # The key percent-encoded: a "#", "?" or space in --s3-prefix names this key still.
    path = urllib.parse.quote(f"{s3_bucket}/{key}", safe="/")
    return {"TemplateURL": f"https://s3.{region}.amazonaws.com/{path}"}


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
        """Whether the change may replace the live resource."""
        return self.replacement in ("True", "Conditional")


@dataclass(frozen=True)
class Preview:
    """A change set as read (or none, when there was nothing to change)."""

    stack_name: str
    change_set_id: str
    change_set_type: str
    """CREATE (the stack does not exist yet) or UPDATE."""
    changes: tuple[Change, ...]
    last_event_id: str
    """The stack's newest event before the change set: the events of a run follow it."""
    previous: Mapping[str, str] = field(default_factory=dict)
    """The existing stack's Parameter values (empty for a new stack)."""


def describe_stack(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    """The stack as DescribeStacks answers, or None when it does not exist."""
    try:
        (stack,) = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except cfn.exceptions.ClientError as e:
        if error_code(e) == "ValidationError" and "does not exist" in error_message(e):
            return None
        raise
    return dict(stack)


def stack_status(cfn: Any, stack_name: str) -> tuple[str, dict[str, str]] | None:
    """(status, Parameter values by name) of the stack, or None when it does not exist."""
    stack = describe_stack(cfn, stack_name)
    if stack is None:
        return None
    values = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    return stack["StackStatus"], values


def newest_event_id(cfn: Any, stack_name: str) -> str:
    """The ID of the stack's newest event; empty when it has none."""
    events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    return str(events[0]["EventId"]) if events else ""


def read_changes(cfn: Any, change_set_id: str, first: Mapping[str, Any]) -> Iterator[Change]:
    """Each resource change of a change set, from its first DescribeChangeSet page on.

    Args:
        cfn: the CloudFormation client, for the next pages. Default: required.
        change_set_id: the change set's ARN. Default: required.
        first: DescribeChangeSet's first answer. Default: required.
    """
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
    on_failure: str | None = None,
) -> Preview:
    """Create a change set for the template and read its changes.

    Args:
        cfn: the CloudFormation client. Default: required.
        stack_name: the stack, new or existing. Default: required.
        source: :func:`template_source`'s answer. Default: required.
        declared: the template's Parameter names. Default: required.
        overrides: ``--parameter`` values; the others keep the stack's. Default: required.
        sleep, interval, timeout: how to wait for the change set. Default: 2 s, 600 s.
        on_failure: a new stack's ``OnStackFailure`` (:mod:`.recovery`); ignored for an
            update, which CloudFormation always rolls back. Default: None, CloudFormation's.

    Returns:
        The preview; no changes leaves no change set. Else the caller executes or discards it.

    Raises:
        DeployError: a stack that cannot take a change set, or a change set that failed.
        UsageError: CloudFormation refused the template or a Parameter (ValidationError).
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
    # CreateChangeSet takes OnStackFailure for CREATE change sets only.
    failure = {"OnStackFailure": on_failure} if on_failure and change_set_type == "CREATE" else {}
    try:
        created = cfn.create_change_set(
            StackName=stack_name,
            ChangeSetName=name,
            ChangeSetType=change_set_type,
            Parameters=parameters,
            Capabilities=list(CAPABILITIES),
            Description="Created by infra-gen",
            **failure,
            **source,
        )
    except cfn.exceptions.ClientError as e:
        if any(m in error_message(e) for m in NO_CHANGES):
            return Preview(stack_name, "", change_set_type, (), "", previous)
        if error_code(e) == "ValidationError":
            raise UsageError(error_message(e)) from None
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
        changes = tuple(read_changes(cfn, change_set_id, described))
    except BaseException:
        # Ctrl-C or an error while waiting: leave nothing behind.
        discard(cfn, Preview(stack_name, change_set_id, change_set_type, (), ""))
        raise
    return Preview(
        stack_name,
        change_set_id,
        change_set_type,
        changes,
        newest_event_id(cfn, stack_name),
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
    """One stack event of a run."""

    event_id: str
    timestamp: datetime
    logical_id: str
    resource_type: str
    status: str
    reason: str

    @property
    def is_stack(self) -> bool:
        """Whether the event is the stack's own, not a resource's."""
        return self.resource_type == "AWS::CloudFormation::Stack"


def execute(cfn: Any, p: Preview) -> None:
    """Execute the change set; when CloudFormation refuses, what this left is cleaned up
    (a new stack's change set and empty stack) or named with how to delete it."""
    try:
        cfn.execute_change_set(ChangeSetName=p.change_set_id, StackName=p.stack_name)
    except cfn.exceptions.ClientError as e:
        reason = one_line(error_message(e))
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


def left_behind(p: Preview, status: str, protected: Sequence[str] = ()) -> str:
    """What a run that ended in ``status`` left, and how to clear it (``protected``: the
    load balancers created with deletion protection on, which must have it off first)."""
    name = p.stack_name
    way_out = recovery(name, status, protected)
    if way_out is not None:
        return f"stack {name} is left {status}: {way_out}"
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

    Args:
        cfn: the CloudFormation client. Default: required.
        p: the executed change set's preview. Default: required.
        on_event: hears each new stack event, oldest first. Default: required.
        on_tick: called between polls. Default: required.
        sleep, interval: how to wait between polls. Default: 2 s.

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
    """The stack's Outputs, key -> value."""
    (stack,) = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}
