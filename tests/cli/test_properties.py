"""Whatever the input, the CLI ends in exit 0 or in exit 2 with one error line, writing nothing
(the commands also in exit 1, for changes or a failed deployment).

The command's ``main(argv)`` runs in this process (a subprocess per example would
cost a Python start-up each); tests/cli/test_cli.py runs the same paths as users do.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from infra_gen import Config
from infra_gen.cli import main

KEYS = sorted(
    f"{section}.{f.name}"
    for section in Config().to_mapping()
    if section != "governed"  # top-level, not a table
    for f in dataclasses.fields(getattr(Config(), section))
)
PREVIOUS = b"previous contents\n"

# Values chosen to break parsers: deep nesting, control and invalid characters,
# numbers past every limit, text that looks like TOML or like another type.
NASTY = st.sampled_from(
    [
        "[" * 700,
        "[" * 700 + "]" * 700,
        "{" * 300,
        "9" * 5000,
        "-" + "9" * 5000,
        "1e400",
        "nan",
        "inf",
        "-0",
        "0x1F",
        "1_000",
        "true",
        "True",
        "",
        " ",
        "\n",
        "nginx\n",
        "a\x00b",
        "\x1b[31m",
        "\udc80",
        "\u2028",
        "ü",
        '"quoted"',
        "'single'",
        '"unterminated',
        "[1, 2]",
        '["a", 1]',
        "x" * 10_000,
        "a = 1\nb = 2",
        "10.0.0.0/28",
        "127.0.0.0/16",
        "rate(1 minute)",
    ]
)
VALUES = st.one_of(NASTY, st.text(max_size=40), st.integers().map(str), st.floats().map(repr))
SET_KEYS = st.one_of(st.sampled_from(KEYS), st.text(max_size=20), st.just("service"))
DEFAULTS = {k: v for k, v in Config().to_mapping().items() if k != "governed"}  # the tables


def _as_set_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    return repr(value)


# Each key with its default written as a user would: valid, so that runs also succeed.
VALID_SETS = st.sampled_from(
    [(key, _as_set_value(DEFAULTS[key.split(".")[0]][key.split(".")[1]])) for key in KEYS]
)


# About 150 examples each keep the two properties near ten seconds together; the
# `workdir` fixture is shared on purpose (each example resets the files it uses).
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@contextlib.contextmanager
def _captured() -> Iterator[tuple[io.BytesIO, io.StringIO]]:
    out = io.BytesIO()
    err = io.StringIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8")
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(err):
        yield out, err
    stdout.flush()
    stdout.detach()  # keep `out` open once the wrapper goes


def _run(argv: list[str]) -> tuple[int, bytes, str]:
    with _captured() as (out, err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _assert_exit_0_or_one_error_line(code: int, out: bytes, err: str, target: Path) -> None:
    assert code in (0, 2), err
    event(f"exit {code}")
    if code == 2:
        assert out == b""
        assert err.startswith("infra-gen: error: ")
        assert err.endswith("\n") and err.count("\n") == 1, err
        assert target.read_bytes() == PREVIOUS, "a failed run must leave -o untouched"
    else:
        assert err == ""
        assert target.read_bytes().startswith(
            (b"AWSTemplateFormatVersion:", b'{"AWSTemplateFormatVersion":')
        )
        target.write_bytes(PREVIOUS)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-properties")


@PROPERTY
@given(st.lists(st.one_of(VALID_SETS, st.tuples(SET_KEYS, VALUES)), min_size=1, max_size=3))
def test_any_set_values(workdir: Path, pairs: list[tuple[str, str]]) -> None:
    target = workdir / "set.yaml"
    target.write_bytes(PREVIOUS)
    argv = [arg for key, value in pairs for arg in ("--set", f"{key}={value}")]
    code, out, err = _run([*argv, "-o", str(target)])
    _assert_exit_0_or_one_error_line(code, out, err, target)


def _toml_string(text: str) -> str:
    return (
        '"'
        + "".join(
            ch if ch.isprintable() and ch not in '"\\' else f"\\U{ord(ch):08X}" for ch in text
        )
        + '"'
    )


@dataclasses.dataclass(frozen=True)
class Raw:
    """Text written into the document as it is, e.g. an integer literal of 5,000 digits."""

    text: str


def _toml_value(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, tuple):  # (depth, innermost): an array nested `depth` levels
        depth, inner = value
        return "[" * depth + _toml_value(inner) + "]" * depth
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{_toml_string(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


SCALARS = st.one_of(
    st.booleans(),
    st.integers(),
    st.sampled_from([Raw("9" * 5000), Raw("-" + "9" * 5000), Raw(str(2**64)), Raw("1e999")]),
    st.floats(),
    st.text(max_size=30),
    NASTY.filter(lambda s: "\udc80" not in s),
)
TOML_VALUES = st.one_of(
    SCALARS,
    st.tuples(st.integers(1, 900), SCALARS),
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.text(max_size=8), SCALARS, max_size=3),
)
SECTIONS = st.one_of(st.sampled_from(sorted(DEFAULTS)), st.text(min_size=1, max_size=10))
NAMES = st.one_of(st.sampled_from([k.split(".")[1] for k in KEYS]), st.text(max_size=8))
DOCUMENTS = st.dictionaries(SECTIONS, st.dictionaries(NAMES, TOML_VALUES, max_size=4), max_size=3)


def _with(key: str | None, value: Any = None) -> dict[str, dict[str, Any]]:
    """The default configuration as a document, with ``key`` (if any) set to ``value``."""
    doc = {
        s: {k: list(v) if isinstance(v, tuple) else v for k, v in table.items()}
        for s, table in DEFAULTS.items()
    }
    if key is not None:
        section, name = key.split(".")
        doc[section][name] = value
    return doc


MUTATED = st.one_of(st.just(_with(None)), st.builds(_with, st.sampled_from(KEYS), TOML_VALUES))


def _document(doc: dict[str, dict[str, Any]]) -> str:
    return "".join(
        f"[{_toml_string(section)}]\n"
        + "".join(f"{_toml_string(key)} = {_toml_value(v)}\n" for key, v in table.items())
        for section, table in doc.items()
    )


@PROPERTY
@given(st.one_of(DOCUMENTS.map(_document), MUTATED.map(_document), st.text(max_size=200)))
def test_any_toml_document(workdir: Path, text: str) -> None:
    config = workdir / "stack.toml"
    config.write_text(text, encoding="utf-8", errors="surrogatepass")
    # JSON: every valid configuration fits a request in it (several are over in YAML).
    target = workdir / "toml.json"
    target.write_bytes(PREVIOUS)
    code, out, err = _run(["--config", str(config), "-o", str(target)])
    _assert_exit_0_or_one_error_line(code, out, err, target)
    printed = _run(["--config", str(config), "--print-config"])
    assert printed[0] == code
    if code == 0:  # what --print-config shows reads back as the same configuration
        config.write_bytes(printed[1])
        assert _run(["--config", str(config), "-o", str(target)])[0] == 0


# --------------------------------------------------------------------------------------
# The whole command line: generation and diff / deploy / verify, against an endpoint that
# refuses every connection, so that nothing reaches AWS.
# --------------------------------------------------------------------------------------

COMMANDS = st.sampled_from(
    [
        [],
        ["diff"],
        ["deploy"],
        ["verify"],
        ["diff", "--stack-name", "demo"],
        ["deploy", "--stack-name", "demo", "--yes"],
        ["verify", "--stack-name", "demo"],
    ]
)
TEXT = st.one_of(NASTY, st.text(max_size=12))
OPTIONS = st.one_of(
    st.tuples(
        st.sampled_from(["--stack-name"]),
        st.one_of(st.sampled_from(["demo", "a_b", "x" * 129, "arn:aws:x", "d\udcff"]), TEXT),
    ),
    st.tuples(
        st.just("--timeout"),
        st.one_of(st.sampled_from(["-1", "nan", "inf", "0", "5", "1e999"]), TEXT),
    ),
    st.tuples(
        st.just("--parameter"),
        st.one_of(
            st.sampled_from(
                [
                    "TaskSize=999/1",
                    "TaskSize=512/1024",
                    "NoSuch=1",
                    "MinTasks=0",
                    "MinTasks",
                    "=1",
                    "AlarmEmail=\udcff",
                ]
            ),
            TEXT,
        ),
    ),
    st.tuples(st.just("--set"), st.builds(lambda k, v: f"{k}={v}", SET_KEYS, VALUES)),
    st.tuples(
        st.sampled_from(
            ["--s3-bucket", "--s3-prefix", "--config", "--format", "--check", "--bogus"]
        ),
        TEXT,
    ),
    st.tuples(
        st.sampled_from(
            ["--yes", "--print-config", "--help", "--version", "--allow-large-template"]
        )
    ),
)


@pytest.fixture
def refusing_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(COMMANDS, st.lists(OPTIONS, max_size=4))
def test_any_command_line(
    workdir: Path, refusing_aws: None, command: list[str], options: list[tuple[str, ...]]
) -> None:
    target = workdir / "any.yaml"
    target.write_bytes(PREVIOUS)
    argv = [*command, *(arg for option in options for arg in option)]
    if not command:
        argv += ["-o", str(target)]
    code, out, err = _run(argv)
    event(f"{(command or ['generate'])[0]} exit {code}")
    assert code in (0, 1, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert out == b""
        assert err.startswith("infra-gen: error: ") and err.count("\n") == 1, err
    assert target.read_bytes() == PREVIOUS or (code == 0 and not command)
