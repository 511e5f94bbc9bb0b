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
import re
import stat
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from .._version import __version__
from ..config import Config, ConfigError, parse_setting, parse_toml

if TYPE_CHECKING:
    from troposphere import Template

# The template modules (troposphere) load inside main(), where a Ctrl-C is one line.

__all__ = ["main", "load_config"]

EXIT_OK = 0
EXIT_STALE = 1  # --check: the file differs from what would be generated
EXIT_USAGE = 2  # bad arguments, input or output, as argparse uses
EXIT_INTERRUPTED = 130
EXIT_BUG = 70  # EX_SOFTWARE: an unexpected error, worth a report

STDIO = "-"
# Longer than any configuration (a few kilobytes) or any template CloudFormation takes
# (1 MB from S3): what is read from --config or --check stops here, so /dev/zero or an
# endless pipe is refused instead of filling memory.
READ_LIMIT = 1024 * 1024


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
    from ..template.budget import INLINE_TEMPLATE_LIMIT
    from ..template.render import FORMATS

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
    p.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="output format (default: from the -o or --check suffix, else yaml)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write here instead of stdout ('-' is stdout): a regular file "
        "is replaced atomically (through a symlink, keeping its mode), a "
        "device or FIFO is written in place; a directory is refused",
    )
    where.add_argument(
        "--check",
        type=Path,
        metavar="FILE",
        help="write nothing; exit 0 if FILE ('-': stdin) holds exactly what "
        "would be generated, else 1 with a unified diff on stderr",
    )
    where.add_argument(
        "--print-config",
        action="store_true",
        help="print the effective configuration (defaults, --config, --set) as TOML and exit",
    )
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML file with [network], [service], ... tables ('-' is stdin)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one key, e.g. service.cpu=512 (repeatable; beats --config); "
        "the value is read as the key's type",
    )
    p.add_argument(
        "--allow-large-template",
        action="store_true",
        help=f"allow a template over {INLINE_TEMPLATE_LIMIT:,} bytes, the limit "
        "for one passed inline; such a template must be deployed from S3",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def read_input(path: Path, where: str) -> bytes:
    """At most :data:`READ_LIMIT` bytes of ``path`` (``-``: stdin), or one-line ConfigError."""
    try:
        if str(path) == STDIO:
            if sys.stdin is None:
                raise ConfigError(where, "cannot read: standard input is closed")
            raw = sys.stdin.buffer.read(READ_LIMIT + 1)
        else:
            with open(path, "rb") as f:
                raw = f.read(READ_LIMIT + 1)
    except OSError as e:
        raise ConfigError(where, f"cannot read: {e.strerror or e}") from None
    except ValueError as e:  # e.g. an embedded NUL in the path
        raise ConfigError(where, f"cannot read: {e}") from None
    if len(raw) > READ_LIMIT:
        raise ConfigError(where, f"longer than {READ_LIMIT:,} bytes; allowed at most that")
    return raw


def load_config(config_file: Path | None, overrides: Sequence[str]) -> Config:
    """Defaults, then the TOML file (``-``: stdin), then ``section.key=value`` overrides."""
    data: dict[str, Any] = {}
    if config_file is not None:
        where = f"--config {config_file}"
        raw = read_input(config_file, where)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ConfigError(where, f"not valid TOML: not UTF-8 at byte {e.start}") from None
        data = parse_toml(text, where)
    for item in overrides:
        section, name, value = parse_setting(item)
        if not section:  # a top-level setting: governed=true
            data[name] = value
            continue
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
    if cfg.governed:
        switched.append("governed")
    for name in cfg.to_mapping():
        if name == "governed":
            continue
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
    from ..errors import TemplateTooLarge
    from ..template.budget import INLINE_TEMPLATE_LIMIT
    from ..template.render import check_size, render

    try:
        check_size(data, fmt)
    except TemplateTooLarge as e:
        if fmt == "yaml" and len(render(t, "json").encode("utf-8")) <= INLINE_TEMPLATE_LIMIT:
            # The probe's code costs more in YAML (indented lines) than in compact JSON.
            raise _Failure(
                f"{e}; its compact JSON fits: write it with --format json (or a .json "
                "file), the form infra-gen deploy sends"
            ) from None
        raise _Failure(f"{e}; to shrink it: {_size_hint(cfg)}") from None


def _diff_lines(text: str, fmt: str) -> list[str]:
    if fmt == "json":
        # Compact JSON is one line; indented, a diff shows which values changed.
        try:
            return json.dumps(
                json.loads(text), indent=1, sort_keys=True, ensure_ascii=False
            ).splitlines(keepends=True)
        except ValueError:
            pass
    return text.splitlines(keepends=True)


def _check(path: Path, data: bytes, fmt: str) -> int:
    current = read_input(path, f"--check {path}")
    if current == data:
        return EXIT_OK
    import difflib  # only for a stale file

    was, now = current.decode("utf-8", errors="replace"), data.decode("utf-8")
    old, new = _diff_lines(was, fmt), _diff_lines(now, fmt)
    if old == new:  # the difference is outside the JSON values (spacing, line ends)
        old, new = was.splitlines(keepends=True), now.splitlines(keepends=True)
    diff = difflib.unified_diff(old, new, fromfile=str(path), tofile="generated")
    _stderr(
        "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            for line in diff
        )
    )
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
        _write_all(fd, data)
    except BrokenPipeError:
        raise
    except OSError as e:
        raise _Failure(f"cannot write to standard output: {e.strerror or e}") from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# /proc/<pid>/fd/<n> (also reached as /dev/stdout, /dev/fd/<n>, /proc/self/fd/<n>): a
# descriptor this process already holds.
_OWN_FD = re.compile(r"/proc/([0-9]+)(?:/task/[0-9]+)?/fd/([0-9]+)")


def _own_descriptor(name: str) -> int | None:
    """The descriptor ``name`` reaches through ``/proc`` links, when it is one of ours.

    Writing to it keeps what the shell set up (a pipe, ``>>``, a terminal): reopening it
    by path, or renaming a file over its target, would not.
    """
    path = os.path.abspath(name)
    for _ in range(40):  # the kernel's own limit on a chain of symlinks
        parent = os.path.realpath(os.path.dirname(path))
        path = os.path.join(parent, os.path.basename(path))
        found = _OWN_FD.fullmatch(path)
        if found and int(found[1]) == os.getpid():
            return int(found[2])
        if not os.path.islink(path):
            return None
        path = os.path.join(parent, os.readlink(path))
    return None


def _write_descriptor(name: str, fd: int, data: bytes) -> None:
    if fd == 1:
        _write_stdout(data)
        return
    if fd == 2 and sys.stderr is not None:
        sys.stderr.flush()
    try:
        _write_all(fd, data)
    except BrokenPipeError:
        raise
    except OSError as e:
        raise _Failure(f"cannot write {name}: {e.strerror or e}") from None


def _write_output(name: str, data: bytes) -> None:
    """Write ``-o name``: a regular file or a new path is replaced whole (atomically);
    a character device or a FIFO is written directly, never renamed over; a directory,
    a block device or a socket is refused."""
    shown = _one_line(name)
    if not name:
        raise _Failure("-o '': expected a file name, e.g. -o out/stack.yaml")
    try:
        fd = _own_descriptor(name)
        if fd is not None:
            _write_descriptor(shown, fd, data)
            return
        try:
            mode = os.stat(name).st_mode
        except FileNotFoundError:
            mode = None
    except OSError as e:
        raise _Failure(f"cannot write {shown}: {e.strerror or e}") from None
    except ValueError as e:  # e.g. an embedded NUL in the path
        raise _Failure(f"cannot write {shown}: {e}") from None
    if mode is not None and stat.S_ISDIR(mode) or name.endswith("/"):
        what = "is a directory" if mode is not None else "names a directory (it ends in /)"
        raise _Failure(
            f"-o {shown}: {what}; give a file name, e.g. -o {shown.rstrip('/')}/stack.yaml"
        )
    if mode is None or stat.S_ISREG(mode):
        _write_file(Path(name), data)
    elif stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        _write_device(shown, name, data)
    else:
        kind = "a block device" if stat.S_ISBLK(mode) else "a socket"
        raise _Failure(
            f"-o {shown}: is {kind}; allowed: a regular file, a new path, "
            "a character device or a FIFO"
        )


def _write_device(shown: str, name: str, data: bytes) -> None:
    """Write to a character device or a FIFO as a shell redirection would: in place."""
    try:
        fd = os.open(name, os.O_WRONLY | os.O_NOCTTY)
    except OSError as e:
        raise _Failure(f"cannot write {shown}: {e.strerror or e}") from None
    try:
        _write_descriptor(shown, fd, data)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    """Replace the regular file ``path`` whole, through a symlink to its target, keeping an
    existing mode; only a regular file, or nothing, is ever renamed over."""
    try:
        target = Path(os.path.realpath(path))
        try:
            existing = os.stat(target)
        except FileNotFoundError:
            existing = None
        if existing is not None and not stat.S_ISREG(existing.st_mode):
            # It changed since it was looked at: never rename over anything else.
            raise _Failure(f"-o {_one_line(str(path))}: is no longer a regular file")
        if existing is not None:
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
        raise _Failure(f"cannot write {_one_line(str(path))}: {e.strerror or e}") from None
    except ValueError as e:  # e.g. an embedded NUL in the path
        raise _Failure(f"cannot write {_one_line(str(path))}: {e}") from None


# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _one_line(text: str) -> str:
    """``text`` as one line of plain characters: every control character escaped."""
    return _CONTROL.sub(
        lambda m: (
            _ESCAPES.get(m[0]) or f"\\x{ord(m[0]):02x}"
            if ord(m[0]) < 0x100
            else f"\\u{ord(m[0]):04x}"
        ),
        text,
    )


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
    output: str | None = args.output
    to_stdout = output is None or output == STDIO
    fmt: Literal["yaml", "json"] = args.format or _format_for(
        args.check or (Path(output) if output else None)
    )
    from ..template.builder import build_template
    from ..template.render import render

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
        _write_output(output, data)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (see the module docstring)."""
    try:
        return _main(sys.argv[1:] if argv is None else list(argv))
    except KeyboardInterrupt:  # also while the template modules or boto3 load
        _stderr("infra-gen: interrupted\n")
        return EXIT_INTERRUPTED


def _main(argv: list[str]) -> int:
    if argv[:1] and argv[0] in ("diff", "deploy", "preflight", "verify"):
        from .operate import main as command_main  # boto3 stays optional

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
    except Exception as e:  # noqa: BLE001 - the promise is one line, never a traceback
        text = _one_line(f"{type(e).__name__}: {e}")
        _stderr(f"infra-gen: internal error: {text} (please report it)\n")
        return EXIT_BUG
