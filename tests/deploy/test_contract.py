"""The deploy commands' contract for hostile or out-of-range input: one line, exit 2 (or a
failed check), never an internal error, a traceback or unbounded memory."""

from __future__ import annotations

import io
import resource
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from infra_gen import cli as commands
from infra_gen.deploy import changeset as cf
from infra_gen.deploy import verify
from tests.support.refusals import no_aws, one_error_line
from tests.support.verify import HEALTHY, STACK, run, serving_site, stubbed

_RESOURCES = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
# Nine levels of nine: under 400 bytes that expand to 9**9 strings (as the 581-byte
# original of the report does to 10**9).
BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + _RESOURCES
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &a [*a]\n" + _RESOURCES, "YAML anchors and aliases are not allowed"),
        ("x: &x 1\ny: *x\n" + _RESOURCES, "YAML anchors and aliases are not allowed"),
        ("Parameters: [1, 2]\n" + _RESOURCES, "Parameters: expected a mapping"),
        ("Parameters:\n  P: 3\n" + _RESOURCES, "Parameters: P: expected a mapping"),
        (
            "Parameters:\n  P: {Type: String, AllowedPattern: [a]}\n" + _RESOURCES,
            "Parameters: P: AllowedPattern: expected a string, got ['a']",
        ),
        (
            "Parameters:\n  P: {Type: Number, MinValue: low, Default: 1}\n" + _RESOURCES,
            "Parameters: P: MinValue: expected a number, got 'low'",
        ),
        ("Parameters:\n" + _RESOURCES, "Parameters: expected a mapping"),
        ("x: " + "[" * 5000 + "]" * 5000 + "\n" + _RESOURCES, "nested deeper than 100"),
        ('{"x": ' + "[" * 5000 + "]" * 5000 + ', "Resources": {}}', "nested deeper than 100"),
        ("x:\n" + "".join(" " * i + "a:\n" for i in range(1, 200)) + _RESOURCES, "deeper"),
    ],
)
def test_a_hostile_template_file_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    argv = ["preflight", "--stack-name", STACK, "--offline", "--template-file", str(path)]
    line = one_error_line(capsys, argv)
    assert line.startswith(f"--template-file {path}: "), line
    assert message in line


def test_a_date_as_a_key_is_read_as_its_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("Mappings:\n  M:\n    2026-01-01: {a: b}\n" + _RESOURCES)
    argv = ["preflight", "--stack-name", STACK, "--offline", "--template-file", str(path)]
    out = io.StringIO()
    assert commands.main(argv, clients=no_aws, stdout=out) == 0, capsys.readouterr().err
    assert f"Stack {STACK}: ready" in out.getvalue()


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def test_a_billion_laughs_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    assert len(BILLION_LAUGHS.encode()) < 700
    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS)
    code = (
        "from infra_gen import cli; import sys; sys.exit(cli.main(['preflight', "
        f"'--stack-name', 'demo', '--offline', '--template-file', {str(path)!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
    )
    assert done.returncode == 2, done.stderr[-500:]
    assert done.stderr == (
        f"infra-gen: error: --template-file {path}: YAML anchors and aliases are not "
        "allowed (line 1, &a); CloudFormation templates need none: write the value out\n"
    )


@pytest.mark.parametrize("doc", ["[" * 100_000 + "]" * 100_000, '{"a":' * 200 + "1" + "}" * 200])
def test_a_deeply_nested_plan_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, doc: str
) -> None:
    path = tmp_path / "plan.json"
    path.write_text(doc)
    line = one_error_line(capsys, ["deploy", "--stack-name", STACK, "--yes", "--plan", str(path)])
    assert line == f"--plan {path}: nested deeper than 100 levels; allowed: at most 100"


@pytest.mark.parametrize("text", ['"\\' * 2_000_000, '["' + "\\" * 4_000_000])
def test_a_plan_of_unclosed_strings_is_read_in_linear_time(tmp_path: Path, text: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(text)
    code = (
        "from infra_gen import cli; import sys; sys.exit(cli.main(['deploy', "
        f"'--stack-name', 'demo', '--yes', '--plan', {str(path)!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith(f"infra-gen: error: --plan {path}: not JSON: ")
    assert done.stderr.count("\n") == 1


def test_an_s3_prefix_that_is_not_utf8_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["diff", "--stack-name", STACK, "--s3-bucket", "my-bucket", "--s3-prefix", "a\udcffb"]
    assert one_error_line(capsys, argv) == "--s3-prefix 'a\\udcffb': not valid UTF-8"


class _Bucket:
    class meta:  # noqa: N801 - as a boto3 client has it
        region_name = "eu-west-1"
        endpoint_url = "https://s3.eu-west-1.amazonaws.com"

    def __init__(self) -> None:
        self.keys: list[str] = []

    def put_object(self, *, Bucket: str, Key: str, Body: bytes) -> None:  # noqa: N803
        self.keys.append(Key)


@pytest.mark.parametrize("prefix", ["a#b", "x?y=1", "with space/", "%41", "ü/ok"])
def test_the_template_url_names_exactly_the_uploaded_key(prefix: str) -> None:
    bucket = _Bucket()
    found = cf.template_source("{}", s3_bucket="my-bucket", s3_prefix=prefix, s3=lambda: bucket)
    (key,) = bucket.keys
    url = urllib.parse.urlsplit(found["TemplateURL"])
    assert (url.scheme, url.netloc, url.query, url.fragment) == (
        "https",
        "s3.eu-west-1.amazonaws.com",
        "",
        "",
    )
    assert urllib.parse.unquote(url.path) == f"/my-bucket/{key}"
    assert " " not in url.path


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", "Infinity"])
@pytest.mark.parametrize("command", ["preflight", "diff"])
def test_a_number_parameter_must_be_finite(
    capsys: pytest.CaptureFixture[str], command: str, value: str
) -> None:
    argv = [command, "--stack-name", STACK, "--parameter", f"MaxTasks={value}"]
    if command == "preflight":
        out = io.StringIO()
        assert commands.main([*argv, "--offline"], clients=no_aws, stdout=out) == 1
        assert f"MaxTasks={value!r} is not a number" in out.getvalue().replace('"', "'")
        assert capsys.readouterr().err == ""
    else:
        assert one_error_line(capsys, argv) == f"--parameter MaxTasks={value!r}: expected a number"


@pytest.mark.parametrize(
    ("option", "value", "allowed"),
    [
        ("--wait", "1e10", "0 to 3600"),
        ("--wait", "3601", "0 to 3600"),
        ("--wait", "nan", "0 to 3600"),
        ("--interval", "1e10", "1 to 300"),
        ("--interval", "0", "1 to 300"),
    ],
)
def test_verify_wait_and_interval_are_bounded(
    capsys: pytest.CaptureFixture[str], option: str, value: str, allowed: str
) -> None:
    line = one_error_line(capsys, ["verify", "--stack-name", STACK, option, value])
    assert line == (
        f"argument {option}: {value!r}: expected seconds, a number from {allowed} "
        f"(see infra-gen verify --help)"
    )


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "data:text/plain,hello", "ftp://example.com/", "/relative"]
)
def test_verify_requests_only_http_urls(url: str) -> None:
    code, out = run(stubbed(url, probe=HEALTHY))
    assert code == 1
    scheme = urllib.parse.urlsplit(url).scheme or "none"
    assert f"Output ServiceUrl {url}: scheme {scheme}: not requested; allowed: http, https" in out
    assert "Stack demo: NOT healthy (service URL)" in out


@pytest.mark.parametrize("target", ["ftp://127.0.0.1/x", "file:///etc/passwd", "data:,x"])
def test_verify_follows_redirects_to_http_urls_only(target: str) -> None:
    with serving_site() as site:
        site.update(status=302, location=target)
        with pytest.raises(ValueError, match="redirect"):
            verify.fetch_status(f"http://127.0.0.1:{site['port']}/", 5)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "data:,x", "ftp://127.0.0.1/"])
def test_fetch_status_requests_no_other_scheme(url: str) -> None:
    with pytest.raises(ValueError, match="not requested"):
        verify.fetch_status(url, 5)


@pytest.mark.parametrize("value", ["\u00b2", "0", "-1", "99999", "", " 3"])
def test_aws_max_attempts_is_an_ascii_number_in_range(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", value)
    code = commands.main(["verify", "--stack-name", STACK], stdout=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"infra-gen: error: AWS_MAX_ATTEMPTS={value!r}: expected a whole number from 1 to "
        "100 (digits 0-9)\n"
    )


@pytest.mark.parametrize("existing", [True, False])
def test_plan_out_naming_a_directory_is_refused_before_any_aws_call(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, existing: bool
) -> None:
    target = tmp_path / "newdir"
    if existing:
        target.mkdir()
    name = str(target) if existing else f"{target}/"
    line = one_error_line(capsys, ["diff", "--stack-name", STACK, "--plan-out", name])
    what = "is a directory" if existing else "names a directory (it ends in /)"
    assert line == (
        f"--plan-out {name}: {what}; give a file name, e.g. --plan-out {name.rstrip('/')}/plan.json"
    )
    assert list(tmp_path.iterdir()) == ([target] if existing else [])
