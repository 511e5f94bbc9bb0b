"""Change sets, execution and stack events: what ``diff`` and ``deploy`` do.

The calls are those of ``aws cloudformation deploy``: a change set (CREATE when the
stack does not exist, UPDATE otherwise) with ``CAPABILITY_IAM``, Parameters not given
kept with ``UsePreviousValue``, then ``ExecuteChangeSet``. The clients come from the
caller (:class:`infra_gen.deploy.aws.Clients`).
"""

from __future__ import annotations

import hashlib
import secrets
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import AfterExecution, DeployError, UsageError, one_line
from ..template.budget import INLINE_TEMPLATE_LIMIT
from .aws import error_code, error_message
from .parameters import parameters_for
from .recovery import recovery

__all__ = [
    "CHANGE_SET_INTERVAL",
    "INLINE_LIMIT",
    "WATCH_INTERVAL",
    "Change",
    "Event",
    "Interrupted",
    "Preview",
    "change_set_name",
    "discard",
    "follow_commands",
    "leftovers",
    "object_url",
    "execute",
    "first_failure",
    "fits_inline",
    "left_behind",
    "outputs",
    "preview",
    "describe_stack",
    "newest_event_id",
    "read_changes",
    "request_token",
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
# How often to ask. `aws cloudformation deploy` polls a change set every 5 s ("should be
# fast") and the executed stack every 30 s ("polling too frequently risks hitting rate
# limits on CloudFormation's DescribeStacks API"). The watch shows progress, so it asks
# more often than the CLI's 30 s, but each poll is two CloudFormation calls (DescribeStacks,
# DescribeStackEvents) plus the ECS follower's, so not every 2 s: 10 s is a fifth of a
# call a second for CloudFormation, and throttling, if it comes, is retried with back-off
# (standard retry mode, deploy/aws.py). ``deploy --poll-interval`` changes it.
CHANGE_SET_INTERVAL = 5.0
WATCH_INTERVAL = 10.0
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


class Interrupted(KeyboardInterrupt):
    """Ctrl-C after this run made something in the account: ``str()`` says what it left
    and the commands to follow or delete it (one line)."""


def change_set_name() -> str:
    """A change-set name of its own: the UTC time to the second and 8 random hex digits,
    so that two runs within a second never collide (``infra-gen-20260102T030405-1a2b3c4d``)."""
    when = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return f"{CHANGE_SET_PREFIX}{when}-{secrets.token_hex(4)}"


def request_token() -> str:
    """A ClientRequestToken for ExecuteChangeSet: the stack's events of this execution
    carry it, which is how :func:`watch` tells them from older ones."""
    return f"{CHANGE_SET_PREFIX}{secrets.token_hex(16)}"


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
    return {"TemplateURL": object_url(bucket, s3_bucket, key)}


def object_url(s3: Any, bucket: str, key: str) -> str:
    """The object's path-style URL on the S3 client's own endpoint (botocore's, so the
    partition's host: ``s3.cn-north-1.amazonaws.com.cn`` in China), its key
    percent-encoded: a ``#``, ``?`` or space in it names this key still."""
    endpoint = str(s3.meta.endpoint_url).rstrip("/")
    return f"{endpoint}/{urllib.parse.quote(f'{bucket}/{key}', safe='/')}"


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
    role_arn: str = ""
    """The CloudFormation service role the change set was created with; empty for none."""


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
    role_arn: str = "",
    sleep: Sleep = time.sleep,
    interval: float = CHANGE_SET_INTERVAL,
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
        role_arn: the CloudFormation service role (``RoleARN``). Default: none.
        sleep, interval, timeout: how to wait for the change set. Default: 5 s, 600 s.
        on_failure: a new stack's ``OnStackFailure`` (:mod:`.recovery`); ignored for an
            update, which CloudFormation always rolls back. Default: None, CloudFormation's.

    Returns:
        The preview; no changes leaves no change set. Else the caller executes or discards it.

    Raises:
        DeployError: a stack that cannot take a change set, or a change set that failed.
        UsageError: CloudFormation refused the template or a Parameter (ValidationError).
        Interrupted: Ctrl-C, and what this run made could not be deleted: what is left.
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
    name = change_set_name()
    role = {"RoleARN": role_arn} if role_arn else {}
    # CreateChangeSet takes OnStackFailure for CREATE change sets only.
    failure = {"OnStackFailure": on_failure} if on_failure and change_set_type == "CREATE" else {}
    # Until CreateChangeSet answers, the change set is known by its name only.
    made = Preview(stack_name, name, change_set_type, (), "", role_arn=role_arn)
    try:
        created = cfn.create_change_set(
            StackName=stack_name,
            ChangeSetName=name,
            ChangeSetType=change_set_type,
            Parameters=parameters,
            Capabilities=list(CAPABILITIES),
            Description="Created by infra-gen",
            **role,
            **failure,
            **source,
        )
    except cfn.exceptions.ClientError as e:
        if any(m in error_message(e) for m in NO_CHANGES):
            return Preview(stack_name, "", change_set_type, (), "", previous, role_arn)
        if error_code(e) == "ValidationError":
            raise UsageError(error_message(e)) from None
        raise
    except BaseException:
        # Ctrl-C (or a lost connection) while CreateChangeSet answers: it may exist.
        discard(cfn, made)
        raise
    made = Preview(stack_name, created["Id"], change_set_type, (), "", role_arn=role_arn)
    deadline = time.monotonic() + timeout
    try:
        while True:
            described = cfn.describe_change_set(ChangeSetName=made.change_set_id)
            status = described["Status"]
            if status == "CREATE_COMPLETE":
                break
            if status == "FAILED":
                reason = described.get("StatusReason", "")
                if any(m in reason for m in NO_CHANGES):
                    discard(cfn, made)
                    return Preview(stack_name, "", change_set_type, (), "", previous, role_arn)
                raise DeployError(f"change set failed: {reason}")
            if time.monotonic() > deadline:
                raise DeployError(f"change set still {status} after {timeout:.0f} s")
            sleep(interval)
        changes = tuple(read_changes(cfn, made.change_set_id, described))
        last_event = newest_event_id(cfn, stack_name)
    except BaseException:
        # Ctrl-C or an error while waiting: leave nothing behind.
        discard(cfn, made)
        raise
    return Preview(
        stack_name, made.change_set_id, change_set_type, changes, last_event, previous, role_arn
    )


def leftovers(p: Preview) -> str:
    """What a preview may leave in the account, with the commands that delete it."""
    name = p.stack_name
    found = []
    if p.change_set_id:
        which = f"--change-set-name {p.change_set_id}"
        if not p.change_set_id.startswith("arn:"):
            which += f" --stack-name {name}"
        found.append(f"change set {p.change_set_id} (aws cloudformation delete-change-set {which})")
    if p.change_set_type == "CREATE":
        found.append(
            f"stack {name} if it is REVIEW_IN_PROGRESS (aws cloudformation describe-stacks "
            f"--stack-name {name}; aws cloudformation delete-stack --stack-name {name})"
        )
    return "; ".join(found) or "nothing"


def discard(cfn: Any, p: Preview) -> None:
    """Delete the change set, and the empty stack a CREATE change set made.

    Raises:
        Interrupted: Ctrl-C before both were deleted: what may be left, and how to delete it.
    """
    try:
        if p.change_set_id:
            try:
                which = {} if p.change_set_id.startswith("arn:") else {"StackName": p.stack_name}
                cfn.delete_change_set(ChangeSetName=p.change_set_id, **which)
            except cfn.exceptions.ClientError:
                pass  # already gone, or never made: nothing is left to clean up
        if p.change_set_type == "CREATE":
            found = stack_status(cfn, p.stack_name)
            if found is not None and found[0] == "REVIEW_IN_PROGRESS":
                cfn.delete_stack(StackName=p.stack_name)
    except KeyboardInterrupt:
        raise Interrupted(
            f"while this run's change set was being deleted; it may be left: {leftovers(p)}"
        ) from None


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
    token: str = ""
    """The ClientRequestToken of the operation that caused it; empty when none was given."""

    @property
    def is_stack(self) -> bool:
        """Whether the event is the stack's own, not a resource's."""
        return self.resource_type == "AWS::CloudFormation::Stack"


def follow_commands(stack_name: str, change_set_type: str = "UPDATE") -> str:
    """The AWS CLI commands that follow a stack CloudFormation is changing."""
    waiter = {"CREATE": "stack-create-complete", "DELETE": "stack-delete-complete"}.get(
        change_set_type, "stack-update-complete"
    )
    return (
        f"aws cloudformation describe-stack-events --stack-name {stack_name}; "
        f"aws cloudformation wait {waiter} --stack-name {stack_name}"
    )


def execute(cfn: Any, p: Preview) -> str:
    """Execute the change set; its ClientRequestToken, for :func:`watch`.

    When CloudFormation refuses, what this left is cleaned up (a new stack's change set and
    empty stack) or named with how to delete it (DeployError). Ctrl-C (Interrupted) or
    another error (AfterExecution) while ExecuteChangeSet answers: the stack may be
    changing, and the line says how to follow it.
    """
    token = request_token()
    try:
        cfn.execute_change_set(
            ChangeSetName=p.change_set_id, StackName=p.stack_name, ClientRequestToken=token
        )
    except KeyboardInterrupt:
        raise Interrupted(
            f"while ExecuteChangeSet answered: stack {p.stack_name} may be changing; follow "
            f"it: {follow_commands(p.stack_name, p.change_set_type)}; if it is not, its "
            f"change set is left: {leftovers(p)}"
        ) from None
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
    except Exception as e:  # noqa: BLE001 - e.g. a connection lost: it may have started
        raise AfterExecution(
            f"no answer to ExecuteChangeSet ({one_line(str(e))}): stack {p.stack_name} may "
            f"be changing; follow it: {follow_commands(p.stack_name, p.change_set_type)}"
        ) from None
    return token


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
                    token=e.get("ClientRequestToken", ""),
                )
            )
        if not page.get("NextToken"):
            return found[::-1]
        kwargs["NextToken"] = page["NextToken"]


def _ends(e: Event, stack_name: str, token: str) -> bool:
    """Whether ``e`` is the stack's own event that ends an operation with ``token``."""
    return (
        e.is_stack
        and e.logical_id in (stack_name, "")
        and not e.status.endswith("_IN_PROGRESS")
        and e.token in (token, "")
    )


def watch(
    cfn: Any,
    p: Preview,
    on_event: Callable[[Event], None],
    on_tick: Callable[[], None],
    *,
    token: str = "",
    sleep: Sleep = time.sleep,
    interval: float = WATCH_INTERVAL,
) -> str:
    """Report the run's events until this run's operation ends; return the stack's status.

    Args:
        cfn: the CloudFormation client. Default: required.
        p: the executed change set's preview. Default: required.
        on_event: hears each new stack event, oldest first. Default: required.
        on_tick: called between polls. Default: required.
        token: ExecuteChangeSet's ClientRequestToken (:func:`execute`). Default: none.
        sleep, interval: how to wait between polls. Default: 10 s.

    The end is the stack's own final event after ``p.last_event_id`` that carries
    ``token`` (an event without a token counts too, as some endpoints record none): never
    a status from before the execution, such as the previous ``UPDATE_COMPLETE`` that
    DescribeStacks may still answer just after ExecuteChangeSet. Only watching: an
    interrupt (KeyboardInterrupt) stops this loop, never the stack.
    """
    last = p.last_event_id
    name = p.stack_name.split("/")[1] if p.stack_name.startswith("arn:") else p.stack_name
    ended = ""
    while True:
        status = cfn.describe_stacks(StackName=p.stack_name)["Stacks"][0]["StackStatus"]
        events = _events_since(cfn, p.stack_name, last)
        for event in events:
            on_event(event)
            if _ends(event, name, token):
                ended = event.status
        if events:
            last = events[-1].event_id
        if ended and not status.endswith("_IN_PROGRESS"):
            return ended
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
