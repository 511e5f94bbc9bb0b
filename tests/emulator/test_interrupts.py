"""Ctrl-C at every AWS call of diff, deploy and delete, against the emulator.

Each command runs once to list its AWS calls; then once per call with a KeyboardInterrupt
raised as that call's answer arrives (botocore's ``after-call`` event: the request was
served, the answer is lost), the hardest moment. After each, the account is read: what
the run made is either gone, or named on the one ``interrupted`` line with the command
that deletes it; once ExecuteChangeSet (or DeleteStack) was sent, the line says how to
follow the stack and never "before anything was deployed".
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devtools.emulator import Api
from infra_gen import cli as commands
from infra_gen.deploy.aws import Clients

pytestmark = [
    pytest.mark.filterwarnings("ignore:Tried to parse .* but it's not supported:UserWarning"),
    pytest.mark.usefixtures("endpoint"),
]

TEMPLATE = """\
Parameters:
  Label:
    Type: String
    Default: label
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: {name}
      Tags:
        - Key: label
          Value: !Ref Label
Outputs:
  TopicArn:
    Value: !Ref Topic
"""


class Interrupting:
    """boto3's clients, with a KeyboardInterrupt as the answer to call number ``at``."""

    def __init__(self, at: int | None = None) -> None:
        self._clients = Clients()
        self._at = at
        self.calls: list[str] = []

    def __call__(self, service: str) -> Any:
        client = self._clients(service)
        if not getattr(client, "_interrupting", False):
            client.meta.events.register("after-call.*.*", self._answered)
            client._interrupting = True
        return client

    def _answered(self, event_name: str, **_: Any) -> None:
        self.calls.append(event_name.removeprefix("after-call."))
        if len(self.calls) - 1 == self._at:
            raise KeyboardInterrupt


def _run(
    argv: list[str], clients: Interrupting, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    out = io.StringIO()
    code = commands.main(argv, clients=clients, stdout=out, stdin=io.StringIO(""))
    return code, capsys.readouterr().err


State = tuple[str, list[str]]


def _state(api: Api, name: str) -> State:
    """(the stack's status, or "" when there is none; its change sets' IDs)."""
    cfn = api("cloudformation")
    stacks = [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == name]
    live = [s for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]
    if not live:
        return "", []
    sets = cfn.list_change_sets(StackName=name)["Summaries"]
    return live[0]["StackStatus"], [s["ChangeSetId"] for s in sets]


def _template(tmp_path: Path, topic: str) -> str:
    path = tmp_path / f"{topic}.yaml"
    path.write_text(TEMPLATE.format(name=topic))
    return str(path)


def _every_call(
    api: Api,
    capsys: pytest.CaptureFixture[str],
    base: str,
    argv: Callable[[str], list[str]],
    setup: Callable[[str], None],
) -> list[tuple[str, str, int, str, State, State]]:
    """Run ``argv(name)`` interrupted at each of its AWS calls, on a stack of its own each
    time (moto mixes a deleted stack's change sets into a new one of the same name):
    (stack, call, exit status, stderr, state before, state after) for each."""
    setup(base)
    probe = Interrupting()
    code, err = _run(argv(base), probe, capsys)
    assert code in (0, 1), err
    assert probe.calls, "the command made no AWS call"
    found = []
    for at, call in enumerate(probe.calls):
        name = f"{base}-{at}"
        setup(name)
        before = _state(api, name)
        code, err = _run(argv(name), Interrupting(at), capsys)
        found.append((name, call, code, err, before, _state(api, name)))
    return found


def _check_left_is_named(call: str, err: str, before: State, after: State) -> None:
    status, sets = after
    new_sets = [s for s in sets if s not in before[1]]
    for change_set in new_sets:
        assert "delete-change-set" in err and (
            change_set in err or change_set.split("/")[1].split(":")[-1] in err
        ), (call, err, change_set)
    if status == "REVIEW_IN_PROGRESS" and not before[0]:
        assert "delete-stack --stack-name" in err, (call, err)
    if new_sets or (status == "REVIEW_IN_PROGRESS" and not before[0]):
        assert "nothing is left" not in err, (call, err)


def _deploy(template: str) -> Callable[[str], list[str]]:
    return lambda name: [
        *("deploy", "--stack-name", name, "--yes", "--skip-preflight"),
        *("--template-file", template),
    ]


def _existing(template: str, capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    def setup(name: str) -> None:
        code, err = _run(_deploy(template)(name), Interrupting(), capsys)
        assert code == 0, err

    return setup


def _one_line(call: str, code: int, err: str) -> None:
    assert code == 130, (call, err)
    assert err.startswith("infra-gen: interrupted") and err.count("\n") == 1, (call, err)


def test_ctrl_c_at_every_call_of_diff_cleans_up_or_names_what_is_left(
    emulator: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    template = _template(tmp_path, "a")
    runs = _every_call(
        emulator,
        capsys,
        "ig-int-diff",
        lambda name: ["diff", "--stack-name", name, "--template-file", template],
        lambda name: None,
    )
    calls = [call for _, call, *_ in runs]
    assert "cloudformation.CreateChangeSet" in calls and "cloudformation.DeleteStack" in calls
    for _, call, code, err, before, after in runs:
        _one_line(call, code, err)
        _check_left_is_named(call, err, before, after)
        if err.endswith("nothing is left\n"):
            assert after == ("", []), (call, after)


@pytest.mark.parametrize("stack", ["new", "existing"])
def test_ctrl_c_at_every_call_of_a_deploy_cleans_up_or_says_how_to_follow(
    emulator: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path, stack: str
) -> None:
    first, second = _template(tmp_path, "a"), _template(tmp_path, "b")
    setup = _existing(first, capsys) if stack == "existing" else (lambda name: None)
    runs = _every_call(emulator, capsys, f"ig-int-{stack}", _deploy(second), setup)
    calls = [call for _, call, *_ in runs]
    executed = calls.index("cloudformation.ExecuteChangeSet")
    for i, (name, call, code, err, before, after) in enumerate(runs):
        _one_line(call, code, err)
        if i < executed:
            _check_left_is_named(call, err, before, after)
            assert after[0] == before[0], (call, before, after)  # nothing ran
            continue
        # ExecuteChangeSet was sent: the stack changes; never "before anything".
        assert "before anything was deployed" not in err, (call, err)
        assert f"describe-stack-events --stack-name {name}" in err, (call, err)


def test_ctrl_c_at_every_call_of_delete_says_what_happened(
    emulator: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    runs = _every_call(
        emulator,
        capsys,
        "ig-int-delete",
        lambda name: ["delete", "--stack-name", name, "--yes", "--poll-interval", "1"],
        _existing(_template(tmp_path, "c"), capsys),
    )
    calls = [call for _, call, *_ in runs]
    deleted = calls.index("cloudformation.DeleteStack")
    for i, (name, call, code, err, before, after) in enumerate(runs):
        _one_line(call, code, err)
        if i < deleted:
            assert after == before, (call, before, after)
            assert err == "infra-gen: interrupted before the stack's deletion was requested\n"
        else:
            assert "describe-stack-events --stack-name" in err and name in err, (call, err)
