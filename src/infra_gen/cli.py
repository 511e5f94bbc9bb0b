"""Command line: argv -> config -> template -> stdout or an atomically written file."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from . import __version__
from .builder import build_template
from .config import Config, ConfigError
from .render import FORMATS, render

__all__ = ["main", "load_config"]

EXIT_OK = 0
EXIT_USAGE = 2  # bad arguments or configuration, as argparse uses
EXIT_IO = 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="infra-gen",
        description="Write the CloudFormation template of the nginx-on-Fargate stack.",
        epilog="example: infra-gen --config stack.toml --set service.desired_count=3 "
        "-o out/stack.yaml",
    )
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="output format (default: from the -o suffix, else yaml)")  # fmt: skip
    p.add_argument("-o", "--output", type=Path, help="write here atomically instead of stdout")
    p.add_argument("--config", type=Path, help="TOML file with [network], [service], ... tables")
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override one key, e.g. service.cpu=512 (repeatable; beats --config)",
    )  # fmt: skip
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def _parse_value(raw: str) -> Any:
    """A TOML value when it parses as one (512, true, ["a", "b"]), else the bare string."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def load_config(config_file: Path | None, overrides: Sequence[str]) -> Config:
    """Defaults, then the TOML file, then ``section.key=value`` overrides."""
    data: dict[str, Any] = {}
    if config_file is not None:
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"--config {config_file}", f"cannot read: {e.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"--config {config_file}", f"not valid TOML: {e}") from None
    for item in overrides:
        key, sep, raw = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot or not section or not name:
            raise ConfigError(f"--set {item}", "expected section.key=value, e.g. service.cpu=512")
        table = data.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(section, f"expected a table of keys, got {table!r}")
        table[name] = _parse_value(raw.strip())
    return Config.from_mapping(data)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        # mkstemp creates 0600; the result gets the mode a plain open() would give it.
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] and argv[0] in ("diff", "deploy", "verify"):
        from .commands import main as command_main  # boto3 stays optional

        return command_main(argv)
    args = _parser().parse_args(argv)
    fmt: Literal["yaml", "json"] = args.format or (
        "json" if args.output and args.output.suffix == ".json" else "yaml"
    )
    try:
        cfg = load_config(args.config, args.overrides)
        text = render(build_template(cfg), fmt)
    except ConfigError as e:
        print(f"infra-gen: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        _write_atomically(args.output, text)
    except OSError as e:
        print(f"infra-gen: error: cannot write {args.output}: {e.strerror}", file=sys.stderr)
        return EXIT_IO
    return EXIT_OK
