"""``infra-gen diff | deploy | preflight | verify``: argv -> template -> CloudFormation -> terminal.

Exit status: diff 0 without changes, 1 with changes; deploy 0 when the stack is (or
already was) up to date, 1 when it failed, was not confirmed, its preflight failed or
its plan is stale, 3 on an AWS error once the change set was executed (the line says how
to follow the stack); delete 0 when the stack is gone, 1 when its deletion failed or was
not confirmed, 3 on an AWS error once DeleteStack was sent; preflight and verify 0 only
when every check passed, 1 otherwise; all 2 on bad input or an AWS error before anything
ran, and 130 on Ctrl-C (with what the run left, if it left anything). Input is checked
before any AWS call: the stack name against CloudFormation's rule, each ``--parameter``
against the template's Parameter (its name, AllowedValues, AllowedPattern, length and
number bounds). Every error is one line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..deploy import artifacts, parameters, recovery, teardown
from ..deploy import changeset as cf
from ..deploy import plan as planfile
from ..deploy import preflight as pf
from ..deploy.aws import Make
from ..deploy.ecs_events import SERVICE_TYPE, EcsFollower, fail_fast
from ..deploy.verify import Check, verify, verify_until
from ..errors import AfterExecution, DeployError, UsageError, one_line, shown
from ..template.budget import largest_parts, parts_line
from .documents import MAX_DEPTH, json_depth, load_template
from .files import check_file_name, read_input, stderr, write_file
from .generate import config_of
from .progress import Progress, show_changes, show_checks, show_findings

__all__ = ["operate"]

EXIT_OK = 0
EXIT_CHANGES = 1  # diff: there are changes
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

# CloudFormation's largest template, from S3 (51,200 bytes in the request).
TEMPLATE_FILE_MAX = 1_048_576
# A plan file holds such a template, escaped as a JSON string, and a little more.
PLAN_FILE_MAX = 4 * TEMPLATE_FILE_MAX


def _overrides(items: list[str]) -> dict[str, str]:
    result = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--parameter {one_line(item)}: expected NAME=VALUE, e.g. MinTasks=3")
        if re.search("[\ud800-\udfff]", item):
            raise UsageError(f"--parameter {shown(item)}: not valid UTF-8")
        result[key.strip()] = value
    return result


@dataclass(frozen=True)
class _Source:
    """The template a command sends, and what the ``--set`` options did to its defaults."""

    text: str
    """As sent: YAML, readable in the console; compact JSON when only that fits."""
    doc: dict[str, Any]
    """The template as data, for the Parameter checks and the preflight."""
    defaults_before: Callable[[], dict[str, str]] | None = None
    """The Parameter defaults without ``--set`` (None: no ``--set`` was given)."""


def _defaults(doc: Mapping[str, Any]) -> dict[str, str]:
    found = {name: spec.get("Default") for name, spec in doc.get("Parameters", {}).items()}
    return {
        name: str(v).lower() if isinstance(v, bool) else str(v)
        for name, v in found.items()
        if v is not None
    }


def _template(args: argparse.Namespace, *, check_parameters: bool = True) -> _Source:
    """The template to send. ``--parameter`` values are checked against it first, and a
    template over the request limit without ``--s3-bucket`` is refused, unless the
    caller reports them itself (preflight lists every problem)."""
    if args.resolve_s3 and args.s3_bucket is not None:
        raise UsageError(
            "--resolve-s3 does not apply with --s3-bucket: choose the managed bucket "
            "(--resolve-s3) or your own (--s3-bucket)"
        )
    if args.s3_prefix is not None and args.s3_bucket is None:
        raise UsageError("--s3-prefix needs --s3-bucket: it is a key prefix in that bucket")
    if args.s3_prefix is not None and re.search("[\ud800-\udfff]", args.s3_prefix):
        raise UsageError(f"--s3-prefix {shown(args.s3_prefix)}: not valid UTF-8")
    if args.template_file is not None:
        found = _template_file(args)
    else:
        found = _generated(args)
    if check_parameters:
        parameters.check(found.doc["Parameters"], _overrides(args.parameters))
    if check_parameters and not _from_s3(args) and not cf.fits_inline(found.text):
        size = len(found.text.encode())
        largest = parts_line(
            largest_parts(found.text, "json" if found.text.startswith("{") else "yaml")
        )
        raise UsageError(
            f"the template is {size:,} bytes, over the {cf.INLINE_LIMIT:,} "
            f"CloudFormation takes in a request (largest: {largest}): pass "
            "--resolve-s3 (or --s3-bucket) to deploy it from S3"
        )
    return found


def _from_s3(args: argparse.Namespace) -> bool:
    """Whether the template goes to CloudFormation through S3, not in the request."""
    return args.s3_bucket is not None or bool(args.resolve_s3)


def _generated(args: argparse.Namespace) -> _Source:
    from ..template.builder import build_template
    from ..template.render import render

    template = build_template(config_of(args.config, args.overrides))
    compact = render(template, "json")
    text = render(template, "yaml")
    if args.s3_bucket is None and not cf.fits_inline(text):
        text = compact
    before = None
    if args.overrides:
        # Built only when a warning may be due (see _warn_kept).
        def before() -> dict[str, str]:
            base = build_template(config_of(args.config, []))
            return _defaults(json.loads(render(base, "json")))

    return _Source(text, json.loads(compact), before)


def _template_file(args: argparse.Namespace) -> _Source:
    """``--template-file``: its text as it is (CloudFormation reads YAML and JSON)."""
    given = [o for o, v in (("--config", args.config), ("--set", args.overrides)) if v]
    if given:
        raise UsageError(
            f"{given[0]} does not apply with --template-file, which is deployed as it is"
        )
    path = args.template_file
    try:
        with open(path, "rb") as f:
            raw = f.read(TEMPLATE_FILE_MAX + 1)
    except OSError as e:
        raise UsageError(f"--template-file {path}: {e.strerror or e}") from None
    if len(raw) > TEMPLATE_FILE_MAX:
        raise UsageError(
            f"--template-file {path}: over {TEMPLATE_FILE_MAX:,} bytes, "
            "CloudFormation's limit even from S3"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"--template-file {path}: not UTF-8 at byte {e.start}") from None
    doc = load_template(text, f"--template-file {path}")
    if not _from_s3(args) and not cf.fits_inline(len(raw)):
        text = json.dumps(doc, separators=(",", ":"))  # the same template, fewer bytes
    return _Source(text, doc)


def _warn_kept(p: cf.Preview, source: _Source, overrides: Mapping[str, str]) -> None:
    """A --set that changes only a Parameter's default does not reach an existing stack."""
    kept = {
        name: default
        for name, default in _defaults(source.doc).items()
        if name not in overrides and name in p.previous and p.previous[name] != default
    }
    if not kept or source.defaults_before is None:
        return
    before = source.defaults_before()
    for name, default in sorted(kept.items()):
        if before.get(name) == default:
            continue  # not the --set's doing
        stderr(
            f"infra-gen: warning: --set changes only the default of Parameter {name}; "
            f"stack {p.stack_name} keeps {name}={one_line(p.previous[name])}: pass "
            f"--parameter {name}={one_line(default)} to change it\n"
        )


def _preview(args: argparse.Namespace, clients: Make, source: _Source) -> cf.Preview:
    overrides = _overrides(args.parameters)
    cfn = clients("cloudformation")
    if args.resolve_s3:
        body = _resolve_s3(clients, source.text)
    else:
        body = cf.template_source(
            source.text,
            s3_bucket=args.s3_bucket,
            s3_prefix=args.s3_prefix,
            s3=lambda: clients("s3"),
        )
    on_failure, _ = recovery.choose(args.on_failure, source.doc, overrides)
    p = cf.preview(
        cfn,
        args.stack_name,
        body,
        sorted(source.doc["Parameters"]),
        overrides,
        role_arn=args.role_arn or "",
        on_failure=on_failure,
    )
    try:
        _warn_kept(p, source, overrides)
    except BaseException:
        cf.discard(cfn, p)  # Ctrl-C here too: leave nothing behind
        raise
    return p


def _resolve_s3(clients: Make, text: str) -> dict[str, str]:
    """``--resolve-s3``: the template uploaded to the managed bucket, made on first use."""
    from ..template.artifacts import artifact_template
    from ..template.render import render

    def creating() -> None:
        stderr(
            f"infra-gen: creating the artifact bucket: stack {artifacts.STACK_NAME} "
            "(once per account and Region)\n"
        )

    cfn = clients("cloudformation")
    bucket, owner = artifacts.artifact_bucket(
        cfn, render(artifact_template(), "yaml"), on_create=creating
    )
    return artifacts.upload(clients("s3"), bucket, owner, text)


def _diff(args: argparse.Namespace, clients: Make, out: TextIO) -> int:
    if args.plan_out is not None:
        check_file_name(args.plan_out, "--plan-out", "plan.json")
    source = _template(args)
    p = _preview(args, clients, source)
    cfn = clients("cloudformation")
    kept = False
    try:
        if args.plan_out is not None or args.format == "json":
            values = parameters.values_for(
                source.doc, _overrides(args.parameters), _previous(clients, args.stack_name)
            )
            plan = planfile.make_plan(cfn, p, source.text, values)
            if args.plan_out is not None:
                try:
                    write_file(Path(args.plan_out), planfile.to_bytes(plan))
                except UsageError as e:
                    raise UsageError(f"--plan-out: {e}") from None
                kept = bool(p.change_set_id)
            else:
                plan = dataclasses.replace(plan, change_set_id="")  # deleted below
        if args.format == "json":
            doc = planfile.document(plan, with_template=False)
            print(json.dumps(doc, indent=2, ensure_ascii=False), file=out)
        else:
            show_changes(p, out)
            if args.plan_out is not None:
                kept_for = (
                    f"; change set {p.change_set_id} kept for: infra-gen deploy "
                    f"--stack-name {p.stack_name} --plan {args.plan_out}"
                )
                print(f"Plan written to {args.plan_out}{kept_for if kept else ''}", file=out)
    except KeyboardInterrupt:
        if kept:
            raise cf.Interrupted(
                f"after the plan was written: change set {p.change_set_id} is kept for "
                f"{args.plan_out} (aws cloudformation delete-change-set --change-set-name "
                f"{p.change_set_id} deletes it)"
            ) from None
        raise
    finally:
        if not kept:
            cf.discard(cfn, p)
    return EXIT_CHANGES if p.changes else EXIT_OK


def _previous(clients: Make, stack_name: str) -> dict[str, str]:
    """The stack's Parameter values, which the change set keeps unless overridden."""
    found = cf.stack_status(clients("cloudformation"), stack_name)
    if found is None or found[0] == "REVIEW_IN_PROGRESS":
        return {}
    return found[1]


def _checks(
    args: argparse.Namespace, clients: Make, source: _Source, *, offline: bool = False
) -> list[pf.Finding]:
    overrides = _overrides(args.parameters)
    parameters.check_names(source.doc["Parameters"], overrides)
    previous = {} if offline else _previous(clients, args.stack_name)
    values = parameters.values_for(source.doc, overrides, previous)
    size = len(source.text.encode())
    found = pf.offline(source.doc, size, values, from_s3=_from_s3(args))
    if offline:
        return found
    region = clients("cloudformation").meta.region_name
    return found + pf.online(clients, source.doc, values, region)


def _preflight(args: argparse.Namespace, clients: Make, out: TextIO) -> int:
    findings = _checks(args, clients, _template(args, check_parameters=False), offline=args.offline)
    show_findings(findings, out)
    failed = [f.check for f in findings if f.failed]
    warned = sum(f.status == "warn" for f in findings)
    summary = f"NOT ready ({', '.join(dict.fromkeys(failed))})" if failed else "ready"
    print(
        f"Stack {args.stack_name}: {summary}" + (f", {warned} warnings" if warned else ""), file=out
    )
    return EXIT_FAILED if failed else EXIT_OK


def _gate(findings: list[pf.Finding]) -> None:
    """Before a deploy: warnings and failures on stderr; a failure stops it."""
    problems = [f for f in findings if f.status != "ok"]
    if problems:
        show_findings(problems, sys.stderr, "infra-gen: preflight: ")
    failed = sum(f.failed for f in findings)
    if failed:
        raise DeployError(
            f"preflight found {failed} problems, nothing was deployed: fix "
            "them, or pass --skip-preflight"
        )


def _template_of(plan: planfile.Plan, where: str) -> dict[str, Any]:
    return load_template(plan.template, f"{where}: template")


def _planned(
    args: argparse.Namespace, clients: Make, out: TextIO
) -> tuple[cf.Preview, planfile.Plan] | None:
    """The preview of a plan file whose change set may still run, and the plan; None:
    nothing to run."""
    given = [
        o
        for o, v in (
            ("--config", args.config),
            ("--set", args.overrides),
            ("--template-file", args.template_file),
            ("--parameter", args.parameters),
            ("--s3-bucket", args.s3_bucket),
            ("--s3-prefix", args.s3_prefix),
            ("--resolve-s3", args.resolve_s3),
            ("--role-arn", args.role_arn),
            ("--on-failure", args.on_failure),
        )
        if v
    ]
    if given:
        raise UsageError(
            f"{given[0]} does not apply with --plan, which runs the plan's "
            "change set as it is: make a new plan with it"
        )
    where = f"--plan {args.plan}"
    raw = read_input(args.plan, where, PLAN_FILE_MAX)
    if json_depth(raw.decode("utf-8", "replace")) > MAX_DEPTH:
        raise UsageError(
            f"{where}: nested deeper than {MAX_DEPTH} levels; allowed: at most {MAX_DEPTH}"
        )
    plan = planfile.from_bytes(raw, where)
    if args.stack_name not in (plan.stack_name, plan.stack_id or plan.stack_name):
        raise UsageError(
            f"--plan {args.plan} is for stack {plan.stack_name}, not {args.stack_name}"
        )
    if not plan.change_set_id:
        print(f"Stack {plan.stack_name}: no changes (the plan has none).", file=out)
        return None
    cfn = clients("cloudformation")
    planfile.check(cfn, plan)
    if not args.skip_preflight:
        region = cfn.meta.region_name
        _gate(pf.online(clients, _template_of(plan, where), plan.parameters, region))
    p = plan.preview()
    show_changes(p, out)
    print(
        f"Plan {args.plan}: change set {p.change_set_id}, template SHA-256 {plan.template_sha256}",
        file=out,
    )
    return p, plan


def _confirm(p: cf.Preview, stdin: TextIO, out: TextIO) -> bool:
    out.write(f"Deploy these changes to {p.stack_name}? [y/N] ")
    out.flush()
    return stdin.readline().strip().lower() in ("y", "yes")


def _follow_hint(p: cf.Preview) -> str:
    name, waiter = p.stack_name, f"stack-{p.change_set_type.lower()}-complete"
    return (
        f"infra-gen: interrupted: stopped watching; CloudFormation carries on with stack "
        f"{name}; follow it with: aws cloudformation describe-stack-events --stack-name {name}"
        f"; or wait for it: aws cloudformation wait {waiter} --stack-name {name}"
    )


def _deploy(args: argparse.Namespace, clients: Make, out: TextIO, stdin: TextIO) -> int:
    # The template and its inputs first: a bad one is the error to report.
    source = None if args.plan is not None else _template(args)
    if not args.yes and not stdin.isatty():
        raise UsageError("stdin is not a terminal, so no one can confirm: pass --yes")
    # A new stack's OnStackFailure (a plan's was chosen when it was made) and the load
    # balancers created protected, which the way out of a failed create must unprotect.
    on_failure: str | None = None
    protected: list[str] = []
    if source is None:
        planned = _planned(args, clients, out)
        if planned is None:
            return EXIT_OK
        p, plan = planned
        if p.change_set_type == "CREATE":
            doc = _template_of(plan, f"--plan {args.plan}")
            protected = recovery.protected_load_balancers(doc, plan.parameters)
    else:
        if not args.skip_preflight:
            _gate(_checks(args, clients, source))
        p = _preview(args, clients, source)
        try:
            show_changes(p, out)
        except BaseException:
            cf.discard(clients("cloudformation"), p)  # Ctrl-C, or stdout closed
            raise
        if not p.changes:
            return EXIT_OK
        if p.change_set_type == "CREATE":
            overrides = _overrides(args.parameters)
            on_failure, protected = recovery.choose(args.on_failure, source.doc, overrides)
    note = recovery.announce(on_failure, protected)
    if note:
        print(note, file=out)
    cfn = clients("cloudformation")
    try:
        confirmed = args.yes or _confirm(p, stdin, out)
    except (KeyboardInterrupt, EOFError):
        confirmed = False
        out.write("\n")
    if not confirmed:
        if source is None:
            print("Not deployed; the plan's change set is kept.", file=out)
            return EXIT_FAILED
        cf.discard(cfn, p)
        print("Not deployed; the change set was deleted.", file=out)
        return EXIT_FAILED
    token = cf.execute(cfn, p)
    try:
        return _watch(args, clients, p, out, token, protected)
    except KeyboardInterrupt:
        print(_follow_hint(p), file=sys.stderr)
        return EXIT_INTERRUPTED
    except UsageError:
        raise  # a closed or full stdout: not the stack's doing
    except Exception as e:  # noqa: BLE001 - AWS (or any) error once the stack is changing
        text = one_line(str(e) if isinstance(e, DeployError) else f"{e}")
        raise AfterExecution(
            f"{text}; stack {p.stack_name} was being changed and CloudFormation carries on: "
            f"{cf.follow_commands(p.stack_name, p.change_set_type)}"
        ) from None


def _watch(
    args: argparse.Namespace,
    clients: Make,
    p: cf.Preview,
    out: TextIO,
    token: str,
    protected: Sequence[str] = (),
) -> int:
    """Follow an executed change set to its end; its exit status."""
    cfn = clients("cloudformation")
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
        status = cf.watch(cfn, p, on_event, on_tick, token=token, interval=args.poll_interval)
    finally:
        progress.close()
    if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        failure = cf.first_failure(events)
        stderr(f"infra-gen: stack {p.stack_name} is {status}\n")
        if failure is not None:
            ecs_reason = ecs.reason if failure.resource_type == SERVICE_TYPE else ""
            stderr(
                f"infra-gen: first failure: {failure.logical_id} ({failure.resource_type}) "
                f"{failure.status}: {one_line(failure.reason)}"
                f"{f'; ECS: {one_line(ecs_reason)}' if ecs_reason else ''}\n"
            )
        stderr(
            f"infra-gen: all events: aws cloudformation describe-stack-events "
            f"--stack-name {p.stack_name}\n"
        )
        stderr(f"infra-gen: left behind: {cf.left_behind(p, status, protected)}\n")
        return EXIT_FAILED
    print(f"Stack {p.stack_name}: {status}", file=out)
    values = cf.outputs(cfn, p.stack_name)
    if values:
        print("Outputs:", file=out)
        width = max(map(len, values))
        for key in sorted(values):
            print(f"  {key:<{width}}  {values[key]}", file=out)
    return EXIT_OK


def _verify(args: argparse.Namespace, clients: Make, out: TextIO) -> int:
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
    show_checks(checks, out)
    print(
        f"Stack {args.stack_name}: "
        + (f"NOT healthy ({', '.join(failed)})" if failed else "healthy"),
        file=out,
    )
    return EXIT_FAILED if failed else EXIT_OK


def _ask(question: str, stdin: TextIO, out: TextIO) -> bool:
    out.write(f"{question} [y/N] ")
    out.flush()
    try:
        return stdin.readline().strip().lower() in ("y", "yes")
    except (KeyboardInterrupt, EOFError):
        out.write("\n")
        return False


def _delete(args: argparse.Namespace, clients: Make, out: TextIO, stdin: TextIO) -> int:
    """Delete the stack: what stays and what is protected first, then with progress."""
    if not args.yes and not stdin.isatty():
        raise UsageError("stdin is not a terminal, so no one can confirm: pass --yes")
    cfn = clients("cloudformation")
    name = args.stack_name
    found = teardown.read(
        cfn, clients("elbv2"), name, lambda text: load_template(text, f"stack {name}: template")
    )
    if found is None:
        print(f"Stack {name} does not exist: nothing to delete.", file=out)
        return EXIT_OK
    if found.protected and not args.disable_deletion_protection:
        raise DeployError(
            f"load balancer {found.protected[0]} has deletion protection on, so the delete "
            "would fail: pass --disable-deletion-protection; nothing was deleted"
        )
    print(f"Stack {name} ({found.status}): {len(found.resources)} resources to delete", file=out)
    for k in found.kept:
        r = k.resource
        print(f"  stays ({k.policy}): {r.logical_id} {r.resource_type} {r.physical_id}", file=out)
    for arn in found.protected:
        print(f"  deletion protection turned off first: {arn}", file=out)
    if not (args.yes or _ask(f"Delete stack {name}?", stdin, out)):
        print("Not deleted.", file=out)
        return EXIT_FAILED
    elbv2 = clients("elbv2")
    teardown.disable_deletion_protection(elbv2, found.protected)
    if found.vpc_functions:
        print(
            f"Function {', '.join(found.vpc_functions)} runs in the VPC: Lambda releases its "
            "network interfaces after the function is deleted and CloudFormation waits for "
            "them before it deletes the subnets and security groups, which can take 20 to 45 "
            "minutes.",
            file=out,
        )
    last = cf.newest_event_id(cfn, found.stack_id)
    token = teardown.request_deletion(cfn, found, role_arn=args.role_arn or "")
    p = cf.Preview(found.stack_id, "", "DELETE", (), last)
    progress = Progress(out, total=len(found.resources))
    events: list[cf.Event] = []

    def on_event(e: cf.Event) -> None:
        events.append(e)
        progress.event(e)

    try:
        try:
            status = cf.watch(
                cfn, p, on_event, progress.tick, token=token, interval=args.poll_interval
            )
        finally:
            progress.close()
    except KeyboardInterrupt:
        print(
            f"infra-gen: interrupted: stopped watching; CloudFormation carries on deleting "
            f"stack {name}; follow it: {cf.follow_commands(found.stack_id, 'DELETE')}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - AWS (or any) error once the deletion runs
        raise AfterExecution(
            f"{one_line(str(e))}; stack {name} was being deleted and CloudFormation carries "
            f"on: {cf.follow_commands(found.stack_id, 'DELETE')}"
        ) from None
    if status != "DELETE_COMPLETE":
        failure = cf.first_failure(events)
        stderr(f"infra-gen: stack {name} is {status}\n")
        if failure is not None:
            stderr(
                f"infra-gen: first failure: {failure.logical_id} ({failure.resource_type}) "
                f"{failure.status}: {one_line(failure.reason)}\n"
            )
        stderr(f"infra-gen: try again, or: aws cloudformation delete-stack --stack-name {name}\n")
        return EXIT_FAILED
    print(f"Stack {name}: DELETE_COMPLETE", file=out)
    if found.kept:
        print("Left in the account (DeletionPolicy), with the command that removes each:", file=out)
        for k in found.kept:
            print(f"  {k.resource.logical_id}: {k.remove}", file=out)
    return EXIT_OK


def operate(args: argparse.Namespace, clients: Make, out: TextIO, stdin: TextIO) -> int:
    """Run the command ``args.command`` names; its exit status.

    Args:
        args: the parsed command line.
        clients: service name -> boto3 client (:class:`~infra_gen.deploy.aws.Clients`).
        out: where tables and results go (standard output).
        stdin: where deploy reads its confirmation.

    Returns:
        0 done (diff: no changes); 1 changes (diff) or a check or deploy that failed.

    Raises:
        UsageError: bad input, before any AWS call where it can be told.
        DeployError: what stopped the command (StalePlan for an outdated plan).
    """
    if args.command == "diff":
        return _diff(args, clients, out)
    if args.command == "deploy":
        return _deploy(args, clients, out, stdin)
    if args.command == "preflight":
        return _preflight(args, clients, out)
    if args.command == "delete":
        return _delete(args, clients, out, stdin)
    return _verify(args, clients, out)
