"""The command line, run as users run it: in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra_gen import __version__


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra_gen", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, ...) as plain mappings."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        return {name: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    return {name: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _tag)


def test_default_writes_yaml_to_stdout() -> None:
    result = run()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    doc = yaml.load(result.stdout, Loader=_CfnLoader)  # noqa: S506 - safe loader subclass
    assert doc["AWSTemplateFormatVersion"] == "2010-09-09"
    assert doc["Resources"]["EcsCluster"]["Type"] == "AWS::ECS::Cluster"


def test_yaml_and_json_hold_the_same_template() -> None:
    as_yaml = yaml.load(run().stdout, Loader=_CfnLoader)  # noqa: S506
    as_json = json.loads(run("--format", "json").stdout)
    assert sorted(as_yaml["Resources"]) == sorted(as_json["Resources"])
    assert as_yaml["Parameters"] == as_json["Parameters"]


def test_output_file_format_follows_the_suffix(tmp_path: Path) -> None:
    result = run("-o", str(tmp_path / "nested" / "stack.json"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    json.loads((tmp_path / "nested" / "stack.json").read_text())
    assert sorted(p.name for p in (tmp_path / "nested").iterdir()) == ["stack.json"]


def test_output_file_gets_the_usual_mode(tmp_path: Path) -> None:
    target = tmp_path / "stack.yaml"
    result = subprocess.run(
        ["sh", "-c", f'umask 022 && exec "{sys.executable}" -m infra_gen -o "{target}"'],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert target.stat().st_mode & 0o777 == 0o644


def test_same_inputs_give_identical_bytes(tmp_path: Path) -> None:
    for fmt in ("yaml", "json"):
        first = run("--format", fmt, "--set", "security.kms_logs=true", env={"PYTHONHASHSEED": "1"})
        second = run(
            "--format", fmt, "--set", "security.kms_logs=true", env={"PYTHONHASHSEED": "2"}
        )
        assert first.returncode == second.returncode == 0
        assert first.stdout == second.stdout


def test_config_file_then_set_overrides(tmp_path: Path) -> None:
    config = tmp_path / "stack.toml"
    config.write_text(
        "[service]\ndesired_count = 4\ncpu = 512\nmemory = 1024\n[network]\naz_count = 3\n"
    )
    result = run("--format", "json", "--config", str(config), "--set", "service.desired_count=6")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["Parameters"]["MinTasks"]["Default"] == 6
    assert doc["Parameters"]["TaskSize"]["Default"] == "512/1024"
    assert "NetworkPublicSubnet3" in doc["Resources"]


def test_set_takes_lists_and_strings() -> None:
    result = run(
        "--format", "json",
        "--set", 'network.subnet_cidrs=["10.0.8.0/24", "10.0.9.0/24"]',
        "--set", "service.image=docker.io/library/nginx:1.27-alpine",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["Resources"]["NetworkPublicSubnet2"]["Properties"]["CidrBlock"] == "10.0.9.0/24"
    assert doc["Parameters"]["ServiceImage"]["Default"] == "docker.io/library/nginx:1.27-alpine"


def test_version_and_help() -> None:
    assert run("--version").stdout.strip() == f"infra-gen {__version__}"
    helped = run("--help")
    assert helped.returncode == 0
    for option in ("--format", "--output", "--config", "--set"):
        assert option in helped.stdout


ERRORS = [
    (["--set", "service.imag=nginx"], "service.imag: unknown key (did you mean 'image'?)"),
    (["--set", "service.cpu=many"], "service.cpu: expected an integer, got 'many'"),
    (["--set", "network.vpc_cidr=10.0.0.0/40"], "network.vpc_cidr: '10.0.0.0/40' is not an IPv4"),
    (
        ["--set", 'network.subnet_cidrs=["192.168.0.0/24","10.0.1.0/24"]'],
        "network.subnet_cidrs: 192.168.0.0/24 does not fit inside",
    ),
    (["--set", "network.az_count=7"], "network.az_count: 7 is out of range; allowed 2..3"),
    (
        ["--set", "service.cpu=1024", "--set", "service.memory=512"],
        "service.memory: 512 is not offered by Fargate with service.cpu=1024",
    ),
    (["--set", "service.image=Bad Image"], "service.image: 'Bad Image' is not an image reference"),
    (
        ["--set", "cluster.fargate_weight=0", "--set", "cluster.fargate_spot_weight=0"],
        "cluster.fargate_weight: and cluster.fargate_spot_weight are both 0",
    ),
    (["--set", "cpu=512"], "--set cpu=512: expected section.key=value"),
    (["--config", "/nonexistent/stack.toml"], "--config /nonexistent/stack.toml: cannot read"),
]


@pytest.mark.parametrize(("args", "message"), ERRORS, ids=[e[1].split(":")[0] for e in ERRORS])
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("infra-gen: error: ")
    assert message in result.stderr


def test_malformed_config_file(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[service\ncpu = 512\n")
    result = run("--config", str(config))
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"--config {config}: not valid TOML" in result.stderr
    assert result.stderr.count("\n") == 1


def test_unknown_key_in_config_file(tmp_path: Path) -> None:
    config = tmp_path / "stack.toml"
    config.write_text("[network]\nvpc_cidrs = '10.0.0.0/16'\n")
    result = run("--config", str(config))
    assert result.returncode == 2
    assert "network.vpc_cidrs: unknown key (did you mean 'vpc_cidr'?)" in result.stderr


def test_failed_run_leaves_the_existing_file_untouched(tmp_path: Path) -> None:
    target = tmp_path / "stack.yaml"
    target.write_text("previous\n")
    result = run("-o", str(target), "--set", "network.az_count=9")
    assert result.returncode == 2
    assert target.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["stack.yaml"]


def test_unwritable_output_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run("-o", str(blocker / "stack.yaml"))
    assert result.returncode == 1
    assert result.stderr.startswith("infra-gen: error: cannot write")
    assert result.stderr.count("\n") == 1


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "infra-gen"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert result.stdout.strip() == f"infra-gen {__version__}"
