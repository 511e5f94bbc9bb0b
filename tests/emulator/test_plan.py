"""``diff --plan-out`` and ``deploy --plan`` against moto's emulator, as
tests/emulator/test_commands.py runs the commands (the same fixtures and emulation).

What the emulator cannot answer as CloudFormation does is in tests/deploy/test_plan.py (Stubber):
a change set that is gone (moto answers ValidationError, not ChangeSetNotFound) or
OBSOLETE (moto never marks one so when the stack changes).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from devtools.emulator import Api
from infra_gen import Config, build_template, render
from infra_gen.deploy import plan as planfile
from tests.support.commands import NEW_IMAGE, README, resource_count, run

pytestmark = [
    pytest.mark.filterwarnings("ignore:Tried to parse .* but it's not supported:UserWarning"),
    pytest.mark.usefixtures("endpoint"),
]
OUT = Path(__file__).resolve().parents[2] / "out"


def masked(text: str) -> str:
    """Output with what differs between runs (change set IDs, times) or with each change of
    the template (its SHA-256) masked."""
    name = r"infra-gen-[0-9]{8}T[0-9]{6}-[0-9a-f]{8}"
    text = re.sub(rf"changeSet/{name}/[0-9a-f-]{{36}}", "changeSet/ID", text)
    text = re.sub(r"SHA-256 [0-9a-f]{64}", "SHA-256 DIGEST", text)
    return re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00", "TIME", text)


def in_readme(out: str, name: str) -> bool:
    return masked(out.replace(name, "nginx-probe")) in masked(README)


def params(emu: Api, name: str) -> dict[str, str]:
    stack = emu("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


def test_plan_round_trip_executes_the_reviewed_change_set(
    emulator: Api,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    name, plan = "ig-plan", tmp_path / "plan.json"
    cfn = emulator("cloudformation")
    code, out = run("diff", "--stack-name", name, "--plan-out", str(plan))
    assert code == 1, capsys.readouterr().err
    doc = json.loads(plan.read_text())
    # The change set is kept, and the plan names it.
    (summary,) = cfn.list_change_sets(StackName=name)["Summaries"]
    assert doc["change_set_arn"] == summary["ChangeSetId"]
    assert summary["ExecutionStatus"] == "AVAILABLE"
    assert out.splitlines()[-1] == (
        f"Plan written to {plan}; change set {summary['ChangeSetId']} "
        f"kept for: infra-gen deploy --stack-name {name} --plan {plan}"
    )
    # The template is the one make stack writes, by its SHA-256.
    reviewed = hashlib.sha256((OUT / "stack.yaml").read_bytes()).hexdigest()
    assert (doc["stack_name"], doc["change_set_type"]) == (name, "CREATE")
    assert doc["template_sha256"] == reviewed
    assert hashlib.sha256(doc["template"].encode()).hexdigest() == reviewed
    assert len(doc["changes"]) == resource_count(Config()) and doc["replacements"] == 0
    assert doc["parameters"]["MinTasks"] == "2"

    code, out = run("deploy", "--stack-name", name, "--plan", str(plan), "--yes")
    assert code == 0, capsys.readouterr().err
    assert f"Plan {plan}: change set {doc['change_set_arn']}, template SHA-256 {reviewed}" in out
    assert f"Stack {name}: CREATE_COMPLETE" in out
    executed = cfn.describe_change_set(ChangeSetName=doc["change_set_arn"])
    assert executed["ExecutionStatus"] == "EXECUTE_COMPLETE"

    # An update: what diff --format json prints is the plan, without template or change set.
    update = ["--parameter", f"ServiceImage={NEW_IMAGE}", "--parameter", "MinTasks=3"]
    code, printed = run("diff", "--stack-name", name, "--format", "json", *update)
    assert code == 1
    assert len(cfn.list_change_sets(StackName=name)["Summaries"]) == 1  # its own was deleted
    code, out = run("diff", "--stack-name", name, "--plan-out", str(plan), *update)
    assert code == 1
    assert in_readme(out.replace(str(plan), "plan.json"), name), out
    doc = json.loads(plan.read_text())
    machine = json.loads(printed)
    assert machine["change_set_arn"] is None and "template" not in machine
    assert machine["changes"] == doc["changes"] and machine["stack"] == doc["stack"]
    replaced = [c for c in doc["changes"] if c["replaces"]]
    assert [(c["logical_id"], c["replacement"], c["causes"]) for c in replaced] == [
        ("EcsTaskDefinition", "True", ["ContainerDefinitions"])
    ]
    assert doc["parameters"]["MinTasks"] == "3"

    code, out = run("deploy", "--stack-name", name, "--plan", str(plan), "--yes")
    assert code == 0, capsys.readouterr().err
    assert in_readme(out.replace(str(plan), "plan.json").split("     0s")[0], name), out
    assert (params(emulator, name)["MinTasks"], params(emulator, name)["ServiceImage"]) == (
        "3",
        NEW_IMAGE,
    )

    # The same plan again: the stack moved on (its own execution), so it is refused.
    capsys.readouterr()
    code, out = run("deploy", "--stack-name", name, "--plan", str(plan), "--yes")
    err = capsys.readouterr().err
    assert (code, out) == (1, "")
    assert err.startswith(f"infra-gen: error: stack {name} changed since the plan")
    assert err.count("\n") == 1
    assert in_readme(err, name), err


def test_stale_plan_is_refused_and_runs_nothing(
    emulator: Api,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    name, plan = "ig-stale", tmp_path / "plan.json"
    assert run("deploy", "--stack-name", name, "--yes")[0] == 0
    code, _ = run(
        "diff",
        "--stack-name",
        name,
        "--plan-out",
        str(plan),
        "--parameter",
        f"ServiceImage={NEW_IMAGE}",
    )
    assert code == 1
    # Someone deploys something else after the review.
    assert run("deploy", "--stack-name", name, "--yes", "--parameter", "MinTasks=4")[0] == 0
    capsys.readouterr()
    code, out = run("deploy", "--stack-name", name, "--plan", str(plan), "--yes")
    err = capsys.readouterr().err
    assert (code, out) == (1, "")
    again = r": make a new plan: infra-gen diff --plan-out\n"
    assert re.fullmatch(
        rf"infra-gen: error: stack {name} changed since the plan \(then "
        rf"CREATE_COMPLETE at \S+, now UPDATE_COMPLETE at \S+\){again}",
        err,
    ), err
    assert params(emulator, name)["ServiceImage"] != NEW_IMAGE  # not executed
    assert params(emulator, name)["MinTasks"] == "4"

    # The same status and update time (moto keeps no LastUpdatedTime), but newer events.
    code, _ = run(
        "diff",
        "--stack-name",
        name,
        "--plan-out",
        str(plan),
        "--parameter",
        f"ServiceImage={NEW_IMAGE}",
    )
    assert code == 1
    assert run("deploy", "--stack-name", name, "--yes", "--parameter", "MinTasks=5")[0] == 0
    capsys.readouterr()
    code, out = run("deploy", "--stack-name", name, "--plan", str(plan), "--yes")
    err = capsys.readouterr().err
    assert (code, out) == (1, "")
    assert re.fullmatch(
        rf"infra-gen: error: stack {name} changed since the plan \(it has "
        rf"events the plan has not seen, newest \S+\){again}",
        err,
    ), err
    assert params(emulator, name)["ServiceImage"] != NEW_IMAGE


def test_plan_without_changes_deploys_nothing(
    emulator: Api,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    name, plan = "ig-plan-noop", tmp_path / "plan.json"
    assert run("deploy", "--stack-name", name, "--yes")[0] == 0
    code, out = run("diff", "--stack-name", name, "--plan-out", str(plan))
    assert (code, out) == (0, f"Stack {name}: no changes.\nPlan written to {plan}\n")
    assert json.loads(plan.read_text())["change_set_arn"] is None
    code, out = run("deploy", "--stack-name", name, "--plan", str(plan), "--yes")
    assert (code, out) == (0, f"Stack {name}: no changes (the plan has none).\n")


STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/ig-bad-plan/1"
CS_ARN = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/infra-gen-1/2"


def sealed(doc: dict[str, object]) -> None:
    """Recompute the plan's checksum, as someone editing it on purpose would."""
    doc["plan_sha256"] = planfile.checksum(doc)


@pytest.mark.parametrize(
    ("edit", "extra", "message"),
    [
        (
            lambda d: d.update(template=d["template"] + "# more\n"),
            [],
            "--plan {plan}: template_sha256 {sha} is not the SHA-256 of its template: the file "
            "was edited; make a new plan",
        ),
        (
            lambda d: d.update(format="v0"),
            [],
            "--plan {plan}: format: expected 'infra-gen-plan/2' (written by infra-gen diff "
            "--plan-out), got 'v0'",
        ),
        (
            lambda d: None,
            ["--parameter", "MinTasks=5"],
            "--parameter does not apply with --plan, which runs the plan's change set as it is: "
            "make a new plan with it",
        ),
        (
            lambda d: (d.update(stack_name="other"), sealed(d)),
            [],
            "--plan {plan} is for stack other, not ig-bad-plan",
        ),
        (
            lambda d: d.update(change_set_arn=CS_ARN.replace("/2", "/3")),
            [],
            "--plan {plan}: plan_sha256 {checksum} is not the checksum of the plan's fields "
            "(change set, stack, Parameters, ...): the file was edited; make a new plan",
        ),
    ],
)
def test_a_plan_that_is_not_the_reviewed_one_is_refused_before_any_call(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    edit: object,
    extra: list[str],
    message: str,
) -> None:
    plan = tmp_path / "plan.json"
    template = render(build_template(Config()), "yaml")
    made = planfile.Plan(
        "ig-bad-plan", CS_ARN, "UPDATE", template, planfile.sha256(template), {}, (), "", "", ""
    )
    made = dataclasses.replace(made, stack_id=STACK_ID, capabilities=("CAPABILITY_IAM",))
    doc = json.loads(planfile.to_bytes(made))
    checksum = doc["plan_sha256"]
    edit(doc)  # type: ignore[operator]
    plan.write_text(json.dumps(doc))
    code, out = run("deploy", "--stack-name", "ig-bad-plan", "--plan", str(plan), "--yes", *extra)
    assert (code, out) == (2, "")
    assert capsys.readouterr().err == (
        "infra-gen: error: "
        + message.format(plan=plan, sha=made.template_sha256, checksum=checksum)
        + "\n"
    )


@pytest.mark.parametrize(
    ("field", "value", "differs"),
    [
        ("stack_id", STACK_ID.replace("ig-bad-plan", "ig-other"), "is of stack ig-other, not"),
        ("change_set_arn", CS_ARN.replace("us-east-1", "eu-west-1"), "is in aws:eu-west-1:"),
        ("change_set_arn", CS_ARN.replace("changeSet", "stack"), "not a change set ARN"),
    ],
)
def test_a_change_set_arn_or_stack_id_of_another_stack_is_refused_before_any_call(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, field: str, value: str, differs: str
) -> None:
    # Checksum recomputed: only the stack's own identity can refuse this plan.
    template = "Resources: {}\n"
    made = planfile.Plan(
        "ig-bad-plan", CS_ARN, "UPDATE", template, planfile.sha256(template), {}, (), "", "", ""
    )
    doc = json.loads(planfile.to_bytes(dataclasses.replace(made, stack_id=STACK_ID)))
    doc[field] = value
    sealed(doc)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(doc))
    code, out = run("deploy", "--stack-name", "ig-bad-plan", "--plan", str(plan), "--yes")
    err = capsys.readouterr().err
    assert (code, out) == (1, "")
    assert err.startswith("infra-gen: error: ") and differs in err and err.count("\n") == 1, err


def a_reviewed_update(emulator: Api, name: str, plan: Path) -> dict[str, Any]:
    """A stack, and the plan of an update to it (MinTasks=3) with its change set kept."""
    assert run("deploy", "--stack-name", name, "--yes")[0] == 0
    code, _ = run(
        "diff", "--stack-name", name, "--plan-out", str(plan), "--parameter", "MinTasks=3"
    )
    assert code == 1
    return dict(json.loads(plan.read_text()))


def another_change_set(emulator: Api, name: str, template: str, **values: str) -> str:
    """A change set on ``name`` made outside the review: its ARN."""
    cfn = emulator("cloudformation")
    declared = json.loads(render(build_template(Config()), "json"))["Parameters"]
    parameters = [
        {"ParameterKey": k, "ParameterValue": values[k]}
        if k in values
        else {"ParameterKey": k, "UsePreviousValue": True}
        for k in sorted(declared)
    ]
    made = cfn.create_change_set(
        StackName=name,
        ChangeSetName="outside-the-review",
        ChangeSetType="UPDATE",
        TemplateBody=template,
        Parameters=parameters,
        Capabilities=["CAPABILITY_IAM"],
    )
    return str(made["Id"])


def deploy_edited(plan: Path, doc: dict[str, Any], name: str, **fields: str) -> tuple[int, str]:
    """deploy --plan of the plan with ``fields`` replaced and its checksum recomputed."""
    doc = {**doc, **fields}
    sealed(doc)
    plan.write_text(json.dumps(doc))
    return run("deploy", "--stack-name", name, "--plan", str(plan), "--yes")


def refusal(capsys: pytest.CaptureFixture[str], result: tuple[int, str]) -> str:
    """The one line of a refused deploy (exit 1, nothing on stdout)."""
    assert result == (1, "")
    return capsys.readouterr().err


def test_a_change_set_with_another_template_is_refused(
    emulator: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    name, plan = "ig-bound-template", tmp_path / "plan.json"
    doc = a_reviewed_update(emulator, name, plan)
    # The same resources and values, one comment more: not the reviewed bytes.
    other = another_change_set(emulator, name, doc["template"] + "# not reviewed\n", MinTasks="3")
    before = params(emulator, name)
    capsys.readouterr()
    err = refusal(capsys, deploy_edited(plan, doc, name, change_set_arn=other))
    digest = hashlib.sha256((doc["template"] + "# not reviewed\n").encode()).hexdigest()
    assert err == (
        f"infra-gen: error: change set {other} has another template (SHA-256 {digest}, the "
        f"plan's {doc['template_sha256']}): make a new plan: infra-gen diff --plan-out\n"
    )
    assert params(emulator, name) == before  # nothing executed


def test_a_change_set_with_other_parameters_is_refused(
    emulator: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    name, plan = "ig-bound-parameters", tmp_path / "plan.json"
    doc = a_reviewed_update(emulator, name, plan)
    # The reviewed template and change list, another image: what the review never saw.
    other = another_change_set(
        emulator, name, doc["template"], MinTasks="3", ServiceImage=NEW_IMAGE
    )
    capsys.readouterr()
    err = refusal(capsys, deploy_edited(plan, doc, name, change_set_arn=other))
    assert err == (
        f"infra-gen: error: change set {other} has Parameter ServiceImage {NEW_IMAGE}, the "
        f"plan's {doc['parameters']['ServiceImage']}: make a new plan: infra-gen diff "
        "--plan-out\n"
    )
    assert params(emulator, name)["ServiceImage"] != NEW_IMAGE


def test_a_change_set_of_another_stack_is_refused(
    emulator: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    name, plan = "ig-bound-a", tmp_path / "plan.json"
    doc = a_reviewed_update(emulator, name, plan)
    code, _ = run("diff", "--stack-name", "ig-bound-b", "--plan-out", str(tmp_path / "b.json"))
    assert code == 1
    theirs = json.loads((tmp_path / "b.json").read_text())
    capsys.readouterr()
    # The ARN alone edited: the change set is of stack b, the plan's stack is a.
    err = refusal(capsys, deploy_edited(plan, doc, name, change_set_arn=theirs["change_set_arn"]))
    assert err == (
        f"infra-gen: error: change set {theirs['change_set_arn']} is of stack "
        f"{theirs['stack_id']}, the plan's {doc['stack_id']}: make a new plan: infra-gen "
        "diff --plan-out\n"
    )
    # The ARN and the stack ID edited: stack a is not that stack.
    code, out = deploy_edited(
        plan,
        doc,
        name,
        change_set_arn=theirs["change_set_arn"],
        stack_id=theirs["stack_id"].replace("ig-bound-b", name),
    )
    err = capsys.readouterr().err
    assert (code, out) == (1, "")
    assert err.startswith(f"infra-gen: error: stack {name} is {doc['stack_id']}, not the plan's")
    cfn = emulator("cloudformation")
    assert cfn.describe_stacks(StackName="ig-bound-b")["Stacks"][0]["StackStatus"] == (
        "REVIEW_IN_PROGRESS"
    )  # b was not created by a's deploy


def test_a_plan_that_cannot_be_written_leaves_no_change_set(
    emulator: Api,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "file").write_text("")
    plan = tmp_path / "file" / "plan.json"
    code, out = run("diff", "--stack-name", "ig-plan-unwritable", "--plan-out", str(plan))
    assert (code, out) == (2, "")
    assert capsys.readouterr().err == (
        f"infra-gen: error: --plan-out: cannot write {plan}: Not a directory\n"
    )
    summaries = emulator("cloudformation").list_stacks()["StackSummaries"]
    assert "ig-plan-unwritable" not in {
        s["StackName"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"
    }
