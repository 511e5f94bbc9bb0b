"""The command line: ``infra-gen`` writes the template (the default);
``infra-gen diff | deploy | preflight | verify | delete`` previews, deploys, checks and
deletes the stack.

Exit status, from one table (:data:`EXIT_STATUS`): 0 done; 1 ``--check`` found the file
stale, diff found changes, a check failed, or a deploy or delete failed, was not confirmed
or its plan is stale; 2 bad arguments, configuration, input or output, a template over the
inline size limit, or an AWS error before anything ran; 3 an AWS error once the stack was
being changed (after ExecuteChangeSet or DeleteStack: the line names the command that
follows the stack); 70 an internal error (worth a report); 130 Ctrl-C (the line says what
the run left in the account, if anything, and how to delete or follow it). Every failure
is one ``infra-gen: ...`` line on stderr with nothing on stdout, and an ``-o`` target is
either replaced whole or left as it was.

This module imports nothing heavy: the template modules (troposphere) and boto3 load
inside :func:`main`, where a Ctrl-C is one line.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, cast

from .._version import __version__
from ..deploy.recovery import ON_FAILURE
from ..errors import (
    AfterExecution,
    ConfigError,
    DeployError,
    InfraGenError,
    TemplateTooLarge,
    UsageError,
    one_line,
    shown,
)
from .files import quiet_stdout, stderr, write_stdout

if TYPE_CHECKING:
    from ..deploy.aws import Make

__all__ = ["COMMANDS", "EXIT_STATUS", "main", "run"]

COMMANDS = ("diff", "deploy", "preflight", "verify", "delete")
EXIT_OK = 0
EXIT_FAILED = 1  # --check: stale; diff: changes; a check or a deploy failed
EXIT_USAGE = 2  # bad arguments, input or output, as argparse uses
EXIT_AFTER_EXECUTION = 3  # an AWS error once the stack was being changed
EXIT_BUG = 70  # EX_SOFTWARE: an unexpected error, worth a report
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

EXIT_STATUS: tuple[tuple[type[InfraGenError], int, int], ...] = (
    (AfterExecution, EXIT_AFTER_EXECUTION, EXIT_AFTER_EXECUTION),
    (UsageError, EXIT_USAGE, EXIT_USAGE),
    (ConfigError, EXIT_USAGE, EXIT_USAGE),
    (TemplateTooLarge, EXIT_USAGE, EXIT_USAGE),
    (DeployError, EXIT_USAGE, EXIT_FAILED),
    (InfraGenError, EXIT_USAGE, EXIT_USAGE),
)
"""(error class, exit status, exit status under ``deploy``): the first row whose class
the error is an instance of. AfterExecution: an AWS error once ExecuteChangeSet (deploy)
or DeleteStack (delete) was sent, 3. A DeployError (StalePlan too) stops deploy and
delete, 1; for the other commands the same error comes before anything ran, 2."""

# CloudFormation: a stack name is 1-128 letters, digits and hyphens, starting with a
# letter; a stack ID (ARN) names an existing stack too.
_STACK_NAME = re.compile(r"[A-Za-z][-A-Za-z0-9]{0,127}")
_STACK_ID = re.compile(r"arn:[-A-Za-z0-9:/._+]{1,1020}")
TIMEOUT_MAX = 300.0
# verify --wait and --interval: an hour of retries at most, an attempt at least every 5 min.
WAIT_MAX = 3600.0
INTERVAL_MAX = 300.0
# deploy and delete --poll-interval: the AWS CLI's waiters poll every 30 s; 5 min at most.
POLL_MIN, POLL_MAX = 1.0, 300.0
# IAM: arn:PARTITION:iam::ACCOUNT:role/PATH/NAME; CloudFormation's RoleARN is 20-2048 long.
_ROLE_ARN = re.compile(r"arn:aws[-a-z]*:iam::[0-9]{12}:role/[-\w+=,.@/]{1,576}")


def main(
    argv: Sequence[str] | None = None,
    *,
    clients: Make | None = None,
    stdout: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run the command line; returns the exit status (see the module docstring).

    Args:
        argv: the arguments after the program name. Default: ``sys.argv[1:]``.
        clients: service name -> boto3 client, for the commands. Default: boto3's chain.
        stdout: where the commands write. Default: standard output.
        stdin: where ``deploy`` reads its confirmation. Default: standard input.

    Returns:
        The exit status; every failure was written as one line on stderr.
    """
    command: str | None = None
    try:
        try:
            args = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
        except SystemExit as e:  # --help or --version: already written to stdout
            return e.code if isinstance(e.code, int) else EXIT_OK
        command = args.command
        if command is None:
            from .generate import generate

            return generate(args)
        return _operate(args, clients, stdout or sys.stdout, stdin or sys.stdin)
    except KeyboardInterrupt as e:  # also while the template modules or boto3 load
        if e.args:  # deploy.changeset.Interrupted: what the run left, and how to clear it
            stderr(f"infra-gen: interrupted {one_line(str(e.args[0]))}\n")
        else:
            done = {
                "diff": " before anything was deployed; nothing is left",
                "deploy": " before anything was deployed; nothing is left",
                "delete": " before the stack's deletion was requested",
            }.get(command or "", "")
            stderr(f"infra-gen: interrupted{done}\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader stopped reading (`infra-gen | head`): its choice, not an error.
        quiet_stdout()
        return EXIT_OK
    except Exception as e:  # noqa: BLE001 - the promise is one line, never a traceback
        return _failed(e, command)


def _operate(args: argparse.Namespace, clients: Make | None, stdout: TextIO, stdin: TextIO) -> int:
    from ..deploy.aws import Clients  # boto3 itself loads on the first client
    from .files import Output
    from .operate import operate

    output = Output(stdout)
    try:
        code = operate(args, clients or Clients(), cast(TextIO, output), stdin)
        output.flush()  # a full disk shows here, as one line
        return code
    finally:
        with contextlib.suppress(UsageError):
            output.flush()


def _failed(error: Exception, command: str | None) -> int:
    """Write the one line that says why the run stopped; its exit status."""
    for kind, status, deploy_status in EXIT_STATUS:
        if isinstance(error, kind):
            stderr(f"infra-gen: error: {one_line(str(error))}\n")
            return deploy_status if command in ("deploy", "delete") else status
    # botocore's errors (credentials, access, throttling) are not imported here: boto3
    # is optional. Their text names the call; line breaks are folded.
    if type(error).__module__.startswith(("botocore", "boto3")):
        stderr(f"infra-gen: error: {one_line(str(error))}\n")
        return EXIT_USAGE
    text = one_line(f"{type(error).__name__}: {error}")
    stderr(f"infra-gen: internal error: {text} (please report it)\n")
    return EXIT_BUG


def _sigint(how: int) -> None:
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(how, {signal.SIGINT})


def run() -> NoReturn:
    """The ``infra-gen`` console script and ``python -m infra_gen``: exit with :func:`main`'s
    status.

    ``python -m infra_gen`` blocks Ctrl-C (SIGINT) before it imports anything; it waits
    until here, where main's handling is in place: one line, status 130, never a
    traceback. A Ctrl-C after main returned is ignored: the run is over.
    """
    code: int | None = None
    try:
        _sigint(signal.SIG_UNBLOCK)
        code = main()
    except KeyboardInterrupt:
        if code is None:
            stderr("infra-gen: interrupted\n")
            code = EXIT_INTERRUPTED
    finally:
        _sigint(signal.SIG_BLOCK)
    raise SystemExit(code)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Raise the one-line UsageError argparse would print with its usage."""
        # argparse prints usage plus the message; one line is the promise.
        raise UsageError(f"{one_line(message)} (see {self.prog} --help)")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # A word that is no command is a stray argument of generation: the same line as
        # for any other stray argument, as before the commands shared this parser.
        if isinstance(action, _Commands) and value not in (action.choices or ()):
            raise argparse.ArgumentError(None, f"unrecognized arguments: {value}")
        super()._check_value(action, value)

    def _print_message(self, message: str, file: Any = None) -> None:
        # argparse drops write errors of --help and --version silently; report them
        # like any other output (a closed or full stdout is an error, a closed pipe not).
        if message and file is sys.stdout:
            write_stdout(message.encode("utf-8"))
        else:
            super()._print_message(message, file)


class _Commands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """The subcommands. A generation option before one is refused, where argparse would
    drop it (the command's own defaults replace it)."""

    generation: list[argparse.Action] = []

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        for action in self.generation:
            if getattr(namespace, action.dest, action.default) != action.default:
                raise argparse.ArgumentError(
                    None,
                    f"{action.option_strings[-1]} is an option of template generation, "
                    f"not of {values[0]}",
                )
        super().__call__(parser, namespace, values, option_string)


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
    generation = _generation_options(p)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _commands(p, generation)
    return p


def _generation_options(p: argparse.ArgumentParser) -> list[argparse.Action]:
    """Add generation's options to ``p``; each option's action."""
    # The template modules (troposphere) load here, inside main(), where Ctrl-C is one line.
    from ..template.budget import INLINE_TEMPLATE_LIMIT
    from ..template.render import FORMATS

    added = []

    added.append(
        p.add_argument(
            "--format",
            choices=FORMATS,
            default=None,
            help="output format (default: from the -o or --check suffix, else yaml)",
        )
    )
    where = p.add_mutually_exclusive_group()
    added.append(
        where.add_argument(
            "-o",
            "--output",
            metavar="FILE",
            help="write here instead of stdout ('-' is stdout): a regular file "
            "is replaced atomically (through a symlink, keeping its mode), a "
            "device or FIFO is written in place; a directory is refused",
        )
    )
    added.append(
        where.add_argument(
            "--check",
            type=Path,
            metavar="FILE",
            help="write nothing; exit 0 if FILE ('-': stdin) holds exactly what "
            "would be generated, else 1 with a unified diff on stderr",
        )
    )
    added.append(
        where.add_argument(
            "--print-config",
            action="store_true",
            help="print the effective configuration (defaults, --config, --set) as TOML and exit",
        )
    )
    added.append(
        p.add_argument(
            "--config",
            type=Path,
            metavar="FILE",
            help="TOML file with [network], [service], ... tables ('-' is stdin)",
        )
    )
    added.append(
        p.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override one key, e.g. service.cpu=512 (repeatable; beats --config); "
            "the value is read as the key's type",
        )
    )
    added.append(
        p.add_argument(
            "--allow-large-template",
            action="store_true",
            help=f"allow a template over {INLINE_TEMPLATE_LIMIT:,} bytes, the limit "
            "for one passed inline; such a template must be deployed from S3",
        )
    )
    return added


def _stack_name(text: str) -> str:
    if _STACK_NAME.fullmatch(text) or _STACK_ID.fullmatch(text):
        return text
    raise argparse.ArgumentTypeError(
        f"{shown(text)} is not a stack name; allowed: 1-128 letters, digits and hyphens, "
        "starting with a letter (or a stack ID, arn:...)"
    )


def _on_failure(text: str) -> str:
    if text in ON_FAILURE:
        return text
    raise argparse.ArgumentTypeError(
        f"{shown(text)} is not allowed; allowed: {', '.join(ON_FAILURE)}"
    )


# S3's bucket naming rules (general purpose buckets): 3-63 characters of lower-case
# letters, digits, dots and hyphens, a letter or digit at each end, no "..", not an
# IPv4 address.
_BUCKET = re.compile(r"(?!\d+\.\d+\.\d+\.\d+$)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def _bucket(text: str) -> str:
    if _BUCKET.fullmatch(text):
        return text
    raise argparse.ArgumentTypeError(
        f"{shown(text)} is not a bucket name; allowed: 3-63 lower-case letters, digits, dots "
        "and hyphens, a letter or digit at each end"
    )


def _number(text: str) -> float:
    """``text`` as a float; NaN, which no bound admits, for what is no number."""
    try:
        return float(text)
    except ValueError:
        return math.nan


def _timeout(text: str) -> float:
    value = _number(text)
    if not (math.isfinite(value) and 0 < value <= TIMEOUT_MAX):
        raise argparse.ArgumentTypeError(
            f"{shown(text)} is not allowed; allowed: seconds, more than 0 and at most "
            f"{TIMEOUT_MAX:g}"
        )
    return value


def _role_arn(text: str) -> str:
    if _ROLE_ARN.fullmatch(text):
        return text
    raise argparse.ArgumentTypeError(
        f"{shown(text)} is not an IAM role ARN; allowed: arn:PARTITION:iam::ACCOUNT:role/NAME, "
        "e.g. arn:aws:iam::123456789012:role/cfn-deploy"
    )


def _region_help(environ: Mapping[str, str] = os.environ) -> str:
    from ..deploy.aws import region_source

    found = region_source(environ)
    if found is not None:
        now = f"now {found[0]}, from {found[1]}"
    elif environ.get("AWS_PROFILE"):
        now = f"now that of profile {environ['AWS_PROFILE']!r} (AWS_PROFILE)"
    else:
        now = "now that of the default profile"
    return (
        f"Region: AWS_REGION, else AWS_DEFAULT_REGION, else the profile's region, as "
        f"the AWS CLI reads it ({now})."
    )


def _commands(p: argparse.ArgumentParser, generation: list[argparse.Action]) -> None:
    """Add the subcommands diff, deploy, preflight and verify, with their options, to ``p``."""
    region = _region_help()
    sub = p.add_subparsers(
        action=_Commands,
        dest="command",
        metavar="{diff,deploy,preflight,verify,delete}",
        parser_class=type(p),
        prog=p.prog,
        title="to preview, check, deploy and verify a stack",
        description="Credentials come from boto3's usual chain (AWS_PROFILE, ...). "
        f"{region} See infra-gen COMMAND --help; needs the infra-gen[deploy] extra.",
    )
    cast(_Commands, sub).generation = generation
    for name, text in (
        (
            "diff",
            "show what a deploy would change, replacements first; exit 1 when it "
            "would change anything",
        ),
        ("deploy", "create or update the stack through a change set, with progress"),
        ("preflight", "read-only checks that predict a failed deploy; exit 1 when one fails"),
        ("verify", "check that the deployed stack works"),
        (
            "delete",
            "delete the stack with progress, after asking; list what stays (resources "
            "with DeletionPolicy Retain) and the commands that remove it",
        ),
    ):
        c = sub.add_parser(name, help=text, description=f"{text}. {region}")
        c.add_argument(
            "--stack-name",
            required=True,
            type=_stack_name,
            help="the stack: 1-128 letters, digits and hyphens",
        )
        if name == "verify":
            c.add_argument(
                "--timeout",
                type=_timeout,
                default=10.0,
                help=f"seconds for the request to the service URL (default 10, at most "
                f"{TIMEOUT_MAX:g})",
            )
            c.add_argument(
                "--wait",
                type=_seconds(0, WAIT_MAX),
                default=0.0,
                metavar="SECONDS",
                help="check again until every check passes or SECONDS are up (default 0: "
                f"once; at most {WAIT_MAX:g})",
            )
            c.add_argument(
                "--interval",
                type=_seconds(1, INTERVAL_MAX),
                default=10.0,
                metavar="SECONDS",
                help=f"seconds between attempts with --wait (default 10; 1 to {INTERVAL_MAX:g})",
            )
            _format_option(c, "one JSON object per check and line")
            continue
        if name in ("deploy", "delete"):
            c.add_argument(
                "--poll-interval",
                type=_seconds(POLL_MIN, POLL_MAX),
                default=10.0,
                metavar="SECONDS",
                help="seconds between reads of the stack's events while it changes "
                f"(default 10; {POLL_MIN:g} to {POLL_MAX:g}; the AWS CLI waits 30)",
            )
        if name != "preflight":
            c.add_argument(
                "--role-arn",
                type=_role_arn,
                help="the IAM role CloudFormation uses for the stack's resources (a service "
                "role), as aws cloudformation deploy --role-arn; default: your credentials",
            )
        if name == "delete":
            c.add_argument(
                "--yes",
                action="store_true",
                help="delete without asking (required when stdin is not a terminal)",
            )
            c.add_argument(
                "--disable-deletion-protection",
                action="store_true",
                help="turn the load balancer's deletion protection off first (without it, "
                "a protected load balancer stops the delete before anything is deleted)",
            )
            continue
        c.add_argument("--config", type=Path, help="TOML file, as for template generation")
        c.add_argument(
            "--template-file",
            type=Path,
            metavar="PATH",
            help="deploy this template (YAML or JSON, e.g. from a generator built on "
            "infra_gen) instead of generating one; not with --config or --set",
        )
        c.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override one configuration key (repeatable)",
        )
        c.add_argument(
            "--parameter",
            dest="parameters",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="a deploy-time Parameter value (repeatable); Parameters not given keep the "
            "stack's previous values",
        )
        c.add_argument(
            "--s3-bucket",
            type=_bucket,
            help="upload the template to this bucket and deploy it from there, as aws "
            "cloudformation deploy --s3-bucket does (needed only over 51,200 bytes)",
        )
        c.add_argument("--s3-prefix", help="key prefix in --s3-bucket (needs --s3-bucket)")
        if name != "verify":
            c.add_argument(
                "--resolve-s3",
                action="store_true",
                help="deploy the template from infra-gen's own artifact bucket, made on "
                "first use by the stack infra-gen-artifacts (private, TLS only, encrypted, "
                "objects expire after 30 days); not with --s3-bucket",
            )
        if name == "diff":
            c.add_argument(
                "--plan-out",
                type=str,  # as given: a trailing / names a directory
                metavar="FILE",
                help="keep the change set and write the plan to FILE, for deploy --plan",
            )
            _format_option(c, "the plan as JSON, without the template")
        if name in ("diff", "deploy"):
            c.add_argument(
                "--on-failure",
                type=_on_failure,
                metavar="ACTION",
                help="what a failed create of a new stack leaves (OnStackFailure): ROLLBACK, "
                "DELETE or DO_NOTHING; default DO_NOTHING when the template creates a load "
                "balancer with deletion protection on (governed), else ROLLBACK",
            )
        if name == "preflight":
            c.add_argument(
                "--offline",
                action="store_true",
                help="only the checks that need no AWS call (template size, "
                "Parameter values against their defaults and --parameter)",
            )
        if name == "deploy":
            c.add_argument(
                "--yes",
                action="store_true",
                help="deploy without asking (required when stdin is not a terminal)",
            )
            c.add_argument(
                "--plan",
                type=Path,
                metavar="FILE",
                help="execute the change set of this plan (from diff --plan-out) "
                "if the stack has not changed since; no template options",
            )
            c.add_argument(
                "--skip-preflight",
                action="store_true",
                help="do not run the preflight checks first",
            )
            c.add_argument(
                "--fail-fast",
                action="store_true",
                help="stop an update (CancelUpdateStack) once the ECS circuit "
                "breaker trips or --fail-fast-stops tasks stopped for one "
                "reason",
            )
            c.add_argument(
                "--fail-fast-stops",
                type=_positive,
                default=3,
                metavar="N",
                help="tasks stopped for the same reason that make --fail-fast act (default 3)",
            )


def _format_option(c: argparse.ArgumentParser, json_text: str) -> None:
    c.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help=f"text (default), or json: {json_text}",
    )


def _seconds(least: float, most: float) -> Callable[[str], float]:
    """The type of an option of seconds from ``least`` to ``most``."""

    def seconds(text: str) -> float:
        value = _number(text)
        if not least <= value <= most:  # nan and inf too
            raise argparse.ArgumentTypeError(
                f"{shown(text)}: expected seconds, a number from {least:g} to {most:g}"
            )
        return value

    return seconds


def _positive(text: str) -> int:
    # ASCII digits only: str.isdigit() takes "²", which int() refuses.
    if not re.fullmatch("[0-9]{1,6}", text) or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"{shown(text)}: expected a whole number from 1 to 999999 (digits 0-9)"
        )
    return int(text)
