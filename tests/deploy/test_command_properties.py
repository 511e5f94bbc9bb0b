"""Whatever the arguments, diff, deploy, preflight, verify and delete end in one line and a
documented exit status: never a traceback, never an "internal error" (exit 70).

AWS is unreachable here (every client raises botocore's NoCredentialsError, as it does
without credentials), so the arguments that pass the checks end in exit 2 too.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import NoCredentialsError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra_gen.cli import main

COMMANDS = ["diff", "deploy", "preflight", "verify", "delete"]
OPTIONS = [
    "--stack-name",
    "--parameter",
    "--set",
    "--config",
    "--template-file",
    "--s3-bucket",
    "--s3-prefix",
    "--plan-out",
    "--plan",
    "--format",
    "--timeout",
    "--wait",
    "--interval",
    "--poll-interval",
    "--role-arn",
    "--fail-fast-stops",
    "--yes",
    "--offline",
    "--fail-fast",
    "--skip-preflight",
    "--disable-deletion-protection",
    "--help-me",
]
NASTY = st.sampled_from(
    [
        "",
        "demo",
        "a" * 200,
        "arn:aws:iam::123456789012:role/x",
        "MaxTasks=inf",
        "MaxTasks=1e400",
        "TaskSize=",
        "=x",
        "service.cpu=999999",
        "\udc80",
        "\x00",
        "\u00b2",
        "1e10",
        "nan",
        "-1",
        "0",
        "/dev/null",
        "/",
        "/nonexistent/x.yaml",
        "dir/",
        "json",
        "[" * 300,
        "x" * 5000,
    ]
)
ARGS = st.lists(st.one_of(st.sampled_from(OPTIONS), NASTY, st.text(max_size=20)), max_size=8)


def _unreachable(service: str) -> Any:
    raise NoCredentialsError()


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(command=st.sampled_from(COMMANDS), args=ARGS)
def test_any_arguments_end_in_one_line_and_a_documented_status(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, args: list[str]
) -> None:
    argv = [command, *args]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)  # a --plan-out that passes its checks writes nothing elsewhere
        code = main(argv, clients=_unreachable, stdout=io.StringIO(), stdin=io.StringIO(""))
    err = capsys.readouterr().err
    assert code in (0, 1, 2), (argv, code, err)
    if code == 2:
        assert err.startswith("infra-gen: error: ") and err.count("\n") == 1, (argv, err)
    assert "internal error" not in err and "Traceback" not in err, (argv, err)
