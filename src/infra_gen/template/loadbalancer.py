"""The internet-facing Application Load Balancer in front of the service.

HTTP always; HTTPS with an HTTP->HTTPS redirect when the ``CertificateArn``
Parameter is given, or always with a domain (``[domain]``: the stack's own certificate
and alias record, :mod:`.domain`) or governed. The world reaches only this load
balancer's security group.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from awacs import s3 as s3_actions
from awacs.aws import Allow, PolicyDocument, Principal, Statement
from troposphere import (
    Equals,
    FindInMap,
    GetAtt,
    If,
    Not,
    Ref,
    Sub,
    Template,
    ec2,
    s3,
)
from troposphere import elasticloadbalancingv2 as elb

from ..config import Config
from ..config.checks import ACM_ARN
from . import ids
from .buckets import deny_insecure_transport, private_bucket_settings
from .checkov_skips import skip_checks
from .domain import Domain, add_alias, add_certificate
from .metrics import Metric
from .network import NO_EGRESS, Network
from .params import GROUP_SECURITY, add_parameter

__all__ = [
    "LoadBalancer",
    "add_load_balancer",
    "TLS_POLICY",
    "OTHER_PARTITION_REGIONS",
]

RULE = ids.LoadBalancer.RULE
# The first service's production rule, when ECS shifts its traffic: every path, after
# any other service's rule (ECS shifts weights on a rule, never on a default action).
LAST_PRIORITY = 50000
ELB_ACCOUNTS = "ElbLogDeliveryAccounts"

_ACM_ARN = f"^{ACM_ARN}$"
# TLS 1.3 with TLS 1.2 fallback and forward secrecy only: the current ELB recommendation.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"

# Regions opened before August 2022 deliver access logs from a regional ELB account;
# newer Regions of the aws partition use the log delivery service principal. The
# GovCloud and China Regions have accounts (in their own partitions' ARNs).
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
_ELB_ACCOUNTS = {
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
    "us-gov-east-1": "190560391635",
    "us-gov-west-1": "048591011584",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331",
    "ap-south-1": "718504428378",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-southeast-3": "589379963580",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-north-1": "897822967062",
    "eu-south-1": "635631232127",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
}


def _partition(region: str) -> str:
    return (
        "aws-cn"
        if region.startswith("cn-")
        else ("aws-us-gov" if region.startswith("us-gov-") else "aws")
    )


# The Regions outside the aws partition the stack knows the ELB log account of.
OTHER_PARTITION_REGIONS = tuple(sorted(r for r in _ELB_ACCOUNTS if _partition(r) != "aws"))


class _Principals(Principal):
    """A Principal element naming several principal types, which awacs' takes one of."""

    def __init__(self, **principals: Any) -> None:
        self.data = principals


@dataclass(frozen=True, eq=False)
class LoadBalancer:
    """The internet-facing ALB and what hangs off it."""

    security_group: ec2.SecurityGroup
    """The ALB's group: listener ports from the internet, egress added by its targets."""
    load_balancer: elb.LoadBalancer
    """The Application Load Balancer."""
    target_group: elb.TargetGroup
    """The service's target group (IP targets on the container port)."""
    http_listener: elb.Listener
    """Port 80: forwards, or redirects to HTTPS when a certificate is given."""
    https_listener: elb.Listener
    """Port 443, only with the ``CertificateArn`` Parameter (Condition ``HasCertificate``),
    always with a domain or governed."""
    rule: elb.ListenerRule | None = None
    """The listener rule forwarding to ``target_group``; ``None`` for the default action's."""
    https_only: bool = False
    """Governed or with a domain: the HTTPS listener always exists and forwards; HTTP only
    redirects."""
    domain: Domain | None = None
    """With ``[domain]``: the name, the certificate the HTTPS listener serves, the alias."""
    alternate_target_group: elb.TargetGroup | None = None
    """Canary or linear: the target group a new revision starts in; ECS shifts the
    rule's weights between the two, so either may hold production traffic."""

    @property
    def target_groups(self) -> tuple[elb.TargetGroup, ...]:
        """The target groups that may hold the service's tasks: one, or two when ECS
        shifts traffic."""
        alternate = self.alternate_target_group
        return (self.target_group,) if alternate is None else (self.target_group, alternate)

    def add_route(
        self,
        t: Template,
        *,
        scope: str,
        port: int,
        health_check_path: str,
        path_pattern: str,
        priority: int,
        shifted: bool = False,
    ) -> LoadBalancer:
        """Route ``path_pattern`` to a new target group of another service.

        The rule attaches to the listener that forwards (:attr:`active_listener`): the
        HTTPS one with a certificate, when the HTTP one only redirects.

        Args:
            t: the template it adds to.
            scope: prefix of the target group's and rule's logical IDs.
            port: the container port the targets listen on.
            health_check_path: the path the target group checks.
            path_pattern: the rule's path pattern, e.g. ``/api/*``.
            priority: the rule's priority, 1-50000.
            shifted: a second target group that ECS shifts traffic to (canary, linear).
                Default: False.

        Returns:
            This handle, naming the new target group(s) and its rule.
        """
        vpc = self.target_group.VpcId
        target_group = t.add_resource(
            _target_group(scope + ids.LoadBalancer.TARGET_GROUP, vpc, port, health_check_path)
        )
        alternate = None
        if shifted:
            alternate = t.add_resource(
                _target_group(
                    scope + ids.LoadBalancer.ALTERNATE_TARGET_GROUP, vpc, port, health_check_path
                )
            )
        rule = t.add_resource(
            _rule(
                scope + RULE, self.active_listener, priority, path_pattern, target_group, alternate
            )
        )
        return replace(self, target_group=target_group, rule=rule, alternate_target_group=alternate)

    def metric(self, name: str, statistic: str = "Sum") -> Metric:
        """An ``AWS/ApplicationELB`` metric of the load balancer.

        E.g. ``RequestCount``, ``HTTPCode_ELB_5XX_Count``, ``RejectedConnectionCount``.
        """
        return Metric("AWS/ApplicationELB", name, (("LoadBalancer", self._full_name),), statistic)

    def target_metric(
        self, name: str, statistic: str = "Sum", target_group: elb.TargetGroup | None = None
    ) -> Metric:
        """An ``AWS/ApplicationELB`` metric of the service's target group, e.g.
        ``HTTPCode_Target_5XX_Count``, ``UnHealthyHostCount``, ``TargetResponseTime``;
        of ``target_group`` (one of :attr:`target_groups`) when given."""
        group = self.target_group if target_group is None else target_group
        dimensions = (
            ("TargetGroup", GetAtt(group, "TargetGroupFullName")),
            ("LoadBalancer", self._full_name),
        )
        return Metric("AWS/ApplicationELB", name, dimensions, statistic)

    @property
    def _full_name(self) -> GetAtt:
        return GetAtt(self.load_balancer, "LoadBalancerFullName")

    @property
    def active_listener(self) -> If | Ref:
        """The listener that forwards to the target group: HTTPS with a certificate."""
        if self.https_only:
            return self.https_listener.ref()
        return If(
            ids.LoadBalancer.HAS_CERTIFICATE, self.https_listener.ref(), self.http_listener.ref()
        )


def add_load_balancer(t: Template, cfg: Config, *, network: Network) -> LoadBalancer:
    """Add the ALB, its group, target group, listeners and (optionally) its log bucket.

    Governed: HTTPS always (``CertificateArn`` required), HTTP only redirects, deletion
    protection on (no ``DeletionProtection`` Parameter), no ``HasCertificate`` Condition.
    With a domain: HTTPS always with the domain's certificate (no ``CertificateArn``
    Parameter), HTTP only redirects, and the alias record.

    Args:
        t: the template it adds to.
        cfg: reads ``[service]`` (port, health check path), ``security.alb_access_logs``,
            ``[domain]`` and ``profile`` (HTTPS only, deletion protection).
        network: the VPC and subnets it runs in.

    Returns:
        The load balancer's handle.

    Template cost: about 3.7 KB of compact JSON (default configuration).
    """
    domain = add_certificate(t, cfg.domain) if cfg.domain.name else None
    https_only = cfg.profile.https_only or domain is not None
    certificate: object
    if domain is not None:
        certificate = domain.certificate_arn
    else:
        certificate = add_parameter(
            t,
            ids.LoadBalancer.CERTIFICATE_ARN,
            group=GROUP_SECURITY,
            description="ACM certificate for an HTTPS listener"
            + ("." if https_only else "; empty serves plain HTTP only."),
            Type="String",
            **({} if https_only else {"Default": ""}),
            AllowedPattern=_ACM_ARN if https_only else f"^({_ACM_ARN[1:-1]})?$",
            ConstraintDescription=(
                f"must be {'' if https_only else 'empty or '}an ACM certificate ARN"
            ),
        ).ref()
    protection: object = "true"
    if not cfg.profile.deletion_protection:
        protection = add_parameter(
            t,
            ids.LoadBalancer.DELETION_PROTECTION,
            group=GROUP_SECURITY,
            description="true blocks deleting the load balancer (and so the stack) until unset.",
            Type="String",
            Default="false",
            AllowedValues=["false", "true"],
        ).ref()
    if not https_only:
        t.add_condition(ids.LoadBalancer.HAS_CERTIFICATE, Not(Equals(certificate, "")))
    # Resources that exist only with a certificate: all of them when HTTPS only.
    when_certified = {} if https_only else {"Condition": ids.LoadBalancer.HAS_CERTIFICATE}

    group = t.add_resource(
        ec2.SecurityGroup(
            ids.LoadBalancer.SECURITY_GROUP,
            GroupDescription="Load balancer: HTTP(S) from the internet",
            VpcId=network.vpc_id,
            SecurityGroupEgress=[NO_EGRESS],
        )
    )
    http_ingress = t.add_resource(_world_ingress(ids.LoadBalancer.HTTP_INGRESS, group, 80))
    skip_checks(
        http_ingress,
        {"CKV_AWS_260": ("The public listener: HTTP without a certificate, a redirect with one")},
    )
    https_ingress = t.add_resource(
        _world_ingress(ids.LoadBalancer.HTTPS_INGRESS, group, 443, **when_certified)
    )

    attributes = {
        # Drop headers that are not valid HTTP field names instead of passing them on.
        "routing.http.drop_invalid_header_fields.enabled": "true",
        "routing.http.desync_mitigation_mode": "defensive",
        "deletion_protection.enabled": protection,
    }
    if cfg.security.alb_access_logs:
        bucket = _add_access_log_bucket(t)
        attributes["access_logs.s3.enabled"] = "true"
        attributes["access_logs.s3.bucket"] = bucket.ref()

    load_balancer = t.add_resource(
        elb.LoadBalancer(
            ids.LoadBalancer.LOAD_BALANCER,
            Type="application",
            Scheme="internet-facing",
            Subnets=network.subnet_ids,
            SecurityGroups=[group.ref()],
            LoadBalancerAttributes=[
                elb.LoadBalancerAttributes(Key=k, Value=v) for k, v in sorted(attributes.items())
            ],
            # The ALB needs a route to the internet before it can become active, in every
            # subnet; the service waits for the ALB, so its tasks can pull the image. (An
            # existing VPC given by ID has its routes already.)
            **_depends_on(
                network.internet,
                [ids.LoadBalancer.ACCESS_LOG_BUCKET_POLICY] if cfg.security.alb_access_logs else [],
            ),
        )
    )
    if not cfg.security.alb_access_logs:
        skip_checks(
            load_balancer,
            {"CKV_AWS_91": ("security.alb_access_logs, off by default: the bucket costs money")},
        )
    target_group = t.add_resource(
        _target_group(
            ids.LoadBalancer.TARGET_GROUP,
            network.vpc_id,
            cfg.service.container_port,
            cfg.service.health_check_path,
        )
    )
    forward = elb.Action(Type="forward", TargetGroupArn=target_group.ref())
    redirect = elb.Action(
        Type="redirect",
        RedirectConfig=elb.RedirectConfig(Protocol="HTTPS", Port="443", StatusCode="HTTP_301"),
    )
    http_listener = t.add_resource(
        elb.Listener(
            ids.LoadBalancer.HTTP_LISTENER,
            LoadBalancerArn=load_balancer.ref(),
            Protocol="HTTP",
            Port=80,
            DefaultActions=[
                redirect if https_only else If(ids.LoadBalancer.HAS_CERTIFICATE, redirect, forward)
            ],
        )
    )
    https_listener = t.add_resource(
        elb.Listener(
            ids.LoadBalancer.HTTPS_LISTENER,
            **when_certified,
            LoadBalancerArn=load_balancer.ref(),
            Protocol="HTTPS",
            Port=443,
            SslPolicy=TLS_POLICY,
            Certificates=[elb.Certificate(CertificateArn=certificate)],
            DefaultActions=[forward],
        )
    )
    if not https_only:
        # checkov does not evaluate Fn::If, so it cannot see the redirect.
        skip_checks(
            http_listener,
            {
                "CKV_AWS_2": ("HTTP only without CertificateArn; with one it redirects to HTTPS"),
                "CKV_AWS_103": ("HTTP has no TLS policy; HTTPS uses " + TLS_POLICY),
            },
        )
        # A CertificateArn given to a running stack turns port 80 into a redirect: only
        # once port 443 listens and is open. A DependsOn cannot name a resource whose
        # Condition may be false; a reference in Metadata orders the update as one does.
        http_listener.Metadata = {
            **http_listener.Metadata,
            "RedirectAfter": If(
                ids.LoadBalancer.HAS_CERTIFICATE,
                [https_listener.ref(), https_ingress.ref()],
                "",
            ),
        }
    else:
        # HTTPS always: an update from a template without it (a domain added, default to
        # governed) creates the HTTPS listener, after the certificate is issued, and turns
        # port 80 into a redirect; only once port 443 listens and is open.
        http_listener.DependsOn = [https_listener.title, https_ingress.title]
    if domain is not None:
        domain = add_alias(t, cfg.domain, domain, load_balancer)
    handle = LoadBalancer(
        security_group=group,
        load_balancer=load_balancer,
        target_group=target_group,
        http_listener=http_listener,
        https_listener=https_listener,
        https_only=https_only,
        domain=domain,
    )
    if cfg.service.deployment == "rolling":
        return handle
    # ECS shifts traffic by the weights of a listener rule's forward action: the first
    # service gets a rule for every path, evaluated after every other rule, and keeps the
    # default actions (the logical IDs and bytes of a rolling stack stay as they are).
    s = cfg.service
    alternate = t.add_resource(
        _target_group(
            ids.LoadBalancer.ALTERNATE_TARGET_GROUP,
            network.vpc_id,
            s.container_port,
            s.health_check_path,
        )
    )
    rule = t.add_resource(
        _rule(RULE, handle.active_listener, LAST_PRIORITY, "/*", target_group, alternate)
    )
    return replace(handle, rule=rule, alternate_target_group=alternate)


def _rule(
    logical_id: str,
    listener: object,
    priority: int,
    path_pattern: str,
    target_group: elb.TargetGroup,
    alternate: elb.TargetGroup | None,
) -> elb.ListenerRule:
    if alternate is None:
        action = elb.ListenerRuleAction(Type="forward", TargetGroupArn=target_group.ref())
    else:
        # ECS moves the weights during a release (100/0 at rest); CloudFormation never
        # rewrites them while this action is unchanged in the template.
        action = elb.ListenerRuleAction(
            Type="forward",
            ForwardConfig=elb.ForwardConfig(
                TargetGroups=[
                    elb.TargetGroupTuple(TargetGroupArn=target_group.ref(), Weight=100),
                    elb.TargetGroupTuple(TargetGroupArn=alternate.ref(), Weight=0),
                ]
            ),
        )
    return elb.ListenerRule(
        logical_id,
        ListenerArn=listener,
        Priority=priority,
        Conditions=[
            elb.Condition(
                Field="path-pattern",
                PathPatternConfig=elb.PathPatternConfig(Values=[path_pattern]),
            )
        ],
        Actions=[action],
    )


def _depends_on(*waits: list[Any]) -> dict[str, list[Any]]:
    """``DependsOn`` of everything in ``waits``, or nothing when there is nothing to wait for."""
    every = [w for wait in waits for w in wait]
    return {"DependsOn": every} if every else {}


def _target_group(logical_id: str, vpc: object, port: int, path: str) -> elb.TargetGroup:
    return elb.TargetGroup(
        logical_id,
        VpcId=vpc,
        TargetType="ip",  # awsvpc tasks register by IP address
        Protocol="HTTP",
        Port=port,
        HealthCheckPath=path,
        HealthCheckIntervalSeconds=15,
        HealthCheckTimeoutSeconds=5,
        HealthyThresholdCount=2,
        UnhealthyThresholdCount=3,
        Matcher=elb.Matcher(HttpCode="200-399"),
        TargetGroupAttributes=[
            # nginx drains in seconds; the 300 s default only slows deployments.
            elb.TargetGroupAttribute(Key="deregistration_delay.timeout_seconds", Value="30"),
        ],
    )


def _world_ingress(
    logical_id: str, group: ec2.SecurityGroup, port: int, **attributes: str
) -> ec2.SecurityGroupIngress:
    return ec2.SecurityGroupIngress(
        logical_id,
        **attributes,
        GroupId=group.ref(),
        IpProtocol="tcp",
        FromPort=port,
        ToPort=port,
        CidrIp="0.0.0.0/0",
        Description=f"Listener port {port} from the internet",
    )


def _add_access_log_bucket(t: Template) -> s3.Bucket:
    # One list per partition: an account is a valid principal only in its own
    # partition. A bucket takes logs only from load balancers of its own Region, so
    # of the list only that Region's account ever delivers.
    t.add_mapping(
        ELB_ACCOUNTS,
        {
            p: {"Accounts": [a for r, a in sorted(_ELB_ACCOUNTS.items()) if _partition(r) == p]}
            for p in ("aws", "aws-cn", "aws-us-gov")
        },
    )
    bucket = t.add_resource(
        s3.Bucket(
            ids.LoadBalancer.ACCESS_LOG_BUCKET,
            # Access logs are evidence: they outlive the stack.
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            # ELB access log delivery supports SSE-S3 only.
            **private_bucket_settings(),
            VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
            # CT.S3.PR.4 at the least cost: no resource more, only EventBridge's charge
            # for S3's opt-in data events (a few per log object: cents a month).
            NotificationConfiguration=s3.NotificationConfiguration(
                EventBridgeConfiguration=s3.EventBridgeConfiguration(EventBridgeEnabled=True)
            ),
            LifecycleConfiguration=s3.LifecycleConfiguration(
                Rules=[
                    s3.LifecycleRule(
                        Id="expire-access-logs",
                        Status="Enabled",
                        ExpirationInDays=365,
                        NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                            NoncurrentDays=30
                        ),
                    )
                ]
            ),
        )
    )
    skip_checks(
        bucket,
        {"CKV_AWS_18": ("The access log bucket: logging it needs another bucket, itself unlogged")},
    )
    objects = Sub("${" + ids.LoadBalancer.ACCESS_LOG_BUCKET + ".Arn}/AWSLogs/${AWS::AccountId}/*")
    put_logs = Statement(
        Effect=Allow,
        # The regional ELB accounts deliver in the Regions opened before August 2022
        # (and in GovCloud and China); the service principal in the newer ones.
        Principal=_Principals(
            Service=["logdelivery.elasticloadbalancing.amazonaws.com"],
            AWS=FindInMap(ELB_ACCOUNTS, Ref("AWS::Partition"), "Accounts"),
        ),
        Action=[s3_actions.PutObject],
        Resource=[objects],
    )
    deny_insecure = deny_insecure_transport(bucket)
    policy = PolicyDocument(Version="2012-10-17", Statement=[put_logs, deny_insecure])
    t.add_resource(
        s3.BucketPolicy(
            ids.LoadBalancer.ACCESS_LOG_BUCKET_POLICY, Bucket=bucket.ref(), PolicyDocument=policy
        )
    )
    return bucket
