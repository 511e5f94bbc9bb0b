"""``python -m infra_gen``: the command line, :func:`infra_gen.cli.run`."""

# Ctrl-C waits, blocked, until the command line handles it as one line: here nothing
# heavy has loaded yet, and infra_gen.cli.run unblocks it inside main's handling.
# _signal is the builtin module under signal, loaded with the interpreter; importing
# signal itself builds its enums first, time in which a Ctrl-C is a traceback.
import _signal

if hasattr(_signal, "pthread_sigmask"):
    _signal.pthread_sigmask(_signal.SIG_BLOCK, {_signal.SIGINT})

from .cli import run  # noqa: E402 - after the signal is blocked

run()
