"""[domain] through the command line: each bad value is one line naming its key, exit 2,
and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.refusals import one_error_line
from tests.support.stack import BAD_DOMAIN


@pytest.mark.parametrize(("key", "value", "others", "says"), BAD_DOMAIN)
def test_a_bad_domain_value_is_refused_in_one_line_and_nothing_is_written(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    key: str,
    value: object,
    others: dict[str, str],
    says: str,
) -> None:
    out = tmp_path / "stack.yaml"
    argv = [f"--set=domain.{k}={v}" for k, v in others.items()]
    argv += [f"--set=domain.{key}={value}", "-o", str(out)]
    line = one_error_line(capsys, argv)
    assert line.startswith(f"domain.{key}: "), line
    # --set reads a string field's value as text: 42 is '42', refused for its form.
    assert says in line if isinstance(value, str) else f"'{value}' is not" in line, line
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_domain_is_generated_from_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from infra_gen import cli

    out = tmp_path / "stack.yaml"
    argv = ["--set", "domain.name=www.example.com", "--set", "domain.hosted_zone_id=Z0123ABC"]
    assert cli.main([*argv, "-o", str(out)]) == 0, capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    assert "AWS::CertificateManager::Certificate" in text and "https://www.example.com" in text
