"""A command run that must be refused: one error line, exit 2, before any AWS call."""

from __future__ import annotations

import io
from typing import Any

import pytest

from infra_gen import cli as commands


def no_aws(service: str) -> Any:
    raise AssertionError(f"no AWS call expected, got {service}")


def one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """The error line of ``argv``'s run, without ``infra-gen: error: ``; the run must exit 2
    with nothing on stdout and one line on stderr, calling no AWS client."""
    out = io.StringIO()
    code = commands.main(argv, clients=no_aws, stdout=out, stdin=io.StringIO(""))
    err = capsys.readouterr().err
    assert (code, out.getvalue()) == (2, ""), err
    assert err.startswith("infra-gen: error: ") and err.count("\n") == 1, err
    return err.removeprefix("infra-gen: error: ").rstrip("\n")
