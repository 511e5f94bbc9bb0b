"""``diff --plan-out`` and ``deploy --plan`` against moto's emulator, as
tests/emulator/test_commands.py runs the commands (the same fixtures and emulation).

What the emulator cannot answer as CloudFormation does is in tests/deploy/test_plan.py (Stubber):
a change set that is gone (moto answers ValidationError, not ChangeSetNotFound) or
OBSOLETE (moto never marks one so when the stack changes).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from devtools.emulator import Api
from infra_gen import Config, build_template, render
from tests.support.commands import NEW_IMAGE, README, resource_count, run

pytestmark = [
    pytest.mark.filterwarnings("ignore:Tried to parse .* but it's not supported:UserWarning"),
    pytest.mark.usefixtures("endpoint"),
]
OUT = Path(__file__).resolve().parents[2] / "out"


def masked(text: str) -> str:
    """Output with what differs between runs (change set IDs, times) or with each change of
    the template (its SHA-256) masked."""
    text = re.sub(r"changeSet/infra-gen-\d{14}/[0-9a-f-]{36}", "changeSet/ID", text)
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
            "--plan {plan}: format: expected 'infra-gen-plan/1' (written by infra-gen diff "
            "--plan-out), got 'v0'",
        ),
        (
            lambda d: None,
            ["--parameter", "MinTasks=5"],
            "--parameter does not apply with --plan, which runs the plan's change set as it is: "
            "make a new plan with it",
        ),
        (
            lambda d: d.update(stack_name="other"),
            [],
            "--plan {plan} is for stack other, not ig-bad-plan",
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
    sha = hashlib.sha256(template.encode()).hexdigest()
    doc = {
        "format": "infra-gen-plan/1",
        "stack_name": "ig-bad-plan",
        "change_set_arn": "arn:x",
        "change_set_type": "UPDATE",
        "template_sha256": sha,
        "parameters": {},
        "changes": [],
        "stack": {},
        "template": template,
    }
    edit(doc)  # type: ignore[operator]
    plan.write_text(json.dumps(doc))
    code, out = run("deploy", "--stack-name", "ig-bad-plan", "--plan", str(plan), "--yes", *extra)
    assert (code, out) == (2, "")
    assert capsys.readouterr().err == (
        "infra-gen: error: " + message.format(plan=plan, sha=sha) + "\n"
    )


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
