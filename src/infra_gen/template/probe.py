"""The scheduled probe: a Lambda function in the VPC that requests every task.

It finds the tasks through the Cloud Map DNS name (the VPC resolver answers it,
so neither a NAT gateway nor a VPC endpoint is needed), probes them concurrently
and writes one log line per probe plus one Embedded Metric Format line per run.
"""

from __future__ import annotations

import ast
import hashlib
import io
import tokenize
from dataclasses import dataclass
from importlib import resources

from awacs import ec2 as ec2_actions
from awacs.aws import Allow, PolicyDocument, Statement
from troposphere import GetAtt, Join, Ref, Template, awslambda, ec2, events, logs
from troposphere.iam import Policy, Role

from ..config import PROBE_PATH, PROBE_SCHEDULES, Config
from ..errors import ConfigError, shown
from . import iam, ids
from .checkov_skips import skip_checks
from .cloudmap import Discovery
from .loggroups import LogSettings
from .metrics import Metric
from .network import NO_EGRESS, Network
from .params import GROUP_PROBE, add_parameter
from .service import Service

__all__ = ["Probe", "add_probe", "handler_source", "inline_code", "RUNTIME"]


RUNTIME = "python3.14"
# Dimensions of every custom metric: the stack's name, so that stacks in one account
# and Region stay apart, and the Cloud Map service name.
STACK_DIMENSION = "Stack"
SERVICE_DIMENSION = "Service"


def handler_source() -> str:
    """``lambda/probe.py``: the function's code."""
    return resources.files("infra_gen.lambda_src").joinpath("probe.py").read_text("utf-8")


def inline_code() -> str:
    """The function's ZipFile: ``lambda/probe.py`` without its comments and docstrings.

    The code stays Python a reviewer reads: no compression, encoding or ``exec``. Only
    comments, docstrings and the blank lines inside blocks go, to fit CloudFormation's
    51,200 bytes (the suite proves the result has the file's syntax tree, docstrings
    aside). The first line names the file and its SHA-256, so the deployed code can be
    matched with the repository.
    """
    source = handler_source()
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and _docstring(node):
            first = node.body[0]
            docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    comments = {
        token.start[0]: token.start[1]
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    }
    lines = [f"# lambda/probe.py of infra_gen, sha256 {digest}, comments and docstrings cut"]
    blank = False
    for number, line in enumerate(source.splitlines(), start=1):
        kept = "" if number in docstrings else line[: comments.get(number)].rstrip()
        if kept and blank and not kept[0].isspace():
            lines.append("")  # top-level definitions stay apart
        if kept:
            lines.append(kept)
        blank = (blank or not line.strip()) and not kept
    return "\n".join(lines) + "\n"


def _docstring(node: ast.Module | ast.ClassDef | ast.FunctionDef) -> bool:
    first = node.body[0] if node.body else None
    return (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )


@dataclass(frozen=True, eq=False)
class Probe:
    """The scheduled probe function and what it writes."""

    function: awslambda.Function
    """The probe function (in the VPC, inline code from ``lambda/probe.py``)."""
    rule: events.Rule
    """The EventBridge schedule rule that runs it."""
    log_group: logs.LogGroup
    """Its log group: one line per probed task."""
    security_group: ec2.SecurityGroup
    """Its group: egress to the tasks' container port only."""
    metric_namespace: str
    """CloudWatch namespace of its custom (EMF) metrics."""
    service_name: GetAtt
    """Value of the ``Service`` dimension of the custom metrics."""
    service_names: list[object]
    """The services it requests, the first service's first: the list inside
    ``PROBE_SERVICE_NAMES``, each a Cloud Map name followed by ``:port`` and the path
    unless they are 80 and ``/``; :meth:`watch` appends to it."""
    schedules: tuple[str, ...]
    """The schedules ``ProbeSchedule`` allows, fastest first."""
    port: int
    """The container port it requests on the first service."""
    path: str
    """The path it requests on the first service (``probe.path``), and on another by default."""

    def metric(self, name: str, statistic: str = "Sum", *, service_name: object = None) -> Metric:
        """A custom metric the probe writes, of the first service or of another it watches.

        Args:
            name: ``SuccessfulRequests``, ``FailedRequests``, ``DiscoveredInstances`` or
                ``Latency`` (ms).
            statistic: how to read it. Default: ``"Sum"``.
            service_name: another service's Cloud Map name (:meth:`watch`). Default: the
                first service's.
        """
        dimensions = (
            (STACK_DIMENSION, Ref("AWS::StackName")),
            (SERVICE_DIMENSION, self.service_name if service_name is None else service_name),
        )
        return Metric(self.metric_namespace, name, dimensions, statistic)

    def watch(
        self,
        t: Template,
        service: Service,
        discovery: Discovery,
        *,
        scope: str,
        path: str | None = None,
    ) -> None:
        """Probe another service too: admit the function to its tasks and request it.

        Args:
            t: the template it adds to.
            service: the other service; the probe requests its container port
                (``service.port``), which its group opens to the function.
            discovery: its Cloud Map service, appended to :attr:`service_names`.
            scope: prefix of the two rules' logical IDs.
            path: the path requested on it, e.g. ``"/health"``. Default: :attr:`path`.

        Raises:
            ConfigError: a path that is not one without a comma (``PROBE_SERVICE_NAMES``
                separates services with commas), or what :meth:`Service.admit` refuses;
                nothing is added.
        """
        path = self.path if path is None else path
        if not (isinstance(path, str) and PROBE_PATH.fullmatch(path)):
            raise ConfigError(
                "path", f"{shown(path)} is not allowed; allowed: a path without a comma, e.g. /"
            )
        service.admit(
            t,
            self.security_group,
            ingress_id=scope + ids.Probe.SERVICE_INGRESS,
            egress_id=scope + ids.Probe.SERVICE_EGRESS,
            description="probe function",
        )
        self.service_names.append(_entry(discovery.service_name, service.port, path))
        # One service: its entry alone; several: the comma-separated list, which Join
        # keeps, so that a later service only appends to it.
        variables = self.function.Environment.Variables
        variables["PROBE_SERVICE_NAMES"] = Join(",", self.service_names)

    def function_metric(self, name: str, statistic: str = "Sum") -> Metric:
        """An ``AWS/Lambda`` metric of the probe function.

        E.g. ``Invocations``, ``Errors``, ``Throttles``, ``Duration``.
        """
        return Metric("AWS/Lambda", name, (("FunctionName", self.function.ref()),), statistic)


def _entry(name: object, port: int, path: str) -> object:
    """A service as ``PROBE_SERVICE_NAMES`` names it: its Cloud Map name, then ``:port``
    unless 80 and its path unless ``/`` (the function's defaults)."""
    suffix = (f":{port}" if port != 80 else "") + (path if path != "/" else "")
    return Join("", [name, suffix]) if suffix else name


def add_probe(
    t: Template,
    cfg: Config,
    *,
    network: Network,
    discovery: Discovery,
    service: Service,
    log_settings: LogSettings,
) -> Probe:
    """Add the probe function, its role, group, log group and schedule; admit it to the tasks.

    Args:
        t: the template it adds to.
        cfg: reads ``[probe]``, ``service.container_port`` and
            ``alarms.probe_missing_minutes`` (the schedules allowed).
        network: the subnets and VPC it runs in.
        discovery: the Cloud Map names it resolves.
        service: the tasks it requests; admits the function to them.
        log_settings: its log group's retention and key.

    Returns:
        The probe's handle.

    Template cost: about 15 KB of compact JSON, most of it ``lambda/probe.py``.
    """
    # Only the rates the probe-not-running alarm's window covers: a slower
    # schedule would keep that alarm in ALARM.
    schedules = tuple(
        rate
        for rate, minutes in PROBE_SCHEDULES.items()
        if minutes <= cfg.alarms.probe_missing_minutes
    )
    schedule = add_parameter(
        t,
        ids.Probe.SCHEDULE,
        group=GROUP_PROBE,
        description="How often the probe runs.",
        Type="String",
        Default=cfg.probe.schedule,
        AllowedValues=list(schedules),
    )
    log_group = t.add_resource(log_settings.log_group(ids.Probe.LOG_GROUP))
    group = t.add_resource(
        ec2.SecurityGroup(
            ids.Probe.SECURITY_GROUP,
            GroupDescription="Probe function: reaches the service tasks only",
            VpcId=network.vpc_id,
            SecurityGroupEgress=[NO_EGRESS],
        )
    )
    service.admit(
        t,
        group,
        ingress_id=ids.Probe.SERVICE_INGRESS,
        egress_id=ids.Probe.SERVICE_EGRESS,
        description="probe function",
    )
    role = t.add_resource(
        Role(
            ids.Probe.ROLE,
            # Lambda does not document setting aws:SourceAccount when it assumes an
            # execution role; only this stack's function can use the role anyway.
            AssumeRolePolicyDocument=iam.assume_role("lambda.amazonaws.com", source_account=False),
            Policies=[
                Policy(
                    PolicyName="write-probe-logs",
                    PolicyDocument=iam.write_logs([GetAtt(log_group, "Arn")]),
                ),
                Policy(PolicyName="vpc-network-interfaces", PolicyDocument=_vpc_access()),
            ],
        )
    )
    skip_checks(role, {"CKV_AWS_111": ("ENI IDs are unknown ahead; Describe takes * only")})
    first = _entry(discovery.service_name, cfg.service.container_port, cfg.probe.path)
    function = t.add_resource(
        awslambda.Function(
            ids.Probe.FUNCTION,
            Description="Probes every nginx task found through Cloud Map",
            Runtime=RUNTIME,
            Architectures=["arm64"],
            Handler="index.handler",  # CloudFormation stores ZipFile code as index.py
            Code=awslambda.Code(ZipFile=inline_code()),
            Role=GetAtt(role, "Arn"),
            MemorySize=cfg.probe.memory_mb,
            Timeout=cfg.probe.function_timeout_seconds,
            VpcConfig=awslambda.VPCConfig(
                SubnetIds=network.task_subnet_ids, SecurityGroupIds=[group.ref()]
            ),
            LoggingConfig=awslambda.LoggingConfig(LogGroup=log_group.ref()),
            Environment=awslambda.Environment(
                Variables={
                    "PROBE_STACK": Ref("AWS::StackName"),
                    "PROBE_SERVICE_NAMES": first,
                    "PROBE_NAMESPACE": discovery.namespace_name,
                    "PROBE_TIMEOUT_SECONDS": str(cfg.probe.request_timeout_seconds),
                    "PROBE_MAX_BODY_BYTES": str(cfg.probe.max_body_bytes),
                    "PROBE_METRIC_NAMESPACE": cfg.probe.metric_namespace,
                }
            ),
        )
    )
    skip_checks(
        function,
        {
            "CKV_AWS_115": ("Fails in accounts limited to 10 concurrent runs"),
            "CKV_AWS_116": ("No replay: the next scheduled run is the retry"),
            "CKV_AWS_173": ("No secret in the variables; Lambda encrypts them"),
        },
    )
    # A failed run is not replayed: the next scheduled run is the retry.
    t.add_resource(
        awslambda.EventInvokeConfig(
            ids.Probe.INVOKE_CONFIG,
            FunctionName=function.ref(),
            Qualifier="$LATEST",
            MaximumRetryAttempts=0,
            MaximumEventAgeInSeconds=60,
        )
    )
    rule = t.add_resource(
        events.Rule(
            ids.Probe.RULE,
            Description="Runs the probe function",
            ScheduleExpression=schedule.ref(),
            State="ENABLED",
            Targets=[
                events.Target(
                    Id="probe",
                    Arn=GetAtt(function, "Arn"),
                    RetryPolicy=events.RetryPolicy(
                        MaximumRetryAttempts=0, MaximumEventAgeInSeconds=60
                    ),
                )
            ],
        )
    )
    t.add_resource(
        awslambda.Permission(
            ids.Probe.PERMISSION,
            FunctionName=function.ref(),
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            SourceArn=GetAtt(rule, "Arn"),
        )
    )
    return Probe(
        function=function,
        rule=rule,
        log_group=log_group,
        security_group=group,
        metric_namespace=cfg.probe.metric_namespace,
        service_name=discovery.service_name,
        service_names=[first],
        schedules=schedules,
        port=cfg.service.container_port,
        path=cfg.probe.path,
    )


def _vpc_access() -> PolicyDocument:
    """The network interface actions a VPC function's role needs.

    Resource "*": Lambda creates and deletes the interfaces on the role's behalf,
    their IDs do not exist ahead of time, and the Describe actions support no
    resource-level permissions. The set is that of AWSLambdaVPCAccessExecutionRole
    without its log statements (logs are scoped to the probe's group above).
    """
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Action=[
                    ec2_actions.AssignPrivateIpAddresses,
                    ec2_actions.CreateNetworkInterface,
                    ec2_actions.DeleteNetworkInterface,
                    ec2_actions.DescribeNetworkInterfaces,
                    ec2_actions.DescribeSubnets,
                    ec2_actions.UnassignPrivateIpAddresses,
                ],
                Resource=["*"],
            )
        ],
    )
