"""Files and streams as a command line uses them: bounded reads, an ``-o`` target replaced
whole or left as it was, devices and FIFOs written in place, standard output that may
close. Every failure is one :class:`~infra_gen.errors.UsageError` line.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ..errors import ConfigError, UsageError, one_line

__all__ = [
    "READ_LIMIT",
    "STDIO",
    "Output",
    "check_file_name",
    "quiet_stdout",
    "read_input",
    "stderr",
    "write_file",
    "write_output",
    "write_stdout",
]

STDIO = "-"
# Longer than any configuration (a few kilobytes) or any template CloudFormation takes
# (1 MB from S3): what is read from --config or --check stops here, so /dev/zero or an
# endless pipe is refused instead of filling memory.
READ_LIMIT = 1024 * 1024


def read_input(path: Path, where: str, limit: int = READ_LIMIT) -> bytes:
    """At most ``limit`` bytes of ``path`` (``-``: standard input).

    Args:
        path: the file, or ``-``. Default: required.
        where: how an error line names it, e.g. ``--config stack.toml``. Default: required.
        limit: the most bytes read. Default: :data:`READ_LIMIT`.

    Raises:
        ConfigError: keyed by ``where`` (e.g. ``--config stack.toml``): a file that
            cannot be read, or one longer than ``limit``.
    """
    try:
        if str(path) == STDIO:
            if sys.stdin is None:
                raise ConfigError(where, "cannot read: standard input is closed")
            raw = sys.stdin.buffer.read(limit + 1)
        else:
            with open(path, "rb") as f:
                raw = f.read(limit + 1)
    except OSError as e:
        raise ConfigError(where, f"cannot read: {e.strerror or e}") from None
    except ValueError as e:  # e.g. an embedded NUL in the path
        raise ConfigError(where, f"cannot read: {e}") from None
    if len(raw) > limit:
        raise ConfigError(where, f"longer than {limit:,} bytes; allowed at most that")
    return raw


def stderr(text: str) -> None:
    """Write ``text`` to standard error, if anything is left to write to."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass  # nowhere left to report to


def write_stdout(data: bytes) -> None:
    """All of ``data`` to standard output as bytes: the template is UTF-8 whatever the
    locale. A reader that stopped reading raises ``BrokenPipeError``.

    Raises:
        UsageError: standard output is closed, or a write failed (e.g. a full disk).
    """
    stream = sys.stdout
    if stream is None:
        raise UsageError("cannot write to standard output: it is closed")
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
        raise UsageError(f"cannot write to standard output: {e.strerror or e}") from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit flush stays silent."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


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
        write_stdout(data)
        return
    if fd == 2 and sys.stderr is not None:
        sys.stderr.flush()
    try:
        _write_all(fd, data)
    except BrokenPipeError:
        raise
    except OSError as e:
        raise UsageError(f"cannot write {name}: {e.strerror or e}") from None


def write_output(name: str, data: bytes) -> None:
    """Write ``-o name``: a regular file or a new path is replaced whole (atomically);
    a character device or a FIFO is written directly, never renamed over.

    Raises:
        UsageError: an empty name, a directory, a block device or a socket, or a
            write that failed (the target is then left as it was).
    """
    shown = one_line(name)
    if not name:
        raise UsageError("-o '': expected a file name, e.g. -o out/stack.yaml")
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
        raise UsageError(f"cannot write {shown}: {e.strerror or e}") from None
    except ValueError as e:  # e.g. an embedded NUL in the path
        raise UsageError(f"cannot write {shown}: {e}") from None
    _refuse_directory(name, mode, "-o", "stack.yaml")
    if mode is None or stat.S_ISREG(mode):
        write_file(Path(name), data)
    elif stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        _write_device(shown, name, data)
    else:
        kind = "a block device" if stat.S_ISBLK(mode) else "a socket"
        raise UsageError(
            f"-o {shown}: is {kind}; allowed: a regular file, a new path, "
            "a character device or a FIFO"
        )


def _refuse_directory(name: str, mode: int | None, option: str, example: str) -> None:
    if mode is not None and stat.S_ISDIR(mode) or name.endswith("/"):
        what = "is a directory" if mode is not None else "names a directory (it ends in /)"
        shown = one_line(name)
        raise UsageError(
            f"{option} {shown}: {what}; give a file name, e.g. {option} "
            f"{shown.rstrip('/')}/{example}"
        )


def check_file_name(name: str, option: str, example: str) -> None:
    """Refuse, as ``-o`` does, a name that is or names a directory (it ends in ``/``).

    Args:
        name: the file name as given. Default: required.
        option: the option that names it, e.g. ``--plan-out``. Default: required.
        example: a file name for the line's example, e.g. ``plan.json``. Default: required.

    Raises:
        UsageError: ``name`` is empty, a directory or ends in ``/``.
    """
    if not name:
        raise UsageError(f"{option} '': expected a file name, e.g. {option} {example}")
    try:
        mode: int | None = os.stat(name).st_mode
    except (OSError, ValueError):
        mode = None  # a new path, or one the write will report
    _refuse_directory(name, mode, option, example)


def _write_device(shown: str, name: str, data: bytes) -> None:
    """Write to a character device or a FIFO as a shell redirection would: in place."""
    try:
        fd = os.open(name, os.O_WRONLY | os.O_NOCTTY)
    except OSError as e:
        raise UsageError(f"cannot write {shown}: {e.strerror or e}") from None
    try:
        _write_descriptor(shown, fd, data)
    finally:
        os.close(fd)


def write_file(path: Path, data: bytes) -> None:
    """Replace the regular file ``path`` whole, through a symlink to its target, keeping an
    existing mode; only a regular file, or nothing, is ever renamed over. A file that
    already holds ``data`` is left alone (its timestamps too).

    Raises:
        UsageError: the write failed; ``path`` is left as it was.
    """
    try:
        target = Path(os.path.realpath(path))
        try:
            existing = os.stat(target)
        except FileNotFoundError:
            existing = None
        if existing is not None and not stat.S_ISREG(existing.st_mode):
            # It changed since it was looked at: never rename over anything else.
            raise UsageError(f"-o {one_line(str(path))}: is no longer a regular file")
        if existing is not None:
            mode = stat.S_IMODE(existing.st_mode)
            if target.read_bytes() == data:
                return  # already up to date: keep its timestamps
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask  # what a plain open() would give a new file
        import tempfile  # here: the command line starts without it

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
        raise UsageError(f"cannot write {one_line(str(path))}: {e.strerror or e}") from None
    except ValueError as e:  # e.g. an embedded NUL in the path
        raise UsageError(f"cannot write {one_line(str(path))}: {e}") from None


class Output:
    """Standard output that its reader may stop reading (``infra-gen diff | head``): from
    then on output is dropped and the command carries on (a diff still deletes its change
    set, a deploy still runs); any other write error is one line."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._dropped = False

    def _guard(self, action: Callable[[], Any]) -> None:
        if self._dropped:
            return
        try:
            action()
        except BrokenPipeError:
            self._dropped = True
            if self._stream is sys.stdout:
                quiet_stdout()
        except OSError as e:
            self._dropped = True
            raise UsageError(f"cannot write to standard output: {e.strerror or e}") from None

    def write(self, text: str) -> int:
        """Write ``text``, unless the reader has gone."""
        self._guard(lambda: self._stream.write(text))
        return len(text)

    def flush(self) -> None:
        """Flush, unless the reader has gone."""
        self._guard(self._stream.flush)

    def isatty(self) -> bool:
        """Whether the stream is a terminal (False when that cannot be told)."""
        try:
            return self._stream.isatty()
        except (OSError, ValueError):
            return False
