"""``infra-gen diff | deploy | preflight | verify``: argv -> template -> CloudFormation -> terminal.

Exit status: diff 0 without changes, 1 with changes; deploy 0 when the stack is (or
already was) up to date, 1 when it failed, was not confirmed, its preflight failed or
its plan is stale; preflight and verify 0 only when every check passed, 1 otherwise; all
2 on bad input or an AWS error before anything ran, and 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from . import deploy as cf
from . import plan as planfile
from . import preflight as pf
from .builder import build_template
from .cli import load_config
from .config import ConfigError
from .ecs_events import SERVICE_TYPE, EcsFollower, fail_fast
from .progress import Progress
from .render import render
from .verify import Check, verify, verify_until

__all__ = ["COMMANDS", "main"]

COMMANDS = ("diff", "deploy", "preflight", "verify")
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
        ("preflight", "read-only checks that predict a failed deploy; exit 1 when one fails"),
        ("verify", "check that the deployed stack works"),
    ):  # fmt: skip
        c = sub.add_parser(name, help=text, description=text)
        c.add_argument("--stack-name", required=True)
        if name == "verify":
            c.add_argument(
                "--timeout", type=float, default=10.0,
                help="seconds for the request to the service URL (default 10)",
            )  # fmt: skip
            c.add_argument(
                "--wait", type=_seconds, default=0.0, metavar="SECONDS",
                help="check again until every check passes or SECONDS are up (default 0: once)",
            )  # fmt: skip
            c.add_argument("--interval", type=_seconds, default=10.0, metavar="SECONDS",
                           help="seconds between attempts with --wait (default 10)")
            _format_option(c, "one JSON object per check and line")
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
        if name == "diff":
            c.add_argument("--plan-out", type=Path, metavar="FILE",
                           help="keep the change set and write the plan to FILE, for deploy "
                           "--plan")  # fmt: skip
            _format_option(c, "the plan as JSON, without the template")
        if name == "preflight":
            c.add_argument("--offline", action="store_true",
                           help="only the checks that need no AWS call (template size, "
                           "Parameter values against their defaults and --parameter)")  # fmt: skip
        if name == "deploy":
            c.add_argument(
                "--yes", action="store_true",
                help="deploy without asking (required when stdin is not a terminal)",
            )  # fmt: skip
            c.add_argument("--plan", type=Path, metavar="FILE",
                           help="execute the change set of this plan (from diff --plan-out) "
                           "if the stack has not changed since; no template options")  # fmt: skip
            c.add_argument("--skip-preflight", action="store_true",
                           help="do not run the preflight checks first")
            c.add_argument("--fail-fast", action="store_true",
                           help="stop an update (CancelUpdateStack) once the ECS circuit "
                           "breaker trips or --fail-fast-stops tasks stopped for one "
                           "reason")  # fmt: skip
            c.add_argument("--fail-fast-stops", type=_positive, default=3, metavar="N",
                           help="tasks stopped for the same reason that make --fail-fast act "
                           "(default 3)")  # fmt: skip
    return p


def _format_option(c: argparse.ArgumentParser, json_text: str) -> None:
    c.add_argument("--format", choices=("text", "json"), default="text",
                   help=f"text (default), or json: {json_text}")  # fmt: skip


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected seconds, a number >= 0")
    return value


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number >= 1")
    return int(text)


def _overrides(items: Sequence[str]) -> dict[str, str]:
    result = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise cf.InputError(f"--parameter {item}: expected NAME=VALUE, e.g. MinTasks=3")
        result[key.strip()] = value
    return result


def _template(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The template text to send (YAML, readable in the console; compact JSON when only
    that fits in a request) and the template as data."""
    template = build_template(load_config(args.config, args.overrides))
    text = render(template, "yaml")
    if len(text.encode()) > cf.INLINE_LIMIT and args.s3_bucket is None:
        text = render(template, "json")
    return text, json.loads(render(template, "json"))


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


def _preview(args: argparse.Namespace, clients: Clients, text: str,
             declared: Sequence[str]) -> cf.Preview:  # fmt: skip
    overrides = _overrides(args.parameters)
    cfn = clients("cloudformation")
    source = cf.template_source(
        text, s3_bucket=args.s3_bucket, s3_prefix=args.s3_prefix, s3=lambda: clients("s3")
    )
    return cf.preview(cfn, args.stack_name, source, declared, overrides)


def _diff(args: argparse.Namespace, clients: Clients, out: TextIO) -> int:
    text, doc = _template(args)
    p = _preview(args, clients, text, sorted(doc["Parameters"]))
    cfn = clients("cloudformation")
    kept = False
    try:
        if args.plan_out is not None or args.format == "json":
            values = pf.values_for(doc, _overrides(args.parameters),
                                   _previous(clients, args.stack_name))  # fmt: skip
            plan = planfile.make_plan(cfn, p, text, values)
            if args.plan_out is not None:
                planfile.write(args.plan_out, plan)
                kept = bool(p.change_set_id)
            else:
                plan = dataclasses.replace(plan, change_set_id="")  # deleted below
        if args.format == "json":
            doc = planfile.document(plan, with_template=False)
            print(json.dumps(doc, indent=2, ensure_ascii=False), file=out)
        else:
            _show_changes(p, out)
            if args.plan_out is not None:
                kept_for = (f"; change set {p.change_set_id} kept for: infra-gen deploy "
                            f"--stack-name {p.stack_name} --plan {args.plan_out}")  # fmt: skip
                print(f"Plan written to {args.plan_out}{kept_for if kept else ''}", file=out)
    finally:
        if not kept:
            cf.discard(cfn, p)
    return EXIT_CHANGES if p.changes else EXIT_OK


def _previous(clients: Clients, stack_name: str) -> dict[str, str]:
    """The stack's Parameter values, which the change set keeps unless overridden."""
    cfn = clients("cloudformation")
    found = cf.stack_status(cfn, stack_name)
    if found is None or found[0] == "REVIEW_IN_PROGRESS":
        return {}
    (stack,) = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    return {x["ParameterKey"]: x.get("ParameterValue", "") for x in stack.get("Parameters", [])}


def _checks(args: argparse.Namespace, clients: Clients, text: str, doc: dict[str, Any],
            *, offline: bool = False) -> list[pf.Finding]:  # fmt: skip
    overrides = _overrides(args.parameters)
    cf.parameters_for(sorted(doc["Parameters"]), overrides, None)  # refuses unknown names
    previous = {} if offline else _previous(clients, args.stack_name)
    values = pf.values_for(doc, overrides, previous)
    found = pf.offline(doc, len(text.encode()), values, from_s3=args.s3_bucket is not None)
    if offline:
        return found
    region = clients("cloudformation").meta.region_name
    return found + pf.online(clients, doc, values, region)


def _show_findings(findings: Sequence[pf.Finding], out: TextIO, prefix: str = "") -> None:
    width = max(len(f.check) for f in findings)
    for f in findings:
        print(f"{prefix}{f.status:<4} {f.check:<{width}}  {f.detail}", file=out)


def _preflight(args: argparse.Namespace, clients: Clients, out: TextIO) -> int:
    text, doc = _template(args)
    findings = _checks(args, clients, text, doc, offline=args.offline)
    _show_findings(findings, out)
    failed = [f.check for f in findings if f.failed]
    warned = sum(f.status == "warn" for f in findings)
    summary = f"NOT ready ({', '.join(dict.fromkeys(failed))})" if failed else "ready"
    print(f"Stack {args.stack_name}: {summary}" + (f", {warned} warnings" if warned else ""),
          file=out)  # fmt: skip
    return EXIT_FAILED if failed else EXIT_OK


def _gate(findings: Sequence[pf.Finding]) -> None:
    """Before a deploy: warnings and failures on stderr; a failure stops it."""
    shown = [f for f in findings if f.status != "ok"]
    if shown:
        _show_findings(shown, sys.stderr, "infra-gen: preflight: ")
    failed = sum(f.failed for f in findings)
    if failed:
        raise cf.DeployError(f"preflight found {failed} problems, nothing was deployed: fix "
                             "them, or pass --skip-preflight")  # fmt: skip


def _template_of(plan: planfile.Plan) -> dict[str, Any]:
    from cfn_flip import load  # troposphere's own dependency; reads YAML short tags

    data, _ = load(plan.template)
    return dict(data)


def _planned(args: argparse.Namespace, clients: Clients, out: TextIO) -> cf.Preview | None:
    """The preview of a plan file whose change set may still run; None: nothing to run."""
    given = [o for o, v in (("--config", args.config), ("--set", args.overrides),
             ("--parameter", args.parameters), ("--s3-bucket", args.s3_bucket),
             ("--s3-prefix", args.s3_prefix)) if v]  # fmt: skip
    if given:
        raise cf.InputError(f"{given[0]} does not apply with --plan, which runs the plan's "
                            "change set as it is: make a new plan with it")  # fmt: skip
    plan = planfile.read(args.plan)
    if plan.stack_name != args.stack_name:
        raise cf.InputError(f"--plan {args.plan} is for stack {plan.stack_name}, not "
                            f"{args.stack_name}")  # fmt: skip
    if not plan.change_set_id:
        print(f"Stack {plan.stack_name}: no changes (the plan has none).", file=out)
        return None
    cfn = clients("cloudformation")
    planfile.check(cfn, plan)
    if not args.skip_preflight:
        region = cfn.meta.region_name
        _gate(pf.online(clients, _template_of(plan), plan.parameters, region))
    p = plan.preview()
    _show_changes(p, out)
    print(f"Plan {args.plan}: change set {p.change_set_id}, template SHA-256 "
          f"{plan.template_sha256}", file=out)  # fmt: skip
    return p


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
    if args.plan is not None:
        planned = _planned(args, clients, out)
        if planned is None:
            return EXIT_OK
        p = planned
    else:
        text, doc = _template(args)
        if not args.skip_preflight:
            _gate(_checks(args, clients, text, doc))
        p = _preview(args, clients, text, sorted(doc["Parameters"]))
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
        if args.plan is not None:
            print("Not deployed; the plan's change set is kept.", file=out)
            return EXIT_FAILED
        cf.discard(cfn, p)
        print("Not deployed; the change set was deleted.", file=out)
        return EXIT_FAILED
    cf.execute(cfn, p)
    progress = Progress(out, total=len(p.changes))
    events: list[cf.Event] = []
    ecs = EcsFollower(cfn, lambda: clients("ecs"), p.stack_name, stops=args.fail_fast_stops)
    acted = False

    def on_event(e: cf.Event) -> None:
        events.append(e)
        progress.event(e)
        ecs.on_event(e)

    def on_tick() -> None:
        nonlocal acted
        for note in ecs.poll():
            progress.note("ECS " + note.kind, note.text)
        if args.fail_fast and ecs.tripped and not acted:
            acted = True
            progress.note("FAIL-FAST", fail_fast(cfn, p))
        progress.tick()

    try:
        status = cf.watch(cfn, p, on_event, on_tick)
    except KeyboardInterrupt:
        progress.close()
        print(_follow_hint(p), file=sys.stderr)
        return EXIT_INTERRUPTED
    progress.close()
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        failure = cf.first_failure(events)
        print(f"infra-gen: stack {p.stack_name} is {status}", file=sys.stderr)
        if failure is not None:
            ecs_reason = ecs.reason if failure.resource_type == SERVICE_TYPE else ""
            print(f"infra-gen: first failure: {failure.logical_id} ({failure.resource_type}) "
                  f"{failure.status}: {failure.reason}"
                  f"{f'; ECS: {ecs_reason}' if ecs_reason else ''}", file=sys.stderr)  # fmt: skip
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
    def waiting(checks: list[Check], left: float) -> None:
        if args.format == "text":
            failed = ", ".join(c.name for c in checks if not c.ok)
            print(f"Stack {args.stack_name}: not healthy yet ({failed}); checking again in "
                  f"{min(args.interval, left):.0f}s, {left:.0f}s left", file=out)  # fmt: skip
            out.flush()

    checks = verify_until(lambda: verify(args.stack_name, clients, timeout=args.timeout),
                          args.wait, interval=args.interval, on_attempt=waiting)  # fmt: skip
    failed = [c.name for c in checks if not c.ok]
    if args.format == "json":
        for c in checks:
            print(json.dumps({"check": c.name, "ok": c.ok, "detail": c.detail,
                              "where": c.where}, ensure_ascii=False), file=out)  # fmt: skip
        return EXIT_FAILED if failed else EXIT_OK
    width = max(len(c.name) for c in checks)
    indent = " " * (width + 7)  # continuation lines start under the detail
    for c in checks:
        first, *more = c.detail.splitlines()
        print(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<{width}}  {first}", file=out)
        for line in more:
            print(f"{indent}{line}", file=out)
        if not c.ok and c.where:
            print(f"{indent}look at: {c.where}", file=out)
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
        if args.command == "preflight":
            return _preflight(args, make, out)
        return _verify(args, make, out)
    except (ConfigError, cf.InputError) as e:
        print(f"infra-gen: error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except cf.DeployError as e:
        print(f"infra-gen: error: {e}", file=sys.stderr)
        return EXIT_FAILED if args.command == "deploy" else EXIT_INPUT
    except KeyboardInterrupt:
        done = "" if args.command in ("verify", "preflight") else " before anything was deployed"
        print(f"infra-gen: interrupted{done}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:
        # botocore's errors (credentials, access, throttling) are not imported here:
        # boto3 is optional. Their text is one line naming the call.
        if type(e).__module__.startswith(("botocore", "boto3")):
            print(f"infra-gen: error: {e}", file=sys.stderr)
            return EXIT_INPUT
        raise
