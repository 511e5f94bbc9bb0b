"""The command line, run as users run it: in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from infra_gen import __version__
from tests.support.refusals import one_error_line


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
    doc = yaml.load(result.stdout, Loader=_CfnLoader)
    assert doc["AWSTemplateFormatVersion"] == "2010-09-09"
    assert doc["Resources"]["EcsCluster"]["Type"] == "AWS::ECS::Cluster"


def test_yaml_and_json_hold_the_same_template() -> None:
    as_yaml = yaml.load(run().stdout, Loader=_CfnLoader)
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
    # With KMS the YAML is over 51,200 bytes: written all the same, for an S3 deploy.
    given = ("--set", "security.kms_logs=true", "--allow-large-template")
    for fmt in ("yaml", "json"):
        first = run("--format", fmt, *given, env={"PYTHONHASHSEED": "1"})
        second = run("--format", fmt, *given, env={"PYTHONHASHSEED": "2"})
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
        "--format",
        "json",
        "--set",
        'network.subnet_cidrs=["10.0.8.0/24", "10.0.9.0/24"]',
        "--set",
        "service.image=docker.io/library/nginx:1.27-alpine",
    )
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
    (["--set", "network.vpc_cidr=10.0.0.0/28"], "network.vpc_cidr: '10.0.0.0/28' has prefix /28"),
    (
        ["--set", "network.vpc_cidr=10.0.0.0/26", "--set", "network.az_count=3"],
        "network.vpc_cidr: '10.0.0.0/26' holds 2 subnet(s) of /27",
    ),
    (["--set", "network.vpc_cidr=127.0.0.0/16"], "network.vpc_cidr: '127.0.0.0/16' is in 127"),
    (["--set", "network.vpc_cidr=224.0.0.0/16"], "network.vpc_cidr: '224.0.0.0/16' is in 224"),
    (["--set", "network.subnet_cidrs=" + "[" * 600], "network.subnet_cidrs: expected a list"),
    (["--set", "service.name=nginx\n"], "service.name: 'nginx\\n' contains the control"),
    (["--set", "alarms.email=ops@example.com\n"], "alarms.email: 'ops@example.com\\n' contains"),
    (
        ["--set", "discovery.namespace=" + ".".join(["a" * 63] * 4)],
        "discovery.namespace: has 255 characters; allowed at most 253",
    ),
    (
        ["--set", "alarms.period_seconds=900", "--set", "alarms.evaluation_periods=100"],
        "alarms.evaluation_periods: 100 periods of alarms.period_seconds=900 make a 90000 s",
    ),
    (["--set", "alarms.period_seconds=10"], "alarms.period_seconds: 10 needs high-resolution"),
    (["--set", "security.flow_logs=yes"], "security.flow_logs: expected true or false"),
    (["--format", "xml"], "argument --format: invalid choice: 'xml'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    # A stray word is no command either: the same line, not argparse's subcommand error.
    (["foo"], "unrecognized arguments: foo (see infra-gen --help)"),
    (["-o", "a.yaml", "dif"], "unrecognized arguments: dif (see infra-gen --help)"),
    (["-o"], "argument -o/--output: expected one argument"),
    (["-o", "a.yaml", "--check", "b.yaml"], "not allowed with argument"),
    (["--check", "/nonexistent/stack.yaml"], "--check /nonexistent/stack.yaml: cannot read"),
    # Accepted before, and wrong in the template or at deploy time.
    (
        ["--set", "network.vpc_cidr=10.0.0.0/255.255.0.0"],
        "network.vpc_cidr: '10.0.0.0/255.255.0.0' is not an IPv4 CIDR block like 10.0.0.0/16",
    ),
    (
        ["--set", 'probe.metric_namespace="   "'],
        "probe.metric_namespace: '   ' is not a CloudWatch namespace",
    ),
    (
        ["--set", "alarms.email=<ops>@example.com"],
        "alarms.email: '<ops>@example.com' is not an e-mail address: the part before @ allows",
    ),
    (
        ["--set", "alarms.email=ops..team@example.com"],
        "alarms.email: 'ops..team@example.com' is not an e-mail address",
    ),
    (
        ["--set", "alarms.email=ops\u200f@example.com"],
        "alarms.email: 'ops\\u200f@example.com' is not an e-mail address",
    ),
    (
        ["--set", "alarms.email=" + "e" * 5000 + "@example.com"],
        "is not an e-mail address: 5012 characters; allowed at most 254",
    ),
    (
        ["--set", "alarms.email=ops@exämple.com"],
        "alarms.email: 'ops@exämple.com' is not an "
        "e-mail address: the domain is not ASCII; write "
        "it in its IDNA form (xn--...)",
    ),
    # Read with a bound: an endless input is refused, not read into memory.
    (["--config", "/dev/zero"], "--config /dev/zero: longer than 1,048,576 bytes"),
    (["--check", "/dev/zero"], "--check /dev/zero: longer than 1,048,576 bytes"),
    # One standard input cannot be both: refused before either is read.
    (
        ["--config", "-", "--check", "-"],
        "--config - and --check - both read standard input; give one of them a file",
    ),
    # Before a command, a generation option would be dropped: refused instead.
    (
        ["--config", "stack.toml", "diff", "--stack-name", "demo"],
        "--config is an option of template generation, not of diff (see infra-gen --help)",
    ),
    (["--format", "json", "verify", "--stack-name", "demo"], "--format is an option of"),
]


@pytest.mark.parametrize(("args", "message"), ERRORS, ids=[e[1].split(":")[0] for e in ERRORS])
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("infra-gen: error: ")
    assert message in result.stderr


def test_invalid_utf8_in_set_is_one_line() -> None:
    # The byte 0xff is not UTF-8: Python hands it over as a lone surrogate.
    result = subprocess.run(
        [sys.executable, "-m", "infra_gen", "--set", b"alarms.email=ops\xff@example.com"],
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == b""
    assert (
        result.stderr == b"infra-gen: error: alarms.email: 'ops\\udcff@example.com' is not "
        b"valid UTF-8; allowed: UTF-8 text only\n"
    )


# A Ctrl-C while a module loads: a finder that raises KeyboardInterrupt on importing it,
# then the command as `python -m infra_gen` runs it.
INTERRUPT_ON_IMPORT = """
import runpy, sys
MODULE = sys.argv[1]
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == MODULE:
            raise KeyboardInterrupt
sys.meta_path.insert(0, Interrupt())
sys.argv = ["infra-gen", *sys.argv[2:]]
runpy.run_module("infra_gen", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize(
    ("module", "args", "message"),
    [
        ("troposphere", [], "infra-gen: interrupted\n"),
        ("troposphere", ["--help"], "infra-gen: interrupted\n"),
        ("troposphere", ["diff", "--stack-name", "demo"], "infra-gen: interrupted\n"),
        (
            "boto3",
            ["diff", "--stack-name", "demo"],
            "infra-gen: interrupted before anything was deployed; nothing is left\n",
        ),
    ],
)
def test_ctrl_c_during_start_up_is_one_line(module: str, args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", INTERRUPT_ON_IMPORT, module, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout, result.stderr) == (130, "", message)


# Python's own start-up is not the command's: a sitecustomize tells the test when the
# interpreter has started, and the Ctrl-C comes that long after.
READY = "import os; os.write(int(os.environ['INFRA_GEN_TEST_READY']), b'.')\n"


@pytest.mark.parametrize("delay", [0.05, 0.1, 0.2, 0.4, 0.8])
def test_ctrl_c_at_any_moment_of_a_run_is_one_line(tmp_path: Path, delay: float) -> None:
    (tmp_path / "sitecustomize.py").write_text(READY)
    path = [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])]
    read, write = os.pipe()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path), "INFRA_GEN_TEST_READY": str(write)}
    child = subprocess.Popen(
        [sys.executable, "-m", "infra_gen"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        pass_fds=[write],
    )
    os.close(write)
    try:
        assert os.read(read, 1) == b"."
    finally:
        os.close(read)
    time.sleep(delay)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    if child.returncode == 0 and delay > 0.1:  # the run was over before the signal came
        assert err == "" and out.startswith("AWSTemplateFormatVersion:")
        return
    assert (child.returncode, out, err) == (130, "", "infra-gen: interrupted\n")


def test_importing_the_library_leaves_ctrl_c_alone() -> None:
    # Only the command line holds Ctrl-C back at start-up; a program importing the
    # library keeps its own signal handling.
    code = "import signal, infra_gen; print(signal.pthread_sigmask(signal.SIG_BLOCK, []))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout == "set()\n", result.stderr


def test_starting_loads_no_template_module() -> None:
    code = "import sys, infra_gen.cli; print(sorted(m for m in sys.modules if 'tropo' in m))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.stdout == "[]\n", result.stderr


def test_malformed_config_file(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[service\ncpu = 512\n")
    # A relative path: pytest-xdist's temporary directories are long enough to be shortened.
    result = run("--config", config.name, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--config bad.toml: not valid TOML" in result.stderr
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


def test_a_deep_config_file_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "deep.toml"
    config.write_text("[service]\nname = " + "[" * 600 + "]" * 600 + "\n")
    # A relative path: the key stays short whatever pytest's temporary directory is
    # called (a key over 80 characters is shortened in the message).
    result = run("--config", config.name, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "infra-gen: error: --config deep.toml: nests arrays or tables deeper than 32 levels\n"
    )


def test_unwritable_output_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run("-o", str(blocker / "stack.yaml"))
    assert result.returncode == 2
    assert result.stderr.startswith("infra-gen: error: cannot write")
    assert result.stderr.count("\n") == 1


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "infra-gen"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert result.stdout.strip() == f"infra-gen {__version__}"


def test_set_reads_a_value_as_its_keys_type() -> None:
    # A name made of digits is still a string (and a valid DNS label).
    result = run("--format", "json", "--set", "service.name=123")
    assert result.returncode == 0, result.stderr
    services = [
        r
        for r in json.loads(result.stdout)["Resources"].values()
        if r["Type"] == "AWS::ServiceDiscovery::Service"
    ]
    assert [r["Properties"]["Name"] for r in services] == ["123"]


# Every string at its longest and every option on: more than CloudFormation takes inline.
LARGEST_VALUES = [
    "--set",
    "network.az_count=3",
    "--set",
    "security.flow_logs=true",
    "--set",
    "security.kms_logs=true",
    "--set",
    "security.alb_access_logs=true",
    "--set",
    "service.name=" + "s" * 63,
    "--set",
    "discovery.namespace=" + ".".join(["n" * 63] * 2 + ["m" * 61]),
    "--set",
    "service.image=" + "registry.example.com/" + "i" * 200 + ":v1",
    "--set",
    "service.health_check_path=/" + "h" * 1023,
    "--set",
    "probe.path=/" + "p" * 1023,
    "--set",
    "probe.metric_namespace=" + "M" * 255,
    "--set",
    "alarms.email=" + "e" * 64 + "@" + ".".join(["d" * 63, "d" * 63, "d" * 57, "com"]),
]


def test_a_template_over_the_inline_limit_is_refused_with_what_to_shrink(tmp_path: Path) -> None:
    target = tmp_path / "stack.yaml"
    result = run(*LARGEST_VALUES, "-o", str(target))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("infra-gen: error: the YAML template is ")
    assert "over the 51,200 CloudFormation accepts inline; largest: ProbeFunction " in result.stderr
    assert (
        "; to shrink it: shorten service.health_check_path (1024 characters), probe.path (1024"
    ) in result.stderr
    assert "security.flow_logs" in result.stderr and "--allow-large-template" in result.stderr
    assert not target.exists()
    allowed = run(*LARGEST_VALUES, "--allow-large-template", "-o", str(target))
    assert allowed.returncode == 0, allowed.stderr
    assert target.stat().st_size > 51_200


def test_dash_output_is_stdout(tmp_path: Path) -> None:
    result = run("-o", "-", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["AWSTemplateFormatVersion"] == "2010-09-09"
    assert list(tmp_path.iterdir()) == []


def test_output_through_a_symlink_writes_its_target(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "stack.yaml"
    target.write_text("previous\n")
    link = tmp_path / "stack.yaml"
    link.symlink_to(target)
    result = run("-o", str(link))
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and link.resolve() == target
    assert target.read_text().startswith("AWSTemplateFormatVersion:")
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["stack.yaml"]


def test_output_to_a_new_directory_path_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    result = run("-o", "newdir/", cwd=tmp_path)
    _one_error_line(
        result,
        "-o newdir/: names a directory (it ends in /); give a file name, e.g. -o newdir/stack.yaml",
    )
    assert list(tmp_path.iterdir()) == []


def test_output_keeps_an_existing_files_mode(tmp_path: Path) -> None:
    target = tmp_path / "stack.yaml"
    target.write_text("previous\n")
    target.chmod(0o640)
    result = run("-o", str(target))
    assert result.returncode == 0, result.stderr
    assert target.read_text().startswith("AWSTemplateFormatVersion:")
    assert target.stat().st_mode & 0o777 == 0o640


def _one_error_line(result: subprocess.CompletedProcess[str], text: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr == f"infra-gen: error: {text}\n"


def test_a_full_device_is_one_error_line() -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "infra_gen"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2
    assert (
        result.stderr == "infra-gen: error: cannot write to standard output: "
        "No space left on device\n"
    )


@pytest.mark.parametrize("args", [[], ["--version"], ["--print-config"]])
def test_a_closed_stdout_is_one_error_line(args: list[str]) -> None:
    result = subprocess.run(
        ["sh", "-c", f'exec "{sys.executable}" -m infra_gen "$@" >&-', "sh", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    _one_error_line(result, "cannot write to standard output: it is closed")


@pytest.mark.parametrize("args", [[], ["--help"], ["--print-config"]])
def test_a_reader_that_stops_early_ends_the_run_quietly(args: list[str]) -> None:
    read, write = os.pipe()
    os.close(read)  # nobody will read: the first write fails with EPIPE
    try:
        result = subprocess.run(
            [sys.executable, "-m", "infra_gen", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write)
    assert result.returncode == 0
    assert result.stderr == ""


def test_a_pipeline_into_true_is_quiet() -> None:
    result = subprocess.run(
        ["bash", "-c", f'"{sys.executable}" -m infra_gen | true; echo "${{PIPESTATUS[0]}}"'],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout == "0\n"
    assert result.stderr == ""


def test_non_ascii_values_are_written_as_utf8_whatever_the_locale() -> None:
    email = "jörg@example.com"
    for args in (
        ["--set", f"alarms.email={email}"],
        ["--print-config", "--set", f"alarms.email={email}"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "infra_gen", *args],
            capture_output=True,
            timeout=120,
            env={**os.environ, "PYTHONIOENCODING": "ascii", "LC_ALL": "C"},
        )
        assert result.returncode == 0, result.stderr
        assert email.encode("utf-8") in result.stdout
    bad = run("--set", "service.name=ñ", env={"PYTHONIOENCODING": "ascii"})
    assert bad.returncode == 2
    assert bad.stderr.startswith("infra-gen: error: service.name: ")
    assert bad.stderr.count("\n") == 1


def test_check_passes_on_a_fresh_file_and_writes_nothing(tmp_path: Path) -> None:
    for name in ("stack.yaml", "stack.json"):
        target = tmp_path / name
        assert run("-o", str(target)).returncode == 0
        before = target.stat()
        result = run("--check", str(target))
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
        assert target.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stack.json", "stack.yaml"]


def test_check_reports_a_stale_yaml_file_with_a_unified_diff(tmp_path: Path) -> None:
    target = tmp_path / "stack.yaml"
    assert run("-o", str(target)).returncode == 0
    result = run("--check", str(target), "--set", "service.desired_count=3")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"--- {target}" and lines[1] == "+++ generated"
    assert "-    Default: 2" in lines and "+    Default: 3" in lines
    assert (
        lines[-1] == f"infra-gen: {target} is stale: it differs from what this "
        "configuration generates"
    )
    assert run("--check", str(target)).returncode == 0  # untouched


def test_check_shows_json_changes_value_by_value(tmp_path: Path) -> None:
    target = tmp_path / "stack.json"
    assert run("-o", str(target), "--set", "service.desired_count=3").returncode == 0
    result = run("--check", str(target))
    assert result.returncode == 1
    assert '-   "Default": 3,' in result.stderr.splitlines()
    assert '+   "Default": 2,' in result.stderr.splitlines()


def test_check_reads_stdin_for_dash() -> None:
    generated = run("--format", "json").stdout
    for text, status in ((generated, 0), (generated.replace('"Default":2', '"Default":3'), 1)):
        result = subprocess.run(
            [sys.executable, "-m", "infra_gen", "--check", "-", "--format", "json"],
            input=text,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == status, result.stderr


def test_check_notices_a_missing_final_newline(tmp_path: Path) -> None:
    target = tmp_path / "stack.json"
    assert run("-o", str(target)).returncode == 0
    target.write_bytes(target.read_bytes().rstrip(b"\n"))
    result = run("--check", str(target))
    assert result.returncode == 1
    assert "\\ No newline at end of file" in result.stderr


def test_print_config_round_trips_through_config(tmp_path: Path) -> None:
    config = tmp_path / "in.toml"
    config.write_text(
        '[service]\ncpu = 512\nmemory = 2048\n[alarms]\nemail = "a\\u0027b+\\u00fc@example.com"\n'
    )
    args = [
        "--config",
        str(config),
        "--set",
        "network.az_count=3",
        "--set",
        "alarms.cpu_percent=70",
    ]
    printed = run(*args, "--print-config")
    assert printed.returncode == 0, printed.stderr
    assert '[network]\nvpc_cidr = "10.0.0.0/16"\naz_count = 3\n' in printed.stdout
    assert "cpu_percent = 70.0\n" in printed.stdout
    effective = tmp_path / "effective.toml"
    effective.write_text(printed.stdout)
    assert run("--config", str(effective)).stdout == run(*args).stdout
    from_stdin = subprocess.run(
        [sys.executable, "-m", "infra_gen", "--config", "-"],
        input=printed.stdout,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert from_stdin.stdout == run(*args).stdout


def test_readme_documents_every_option_and_exit_status() -> None:
    from infra_gen.cli import _parser
    from tests.support.documentation import DOCS as readme

    options = [o for a in _parser()._actions for o in a.option_strings if o.startswith("--")]
    for option in options:
        if option not in ("--help", "--version", "--output"):
            assert f"| `{option}" in readme, option
    table = readme.split("### Exit status", 1)[1].split("\n#", 1)[0]
    assert [row.split("|")[1].strip() for row in table.splitlines() if row.startswith("| ")][
        2:
    ] == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('["tmp"]', "'tmp' is not allowed; allowed: an absolute path in normal form"),
        ('["/var/cache/../../etc"]', "'/var/cache/../../etc' is not allowed"),
        ('["/tmp", "/tmp"]', "names '/tmp' twice; allowed: each path once"),
        ('["/"]', "'/' is not allowed; allowed: an absolute path"),
        ("[" + ", ".join(f'"/p{i}"' for i in range(17)) + "]", "has 17 paths; allowed at most 16"),
        ('["/tmp\\u001b[2J"]', "'/tmp\\x1b[2J' contains"),
    ],
)
def test_hostile_writable_paths_are_one_line_naming_the_key(
    value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error_line(capsys, ["--set", f"service.writable_paths={value}"])
    assert line.startswith(f"service.writable_paths: {message}"), line
