"""``infra-gen diff | deploy | preflight | verify``: argv -> template -> CloudFormation -> terminal.

Exit status: diff 0 without changes, 1 with changes; deploy 0 when the stack is (or
already was) up to date, 1 when it failed, was not confirmed, its preflight failed or
its plan is stale; preflight and verify 0 only when every check passed, 1 otherwise; all
2 on bad input or an AWS error before anything ran, and 130 on Ctrl-C. Input is checked
before any AWS call: the stack name against CloudFormation's rule, each ``--parameter``
against the template's Parameter (its name, AllowedValues, AllowedPattern, length and
number bounds). Every error is one line.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO, cast

from troposphere import Template

from ..config import ConfigError
from ..deploy import changeset as cf
from ..deploy import plan as planfile
from ..deploy import preflight as pf
from ..deploy.ecs_events import SERVICE_TYPE, EcsFollower, fail_fast
from ..deploy.verify import Check, verify, verify_until
from ..template.budget import largest_parts, parts_line
from ..template.builder import build_template
from ..template.render import render
from . import _Failure, _Parser, _quiet_stdout, load_config
from .progress import Progress

__all__ = ["COMMANDS", "main"]

COMMANDS = ("diff", "deploy", "preflight", "verify")
EXIT_OK = 0
EXIT_CHANGES = 1  # diff: there are changes
EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

Clients = Callable[[str], Any]
# CloudFormation: a stack name is 1-128 letters, digits and hyphens, starting with a
# letter; a stack ID (ARN) names an existing stack too.
_STACK_NAME = re.compile(r"[A-Za-z][-A-Za-z0-9]{0,127}")
_STACK_ID = re.compile(r"arn:[-A-Za-z0-9:/._+]{1,1020}")
TIMEOUT_MAX = 300.0
# CloudFormation's largest template, from S3 (51,200 bytes in the request).
TEMPLATE_FILE_MAX = 1_048_576


class _CommandParser(_Parser):
    def error(self, message: str) -> NoReturn:
        raise _Failure(f"{cf.one_line(message)} (see {self.prog} --help)")


def _stack_name(text: str) -> str:
    if _STACK_NAME.fullmatch(text) or _STACK_ID.fullmatch(text):
        return text
    raise argparse.ArgumentTypeError(
        f"{_shown(text)} is not a stack name; allowed: 1-128 letters, digits and hyphens, "
        "starting with a letter (or a stack ID, arn:...)"
    )


# S3's bucket naming rules (general purpose buckets): 3-63 characters of lower-case
# letters, digits, dots and hyphens, a letter or digit at each end, no "..", not an
# IPv4 address.
_BUCKET = re.compile(r"(?!\d+\.\d+\.\d+\.\d+$)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def _bucket(text: str) -> str:
    if _BUCKET.fullmatch(text):
        return text
    raise argparse.ArgumentTypeError(
        f"{_shown(text)} is not a bucket name; allowed: 3-63 lower-case letters, digits, dots "
        "and hyphens, a letter or digit at each end"
    )


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= TIMEOUT_MAX):
        raise argparse.ArgumentTypeError(
            f"{_shown(text)} is not allowed; allowed: seconds, more than 0 and at most "
            f"{TIMEOUT_MAX:g}"
        )
    return value


def _shown(text: str, limit: int = 60) -> str:
    shown = cf.one_line(repr(text))
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _region_help(environ: Mapping[str, str] = os.environ) -> str:
    found = cf.region_source(environ)
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


def _parser() -> argparse.ArgumentParser:
    region = _region_help()
    p = _CommandParser(
        prog="infra-gen",
        description="Preview, deploy and verify the stack with CloudFormation change sets. "
        f"Credentials come from boto3's usual chain (AWS_PROFILE, ...). {region}",
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_CommandParser)
    for name, text in (
        (
            "diff",
            "show what a deploy would change, replacements first; exit 1 when it "
            "would change anything",
        ),
        ("deploy", "create or update the stack through a change set, with progress"),
        ("preflight", "read-only checks that predict a failed deploy; exit 1 when one fails"),
        ("verify", "check that the deployed stack works"),
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
                type=_seconds,
                default=0.0,
                metavar="SECONDS",
                help="check again until every check passes or SECONDS are up (default 0: once)",
            )
            c.add_argument(
                "--interval",
                type=_seconds,
                default=10.0,
                metavar="SECONDS",
                help="seconds between attempts with --wait (default 10)",
            )
            _format_option(c, "one JSON object per check and line")
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
        if name == "diff":
            c.add_argument(
                "--plan-out",
                type=Path,
                metavar="FILE",
                help="keep the change set and write the plan to FILE, for deploy --plan",
            )
            _format_option(c, "the plan as JSON, without the template")
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
    return p


def _format_option(c: argparse.ArgumentParser, json_text: str) -> None:
    c.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help=f"text (default), or json: {json_text}",
    )


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
            raise cf.InputError(
                f"--parameter {cf.one_line(item)}: expected NAME=VALUE, e.g. MinTasks=3"
            )
        if re.search("[\ud800-\udfff]", item):
            raise cf.InputError(f"--parameter {_shown(item)}: not valid UTF-8")
        result[key.strip()] = value
    return result


def _parameter_problem(spec: Mapping[str, Any], value: str) -> str | None:
    """Why CloudFormation would refuse ``value`` for the Parameter ``spec``, or None."""
    why = spec.get("ConstraintDescription")
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        return why or f"allowed: {', '.join(map(str, allowed))}"
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not pf.matches_pattern(pattern, value):
        return why or f"does not match the AllowedPattern {pattern}"
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return why or f"at least {spec['MinLength']} characters"
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return why or f"at most {spec['MaxLength']} characters"
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return "expected a number"
        low, high = spec.get("MinValue"), spec.get("MaxValue")
        if (low is not None and number < float(low)) or (high is not None and number > float(high)):
            bounds = (
                f"{low}..{high}"
                if None not in (low, high)
                else (f"at least {low}" if high is None else f"at most {high}")
            )
            return why or f"allowed {bounds}"
    return None


def _check_parameters(declared: Mapping[str, Any], overrides: Mapping[str, str]) -> None:
    """Refuses a ``--parameter`` the template (its Parameters section) would refuse."""
    for name, value in sorted(overrides.items()):
        if name not in declared:
            raise cf.InputError(
                f"--parameter {_shown(name)[1:-1]}: not a Parameter of the "
                f"template; allowed: {', '.join(sorted(declared))}"
            )
        problem = _parameter_problem(declared[name], value)
        if problem:
            raise cf.InputError(f"--parameter {name}={_shown(value)}: {cf.one_line(problem)}")


def _defaults(template: Template) -> dict[str, str]:
    found = {name: p.to_dict().get("Default") for name, p in template.parameters.items()}
    return {
        name: str(v).lower() if isinstance(v, bool) else str(v)
        for name, v in found.items()
        if v is not None
    }


def _template(
    args: argparse.Namespace, *, check_parameters: bool = True
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The template text to send (YAML, readable in the console; compact JSON when only
    that fits in a request), the template as data, and the defaults that the ``--set``
    options changed (name -> new default). ``--parameter`` values are checked against the
    template first, unless the caller reports them itself (preflight lists every one)."""
    if args.s3_prefix is not None and args.s3_bucket is None:
        raise cf.InputError("--s3-prefix needs --s3-bucket: it is a key prefix in that bucket")
    found = _template_or_file(args, check_parameters=check_parameters)
    size = len(found[0].encode())
    if check_parameters and size > cf.INLINE_LIMIT and args.s3_bucket is None:
        largest = parts_line(
            largest_parts(found[0], "json" if found[0].startswith("{") else "yaml")
        )
        raise cf.InputError(
            f"the template is {size:,} bytes, over the {cf.INLINE_LIMIT:,} "
            f"CloudFormation takes in a request (largest: {largest}): pass "
            "--s3-bucket to deploy it from S3"
        )
    return found


def _template_or_file(
    args: argparse.Namespace, *, check_parameters: bool
) -> tuple[str, dict[str, Any], dict[str, str]]:
    if args.template_file is not None:
        return _template_file(args, check_parameters=check_parameters)
    cfg = load_config(args.config, args.overrides)
    template = build_template(cfg)
    overrides = _overrides(args.parameters)
    if check_parameters:
        _check_parameters(json.loads(render(template, "json")).get("Parameters", {}), overrides)
    changed: dict[str, str] = {}
    if args.overrides:
        before = _defaults(build_template(load_config(args.config, [])))
        changed = {
            name: value for name, value in _defaults(template).items() if before.get(name) != value
        }
    text = render(template, "yaml")
    if len(text.encode()) > cf.INLINE_LIMIT and args.s3_bucket is None:
        text = render(template, "json")
    return text, json.loads(render(template, "json")), changed


def _template_file(
    args: argparse.Namespace, *, check_parameters: bool
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """``--template-file``: its text as it is (CloudFormation reads YAML and JSON), and the
    template as data for the Parameter checks and the preflight."""
    from cfn_flip import load  # troposphere's own dependency; reads YAML short tags

    given = [o for o, v in (("--config", args.config), ("--set", args.overrides)) if v]
    if given:
        raise cf.InputError(
            f"{given[0]} does not apply with --template-file, which is deployed as it is"
        )
    path = args.template_file
    try:
        with open(path, "rb") as f:
            raw = f.read(TEMPLATE_FILE_MAX + 1)
    except OSError as e:
        raise cf.InputError(f"--template-file {path}: {e.strerror or e}") from None
    if len(raw) > TEMPLATE_FILE_MAX:
        raise cf.InputError(
            f"--template-file {path}: over {TEMPLATE_FILE_MAX:,} bytes, "
            "CloudFormation's limit even from S3"
        )
    try:
        text = raw.decode("utf-8")
        data, _ = load(text)
    except UnicodeDecodeError as e:
        raise cf.InputError(f"--template-file {path}: not UTF-8 at byte {e.start}") from None
    except Exception as e:  # the YAML and JSON parsers' errors
        raise cf.InputError(
            f"--template-file {path}: not a YAML or JSON template: {cf.one_line(str(e))}"
        ) from None
    doc = json.loads(json.dumps(data, default=str))
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        raise cf.InputError(
            f"--template-file {path}: not a CloudFormation template (no Resources mapping)"
        )
    doc.setdefault("Parameters", {})
    if check_parameters:
        _check_parameters(doc["Parameters"], _overrides(args.parameters))
    if len(raw) > cf.INLINE_LIMIT and args.s3_bucket is None:
        text = json.dumps(doc, separators=(",", ":"))  # the same template, fewer bytes
    return text, doc, {}


def _show_changes(p: cf.Preview, out: TextIO) -> None:
    if not p.changes:
        print(f"Stack {p.stack_name}: no changes.", file=out)
        return
    verb = "create" if p.change_set_type == "CREATE" else "update"
    replaced = [c for c in p.changes if c.replaces]
    print(
        f"Stack {p.stack_name}: {len(p.changes)} changes to {verb}"
        f"{f', {len(replaced)} REPLACEMENTS' if replaced else ''}",
        file=out,
    )
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


def _warn_kept(p: cf.Preview, changed: Mapping[str, str], overrides: Mapping[str, str]) -> None:
    """A --set that changes only a Parameter's default does not reach an existing stack."""
    for name, default in sorted(changed.items()):
        if name in overrides or name not in p.previous or p.previous[name] == default:
            continue
        _stderr(
            f"infra-gen: warning: --set changes only the default of Parameter {name}; "
            f"stack {p.stack_name} keeps {name}={cf.one_line(p.previous[name])}: pass "
            f"--parameter {name}={cf.one_line(default)} to change it\n"
        )


def _stderr(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass  # nowhere left to report to


def _preview(
    args: argparse.Namespace,
    clients: Clients,
    text: str,
    declared: Sequence[str],
    changed: Mapping[str, str],
) -> cf.Preview:
    overrides = _overrides(args.parameters)
    cfn = clients("cloudformation")
    source = cf.template_source(
        text, s3_bucket=args.s3_bucket, s3_prefix=args.s3_prefix, s3=lambda: clients("s3")
    )
    p = cf.preview(cfn, args.stack_name, source, declared, overrides)
    _warn_kept(p, changed, overrides)
    return p


def _diff(args: argparse.Namespace, clients: Clients, out: TextIO) -> int:
    text, doc, changed = _template(args)
    p = _preview(args, clients, text, sorted(doc["Parameters"]), changed)
    cfn = clients("cloudformation")
    kept = False
    try:
        if args.plan_out is not None or args.format == "json":
            values = pf.values_for(
                doc, _overrides(args.parameters), _previous(clients, args.stack_name)
            )
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
                kept_for = (
                    f"; change set {p.change_set_id} kept for: infra-gen deploy "
                    f"--stack-name {p.stack_name} --plan {args.plan_out}"
                )
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


def _checks(
    args: argparse.Namespace,
    clients: Clients,
    text: str,
    doc: dict[str, Any],
    *,
    offline: bool = False,
) -> list[pf.Finding]:
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
    text, doc, _ = _template(args, check_parameters=False)
    findings = _checks(args, clients, text, doc, offline=args.offline)
    _show_findings(findings, out)
    failed = [f.check for f in findings if f.failed]
    warned = sum(f.status == "warn" for f in findings)
    summary = f"NOT ready ({', '.join(dict.fromkeys(failed))})" if failed else "ready"
    print(
        f"Stack {args.stack_name}: {summary}" + (f", {warned} warnings" if warned else ""), file=out
    )
    return EXIT_FAILED if failed else EXIT_OK


def _gate(findings: Sequence[pf.Finding]) -> None:
    """Before a deploy: warnings and failures on stderr; a failure stops it."""
    shown = [f for f in findings if f.status != "ok"]
    if shown:
        _show_findings(shown, sys.stderr, "infra-gen: preflight: ")
    failed = sum(f.failed for f in findings)
    if failed:
        raise cf.DeployError(
            f"preflight found {failed} problems, nothing was deployed: fix "
            "them, or pass --skip-preflight"
        )


def _template_of(plan: planfile.Plan) -> dict[str, Any]:
    from cfn_flip import load  # troposphere's own dependency; reads YAML short tags

    data, _ = load(plan.template)
    return dict(data)


def _planned(args: argparse.Namespace, clients: Clients, out: TextIO) -> cf.Preview | None:
    """The preview of a plan file whose change set may still run; None: nothing to run."""
    given = [
        o
        for o, v in (
            ("--config", args.config),
            ("--set", args.overrides),
            ("--template-file", args.template_file),
            ("--parameter", args.parameters),
            ("--s3-bucket", args.s3_bucket),
            ("--s3-prefix", args.s3_prefix),
        )
        if v
    ]
    if given:
        raise cf.InputError(
            f"{given[0]} does not apply with --plan, which runs the plan's "
            "change set as it is: make a new plan with it"
        )
    plan = planfile.read(args.plan)
    if plan.stack_name != args.stack_name:
        raise cf.InputError(
            f"--plan {args.plan} is for stack {plan.stack_name}, not {args.stack_name}"
        )
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
    print(
        f"Plan {args.plan}: change set {p.change_set_id}, template SHA-256 {plan.template_sha256}",
        file=out,
    )
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


def _deploy(args: argparse.Namespace, clients: Clients, out: TextIO, stdin: TextIO) -> int:
    # The template and its inputs first: a bad one is the error to report.
    text, doc, changed = ("", {}, {}) if args.plan is not None else _template(args)
    if not args.yes and not stdin.isatty():
        raise cf.InputError("stdin is not a terminal, so no one can confirm: pass --yes")
    if args.plan is not None:
        planned = _planned(args, clients, out)
        if planned is None:
            return EXIT_OK
        p = planned
    else:
        if not args.skip_preflight:
            _gate(_checks(args, clients, text, doc))
        p = _preview(args, clients, text, sorted(doc["Parameters"]), changed)
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
        _stderr(f"infra-gen: stack {p.stack_name} is {status}\n")
        if failure is not None:
            ecs_reason = ecs.reason if failure.resource_type == SERVICE_TYPE else ""
            _stderr(
                f"infra-gen: first failure: {failure.logical_id} ({failure.resource_type}) "
                f"{failure.status}: {cf.one_line(failure.reason)}"
                f"{f'; ECS: {cf.one_line(ecs_reason)}' if ecs_reason else ''}\n"
            )
        _stderr(
            f"infra-gen: all events: aws cloudformation describe-stack-events "
            f"--stack-name {p.stack_name}\n"
        )
        _stderr(f"infra-gen: left behind: {cf.left_behind(p, status)}\n")
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
            print(
                f"Stack {args.stack_name}: not healthy yet ({failed}); checking again in "
                f"{min(args.interval, left):.0f}s, {left:.0f}s left",
                file=out,
            )
            out.flush()

    checks = verify_until(
        lambda: verify(args.stack_name, clients, timeout=args.timeout),
        args.wait,
        interval=args.interval,
        on_attempt=waiting,
    )
    failed = [c.name for c in checks if not c.ok]
    if args.format == "json":
        for c in checks:
            print(
                json.dumps(
                    {"check": c.name, "ok": c.ok, "detail": c.detail, "where": c.where},
                    ensure_ascii=False,
                ),
                file=out,
            )
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
    print(
        f"Stack {args.stack_name}: "
        + (f"NOT healthy ({', '.join(failed)})" if failed else "healthy"),
        file=out,
    )
    return EXIT_FAILED if failed else EXIT_OK


class _Output:
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
                _quiet_stdout()
        except OSError as e:
            self._dropped = True
            raise cf.InputError(f"cannot write to standard output: {e.strerror or e}") from None

    def write(self, text: str) -> int:
        self._guard(lambda: self._stream.write(text))
        return len(text)

    def flush(self) -> None:
        self._guard(self._stream.flush)

    def isatty(self) -> bool:
        try:
            return self._stream.isatty()
        except (OSError, ValueError):
            return False


def main(
    argv: Sequence[str],
    *,
    clients: Clients | None = None,
    stdout: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run one command; ``clients`` (service -> boto3 client) replaces boto3's chain."""
    output = _Output(stdout or sys.stdout)
    out = cast(TextIO, output)
    make = clients or cf.Clients()
    command = argv[0] if argv else ""
    try:
        try:
            args = _parser().parse_args(argv)
        except SystemExit as e:  # --help: already written
            return e.code if isinstance(e.code, int) else EXIT_OK
        if args.command == "diff":
            code = _diff(args, make, out)
        elif args.command == "deploy":
            code = _deploy(args, make, out, stdin or sys.stdin)
        elif args.command == "preflight":
            code = _preflight(args, make, out)
        else:
            code = _verify(args, make, out)
        output.flush()  # a full disk shows here, as one line
        return code
    except (ConfigError, cf.InputError, _Failure) as e:
        _stderr(f"infra-gen: error: {cf.one_line(str(e))}\n")
        return EXIT_INPUT
    except cf.DeployError as e:
        _stderr(f"infra-gen: error: {cf.one_line(str(e))}\n")
        return EXIT_FAILED if command == "deploy" else EXIT_INPUT
    except KeyboardInterrupt:
        done = "" if command in ("verify", "preflight") else " before anything was deployed"
        _stderr(f"infra-gen: interrupted{done}\n")
        return EXIT_INTERRUPTED
    except Exception as e:
        # botocore's errors (credentials, access, throttling) are not imported here:
        # boto3 is optional. Their text names the call; line breaks are folded.
        if type(e).__module__.startswith(("botocore", "boto3")):
            _stderr(f"infra-gen: error: {cf.one_line(str(e))}\n")
            return EXIT_INPUT
        raise
    finally:
        with contextlib.suppress(cf.DeployError):
            output.flush()
