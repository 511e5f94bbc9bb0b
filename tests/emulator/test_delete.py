"""``infra-gen delete`` against the emulator: it asks, deletes with progress, turns a load
balancer's deletion protection off only when told to, and lists what stays."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from devtools.emulator import Api
from infra_gen import cli as commands
from tests.support.commands import run, stack_names, stack_resources

pytestmark = [
    pytest.mark.filterwarnings("ignore:Tried to parse .* but it's not supported:UserWarning"),
    pytest.mark.usefixtures("endpoint"),
]

KEPT = """\
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      LogGroupName: ig-delete-kept-logs
  Bucket:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      BucketName: ig-delete-kept-bucket
  Topic:
    Type: AWS::SNS::Topic
"""


def _deployed(tmp_path: Path, name: str, template: str | None = None) -> None:
    argv = ["deploy", "--stack-name", name, "--yes", "--skip-preflight"]
    if template is not None:
        path = tmp_path / "t.yaml"
        path.write_text(template)
        argv += ["--template-file", str(path)]
    code, out = run(*argv)
    assert code == 0, out


def test_delete_lists_what_stays_with_the_commands_that_remove_it(
    emulator: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    name = "ig-delete-kept"
    _deployed(tmp_path, name, KEPT)
    code, out = run("delete", "--stack-name", name, "--yes", "--poll-interval", "1")
    assert code == 0, capsys.readouterr().err
    lines = out.splitlines()
    assert lines[0] == f"Stack {name} (CREATE_COMPLETE): 3 resources to delete"
    assert "  stays (Retain): Bucket AWS::S3::Bucket ig-delete-kept-bucket" in lines
    assert "  stays (Retain): Logs AWS::Logs::LogGroup ig-delete-kept-logs" in lines
    assert f"Stack {name}: DELETE_COMPLETE" in lines
    assert lines[-3:] == [
        "Left in the account (DeletionPolicy), with the command that removes each:",
        "  Bucket: aws s3 rb s3://ig-delete-kept-bucket --force (a versioned bucket: delete "
        "its object versions first, e.g. in the console's Empty)",
        "  Logs: aws logs delete-log-group --log-group-name ig-delete-kept-logs",
    ]
    assert name not in stack_names(emulator)


def test_delete_asks_and_refuses_without_a_terminal(
    emulator: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    name = "ig-delete-ask"
    _deployed(tmp_path, name, KEPT.replace("ig-delete-kept", "ig-delete-ask"))
    # No terminal, no --yes: refused before any AWS call.
    code = commands.main(["delete", "--stack-name", name], stdout=io.StringIO())
    assert code == 2
    assert capsys.readouterr().err == (
        "infra-gen: error: stdin is not a terminal, so no one can confirm: pass --yes\n"
    )

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = io.StringIO()
    code = commands.main(["delete", "--stack-name", name], stdout=out, stdin=Terminal("n\n"))
    assert code == 1
    assert out.getvalue().endswith(f"Delete stack {name}? [y/N] Not deleted.\n")
    assert name in stack_names(emulator)
    out = io.StringIO()
    argv = ["delete", "--stack-name", name, "--poll-interval", "1"]
    code = commands.main(argv, stdout=out, stdin=Terminal("y\n"))
    assert code == 0, capsys.readouterr().err
    assert name not in stack_names(emulator)


def test_a_protected_load_balancer_stops_the_delete_unless_told(
    emulator: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    name = "ig-delete-protected"
    _deployed(tmp_path, name)
    arn = stack_resources(emulator, name)["LoadBalancer"]
    elbv2 = emulator("elbv2")
    elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}]
    )
    code, out = run("delete", "--stack-name", name, "--yes")
    assert (code, out) == (1, "")
    assert capsys.readouterr().err == (
        f"infra-gen: error: load balancer {arn} has deletion protection on, so the delete "
        "would fail: pass --disable-deletion-protection; nothing was deleted\n"
    )
    assert name in stack_names(emulator)

    argv = ["delete", "--stack-name", name, "--yes", "--disable-deletion-protection"]
    code, out = run(*argv, "--poll-interval", "1")
    assert code == 0, capsys.readouterr().err
    assert f"  deletion protection turned off first: {arn}" in out.splitlines()
    # The probe function is in the VPC: the wait for its network interfaces is said.
    assert (
        "Function ProbeFunction runs in the VPC: Lambda releases its network interfaces "
        "after the function is deleted and CloudFormation waits for them before it deletes "
        "the subnets and security groups, which can take 20 to 45 minutes."
    ) in out.splitlines()
    assert out.splitlines()[-1] == f"Stack {name}: DELETE_COMPLETE"
    assert name not in stack_names(emulator)


def test_deleting_a_stack_that_does_not_exist_is_done(
    emulator: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run("delete", "--stack-name", "ig-delete-none", "--yes")
    assert code == 0, capsys.readouterr().err
    assert out == "Stack ig-delete-none does not exist: nothing to delete.\n"
