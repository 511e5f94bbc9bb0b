"""What the commands need of moto beyond the deploy tests' bridges, and a way to run them.

The commands run in-process, as ``infra-gen`` runs them (``run``), with boto3's usual chain
pointed at the emulator of tests/support/emulator.py.

What moto 5.2 does not do, and ``emulating`` adds on top of it (``_emulate_*``):

- Replacement. moto's change set lists Action, LogicalResourceId and ResourceType only,
  and misses resources that change through a Parameter. Here a change set also gets
  the resources whose Properties refer to a changed Parameter, and for each Modify the
  changed top-level properties: ``Replacement`` is True when one of them is in the
  resource type's ``createOnlyProperties`` (CloudFormation's own resource schemas, as
  shipped with cfn-lint), which is how CloudFormation decides it for these types.
  What is checked: that ``diff`` reads ``Replacement`` and ``Details`` as the API
  returns them and that the replaced resource really gets a new physical ID.
- Conditions. moto's CREATE change set also lists the resources whose Condition is
  false (the e-mail subscription, the HTTPS listener); CloudFormation leaves them out.
  The diff of a new stack is checked against the template's count, as moto lists it.
- Resource events. moto records stack events only; here each resource it creates or
  updates gets its IN_PROGRESS and COMPLETE events, so progress has something to show.
- Failure. moto raises out of ExecuteChangeSet when a resource fails; CloudFormation
  instead records the resource's ``CREATE_FAILED`` with its reason and rolls back. Here
  the failure is injected into one resource's handler, the event recorded and the
  stack set to ``ROLLBACK_COMPLETE`` (nothing is rolled back). What is checked: the
  reason reaches the user, with the resource, and the exit status is non-zero.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing as cfn_parsing

from infra_gen import Config, build_template, render
from infra_gen import cli as commands
from tests.support.documentation import DOCS
from tests.support.emulator import REGION, Api, references

NEW_IMAGE = "docker.io/library/nginx:stable-alpine"
README = DOCS  # README and docs/: the output shown there


# --------------------------------------------------------------------------------------
# What moto lacks, emulated (see the module docstring).
# --------------------------------------------------------------------------------------


def _create_only(resource_type: str) -> set[str]:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, resource_type).schema
    return {p.removeprefix("/properties/") for p in schema.get("createOnlyProperties", [])}


def _emulate_replacement(mp: pytest.MonkeyPatch) -> None:
    diff = cfn_models.ChangeSet.diff

    def diff_with_replacement(self: Any) -> list[Any]:
        changes = diff(self)
        if self.change_set_type != "UPDATE":
            return changes
        rmap = self.stack.resource_map
        old = rmap._resource_json_map
        new = self.template_dict["Resources"]
        previous = {k: str(v) for k, v in rmap.resolved_parameters.items()}
        # Parameters whose value changes, then resources that will be replaced: what
        # refers to either changes too.
        changed = {k for k, v in self.parameters.items() if previous.get(k) != str(v)}
        kept = [c for c in changes if c.action != "Modify"]
        modified: dict[str, Any] = {}
        while True:
            found = False
            for name in sorted(new.keys() & old.keys() - modified.keys()):
                before = old[name].get("Properties", {})
                after = new[name].get("Properties", {})
                names = sorted(
                    k
                    for k in before.keys() | after.keys()
                    if before.get(k) != after.get(k) or references(after.get(k)) & changed
                )
                if not names:
                    continue  # moto lists some unchanged resources; CloudFormation does not
                if rmap[name] is None:
                    continue  # its Condition was false: it is created, not modified
                c = cfn_models.Change("Modify", name, new[name]["Type"])
                forced = _create_only(c.resource_type)
                c.replacement = "True" if forced & set(names) else "False"
                c.physical_resource_id = rmap[name].physical_resource_id
                c.details = [
                    {
                        "Target": {
                            "Attribute": "Properties",
                            "Name": n,
                            "RequiresRecreation": "Always" if n in forced else "Never",
                        }
                    }
                    for n in names
                ]
                modified[name] = c
                found = True
                if c.replacement == "True":
                    changed.add(name)  # its Ref and attributes change
            if not found:
                return kept + list(modified.values())

    mp.setattr(cfn_models.ChangeSet, "diff", diff_with_replacement)


def _stack_of(rmap: Any) -> Any:
    backend = cfn_models.cloudformation_backends[rmap._account_id][rmap._region_name]
    return backend.stacks[rmap.stack_id]


def _record(
    rmap: Any,
    logical_id: str,
    resource_type: str,
    status: str,
    reason: str = "",
    physical: str = "",
) -> None:
    stack = _stack_of(rmap)
    stack.events.append(
        cfn_models.Event(
            stack.stack_id,
            stack.name,
            logical_id,
            physical,
            resource_type,
            status,
            reason or None,
            None,
        )
    )


def _emulate_resource_events(mp: pytest.MonkeyPatch) -> None:
    create, update = cfn_parsing.parse_and_create_resource, cfn_parsing.parse_and_update_resource

    def created(logical_id: str, resource_json: Any, rmap: Any, **kwargs: Any) -> Any:
        resource_type = resource_json["Type"]
        try:
            made = create(logical_id, resource_json, rmap, **kwargs)
        except Exception as e:
            _record(rmap, logical_id, resource_type, "CREATE_IN_PROGRESS")
            _record(rmap, logical_id, resource_type, "CREATE_FAILED", str(e))
            raise
        if made is not None:
            _record(rmap, logical_id, resource_type, "CREATE_IN_PROGRESS")
            _record(
                rmap,
                logical_id,
                resource_type,
                "CREATE_COMPLETE",
                physical=getattr(made, "physical_resource_id", None) or "",
            )
        return made

    def updated(logical_id: str, resource_json: Any, rmap: Any, **kwargs: Any) -> Any:
        before = rmap._parsed_resources.get(logical_id)
        made = update(logical_id, resource_json, rmap, **kwargs)  # moto retries failures
        if made is not before:  # the bridges return the resource itself when nothing changed
            _record(rmap, logical_id, resource_json["Type"], "UPDATE_IN_PROGRESS")
            _record(rmap, logical_id, resource_json["Type"], "UPDATE_COMPLETE")
        return made

    mp.setattr(cfn_parsing, "parse_and_create_resource", created)
    mp.setattr(cfn_parsing, "parse_and_update_resource", updated)

    execute = cfn_models.CloudFormationBackend.execute_change_set

    def execute_and_fail_like_cloudformation(
        self: Any, change_set_name: str, stack_name: str | None = None
    ) -> None:
        change_set = self.describe_change_set(change_set_name)
        stack = self.stacks[change_set.stack_id]
        try:
            execute(self, change_set_name, stack_name)
        except Exception:
            failed = [
                e.logical_resource_id for e in stack.events if e.resource_status.endswith("_FAILED")
            ]
            if not failed:
                raise  # not a resource's failure: a gap of the emulator, shown as such
            kind = "create" if change_set.change_set_type == "CREATE" else "update"
            status = "ROLLBACK" if kind == "create" else "UPDATE_ROLLBACK"
            stack._add_stack_event(
                f"{status}_IN_PROGRESS",
                f"The following resource(s) failed to {kind}: [{', '.join(failed)}]. "
                "Rollback requested by user.",
            )
            stack._add_stack_event(f"{status}_COMPLETE")
            stack.status = f"{status}_COMPLETE"
            stack.template = change_set.template  # GetTemplate returns the failed template
            change_set.execution_status = "EXECUTE_FAILED"

    mp.setattr(
        cfn_models.CloudFormationBackend, "execute_change_set", execute_and_fail_like_cloudformation
    )


@contextlib.contextmanager
def emulating(api: Api) -> Iterator[Api]:
    """``api`` that also replaces, records resource events and fails as CloudFormation does."""
    with pytest.MonkeyPatch.context() as mp:
        _emulate_replacement(mp)
        _emulate_resource_events(mp)
        # An account that has used ECS, as deploy's preflight requires. moto's
        # CreateServiceLinkedRole names it AWSServiceRoleForecs; AWS, as here.
        api("iam").create_role(
            RoleName="AWSServiceRoleForECS",
            Path="/aws-service-role/ecs.amazonaws.com/",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": "ecs.amazonaws.com"},
                        }
                    ],
                }
            ),
        )
        yield api


def run(*argv: str, stdin: str = "") -> tuple[int, str]:
    """Run a command; its exit status and stdout (stderr stays with capsys)."""
    out = io.StringIO()
    code = commands.main(list(argv), stdout=out, stdin=io.StringIO(stdin))
    return code, out.getvalue()


def stack_resources(emu: Api, name: str) -> dict[str, str]:
    resources = emu("cloudformation").describe_stack_resources(StackName=name)["StackResources"]
    return {
        r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
        for r in resources
        if r.get("LogicalResourceId")
    }


def stack_names(emu: Api) -> set[str]:
    summaries = emu("cloudformation").list_stacks()["StackSummaries"]
    return {s["StackName"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"}


def resource_count(cfg: Config) -> int:
    return len(json.loads(render(build_template(cfg), "json"))["Resources"])
