"""``infra-gen diff | deploy | verify``: argv -> template -> CloudFormation -> terminal.

Exit status: diff 0 without changes, 1 with changes; deploy 0 when the stack is (or
already was) up to date, 1 when it failed or was not confirmed; verify 0 only when every
check passed, 1 otherwise; all three 2 on bad input or an AWS error before anything
ran, and 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import deploy as cf
from .builder import build_template
from .cli import load_config
from .config import ConfigError
from .progress import Progress
from .render import render
from .verify import verify

__all__ = ["COMMANDS", "main"]

COMMANDS = ("diff", "deploy", "verify")
EXIT_OK = 0
EXIT_CHANGES = 1  # diff: there are changes
EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

Clients = Callable[[str], Any]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="infra-gen",
        description="Preview, deploy and verify the stack with CloudFormation change sets. "
        "Credentials and Region come from boto3's usual chain (AWS_PROFILE, AWS_REGION, ...).",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (
        ("diff", "show what a deploy would change, replacements first; exit 1 when it "
                 "would change anything"),
        ("deploy", "create or update the stack through a change set, with progress"),
        ("verify", "check that the deployed stack works"),
    ):  # fmt: skip
        c = sub.add_parser(name, help=text, description=text)
        c.add_argument("--stack-name", required=True)
        if name == "verify":
            c.add_argument(
                "--timeout", type=float, default=10.0,
                help="seconds for the request to the service URL (default 10)",
            )  # fmt: skip
            continue
        c.add_argument("--config", type=Path, help="TOML file, as for template generation")
        c.add_argument(
            "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
            help="override one configuration key (repeatable)",
        )  # fmt: skip
        c.add_argument(
            "--parameter", dest="parameters", action="append", default=[], metavar="NAME=VALUE",
            help="a deploy-time Parameter value (repeatable); Parameters not given keep the "
            "stack's previous values",
        )  # fmt: skip
        c.add_argument(
            "--s3-bucket",
            help="upload the template to this bucket and deploy it from there, as aws "
            "cloudformation deploy --s3-bucket does (needed only over 51,200 bytes)",
        )
        c.add_argument("--s3-prefix", help="key prefix in --s3-bucket")
        if name == "deploy":
            c.add_argument(
                "--yes", action="store_true",
                help="deploy without asking (required when stdin is not a terminal)",
            )  # fmt: skip
    return p


def _overrides(items: Sequence[str]) -> dict[str, str]:
    result = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise cf.InputError(f"--parameter {item}: expected NAME=VALUE, e.g. MinTasks=3")
        result[key.strip()] = value
    return result


def _template(args: argparse.Namespace) -> tuple[str, list[str]]:
    """The template text to send (YAML, readable in the console; compact JSON when only
    that fits in a request) and the names of its Parameters."""
    template = build_template(load_config(args.config, args.overrides))
    text = render(template, "yaml")
    if len(text.encode()) > cf.INLINE_LIMIT and args.s3_bucket is None:
        text = render(template, "json")
    return text, sorted(template.parameters)


def _show_changes(p: cf.Preview, out: TextIO) -> None:
    if not p.changes:
        print(f"Stack {p.stack_name}: no changes.", file=out)
        return
    verb = "create" if p.change_set_type == "CREATE" else "update"
    replaced = [c for c in p.changes if c.replaces]
    print(f"Stack {p.stack_name}: {len(p.changes)} changes to {verb}"
          f"{f', {len(replaced)} REPLACEMENTS' if replaced else ''}", file=out)  # fmt: skip
    width = max(len(c.logical_id) for c in p.changes)
    type_width = max(len(c.resource_type) for c in p.changes)
    # Replacements first: they are the ones that lose a live resource.
    for c in sorted(p.changes, key=lambda c: (not c.replaces, c.action, c.logical_id)):
        mark = {"True": "REPLACE", "Conditional": "MAY REPLACE"}.get(c.replacement, "")
        line = f"  {'!!' if c.replaces else '  '} {c.action:<7} {c.logical_id:<{width}}  "
        line += f"{c.resource_type:<{type_width}}"
        if mark:
            line += f"  {mark}"
            if c.causes:
                line += f" ({', '.join(c.causes)})"
        print(line.rstrip(), file=out)


def _preview(args: argparse.Namespace, clients: Clients) -> cf.Preview:
    text, declared = _template(args)
    overrides = _overrides(args.parameters)
    cfn = clients("cloudformation")
    source = cf.template_source(
        text, s3_bucket=args.s3_bucket, s3_prefix=args.s3_prefix, s3=lambda: clients("s3")
    )
    return cf.preview(cfn, args.stack_name, source, declared, overrides)


def _diff(args: argparse.Namespace, clients: Clients, out: TextIO) -> int:
    p = _preview(args, clients)
    try:
        _show_changes(p, out)
    finally:
        cf.discard(clients("cloudformation"), p)
    return EXIT_CHANGES if p.changes else EXIT_OK


def _confirm(p: cf.Preview, stdin: TextIO, out: TextIO) -> bool:
    out.write(f"Deploy these changes to {p.stack_name}? [y/N] ")
    out.flush()
    return stdin.readline().strip().lower() in ("y", "yes")


def _follow_hint(p: cf.Preview) -> str:
    name, waiter = p.stack_name, f"stack-{p.change_set_type.lower()}-complete"
    return (
        f"infra-gen: stopped watching; CloudFormation carries on with stack {name}.\n"
        f"infra-gen: follow it with: aws cloudformation describe-stack-events --stack-name {name}\n"
        f"infra-gen: or wait for it: aws cloudformation wait {waiter} --stack-name {name}"
    )


def _deploy(
    args: argparse.Namespace, clients: Clients, out: TextIO, stdin: TextIO
) -> int:
    if not args.yes and not stdin.isatty():
        raise cf.InputError("stdin is not a terminal, so no one can confirm: pass --yes")
    p = _preview(args, clients)
    _show_changes(p, out)
    if not p.changes:
        return EXIT_OK
    cfn = clients("cloudformation")
    try:
        confirmed = args.yes or _confirm(p, stdin, out)
    except (KeyboardInterrupt, EOFError):
        confirmed = False
        out.write("\n")
    if not confirmed:
        cf.discard(cfn, p)
        print("Not deployed; the change set was deleted.", file=out)
        return EXIT_FAILED
    cf.execute(cfn, p)
    progress = Progress(out, total=len(p.changes))
    events: list[cf.Event] = []

    def on_event(e: cf.Event) -> None:
        events.append(e)
        progress.event(e)

    try:
        status = cf.watch(cfn, p, on_event, progress.tick)
    except KeyboardInterrupt:
        progress.close()
        print(_follow_hint(p), file=sys.stderr)
        return EXIT_INTERRUPTED
    progress.close()
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        failure = cf.first_failure(events)
        print(f"infra-gen: stack {p.stack_name} is {status}", file=sys.stderr)
        if failure is not None:
            print(f"infra-gen: first failure: {failure.logical_id} ({failure.resource_type}) "
                  f"{failure.status}: {failure.reason}", file=sys.stderr)  # fmt: skip
        print(f"infra-gen: all events: aws cloudformation describe-stack-events "
              f"--stack-name {p.stack_name}", file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    print(f"Stack {p.stack_name}: {status}", file=out)
    values = cf.outputs(cfn, p.stack_name)
    if values:
        print("Outputs:", file=out)
        width = max(map(len, values))
        for key in sorted(values):
            print(f"  {key:<{width}}  {values[key]}", file=out)
    return EXIT_OK


def _verify(args: argparse.Namespace, clients: Clients, out: TextIO) -> int:
    checks = verify(args.stack_name, clients, timeout=args.timeout)
    width = max(len(c.name) for c in checks)
    indent = " " * (width + 7)  # continuation lines start under the detail
    for c in checks:
        first, *more = c.detail.splitlines()
        print(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<{width}}  {first}", file=out)
        for line in more:
            print(f"{indent}{line}", file=out)
        if not c.ok and c.where:
            print(f"{indent}look at: {c.where}", file=out)
    failed = [c.name for c in checks if not c.ok]
    print(f"Stack {args.stack_name}: " + (f"NOT healthy ({', '.join(failed)})" if failed
                                          else "healthy"), file=out)  # fmt: skip
    return EXIT_FAILED if failed else EXIT_OK


def main(
    argv: Sequence[str],
    *,
    clients: Clients | None = None,
    stdout: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run one command; ``clients`` (service -> boto3 client) replaces boto3's chain."""
    args = _parser().parse_args(argv)
    out = stdout or sys.stdout
    make = clients or cf.client
    try:
        if args.command == "diff":
            return _diff(args, make, out)
        if args.command == "deploy":
            return _deploy(args, make, out, stdin or sys.stdin)
        return _verify(args, make, out)
    except (ConfigError, cf.InputError) as e:
        print(f"infra-gen: error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except cf.DeployError as e:
        print(f"infra-gen: error: {e}", file=sys.stderr)
        return EXIT_FAILED if args.command == "deploy" else EXIT_INPUT
    except KeyboardInterrupt:
        done = "" if args.command == "verify" else " before anything was deployed"
        print(f"infra-gen: interrupted{done}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:
        # botocore's errors (credentials, access, throttling) are not imported here:
        # boto3 is optional. Their text is one line naming the call.
        if type(e).__module__.startswith(("botocore", "boto3")):
            print(f"infra-gen: error: {e}", file=sys.stderr)
            return EXIT_INPUT
        raise
