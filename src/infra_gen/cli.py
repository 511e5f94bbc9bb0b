"""Command line: argv -> config -> template -> stdout, a file, or a comparison.

Exit status: 0 done; 1 ``--check`` found the file stale; 2 bad arguments, bad
configuration, a template over the inline size limit, or a file or stream that
cannot be read or written. Every failure is one ``infra-gen: error: ...`` line on
stderr with nothing on stdout, and an ``-o`` target is either replaced whole or
left as it was.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import stat
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, NoReturn

from troposphere import Template

from ._version import __version__
from .builder import build_template
from .config import Config, ConfigError, parse_setting, parse_toml
from .render import FORMATS, INLINE_TEMPLATE_LIMIT, TemplateTooLarge, check_size, render

__all__ = ["main", "load_config"]

EXIT_OK = 0
EXIT_STALE = 1  # --check: the file differs from what would be generated
EXIT_USAGE = 2  # bad arguments, input or output, as argparse uses
EXIT_INTERRUPTED = 130
EXIT_BUG = 70  # EX_SOFTWARE: an unexpected error, worth a report

STDIO = "-"


class _Failure(Exception):
    """A user-facing error: its text is the one line printed after ``infra-gen: error:``."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints usage plus the message; one line is the promise.
        raise _Failure(f"{message} (see infra-gen --help)")

    def _print_message(self, message: str, file: Any = None) -> None:
        # argparse drops write errors of --help and --version silently; report them
        # like any other output (a closed or full stdout is an error, a closed pipe not).
        if message and file is sys.stdout:
            _write_stdout(message.encode("utf-8"))
        else:
            super()._print_message(message, file)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="infra-gen",
        description="Write the CloudFormation template of the nginx-on-Fargate stack.",
        epilog="exit status: 0 done, 1 --check found FILE stale, 2 bad input or output. "
        "example: infra-gen --config stack.toml --set service.desired_count=3 "
        "-o out/stack.yaml. "
        "To preview, check, deploy and verify a stack: infra-gen diff|preflight|deploy|verify "
        "--stack-name NAME "
        "(see infra-gen deploy --help; needs the infra-gen[deploy] extra).",
    )
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="output format (default: from the -o or --check suffix, "
                   "else yaml)")  # fmt: skip
    where = p.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", type=Path, metavar="FILE",
                       help="write here atomically instead of stdout ('-' is stdout); "
                       "a symlink is written through, an existing file keeps its mode")  # fmt: skip
    where.add_argument("--check", type=Path, metavar="FILE",
                       help="write nothing; exit 0 if FILE ('-': stdin) holds exactly what "
                       "would be generated, else 1 with a unified diff on stderr")  # fmt: skip
    where.add_argument("--print-config", action="store_true",
                       help="print the effective configuration (defaults, --config, --set) "
                       "as TOML and exit")  # fmt: skip
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="TOML file with [network], [service], ... tables ('-' is stdin)")
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override one key, e.g. service.cpu=512 (repeatable; beats --config); "
        "the value is read as the key's type",
    )  # fmt: skip
    p.add_argument("--allow-large-template", action="store_true",
                   help=f"allow a template over {INLINE_TEMPLATE_LIMIT:,} bytes, the limit "
                   "for one passed inline; such a template must be deployed from S3")  # fmt: skip
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def load_config(config_file: Path | None, overrides: Sequence[str]) -> Config:
    """Defaults, then the TOML file (``-``: stdin), then ``section.key=value`` overrides."""
    data: dict[str, Any] = {}
    if config_file is not None:
        where = f"--config {config_file}"
        try:
            if str(config_file) == STDIO:
                if sys.stdin is None:
                    raise ConfigError(where, "cannot read: standard input is closed")
                raw = sys.stdin.buffer.read()
            else:
                raw = config_file.read_bytes()
        except OSError as e:
            raise ConfigError(where, f"cannot read: {e.strerror or e}") from None
        except ValueError as e:  # e.g. an embedded NUL in the path
            raise ConfigError(where, f"cannot read: {e}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ConfigError(where, f"not valid TOML: not UTF-8 at byte {e.start}") from None
        data = parse_toml(text, where)
    for item in overrides:
        section, name, value = parse_setting(item)
        table = data.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(section, "expected a table of keys in --config")
        table[name] = value
    return Config.from_mapping(data)


def _format_for(path: Path | None) -> Literal["yaml", "json"]:
    return "json" if path is not None and path.suffix == ".json" else "yaml"


def _size_hint(cfg: Config) -> str:
    """The settings that make this template larger than the default one."""
    defaults = Config()
    longer: list[tuple[int, str]] = []
    switched: list[str] = []
    for name in cfg.to_mapping():
        section, default = getattr(cfg, name), getattr(defaults, name)
        for f in dataclasses.fields(section):
            value, was = getattr(section, f.name), getattr(default, f.name)
            key = f"{name}.{f.name}"
            if isinstance(value, str) and len(value) > len(was):
                longer.append((len(value), key))
            elif value is True and was is False:
                switched.append(key)
    if cfg.network.az_count > defaults.network.az_count:
        switched.append(f"network.az_count={cfg.network.az_count}")
    hints = []
    if longer:
        top = sorted(longer, reverse=True)[:3]
        longest = ", ".join(f"{key} ({n} characters)" for n, key in top)
        hints.append(f"shorten {longest}")
    if switched:
        hints.append(f"turn off or lower {', '.join(switched)}")
    hints.append("or pass --allow-large-template and deploy it from S3")
    return "; ".join(hints)


def _check_size(data: bytes, fmt: Literal["yaml", "json"], cfg: Config, t: Template) -> None:
    try:
        check_size(data, fmt)
    except TemplateTooLarge as e:
        if fmt == "yaml" and len(render(t, "json").encode("utf-8")) <= INLINE_TEMPLATE_LIMIT:
            # The probe's code costs more in YAML (indented lines) than in compact JSON.
            raise _Failure(
                f"{e}; its compact JSON fits: write it with --format json (or a .json "
                "file), the form infra-gen deploy sends"
            ) from None
        raise _Failure(f"{e}: {_size_hint(cfg)}") from None


def _diff_lines(text: str, fmt: str) -> list[str]:
    if fmt == "json":
        # Compact JSON is one line; indented, a diff shows which values changed.
        try:
            return json.dumps(json.loads(text), indent=1, sort_keys=True,
                              ensure_ascii=False).splitlines(keepends=True)  # fmt: skip
        except ValueError:
            pass
    return text.splitlines(keepends=True)


def _check(path: Path, data: bytes, fmt: str) -> int:
    try:
        if str(path) == STDIO:
            if sys.stdin is None:
                raise _Failure("--check -: cannot read: standard input is closed")
            current = sys.stdin.buffer.read()
        else:
            current = path.read_bytes()
    except OSError as e:
        raise _Failure(f"--check {path}: cannot read: {e.strerror or e}") from None
    except ValueError as e:
        raise _Failure(f"--check {path}: cannot read: {e}") from None
    if current == data:
        return EXIT_OK
    import difflib  # only for a stale file
    was, now = current.decode("utf-8", errors="replace"), data.decode("utf-8")
    old, new = _diff_lines(was, fmt), _diff_lines(now, fmt)
    if old == new:  # the difference is outside the JSON values (spacing, line ends)
        old, new = was.splitlines(keepends=True), now.splitlines(keepends=True)
    diff = difflib.unified_diff(old, new, fromfile=str(path), tofile="generated")
    _stderr("".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                    for line in diff))  # fmt: skip
    _stderr(f"infra-gen: {path} is stale: it differs from what this configuration generates\n")
    return EXIT_STALE


def _write_stdout(data: bytes) -> None:
    """All of ``data`` to stdout as bytes: the template is UTF-8 whatever the locale."""
    stream = sys.stdout
    if stream is None:
        raise _Failure("cannot write to standard output: it is closed")
    try:
        fd: int | None = stream.fileno()
    except (AttributeError, OSError, ValueError):  # a replaced stream, e.g. under a test
        fd = None
    try:
        if fd is None:
            stream.buffer.write(data)
            stream.flush()
            return
        stream.flush()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BrokenPipeError:
        raise
    except OSError as e:
        raise _Failure(f"cannot write to standard output: {e.strerror or e}") from None


def _write_file(path: Path, data: bytes) -> None:
    """Replace ``path`` whole, through a symlink to its target, keeping an existing mode."""
    try:
        target = Path(os.path.realpath(path))
        try:
            existing = os.stat(target)
        except FileNotFoundError:
            existing = None
        if existing is not None and stat.S_ISDIR(existing.st_mode):
            raise IsADirectoryError(21, "Is a directory")
        if existing is not None and stat.S_ISREG(existing.st_mode):
            mode = stat.S_IMODE(existing.st_mode)
            if target.read_bytes() == data:
                return  # already up to date: keep its timestamps
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask  # what a plain open() would give a new file
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), mode)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as e:
        raise _Failure(f"cannot write {path}: {e.strerror or e}") from None
    except ValueError as e:  # e.g. an embedded NUL in the path
        raise _Failure(f"cannot write {path}: {e}") from None


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _stderr(text: str) -> None:
    if sys.stderr is not None:
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except (OSError, ValueError):
            pass  # nowhere left to report to


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit flush stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


def _run(argv: Sequence[str] | None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:  # --help or --version: already written to stdout
        return e.code if isinstance(e.code, int) else EXIT_OK
    output: Path | None = args.output
    to_stdout = output is None or str(output) == STDIO
    fmt: Literal["yaml", "json"] = args.format or _format_for(args.check or output)
    cfg = load_config(args.config, args.overrides)
    if args.print_config:
        _write_stdout(cfg.to_toml().encode("utf-8"))
        return EXIT_OK
    template = build_template(cfg)
    data = render(template, fmt).encode("utf-8")
    if not args.allow_large_template:
        _check_size(data, fmt, cfg, template)
    if args.check is not None:
        return _check(args.check, data, fmt)
    if to_stdout:
        _write_stdout(data)
    else:
        assert output is not None
        _write_file(output, data)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see the module docstring)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] and argv[0] in ("diff", "deploy", "preflight", "verify"):
        from .commands import main as command_main  # boto3 stays optional

        return command_main(argv)
    try:
        return _run(argv)
    except (ConfigError, _Failure) as e:
        _stderr(f"infra-gen: error: {_one_line(str(e))}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader stopped reading (`infra-gen | head`): its choice, not an error.
        _quiet_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        _stderr("infra-gen: interrupted\n")
        return EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - the promise is one line, never a traceback
        text = _one_line(f"{type(e).__name__}: {e}")
        _stderr(f"infra-gen: internal error: {text} (please report it)\n")
        return EXIT_BUG
