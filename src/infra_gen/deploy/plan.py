"""A plan file: the change set a reviewer saw, kept so that ``deploy --plan`` runs exactly it.

``infra-gen diff --plan-out plan.json`` keeps its change set and writes what identifies
it (stack, change set ARN, the template and its SHA-256, the Parameters, the changes)
together with the stack's state at that moment (status, last update time, newest event).
``infra-gen deploy --plan plan.json`` executes that change set only when the stack is
still in that state and the change set is still available with the same changes: a
stack changed by anyone since makes CloudFormation's answer to the change set out of
date, whatever the change set's own status says.

The plan is bound to the change set it names: the change set's original template
(``GetTemplate`` with ``ChangeSetName`` and ``TemplateStage=Original``) must be the
plan's template byte for byte, its Parameters, capabilities, stack ID and tags
(``DescribeChangeSet``) and its stack's service role (``DescribeStacks``: a change set
names none) the plan's, and its stack the one deployed to. What identifies
the change set (its ARN, its stack's ID, the stack's name) is inside the plan's
checksum, ``plan_sha256``, so an edited file is refused before any call.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import StalePlan, UsageError, one_line
from .aws import error_code
from .changeset import Change, Preview, describe_stack, newest_event_id, read_changes

__all__ = [
    "FORMAT",
    "Plan",
    "StalePlan",
    "bind",
    "check",
    "checksum",
    "document",
    "from_bytes",
    "make_plan",
    "original_template",
    "sha256",
    "to_bytes",
]

FORMAT = "infra-gen-plan/2"
_CHANGE_FIELDS = ("action", "logical_id", "resource_type", "physical_id", "replacement")


@dataclass(frozen=True)
class Plan:
    """What ``diff --plan-out`` kept: the change set, its template and the stack's state."""

    stack_name: str
    change_set_id: str
    """The change set's ARN; empty when there was nothing to change."""
    change_set_type: str
    template: str
    template_sha256: str
    parameters: Mapping[str, str]
    """Name -> value as the change set resolved them (previous values included)."""
    changes: tuple[Change, ...]
    stack_status: str
    last_updated: str
    """LastUpdatedTime (else CreationTime) of the stack, ISO 8601; empty for no stack."""
    last_event_id: str
    stack_id: str = ""
    """The change set's stack, by ID (``arn:...:stack/NAME/UUID``); empty without a change set."""
    capabilities: tuple[str, ...] = ()
    role_arn: str = ""
    """The stack's CloudFormation service role (DescribeStacks; DescribeChangeSet names
    none), which executes the change set; empty for none."""
    tags: Mapping[str, str] = field(default_factory=dict)

    def preview(self) -> Preview:
        """The plan's change set as :func:`~infra_gen.deploy.changeset.preview` returns one."""
        return Preview(
            self.stack_name,
            self.change_set_id,
            self.change_set_type,
            self.changes,
            self.last_event_id,
        )


def sha256(text: str) -> str:
    """The hex SHA-256 of ``text`` as UTF-8: how a plan names its template."""
    return hashlib.sha256(text.encode()).hexdigest()


def _state(cfn: Any, stack_name: str) -> tuple[str, str]:
    """(status, last update time) of the stack; empty strings when it does not exist."""
    return _state_of(describe_stack(cfn, stack_name))


def _state_of(stack: Mapping[str, Any] | None) -> tuple[str, str]:
    if stack is None:
        return "", ""
    when = stack.get("LastUpdatedTime") or stack.get("CreationTime")
    return str(stack["StackStatus"]), when.isoformat() if when is not None else ""


def make_plan(cfn: Any, p: Preview, template: str, values: Mapping[str, str]) -> Plan:
    """The plan of a preview whose change set is still there (call before discarding it).

    Args:
        cfn: the CloudFormation client. Default: required.
        p: the preview. Default: required.
        template: the template text as sent. Default: required.
        values: the Parameter values the caller expects (override, previous, default);
            the change set's own answer wins where it gives one. Default: required.

    Returns:
        The plan, with the stack's state (status, last update, newest event) now.
    """
    parameters = dict(values)
    bound: dict[str, Any] = {}
    if p.change_set_id:
        described = cfn.describe_change_set(ChangeSetName=p.change_set_id)
        parameters.update(_parameters(described))
        bound = {
            "stack_id": str(described.get("StackId", "")),
            "capabilities": _capabilities(described),
            "tags": _tags(described),
        }
    stack = describe_stack(cfn, p.stack_name)
    status, updated = _state_of(stack)
    if stack is not None:
        bound["role_arn"] = str(stack.get("RoleARN", ""))
    last_event = p.last_event_id or (newest_event_id(cfn, p.stack_name) if status else "")
    return Plan(
        stack_name=p.stack_name,
        change_set_id=p.change_set_id,
        change_set_type=p.change_set_type,
        template=template,
        template_sha256=sha256(template),
        parameters=dict(sorted(parameters.items())),
        changes=p.changes,
        stack_status=status,
        last_updated=updated,
        last_event_id=last_event,
        **bound,
    )


def _parameters(described: Mapping[str, Any]) -> dict[str, str]:
    """A change set's Parameter values by name, resolved where CloudFormation resolved them."""
    return {
        str(x["ParameterKey"]): str(x.get("ResolvedValue", x.get("ParameterValue")))
        for x in described.get("Parameters") or []
        if "ResolvedValue" in x or "ParameterValue" in x
    }


def _capabilities(described: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(map(str, described.get("Capabilities") or [])))


def _tags(described: Mapping[str, Any]) -> dict[str, str]:
    return {str(t["Key"]): str(t["Value"]) for t in described.get("Tags") or []}


def _change(c: Change) -> dict[str, Any]:
    return {
        **{f: getattr(c, f) for f in _CHANGE_FIELDS},
        "replaces": c.replaces,
        "causes": list(c.causes),
    }


def _bound(plan: Plan) -> dict[str, Any]:
    """What the checksum covers: everything but the template's text (its SHA-256 is in)."""
    return {
        "format": FORMAT,
        "stack_name": plan.stack_name,
        "stack_id": plan.stack_id or None,
        "change_set_arn": plan.change_set_id or None,
        "change_set_type": plan.change_set_type,
        "template_sha256": plan.template_sha256,
        "parameters": dict(plan.parameters),
        "capabilities": list(plan.capabilities),
        "role_arn": plan.role_arn or None,
        "tags": dict(plan.tags),
        "changes": [_change(c) for c in plan.changes],
        "replacements": sum(c.replaces for c in plan.changes),
        "stack": {
            "status": plan.stack_status,
            "last_updated": plan.last_updated,
            "last_event_id": plan.last_event_id,
        },
    }


def checksum(bound: Mapping[str, Any]) -> str:
    """The plan's checksum: the SHA-256 of its fields (without the template's text and
    the checksum itself) as canonical JSON (sorted keys, no spaces, UTF-8)."""
    fields = {k: v for k, v in bound.items() if k not in ("template", "plan_sha256")}
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256(text)


def document(plan: Plan, *, with_template: bool = True) -> dict[str, Any]:
    """The plan as JSON data; ``diff --format json`` prints it without the template."""
    doc = _bound(plan)
    doc["plan_sha256"] = checksum(doc)
    if with_template:
        doc["template"] = plan.template
    return doc


def to_bytes(plan: Plan) -> bytes:
    """The plan file's content: the plan as indented JSON with its template."""
    return (json.dumps(document(plan), indent=2, ensure_ascii=False) + "\n").encode()


def _field(doc: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = doc.get(key)
    if not isinstance(value, kind):
        raise UsageError(f"{where}: {key}: expected {kind.__name__}, got {value!r}")
    return value


def from_bytes(data: bytes, where: str) -> Plan:
    """The plan in a plan file's content; what is not a whole plan is refused in one line.

    Raises:
        UsageError: not JSON, not a plan, or a template edited since; ``where`` leads
            the line (e.g. ``--plan plan.json``).
    """
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise UsageError(f"{where}: not JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else None
        raise UsageError(
            f"{where}: format: expected {FORMAT!r} (written by infra-gen diff "
            f"--plan-out), got {found!r}"
        )
    template = _field(doc, "template", str, where)
    digest = _field(doc, "template_sha256", str, where)
    if sha256(template) != digest:
        raise UsageError(
            f"{where}: template_sha256 {digest} is not the SHA-256 of its "
            "template: the file was edited; make a new plan"
        )
    stack = _field(doc, "stack", dict, where)
    try:
        changes = tuple(
            Change(**{f: str(c[f]) for f in _CHANGE_FIELDS}, causes=tuple(map(str, c["causes"])))
            for c in _field(doc, "changes", list, where)
        )
    except (KeyError, TypeError) as e:
        raise UsageError(f"{where}: changes: an entry lacks {e}") from None
    found = _field(doc, "plan_sha256", str, where)
    if checksum(doc) != found:
        raise UsageError(
            f"{where}: plan_sha256 {one_line(found)} is not the checksum of the plan's "
            "fields (change set, stack, Parameters, ...): the file was edited; make a new plan"
        )
    return Plan(
        stack_name=_field(doc, "stack_name", str, where),
        change_set_id=doc.get("change_set_arn") or "",
        change_set_type=_field(doc, "change_set_type", str, where),
        template=template,
        template_sha256=digest,
        parameters={str(k): str(v) for k, v in _field(doc, "parameters", dict, where).items()},
        changes=changes,
        stack_status=str(stack.get("status", "")),
        last_updated=str(stack.get("last_updated", "")),
        last_event_id=str(stack.get("last_event_id", "")),
        stack_id=str(doc.get("stack_id") or ""),
        capabilities=tuple(map(str, _field(doc, "capabilities", list, where))),
        role_arn=str(doc.get("role_arn") or ""),
        tags={str(k): str(v) for k, v in _field(doc, "tags", dict, where).items()},
    )


_ARN = re.compile(r"arn:([\w-]+):cloudformation:([\w-]+):(\d{12}):(stack|changeSet)/([^/]+)/(.+)")


def _arn(value: str) -> tuple[str, ...] | None:
    """(partition, Region, account, kind, name, id) of a stack or change set ARN."""
    found = _ARN.fullmatch(value)
    return found.groups() if found else None


def bind(plan: Plan) -> None:
    """Check, before any call, that the plan's change set ARN and stack ID agree with
    its stack: the same partition, Region, account and stack name.

    Raises:
        StalePlan: they differ, in one line saying what differs.
    """
    change_set, stack = _arn(plan.change_set_id), _arn(plan.stack_id)
    if change_set is None or change_set[3] != "changeSet":
        raise StalePlan(f"change_set_arn {one_line(plan.change_set_id)}: not a change set ARN")
    if stack is None or stack[3] != "stack":
        raise StalePlan(f"stack_id {one_line(plan.stack_id)}: not a stack ID")
    if stack[4] != plan.stack_name:
        raise StalePlan(
            f"stack_id {one_line(plan.stack_id)} is of stack {one_line(stack[4])}, "
            f"not the plan's {plan.stack_name}"
        )
    if change_set[:3] != stack[:3]:
        raise StalePlan(
            f"change set {one_line(plan.change_set_id)} is in {':'.join(change_set[:3])}, "
            f"stack {plan.stack_name} in {':'.join(stack[:3])}"
        )


def original_template(cfn: Any, stack_id: str, change_set_id: str) -> str:
    """The change set's template as it was submitted (``TemplateStage=Original``), as text.

    botocore decodes a JSON ``TemplateBody`` into a dict, which loses its bytes: this
    client's call is made without that step.
    """
    from botocore.handlers import json_decode_template_body

    cfn.meta.events.unregister("after-call.cloudformation.GetTemplate", json_decode_template_body)
    found = cfn.get_template(
        StackName=stack_id, ChangeSetName=change_set_id, TemplateStage="Original"
    )
    body = found.get("TemplateBody", "")
    return body if isinstance(body, str) else json.dumps(body)


def _differs(what: str, plan_value: object, now: object) -> str:
    return f"{what} {one_line(str(now))}, the plan's {one_line(str(plan_value))}"


def _binding(cfn: Any, plan: Plan, described: Mapping[str, Any]) -> str | None:
    """What of the described change set is not the plan's; None when all is."""
    if described.get("StackId") != plan.stack_id:
        return _differs("is of stack", plan.stack_id, described.get("StackId"))
    text = original_template(cfn, plan.stack_id, plan.change_set_id)
    if text != plan.template:
        return f"has another template (SHA-256 {sha256(text)}, the plan's {plan.template_sha256})"
    given = _parameters(described)
    for name in sorted(given):
        if plan.parameters.get(name) != given[name]:
            return _differs(f"has Parameter {name}", plan.parameters.get(name), given[name])
    if _capabilities(described) != tuple(plan.capabilities):
        return _differs(
            "has capabilities",
            ",".join(plan.capabilities) or "none",
            ",".join(_capabilities(described)) or "none",
        )
    if _tags(described) != dict(plan.tags):
        return _differs("has tags", dict(sorted(plan.tags.items())), _tags(described))
    return None


def check(cfn: Any, plan: Plan) -> None:
    """Check that the plan's change set may still run as reviewed.

    Raises:
        StalePlan: the plan's change set is not of its stack, the stack changed since, or
            the change set is gone, not available, or has another template, Parameters,
            capabilities, stack, role or tags, or lists other changes.
    """
    name, again = plan.stack_name, "make a new plan: infra-gen diff --plan-out"
    bind(plan)
    stack = describe_stack(cfn, name)
    if stack is not None and stack.get("StackId") != plan.stack_id:
        raise StalePlan(
            f"stack {name} is {stack.get('StackId')}, not the plan's {plan.stack_id} "
            f"(deleted and created again since): {again}"
        )
    status, updated = _state_of(stack)
    if not status:
        raise StalePlan(f"stack {name} no longer exists: {again}")
    role = str((stack or {}).get("RoleARN", ""))
    if role != plan.role_arn:
        raise StalePlan(
            f"stack {name} {_differs('has role', plan.role_arn or 'none', role or 'none')}: {again}"
        )
    newest = newest_event_id(cfn, name)
    if (status, updated) != (plan.stack_status, plan.last_updated):
        raise StalePlan(
            f"stack {name} changed since the plan (then {plan.stack_status} at "
            f"{plan.last_updated}, now {status} at {updated}): {again}"
        )
    if newest != plan.last_event_id:
        raise StalePlan(
            f"stack {name} changed since the plan (it has events the plan has "
            f"not seen, newest {newest}): {again}"
        )
    try:
        described = cfn.describe_change_set(ChangeSetName=plan.change_set_id, StackName=name)
    except cfn.exceptions.ClientError as e:
        if error_code(e) in ("ChangeSetNotFound", "ChangeSetNotFoundException"):
            raise StalePlan(f"change set {plan.change_set_id} no longer exists: {again}") from None
        raise
    execution = described.get("ExecutionStatus", "")
    if described.get("Status") != "CREATE_COMPLETE" or execution != "AVAILABLE":
        raise StalePlan(
            f"change set {plan.change_set_id} is {described.get('Status')}/"
            f"{execution}, not available to execute: {again}"
        )
    differs = _binding(cfn, plan, described)
    if differs is not None:
        raise StalePlan(f"change set {plan.change_set_id} {differs}: {again}")
    now = tuple(read_changes(cfn, plan.change_set_id, described))
    if now != plan.changes:
        raise StalePlan(
            f"change set {plan.change_set_id} lists other changes than the plan file: {again}"
        )
