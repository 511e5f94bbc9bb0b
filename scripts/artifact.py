"""The template artifact of make stack / make artifact and the CI workflow, for the
default stack, a team's configuration file or a team's generator script.

    python scripts/artifact.py write DIR        write the artifact into DIR
    python scripts/artifact.py check DIR        exit 1 (a diff on stderr) if DIR is stale
    python scripts/artifact.py files DIR        the artifact's files, one a line
    python scripts/artifact.py deploy-file DIR  the file infra-gen deploy sends

What is built comes from two variables, the names of the workflow's inputs:
``CONFIG=stack.toml`` (a configuration file: ``infra-gen --config``) or
``GENERATOR=gen.py`` (a generator script); neither: the defaults; both: refused.

- Defaults or ``CONFIG``: ``stack.yaml`` and ``stack.json`` (compact), as ``infra-gen -o``
  writes them. ``deploy-file`` is the one ``deploy`` sends: the YAML when it fits in
  51,200 bytes, else the compact JSON (over the limit in both, from S3:
  ``--resolve-s3``).
- ``GENERATOR``: the script runs as ``python GENERATOR`` from the repository's root
  and prints the template on standard output (YAML or JSON, e.g.
  ``print(render_inline(stack.template), end="")``, as the examples do); anything it
  prints on stderr passes through. Its output is the artifact as it is: ``stack.json``
  when it is JSON, else ``stack.yaml``; that file is also ``deploy-file``.

Exit status: 0 done; 1 ``check`` found the artifact stale; 2 bad input (both variables,
a configuration file that cannot be read or is invalid, a generator that fails, prints
nothing, or prints what is not a template): one line on stderr, nothing written.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INLINE_LIMIT = 51_200  # CloudFormation's TemplateBody limit, as infra_gen's budget says
GENERATOR_TIMEOUT = 300  # seconds a generator may run
OUTPUT_MAX = 1_048_576  # CloudFormation's largest template, even from S3


class Refused(Exception):
    """Bad input: one line, exit 2."""


def _variables(environ: dict[str, str]) -> tuple[str, str]:
    config, generator = environ.get("CONFIG", ""), environ.get("GENERATOR", "")
    if config and generator:
        raise Refused(
            f"CONFIG={config!r} and GENERATOR={generator!r}: give one of them (a "
            "configuration file, or a generator script), not both"
        )
    return config, generator


def _infra_gen(config: str, fmt: str) -> str:
    """The template ``infra-gen --config CONFIG --format FMT`` prints; over 51,200 bytes
    too (the other form, or S3 with ``--resolve-s3``, deploys it)."""
    argv = [sys.executable, "-m", "infra_gen", "--format", fmt, "--allow-large-template"]
    if config:
        argv += ["--config", config]
    done = subprocess.run(argv, capture_output=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        said = lines[-1].removeprefix("infra-gen: error: ") if lines else ""
        raise Refused(f"CONFIG={config!r}: {said or f'exit status {done.returncode}'}")
    return done.stdout.decode()


def _generated(generator: str) -> str:
    """The template a generator script prints, checked to be one."""
    from infra_gen.cli.documents import load_template
    from infra_gen.errors import InfraGenError

    where = f"GENERATOR={generator!r}"
    if not (ROOT / generator).is_file():
        raise Refused(f"{where}: no such file (a path from the repository's root)")
    try:
        done = subprocess.run(
            [sys.executable, generator],
            stdout=subprocess.PIPE,
            cwd=ROOT,
            timeout=GENERATOR_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise Refused(f"{where}: still running after {GENERATOR_TIMEOUT} s") from None
    if done.returncode != 0:
        raise Refused(f"{where}: exited with status {done.returncode}; its stderr is above")
    if len(done.stdout) > OUTPUT_MAX:
        raise Refused(f"{where}: printed over {OUTPUT_MAX:,} bytes, CloudFormation's limit")
    try:
        text = done.stdout.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Refused(f"{where}: printed what is not UTF-8 (byte {e.start})") from None
    if not text.strip():
        raise Refused(f"{where}: printed nothing; it must print the template on stdout")
    try:
        load_template(text, f"{where}: its output")
    except InfraGenError as e:
        raise Refused(str(e)) from None
    return text


def build(environ: dict[str, str]) -> dict[str, str]:
    """The artifact: file name -> content, the deploy file first."""
    config, generator = _variables(environ)
    if generator:
        text = _generated(generator)
        return {"stack.json" if text.lstrip().startswith("{") else "stack.yaml": text}
    yaml_text, json_text = _infra_gen(config, "yaml"), _infra_gen(config, "json")
    files = {"stack.yaml": yaml_text, "stack.json": json_text}
    if len(yaml_text.encode()) > INLINE_LIMIT:
        files = {"stack.json": json_text, "stack.yaml": yaml_text}
    return files


def _write(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        temporary = directory / f".{name}.tmp"
        temporary.write_bytes(text.encode())
        os.replace(temporary, directory / name)


def _check(directory: Path, files: dict[str, str]) -> int:
    stale = 0
    for name, text in files.items():
        path = directory / name
        try:
            found = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            print(f"infra-gen: {path}: {getattr(e, 'strerror', None) or e}", file=sys.stderr)
            stale = 1
            continue
        if found != text:
            diff = difflib.unified_diff(
                found.splitlines(True), text.splitlines(True), str(path), "generated", n=1
            )
            sys.stderr.writelines(list(diff)[:200])
            stale = 1
    return stale


def main(argv: list[str], environ: dict[str, str]) -> int:
    if len(argv) != 2 or argv[0] not in ("write", "check", "files", "deploy-file"):
        print(f"usage: {Path(__file__).name} write|check|files|deploy-file DIR", file=sys.stderr)
        return 2
    command, directory = argv[0], Path(argv[1])
    try:
        files = build(environ)
    except Refused as e:
        print(f"infra-gen: error: {e}", file=sys.stderr)
        return 2
    if command == "write":
        _write(directory, files)
    elif command == "check":
        return _check(directory, files)
    elif command == "files":
        print("\n".join(str(directory / name) for name in files))
    else:
        print(directory / next(iter(files)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], dict(os.environ)))
