"""The default infra-gen stack as an AWS CDK v2 construct: what ``build_stack()`` builds.

The apps beside it build on ``NginxProbe`` as the examples in ``examples/`` build on
``infra_gen.build_stack``: its attributes are the handles (cluster, namespace, the
load-balanced service, the task role, the listener, the probe, the alarm topic) and
``alarm`` wires an alarm to the topic with the stack's window, as ``Alarms.add_alarm``
does. Not run here: aws-cdk-lib is not installed (README.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    ArnFormat,
    Aspects,
    Aws,
    CfnCondition,
    CfnMapping,
    CfnOutput,
    CfnParameter,
    CfnRule,
    CfnRuleAssertion,
    Duration,
    Fn,
    IAspect,
    RemovalPolicy,
    Size,
    Stack,
    Token,
)
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as ecs_patterns
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

PROBE_CODE = Path(__file__).resolve().parents[2] / "lambda" / "probe.py"
NAMESPACE = "infra-gen.internal"
PROBE_METRICS = "InfraGen/Probe"
PUBLIC = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)
X86 = ecs.RuntimePlatform(
    cpu_architecture=ecs.CpuArchitecture.X86_64,
    operating_system_family=ecs.OperatingSystemFamily.LINUX,
)
MINUTE = Duration.minutes(1)
GTE = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
GT = cw.ComparisonOperator.GREATER_THAN_THRESHOLD
LT = cw.ComparisonOperator.LESS_THAN_THRESHOLD
RETENTION_DAYS = [
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
]
# Fargate's CPU units and the memory (MiB) each offers.
FARGATE_SIZES = {
    256: [512, 1024, 2048],
    512: [1024, 2048, 3072, 4096],
    1024: list(range(2048, 8193, 1024)),
    2048: list(range(4096, 16385, 1024)),
    4096: list(range(8192, 30721, 1024)),
    8192: list(range(16384, 61441, 4096)),
    16384: list(range(32768, 122881, 8192)),
}
TASK_SIZES = "^({})$".format(
    "|".join(f"{cpu}/({'|'.join(map(str, memory))})" for cpu, memory in FARGATE_SIZES.items())
)
IMAGE = (
    r"^([a-zA-Z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*"
    r"(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(@sha256:[a-f0-9]{64})?$"
)


def aws_logs(group: logs.ILogGroup, prefix: str) -> ecs.LogDriver:
    """awslogs, non-blocking with a 25 MiB buffer: a slow CloudWatch never stalls the app."""
    return ecs.LogDrivers.aws_logs(
        stream_prefix=prefix,
        log_group=group,
        mode=ecs.AwsLogDriverMode.NON_BLOCKING,
        max_buffer_size=Size.mebibytes(25),
    )


def health_check(path: str) -> elbv2.HealthCheck:
    """The target groups' health check."""
    return elbv2.HealthCheck(
        path=path,
        interval=Duration.seconds(15),
        timeout=Duration.seconds(5),
        healthy_threshold_count=2,
        unhealthy_threshold_count=3,
        healthy_http_codes="200-399",
    )


@jsii.implements(IAspect)
class _Boundary:
    """Sets the permissions boundary Parameter (when given) on every role of the stack."""

    def __init__(self, arn: str) -> None:
        self.arn = arn

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, iam.CfnRole):
            node.permissions_boundary = self.arn


class NginxProbe(Construct):
    """nginx on Fargate behind an ALB, in Cloud Map, probed by a scheduled Lambda function,
    with 12 alarms, a dashboard and the Outputs."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self._groups: dict[str, list[str]] = {}
        self._labels: dict[str, Any] = {}

        retention = self._parameter(
            "LogRetentionDays",
            "Log retention (days)",
            "Service",
            type="Number",
            default=30,
            allowed_values=[str(d) for d in RETENTION_DAYS],
            description="Days every log group of the stack keeps its events.",
        )
        image = self._parameter(
            "ServiceImage",
            "Container image",
            "Service",
            default="public.ecr.aws/docker/library/nginx:stable-alpine",
            allowed_pattern=IMAGE,
            description="nginx image: public or in this account's ECR in this Region.",
        )
        size = self._parameter(
            "TaskSize",
            "Task size (CPU units/memory MiB)",
            "Service",
            default="256/512",
            allowed_pattern=TASK_SIZES,
            description="Fargate cpu/memory, e.g. 256/512.",
        )
        min_tasks = self._parameter(
            "MinTasks",
            "Minimum task count",
            "Service",
            type="Number",
            default=2,
            min_value=1,
            max_value=10,
            description="Tasks always running.",
        )
        max_tasks = self._parameter(
            "MaxTasks",
            "Maximum task count",
            "Service",
            type="Number",
            default=10,
            min_value=10,
            max_value=100,
            description="Tasks scaling may add up to.",
        )
        schedule = self._parameter(
            "ProbeSchedule",
            "Probe schedule",
            "Probe",
            default="rate(1 minute)",
            allowed_values=["rate(1 minute)", "rate(2 minutes)", "rate(5 minutes)"],
            description="How often the probe runs.",
        )
        email = self._parameter(
            "AlarmEmail",
            "Alarm e-mail (optional)",
            "Alarms",
            default="",
            allowed_pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$",
            description="Subscribed to the alarm topic; empty subscribes no one.",
        )
        certificate = self._parameter(
            "CertificateArn",
            "ACM certificate ARN (optional)",
            "Security",
            default="",
            allowed_pattern=r"^(arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+)?$",
            description="ACM certificate for an HTTPS listener; empty serves plain HTTP only.",
        )
        protection = self._parameter(
            "DeletionProtection",
            "Load balancer deletion protection",
            "Security",
            default="false",
            allowed_values=["false", "true"],
        )
        boundary = self._parameter(
            "PermissionsBoundaryArn",
            "Permissions boundary (optional)",
            "Security",
            default="",
            allowed_pattern=r"^(arn:aws[a-z-]*:iam::\d{12}:policy/.+)?$",
            description="Policy ARN set as the boundary of every role; empty sets none.",
        )
        has_certificate = self._given("HasCertificate", certificate)
        has_email = self._given("HasAlarmEmail", email)
        has_boundary = self._given("HasBoundary", boundary)
        self._period = CfnCondition(
            self,
            "ProbeAlarmPeriod300",
            expression=Fn.condition_or(
                Fn.condition_equals(schedule.value_as_string, "rate(2 minutes)"),
                Fn.condition_equals(schedule.value_as_string, "rate(5 minutes)"),
            ),
        )
        self._retention = retention

        # Network: public subnets only; the tasks pull through the internet gateway.
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.0.0.0/16"),
            max_azs=2,
            nat_gateways=0,
            restrict_default_security_group=False,  # no custom resource
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=20,
                    map_public_ip_on_launch=False,
                )
            ],
        )
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            enable_fargate_capacity_providers=True,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        strategy = [
            ecs.CapacityProviderStrategy(capacity_provider="FARGATE", base=1, weight=1),
            ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=1),
        ]
        self.cluster.add_default_capacity_provider_strategy(strategy)
        self.namespace = servicediscovery.PrivateDnsNamespace(
            self,
            "Namespace",
            name=NAMESPACE,
            vpc=self.vpc,
            description="Service discovery for the stack's services",
        )

        # The load balancer: HTTP, or HTTPS and a redirect when CertificateArn is given.
        lb_group = ec2.SecurityGroup(
            self,
            "LoadBalancerSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Load balancer: HTTP(S) from the internet",
        )
        https_in = ec2.CfnSecurityGroupIngress(
            self,
            "LoadBalancerHttpsIngress",
            group_id=lb_group.security_group_id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ip="0.0.0.0/0",
        )
        https_in.cfn_options.condition = has_certificate
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=self.vpc,
            internet_facing=True,
            security_group=lb_group,
            drop_invalid_header_fields=True,
            desync_mitigation_mode=elbv2.DesyncMitigationMode.DEFENSIVE,
        )
        self.load_balancer.set_attribute("deletion_protection.enabled", protection.value_as_string)

        # The service: read-only root file system, task storage for nginx's two paths.
        self.log_groups = [self.log_group("ServiceLogs")]
        task = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            runtime_platform=X86,
            cpu=Token.as_number(Fn.select(0, Fn.split("/", size.value_as_string))),
            memory_limit_mib=Token.as_number(Fn.select(1, Fn.split("/", size.value_as_string))),
        )
        container = task.add_container(
            "nginx",
            image=ecs.ContainerImage.from_registry(image.value_as_string),
            readonly_root_filesystem=True,
            stop_timeout=Duration.seconds(120),  # all of a Spot interruption's notice
            port_mappings=[ecs.PortMapping(container_port=80, name="http")],
            health_check=ecs.HealthCheck(
                command=["CMD-SHELL", "wget -qO/dev/null http://127.0.0.1:80/ || exit 1"]
            ),
            logging=aws_logs(self.log_groups[0], "nginx"),
        )
        for name, path in {"nginx-cache": "/var/cache/nginx", "nginx-run": "/run"}.items():
            task.add_volume(name=name)
            container.add_mount_points(
                ecs.MountPoint(source_volume=name, container_path=path, read_only=False)
            )
        self._pull_from_private_ecr(task, image)
        self.service_props: dict[str, Any] = {
            "cluster": self.cluster,
            "capacity_provider_strategies": strategy,
            "min_healthy_percent": 100,
            "max_healthy_percent": 200,
            "circuit_breaker": ecs.DeploymentCircuitBreaker(rollback=True),
            "health_check_grace_period": Duration.seconds(60),
            "assign_public_ip": True,
            "enable_ecs_managed_tags": True,
            "propagate_tags": ecs.PropagatedTagSource.SERVICE,
        }
        self.web = ecs_patterns.ApplicationLoadBalancedFargateService(
            self,
            "Service",
            task_definition=task,
            load_balancer=self.load_balancer,
            task_subnets=PUBLIC,
            security_groups=[self.task_security_group("Service")],
            cloud_map_options=self.cloud_map("nginx"),
            **self.service_props,
        )
        self.service = self.web.service
        self.task_role = task.task_role
        self.target_group = self.web.target_group
        self.target_group.configure_health_check(health_check("/"))
        self.target_group.set_attribute("deregistration_delay.timeout_seconds", "30")
        self.listener = self.web.listener
        https = elbv2.CfnListener(
            self,
            "HttpsListener",
            load_balancer_arn=self.load_balancer.load_balancer_arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS.value,
            certificates=[
                elbv2.CfnListener.CertificateProperty(certificate_arn=certificate.value_as_string)
            ],
            default_actions=[
                elbv2.CfnListener.ActionProperty(
                    type="forward", target_group_arn=self.target_group.target_group_arn
                )
            ],
        )
        https.cfn_options.condition = has_certificate
        self.listener.node.default_child.add_property_override(
            "DefaultActions",
            [
                Fn.condition_if(
                    has_certificate.logical_id,
                    {
                        "Type": "redirect",
                        "RedirectConfig": {
                            "Protocol": "HTTPS",
                            "Port": "443",
                            "StatusCode": "HTTP_301",
                        },
                    },
                    {"Type": "forward", "TargetGroupArn": self.target_group.target_group_arn},
                )
            ],
        )
        # Rules of added services go on the listener that forwards.
        self.active_listener_arn = Fn.condition_if(
            has_certificate.logical_id, https.ref, self.listener.listener_arn
        ).to_string()
        scaling = self.service.auto_scale_task_count(
            min_capacity=min_tasks.value_as_number, max_capacity=max_tasks.value_as_number
        )
        self.scale(scaling, self.target_group)

        # The probe: every task found through Cloud Map DNS, on a schedule.
        probe_group = ec2.SecurityGroup(
            self,
            "ProbeSecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=False,
            description="Probe function: reaches the service tasks only",
        )
        self.probed = [self.service.cloud_map_service.service_name]
        self.probe = lambda_.Function(
            self,
            "Probe",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_inline(PROBE_CODE.read_text(encoding="utf-8")),
            memory_size=128,
            timeout=Duration.seconds(9),
            vpc=self.vpc,
            vpc_subnets=PUBLIC,
            allow_public_subnet=True,
            security_groups=[probe_group],
            log_group=self.log_group("ProbeLogs"),
            retry_attempts=0,
            max_event_age=Duration.seconds(60),
            environment={
                "PROBE_MAX_BODY_BYTES": "65536",
                "PROBE_METRIC_NAMESPACE": PROBE_METRICS,
                "PROBE_NAMESPACE": NAMESPACE,
                "PROBE_PATH": "/",
                "PROBE_PORT": "80",
                "PROBE_SERVICE_NAMES": Fn.join(",", self.probed),
                "PROBE_STACK": Aws.STACK_NAME,
                "PROBE_TIMEOUT_SECONDS": "2.0",
            },
        )
        self.service.connections.allow_from(
            self.probe, ec2.Port.tcp(80), "Container port from the probe function"
        )
        events.Rule(
            self,
            "ProbeScheduleRule",
            description="Runs the probe function",
            schedule=events.Schedule.expression(schedule.value_as_string),
            targets=[
                targets.LambdaFunction(
                    self.probe, retry_attempts=0, max_event_age=Duration.seconds(60)
                )
            ],
        )

        # Alarms: one topic, notified on ALARM and on OK.
        self.topic = sns.Topic(self, "AlarmTopic")
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsOfThisAccountPublish",
                actions=["sns:Publish"],
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        subscription = sns.Subscription(
            self,
            "AlarmEmailSubscription",
            topic=self.topic,
            protocol=sns.SubscriptionProtocol.EMAIL,
            endpoint=email.value_as_string,
        )
        subscription.node.default_child.cfn_options.condition = has_email
        web, tg, lb, nginx = self.service, self.target_group, self.load_balancer, self.probed[0]
        insights = {
            name: cw.Metric(
                namespace="ECS/ContainerInsights",
                metric_name=f"{name}TaskCount",
                dimensions_map={
                    "ClusterName": self.cluster.cluster_name,
                    "ServiceName": web.service_name,
                },
                statistic="Average",
            )
            for name in ("Desired", "Running")
        }
        target_5xx = tg.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT)
        rows = [
            (
                "AlarmProbeFailedRequests",
                self.probe_metric("FailedRequests", nginx),
                GTE,
                1,
                "Probe requests to tasks fail. Look first at the probe log group, a line per task.",
            ),
            (
                "AlarmProbeNoInstances",
                self.probe_metric("DiscoveredInstances", nginx, "Minimum"),
                LT,
                1,
                "The probe finds no task in Cloud Map DNS. Look first at the ECS service events.",
            ),
            (
                "AlarmProbeErrors",
                self.probe.metric_errors(),
                GTE,
                1,
                "The probe function itself fails. Look first at the probe log group.",
            ),
            (
                "AlarmProbeThrottles",
                self.probe.metric_throttles(),
                GTE,
                1,
                "The probe is throttled. Look first at the account's Lambda concurrent executions.",
            ),
        ]
        for row in rows:
            self.alarm(*row, per_run=True)
        self.alarm(
            "AlarmProbeNotRunning",
            self.probe.metric_invocations(),
            LT,
            1,
            "The probe has not run: the service is unwatched. Look first at the schedule rule.",
            period=Duration.minutes(5),
            evaluation_periods=1,
            datapoints=1,
            missing=cw.TreatMissingData.BREACHING,  # a probe that stops running alarms
        )
        rows = [
            (
                "AlarmLoadBalancer5xx",
                lb.metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT),
                GTE,
                5,
                "The load balancer answers 5xx itself. Look first at target health.",
            ),
            (
                "AlarmTarget5xx",
                target_5xx,
                GTE,
                5,
                "Tasks answer 5xx. Look first at the service log group.",
            ),
            (
                "AlarmUnhealthyTargets",
                tg.metrics.unhealthy_host_count(statistic="Maximum"),
                GTE,
                1,
                "Targets fail health checks. Look first at the target group's target health.",
            ),
            (
                "AlarmResponseTime",
                tg.metrics.target_response_time(statistic="p90"),
                GT,
                1,
                "p90 response time is degraded. Look first at the service CPU and task count.",
            ),
            (
                "AlarmRunningTasks",
                cw.MathExpression(
                    expression="desired - running",
                    label="Tasks missing",
                    using_metrics={"desired": insights["Desired"], "running": insights["Running"]},
                ),
                GT,
                0,
                "Fewer tasks run than desired. Look first at the ECS service events.",
            ),
            (
                "AlarmServiceCpu",
                web.metric_cpu_utilization(),
                GT,
                80,
                "Service CPU saturates. Look first at the dashboard's request count.",
            ),
            (
                "AlarmServiceMemory",
                web.metric_memory_utilization(),
                GT,
                80,
                "Service memory saturates. Look first at the stopped tasks' reasons.",
            ),
        ]
        alarms = [self.alarm(*row) for row in rows]
        # A deployment whose tasks answer 5xx or fail health checks rolls back.
        web.enable_deployment_alarms(
            [alarms[1].alarm_name, alarms[2].alarm_name],
            behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM,
        )

        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            widgets=[
                [
                    cw.GraphWidget(
                        title="Probe: requests and latency",
                        width=12,
                        period=MINUTE,
                        left=[
                            self.probe_metric("SuccessfulRequests", nginx),
                            self.probe_metric("FailedRequests", nginx),
                            self.probe_metric("DiscoveredInstances", nginx, "Minimum"),
                        ],
                        right=[self.probe_metric("Latency", nginx, "p90")],
                    ),
                    cw.GraphWidget(
                        title="Load balancer: requests, 5xx, latency",
                        width=12,
                        period=MINUTE,
                        left=[
                            lb.metrics.request_count(),
                            target_5xx,
                            lb.metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT),
                        ],
                        right=[tg.metrics.target_response_time(statistic="p90")],
                    ),
                    cw.GraphWidget(
                        title="Service: CPU, memory, tasks",
                        width=12,
                        period=MINUTE,
                        left=[web.metric_cpu_utilization(), web.metric_memory_utilization()],
                        right=[insights["Desired"], insights["Running"]],
                    ),
                    cw.GraphWidget(
                        title="Probe function: invocations, errors, duration",
                        width=12,
                        period=MINUTE,
                        left=[self.probe.metric_invocations(), self.probe.metric_errors()],
                        right=[self.probe.metric_duration(statistic="p90")],
                    ),
                ]
            ],
        )

        # The stack's contract: Outputs exported as <stack>-<Output>.
        self.scheme = Fn.condition_if(has_certificate.logical_id, "https", "http").to_string()
        outputs = {
            "ServiceUrl": (
                Fn.join("", [self.scheme, "://", lb.load_balancer_dns_name]),
                "Public URL of the nginx service",
            ),
            "LoadBalancerDnsName": (lb.load_balancer_dns_name, "DNS name of the load balancer"),
            "ClusterName": (self.cluster.cluster_name, "ECS cluster"),
            "ServiceName": (web.service_name, "ECS service"),
            "NamespaceName": (NAMESPACE, "Cloud Map private DNS namespace"),
            "NamespaceId": (self.namespace.namespace_id, "Cloud Map namespace ID"),
            "DiscoveryName": (
                Fn.join(".", [nginx, NAMESPACE]),
                "Name that resolves to the tasks inside the VPC",
            ),
        }
        for name, (value, description) in outputs.items():
            CfnOutput(
                stack,
                name,
                value=value,
                description=description,
                export_name=Fn.sub(f"${{AWS::StackName}}-{name}"),
            )
        consoles = CfnMapping(
            self,
            "ConsoleDomains",
            mapping={
                "aws": {"Domain": "console.aws.amazon.com"},
                "aws-cn": {"Domain": "console.amazonaws.cn"},
                "aws-us-gov": {"Domain": "console.amazonaws-us-gov.com"},
            },
        )
        CfnOutput(
            stack,
            "DashboardUrl",
            description="CloudWatch dashboard of the stack",
            value=Fn.sub(
                "https://${Console}/cloudwatch/home?region=${AWS::Region}"
                "#dashboards:name=${Dashboard}",
                {
                    "Console": consoles.find_in_map(Aws.PARTITION, "Domain"),
                    "Dashboard": self.dashboard.dashboard_name,
                },
            ),
        )
        regions = ["cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1"]
        CfnRule(
            self,
            "SupportedRegion",
            assertions=[
                CfnRuleAssertion(
                    assert_=Fn.condition_or(
                        Fn.condition_equals(Aws.PARTITION, "aws"),
                        Fn.condition_contains(regions, Aws.REGION),
                    ),
                    assert_description="Served: the aws partition, " + ", ".join(regions),
                )
            ],
        )
        Aspects.of(stack).add(
            _Boundary(
                Fn.condition_if(
                    has_boundary.logical_id, boundary.value_as_string, Aws.NO_VALUE
                ).to_string()
            )
        )
        self._console_groups(stack)

    def log_group(self, construct_id: str) -> logs.LogGroup:
        """A log group keeping its events ``LogRetentionDays`` (a Parameter)."""
        group = logs.LogGroup(self, construct_id, removal_policy=RemovalPolicy.DESTROY)
        # RetentionDays is an enum; a Parameter's value goes on the L1 resource.
        group.node.default_child.retention_in_days = self._retention.value_as_number
        return group

    def task_security_group(self, construct_id: str) -> ec2.SecurityGroup:
        """A service's tasks' group: out to HTTPS only (image registries, CloudWatch Logs)."""
        group = ec2.SecurityGroup(
            self, f"{construct_id}SecurityGroup", vpc=self.vpc, allow_all_outbound=False
        )
        group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to image registries and CloudWatch Logs"
        )
        return group

    def cloud_map(self, name: str) -> ecs.CloudMapOptions:
        """Registration as ``<name>.infra-gen.internal``: A records of the healthy tasks."""
        return ecs.CloudMapOptions(
            name=name,
            cloud_map_namespace=self.namespace,
            dns_record_type=servicediscovery.DnsRecordType.A,
            dns_ttl=Duration.seconds(10),
        )

    def scale(
        self, scaling: ecs.ScalableTaskCount, target_group: elbv2.ApplicationTargetGroup
    ) -> None:
        """Target tracking on average CPU (60 %) and on requests per task (1000 a minute)."""
        cooldowns = {
            "scale_in_cooldown": Duration.seconds(300),
            "scale_out_cooldown": Duration.seconds(60),
        }
        scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=60, **cooldowns)
        scaling.scale_on_request_count(
            "Requests", requests_per_target=1000, target_group=target_group, **cooldowns
        )

    def probe_metric(self, name: str, service: str, statistic: str = "Sum") -> cw.Metric:
        """A metric the probe writes for ``service`` (a Cloud Map service name)."""
        return cw.Metric(
            namespace=PROBE_METRICS,
            metric_name=name,
            dimensions_map={"Stack": Aws.STACK_NAME, "Service": service},
            statistic=statistic,
        )

    def alarm(
        self,
        construct_id: str,
        metric: cw.IMetric,
        comparison: cw.ComparisonOperator,
        threshold: float,
        description: str,
        *,
        period: Duration = MINUTE,
        per_run: bool = False,
        evaluation_periods: int = 5,
        datapoints: int = 3,
        missing: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING,
    ) -> cw.Alarm:
        """An alarm notifying the topic on ALARM and on OK; ``per_run``: at least one
        probe schedule interval per period (the probe writes a data point per run)."""
        alarm = cw.Alarm(
            self,
            construct_id,
            metric=metric.with_(period=period),
            threshold=threshold,
            comparison_operator=comparison,
            alarm_description=description,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints,
            treat_missing_data=missing,
        )
        if per_run:  # the period follows the ProbeSchedule Parameter
            alarm.node.default_child.period = Token.as_number(
                Fn.condition_if(self._period.logical_id, 300, 60)
            )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        alarm.add_ok_action(cw_actions.SnsAction(self.topic))
        return alarm

    def _parameter(self, name: str, label: str, group: str, **props: Any) -> CfnParameter:
        self._groups.setdefault(group, []).append(name)
        self._labels[name] = {"default": label}
        return CfnParameter(Stack.of(self), name, type=props.pop("type", "String"), **props)

    def _given(self, name: str, parameter: CfnParameter) -> CfnCondition:
        return CfnCondition(
            self,
            name,
            expression=Fn.condition_not(Fn.condition_equals(parameter.value_as_string, "")),
        )

    def _pull_from_private_ecr(self, task: ecs.TaskDefinition, image: CfnParameter) -> None:
        """Pull rights when the image is in this account's ECR in this Region."""
        registry = Fn.join(".", [Aws.ACCOUNT_ID, "dkr.ecr", Aws.REGION, Aws.URL_SUFFIX])
        private = CfnCondition(
            self,
            "IsPrivateEcrImage",
            expression=Fn.condition_equals(
                Fn.select(0, Fn.split("/", image.value_as_string)), registry
            ),
        )
        pull = iam.Policy(
            self,
            "PullImage",
            statements=[
                iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]),
                iam.PolicyStatement(
                    actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    resources=[
                        Stack.of(self).format_arn(
                            service="ecr", resource="repository", resource_name="*"
                        )
                    ],
                ),
            ],
        )
        task.obtain_execution_role().attach_inline_policy(pull)
        pull.node.default_child.cfn_options.condition = private

    def _console_groups(self, stack: Stack) -> None:
        """The console's parameter groups, after a host stack's own."""
        metadata = dict(stack.template_options.metadata or {})
        interface = metadata.setdefault(
            "AWS::CloudFormation::Interface", {"ParameterGroups": [], "ParameterLabels": {}}
        )
        interface["ParameterGroups"] += [
            {"Label": {"default": group}, "Parameters": names}
            for group, names in self._groups.items()
        ]
        interface["ParameterLabels"].update(self._labels)
        stack.template_options.metadata = metadata
