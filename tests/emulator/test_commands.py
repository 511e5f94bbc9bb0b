"""``infra-gen diff`` and ``infra-gen deploy`` against moto's AWS emulator.

The commands run in-process, as ``infra-gen`` runs them, with boto3's usual chain:
fake credentials, ``AWS_REGION`` and ``AWS_ENDPOINT_URL`` pointing at the emulator that
devtools/emulator.py starts (it also bridges moto's gaps in the resource types of
this template; they are active here).

What the emulator does by itself and is checked: change sets (CREATE for a new stack,
UPDATE, "No updates are to be performed" for an identical one), ``UsePreviousValue``,
``CAPABILITY_IAM``, execution, Outputs, ``TemplateURL`` read from its S3, and the
resources the commands create or replace (read back through their service APIs).

What moto 5.2 does not do (replacement, resource events, failing as CloudFormation does),
emulated on top of it, and what is checked of each: tests/support/commands.py.
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from typing import Any

import pytest
from moto.cloudformation import parsing as cfn_parsing

from devtools.emulator import Api
from infra_gen import Config, build_template, render
from infra_gen import cli as commands
from infra_gen.deploy import changeset as cf
from tests.support.commands import (
    NEW_IMAGE,
    README,
    resource_count,
    run,
    stack_names,
    stack_resources,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore:Tried to parse .* but it's not supported:UserWarning"),
    pytest.mark.usefixtures("endpoint"),
]


# --------------------------------------------------------------------------------------
# Create, no-op update, update with a replacement.
# --------------------------------------------------------------------------------------


def test_diff_of_a_new_stack_lists_every_resource_and_leaves_nothing(
    emulator: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run("diff", "--stack-name", "ig-preview")
    assert code == 1, capsys.readouterr().err
    lines = out.splitlines()
    total = resource_count(Config())
    assert lines[0] == f"Stack ig-preview: {total} changes to create"
    adds = [line.split() for line in lines[1:]]
    assert all(words[0] == "Add" for words in adds)
    assert {"EcsService", "ProbeFunction", "LoadBalancer"} <= {words[1] for words in adds}
    # The CREATE change set and the empty stack it made are both gone.
    assert "ig-preview" not in stack_names(emulator)
    assert not emulator("cloudformation").list_change_sets(StackName="ig-preview")["Summaries"]


def test_create_then_no_op_then_replacement(
    emulator: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "ig-lifecycle"
    code, out = run("deploy", "--stack-name", name, "--yes")
    assert code == 0, capsys.readouterr().err
    # Plain lines (stdout is not a terminal): one per resource event, no control codes.
    assert "\r" not in out and "\x1b" not in out
    created = {line.split()[3] for line in out.splitlines() if " CREATE_COMPLETE " in line}
    assert created == set(stack_resources(emulator, name)) | {name}  # the stack's own event
    assert f"Stack {name}: CREATE_COMPLETE" in out
    # The Outputs, as the stack reports them.
    stack = emulator("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    for o in stack["Outputs"]:
        assert f"  {o['OutputKey']}" in out and o["OutputValue"] in out
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params["MinTasks"] == "2"

    # Same template, same Parameters: no changes, nothing executed, exit 0.
    code, out = run("diff", "--stack-name", name)
    assert (code, out) == (0, f"Stack {name}: no changes.\n")
    code, out = run("deploy", "--stack-name", name, "--yes")
    assert (code, out) == (0, f"Stack {name}: no changes.\n")

    before = stack_resources(emulator, name)
    update = ["--parameter", f"ServiceImage={NEW_IMAGE}", "--parameter", "MinTasks=3"]
    code, out = run("diff", "--stack-name", name, *update)
    assert code == 1
    # README shows this very output.
    assert out.replace(name, "nginx-probe") in README
    lines = out.splitlines()
    assert lines[0] == f"Stack {name}: 3 changes to update, 1 REPLACEMENTS"
    # The replacement comes first, marked so that no one misses it.
    assert lines[1].split() == [
        "!!",
        "Modify",
        "EcsTaskDefinition",
        "AWS::ECS::TaskDefinition",
        "REPLACE",
        "(ContainerDefinitions)",
    ]
    assert lines[2].split() == ["Modify", "EcsService", "AWS::ECS::Service"], out
    # MinTasks reaches the scalable target, never the service's own count.
    assert lines[3].split() == [
        "Modify",
        "ScalingTarget",
        "AWS::ApplicationAutoScaling::ScalableTarget",
    ], out
    # diff deleted its change set (moto keeps executed ones; CloudFormation does not).
    summaries = emulator("cloudformation").list_change_sets(StackName=name)["Summaries"]
    assert {s["ExecutionStatus"] for s in summaries} == {"EXECUTE_COMPLETE"}

    # The override is kept, every other Parameter keeps its previous value.
    code, out = run("deploy", "--stack-name", name, "--yes", *update)
    assert code == 0, capsys.readouterr().err
    assert f"Stack {name}: UPDATE_COMPLETE" in out
    after = stack_resources(emulator, name)
    assert after["EcsTaskDefinition"] != before["EcsTaskDefinition"]  # replaced
    assert {k: v for k, v in after.items() if k != "EcsTaskDefinition"} == {
        k: v for k, v in before.items() if k != "EcsTaskDefinition"
    }
    stack = emulator("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert (params["ServiceImage"], params["MinTasks"]) == (NEW_IMAGE, "3")
    # Not given this time: MinTasks stays 3 (UsePreviousValue), no changes.
    code, out = run("diff", "--stack-name", name, "--parameter", f"ServiceImage={NEW_IMAGE}")
    assert (code, out) == (0, f"Stack {name}: no changes.\n")


def test_confirmation_declined_deploys_nothing(
    emulator: Api, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = io.StringIO("n\n")
    monkeypatch.setattr(stdin, "isatty", lambda: True)
    out = io.StringIO()
    code = commands.main(["deploy", "--stack-name", "ig-declined"], stdout=out, stdin=stdin)
    assert code == 1
    assert "Deploy these changes to ig-declined? [y/N] " in out.getvalue()
    assert "Not deployed" in out.getvalue()
    assert "ig-declined" not in stack_names(emulator)


# --------------------------------------------------------------------------------------
# Failure paths.
# --------------------------------------------------------------------------------------

REASON = (
    'Resource handler returned message: "Invalid request provided: CreateService error: '
    'Service quota exceeded"'
)


def test_failing_resource_and_its_reason_are_printed(
    emulator: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    resource_class = cfn_parsing.resource_class_from_type

    class Failing:
        @staticmethod
        def create_from_cloudformation_json(*_: Any, **__: Any) -> Any:
            raise RuntimeError(REASON)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            cfn_parsing,
            "resource_class_from_type",
            lambda t: Failing if t == "AWS::ECS::Service" else resource_class(t),
        )
        code, out = run("deploy", "--stack-name", "ig-failing", "--yes")
    err = capsys.readouterr().err
    assert code == 1
    assert "infra-gen: stack ig-failing is ROLLBACK_COMPLETE" in err
    assert f"first failure: EcsService (AWS::ECS::Service) CREATE_FAILED: {REASON}" in err
    assert "describe-stack-events --stack-name ig-failing" in err
    assert err.splitlines()[-1] == (
        "infra-gen: left behind: stack ig-failing is left ROLLBACK_COMPLETE: it failed to create "
        "and must be deleted first: aws cloudformation delete-stack --stack-name ig-failing"
    )
    assert f"CREATE_FAILED                EcsService AWS::ECS::Service  {REASON}" in out
    assert "Outputs:" not in out

    # The next attempt says what to do with a stack that failed to create.
    code, _ = run("diff", "--stack-name", "ig-failing")
    assert code == 2
    assert capsys.readouterr().err == (
        "infra-gen: error: stack ig-failing is ROLLBACK_COMPLETE: it failed to create and must "
        "be deleted first: aws cloudformation delete-stack --stack-name ig-failing\n"
    )


def test_ctrl_c_stops_watching_not_the_stack(
    emulator: Api, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(cf, "_events_since", interrupted)
    code, _ = run("deploy", "--stack-name", "ig-interrupted", "--yes")
    err = capsys.readouterr().err
    assert code == 130, err
    assert "stopped watching; CloudFormation carries on with stack ig-interrupted" in err
    assert "aws cloudformation describe-stack-events --stack-name ig-interrupted" in err
    assert "aws cloudformation wait stack-create-complete --stack-name ig-interrupted" in err
    status = emulator("cloudformation").describe_stacks(StackName="ig-interrupted")
    assert status["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_ctrl_c_before_execution_leaves_no_change_set(
    emulator: Api, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    describe = cf.read_changes

    def interrupted(*_: Any) -> Any:
        raise KeyboardInterrupt
        yield from describe  # pragma: no cover - a generator, as the original

    monkeypatch.setattr(cf, "read_changes", interrupted)
    code, _ = run("diff", "--stack-name", "ig-interrupted-preview")
    assert code == 130
    assert (
        capsys.readouterr().err
        == "infra-gen: interrupted before anything was deployed; nothing is left\n"
    )
    assert "ig-interrupted-preview" not in stack_names(emulator)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--parameter", "NoSuch=1"],
            "--parameter NoSuch: not a Parameter of the template; "
            "allowed: AlarmEmail, CertificateArn, DeletionProtection",
        ),
        (["--parameter", "MinTasks"], "--parameter MinTasks: expected NAME=VALUE"),
        (["--set", "service.cpu=3"], "service.cpu: 3"),
    ],
)
def test_input_errors_exit_2_before_any_change(
    emulator: Api, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out = run("diff", "--stack-name", "ig-bad-input", *argv)
    assert (code, out) == (2, "")
    err = capsys.readouterr().err
    assert err.startswith(f"infra-gen: error: {message}") and err.count("\n") == 1
    assert "ig-bad-input" not in stack_names(emulator)


# --------------------------------------------------------------------------------------
# The 51,200-byte limit.
# --------------------------------------------------------------------------------------


def test_large_template_is_refused_without_s3_bucket_and_uploaded_with_it(
    emulator: Api, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real template fits (test_lint guards that); a lower limit stands for a larger one.
    monkeypatch.setattr(cf, "INLINE_LIMIT", 1000)
    code, _ = run("diff", "--stack-name", "ig-large")
    assert code == 2
    # Over the limit in YAML: the compact JSON is what would be sent, and what is measured.
    size = len(render(build_template(Config()), "json").encode())
    assert re.fullmatch(
        f"infra-gen: error: the template is {size:,} bytes, over the 1,000 CloudFormation takes "
        r"in a request \(largest: ProbeFunction [0-9,]+, Parameters [0-9,]+, Dashboard "
        r"[0-9,]+\): pass --resolve-s3 \(or --s3-bucket\) to deploy it from S3\n",
        capsys.readouterr().err,
    )
    assert "ig-large" not in stack_names(emulator)

    emulator("s3").create_bucket(Bucket="ig-templates")
    code, out = run(
        "diff", "--stack-name", "ig-large", "--s3-bucket", "ig-templates", "--s3-prefix", "stacks/"
    )
    assert code == 1, capsys.readouterr().err
    assert out.startswith("Stack ig-large: ")
    body = render(build_template(Config()), "yaml").encode()
    key = f"stacks/{hashlib.md5(body).hexdigest()}.template"
    stored = emulator("s3").get_object(Bucket="ig-templates", Key=key)["Body"].read()
    assert stored == body


# --------------------------------------------------------------------------------------
# Settings that reach an existing stack only through a Parameter.
# --------------------------------------------------------------------------------------


def test_a_set_that_only_changes_a_parameter_default_warns_with_the_parameter_to_pass(
    emulator: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "ig-task-size"
    assert run("deploy", "--stack-name", name, "--yes")[0] == 0, capsys.readouterr().err
    capsys.readouterr()
    bigger = ["--set", "service.cpu=512", "--set", "service.memory=1024"]
    code, out = run("diff", "--stack-name", name, *bigger)
    assert (code, out) == (0, f"Stack {name}: no changes.\n")
    assert capsys.readouterr().err == (
        "infra-gen: warning: --set changes only the default of Parameter TaskSize; stack "
        f"{name} keeps TaskSize=256/512: pass --parameter TaskSize=512/1024 to change it\n"
    )
    # Passing it changes the task definition, and nothing is left to warn about.
    code, out = run("diff", "--stack-name", name, *bigger, "--parameter", "TaskSize=512/1024")
    assert code == 1 and "EcsTaskDefinition" in out
    assert capsys.readouterr().err == ""


def test_diff_into_a_pipeline_that_stops_reading_is_quiet_and_leaves_nothing(
    emulator: Api,
) -> None:
    import os
    import subprocess
    import sys

    script = (
        f'"{sys.executable}" -m infra_gen diff --stack-name ig-piped | true; '
        'echo "${PIPESTATUS[0]}"'
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=120, env={**os.environ}
    )
    assert (done.stdout, done.stderr) == ("1\n", "")
    assert "ig-piped" not in stack_names(emulator)


# --------------------------------------------------------------------------------------
# --template-file: a template another generator built.
# --------------------------------------------------------------------------------------


def _composed() -> Any:
    from troposphere import sqs

    from infra_gen import build_stack, grants

    # The stack plus a queue its tasks send to. (A second service, 7 KB, takes a default
    # stack over the 51,200 bytes of a request since its 5xx alarms measure rates.)
    stack = build_stack()
    queue = stack.template.add_resource(sqs.Queue("JobsQueue"))
    stack.service.grant(stack.template, grants.send(queue))
    return stack.template


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_template_file_is_previewed_and_deployed_as_it_is(
    emulator: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    # A generator's template (here: the stack plus a queue and a grant), written as YAML
    # or as JSON, each sent as it is.
    template = _composed()
    path = tmp_path / f"composed.{fmt}"
    path.write_text(render(template, fmt), encoding="utf-8")  # type: ignore[arg-type]
    name = f"ig-file-{fmt}"
    code, out = run(
        "diff", "--stack-name", name, "--template-file", str(path), "--parameter", "MinTasks=3"
    )
    assert code == 1, capsys.readouterr().err
    assert out.splitlines()[0] == f"Stack {name}: {len(template.resources)} changes to create"
    assert {"JobsQueue", "EcsTaskRole"} <= {line.split()[1] for line in out.splitlines()[1:]}
    code, out = run(
        "deploy", "--stack-name", name, "--template-file", str(path), "--yes", "--skip-preflight"
    )
    assert code == 0, capsys.readouterr().err
    assert f"Stack {name}: CREATE_COMPLETE" in out
    assert "JobsQueue" in stack_resources(emulator, name)


def test_a_composed_template_over_the_limit_is_deployed_from_s3(
    emulator: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Two more services, scaled, fully alarmed, on the dashboard: over 51,200 bytes in both
    # forms (README's table), so only --s3-bucket deploys it, as the examples say.
    from infra_gen import build_stack

    stack = build_stack()
    for n, scope in enumerate(("Api", "Admin"), start=1):
        stack.add_service(
            scope,
            {"name": scope.lower(), "image": "ghcr.io/traefik/whoami:v1.11.0", "desired_count": 1},
            path_pattern=f"/{scope.lower()}/*",
            priority=n,
            writable_paths={},
            scaling={},
            all_alarms=True,
            dashboard=True,
        )
    text = render(stack.template, "json")
    assert len(text.encode()) > cf.INLINE_LIMIT
    path = tmp_path / "composed.json"
    path.write_text(text, encoding="utf-8")
    name = "ig-file-s3"
    code, out = run(
        "deploy", "--stack-name", name, "--template-file", str(path), "--yes", "--skip-preflight"
    )
    assert (code, out) == (2, "")
    assert re.fullmatch(
        # The file as compact JSON, as it would be sent: its text without the final newline.
        f"infra-gen: error: the template is {len(text.encode()) - 1:,} bytes, over the 51,200 "
        r"CloudFormation takes in a request \(largest: ProbeFunction [0-9,]+, Dashboard [0-9,]+, "
        r"Parameters [0-9,]+\): pass --resolve-s3 \(or --s3-bucket\) to deploy it from S3\n",
        capsys.readouterr().err,
    )
    emulator("s3").create_bucket(Bucket="ig-composed")
    code, out = run(
        "deploy",
        "--stack-name",
        name,
        "--template-file",
        str(path),
        "--yes",
        "--skip-preflight",
        "--s3-bucket",
        "ig-composed",
    )
    assert code == 0, capsys.readouterr().err
    assert f"Stack {name}: CREATE_COMPLETE" in out
    created = stack_resources(emulator, name)
    for scope in ("Api", "Admin"):
        assert {
            f"{scope}EcsService",
            f"{scope}ScalingTarget",
            f"{scope}AlarmRunningTasks",
            f"{scope}AlarmTarget5xx",
        } <= set(created)
    outputs = emulator("cloudformation").describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    assert {"ApiServiceUrl", "AdminServiceUrl", "ServiceUrl"} <= {o["OutputKey"] for o in outputs}


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (None, [], "--template-file {path}: No such file or directory"),
        (b"\xff\xfe", [], "--template-file {path}: not UTF-8 at byte 0"),
        (b"Resources: [1, 2", [], "--template-file {path}: not a YAML or JSON template"),
        (b"Description: no resources\n", [], "--template-file {path}: not a CloudFormation"),
        (b"{}", ["--set", "service.cpu=512"], "--set does not apply with --template-file"),
        (
            b"Parameters: {MinTasks: {Type: Number, MinValue: 1}}\nResources: {}\n",
            ["--parameter", "MinTasks=0"],
            "--parameter MinTasks='0': allowed at least 1",
        ),
        (b"Resources: {}\n", ["--parameter", "Nope=1"], "--parameter Nope: not a Parameter"),
    ],
    ids=[
        "missing",
        "not-utf-8",
        "not-yaml",
        "no-resources",
        "with-set",
        "bad-value",
        "unknown-parameter",
    ],
)
def test_template_file_errors_are_one_line_before_any_change(
    emulator: Api,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    content: bytes | None,
    extra: list[str],
    message: str,
) -> None:
    path = tmp_path / "template.yaml"
    if content is not None:
        path.write_bytes(content)
    code, out = run("diff", "--stack-name", "ig-file-bad", "--template-file", str(path), *extra)
    assert (code, out) == (2, "")
    err = capsys.readouterr().err
    assert err.startswith(f"infra-gen: error: {message.format(path=path)}"), err
    assert err.count("\n") == 1
    assert "ig-file-bad" not in stack_names(emulator)
