"""A plan file: the change set a reviewer saw, kept so that ``deploy --plan`` runs exactly it.

``infra-gen diff --plan-out plan.json`` keeps its change set and writes what identifies
it (stack, change set ARN, the template and its SHA-256, the Parameters, the changes)
together with the stack's state at that moment (status, last update time, newest event).
``infra-gen deploy --plan plan.json`` executes that change set only when the stack is
still in that state and the change set is still available with the same changes: a
stack changed by anyone since makes CloudFormation's answer to the change set out of
date, whatever the change set's own status says.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import StalePlan, UsageError
from .aws import error_code
from .changeset import Change, Preview, describe_stack, newest_event_id, read_changes

__all__ = [
    "FORMAT",
    "Plan",
    "StalePlan",
    "check",
    "document",
    "from_bytes",
    "make_plan",
    "sha256",
    "to_bytes",
]

FORMAT = "infra-gen-plan/1"
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
    stack = describe_stack(cfn, stack_name)
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
    if p.change_set_id:
        described = cfn.describe_change_set(ChangeSetName=p.change_set_id)
        for x in described.get("Parameters") or []:
            if "ResolvedValue" in x or "ParameterValue" in x:
                parameters[x["ParameterKey"]] = x.get("ResolvedValue", x.get("ParameterValue"))
    status, updated = _state(cfn, p.stack_name)
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
    )


def _change(c: Change) -> dict[str, Any]:
    return {
        **{f: getattr(c, f) for f in _CHANGE_FIELDS},
        "replaces": c.replaces,
        "causes": list(c.causes),
    }


def document(plan: Plan, *, with_template: bool = True) -> dict[str, Any]:
    """The plan as JSON data; ``diff --format json`` prints it without the template."""
    doc: dict[str, Any] = {
        "format": FORMAT,
        "stack_name": plan.stack_name,
        "change_set_arn": plan.change_set_id or None,
        "change_set_type": plan.change_set_type,
        "template_sha256": plan.template_sha256,
        "parameters": dict(plan.parameters),
        "changes": [_change(c) for c in plan.changes],
        "replacements": sum(c.replaces for c in plan.changes),
        "stack": {
            "status": plan.stack_status,
            "last_updated": plan.last_updated,
            "last_event_id": plan.last_event_id,
        },
    }
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
    )


def check(cfn: Any, plan: Plan) -> None:
    """Check that the plan's change set may still run as reviewed.

    Raises:
        StalePlan: the stack changed since, or the change set is gone, not available or
            lists other changes.
    """
    name, again = plan.stack_name, "make a new plan: infra-gen diff --plan-out"
    status, updated = _state(cfn, name)
    if not status:
        raise StalePlan(f"stack {name} no longer exists: {again}")
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
    now = tuple(read_changes(cfn, plan.change_set_id, described))
    if now != plan.changes:
        raise StalePlan(
            f"change set {plan.change_set_id} lists other changes than the plan file: {again}"
        )
