"""What must be refused: a command run (one error line, exit 2, before any AWS call) or a
library call (one ConfigError line, the template as it was)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from troposphere import Template

from infra_gen import ConfigError, render
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


def refused_untouched(key: str, call: Callable[[], object], *templates: Template) -> str:
    """``call``'s :class:`ConfigError` message: one line, naming ``key`` first, raised with
    each of ``templates`` rendering as before the call (nothing half-added)."""
    before = [render(t, "json") for t in templates]
    with pytest.raises(ConfigError) as raised:
        call()
    message = str(raised.value)
    assert "\n" not in message and "\r" not in message, message
    assert message.startswith(f"{key}: "), (key, message)
    assert [render(t, "json") for t in templates] == before, message
    return message
