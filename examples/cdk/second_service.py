"""examples/second_service.py in the AWS CDK: the stack and a second service, whoami
under /api/* on the listener that forwards, in Cloud Map and probed, scaled up to 4
tasks, with the probe's two alarms and one on its target 5xx."""

from aws_cdk import App, BootstrapVersionlessStackSynthesizer, Duration, Fn, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from nginx_probe import GTE, LT, PUBLIC, X86, NginxProbe, aws_logs, health_check

WHOAMI = "ghcr.io/traefik/whoami:v1.11.0"

app = App()
stack = Stack(app, "NginxProbe", synthesizer=BootstrapVersionlessStackSynthesizer())
base = NginxProbe(stack, "Stack")
task = ecs.FargateTaskDefinition(
    stack, "ApiTaskDefinition", cpu=256, memory_limit_mib=512, runtime_platform=X86
)
task.add_container(
    "api",
    image=ecs.ContainerImage.from_registry(WHOAMI),
    readonly_root_filesystem=True,  # whoami writes no file
    stop_timeout=Duration.seconds(120),
    port_mappings=[ecs.PortMapping(container_port=80, name="http")],
    logging=aws_logs(base.log_group("ApiLogs"), "api"),
)
api = ecs.FargateService(
    stack,
    "Api",
    task_definition=task,
    vpc_subnets=PUBLIC,
    security_groups=[base.task_security_group("Api")],
    cloud_map_options=base.cloud_map("api"),
    **base.service_props,
)
target_group = elbv2.ApplicationTargetGroup(
    stack,
    "ApiTargetGroup",
    vpc=base.vpc,
    port=80,
    protocol=elbv2.ApplicationProtocol.HTTP,
    targets=[api],
    health_check=health_check("/api/"),
    deregistration_delay=Duration.seconds(30),
)
rule = elbv2.ApplicationListenerRule(
    stack,
    "ApiRule",
    listener=base.listener,
    priority=10,
    conditions=[elbv2.ListenerCondition.path_patterns(["/api/*"])],
    action=elbv2.ListenerAction.forward([target_group]),
)
rule.node.default_child.listener_arn = base.active_listener_arn
api.connections.allow_from(base.probe, ec2.Port.tcp(80), "Container port from the probe function")
name = api.cloud_map_service.service_name
base.probed.append(name)
base.probe.add_environment("PROBE_SERVICE_NAMES", Fn.join(",", base.probed))
base.scale(api.auto_scale_task_count(min_capacity=2, max_capacity=4), target_group)
base.alarm(
    "ApiAlarmProbeFailedRequests",
    base.probe_metric("FailedRequests", name),
    GTE,
    1,
    "Probe requests to Api tasks fail. Look first at the probe log group.",
    per_run=True,
)
base.alarm(
    "ApiAlarmProbeNoInstances",
    base.probe_metric("DiscoveredInstances", name, "Minimum"),
    LT,
    1,
    "The probe finds no Api task. Look first at its ECS service events.",
    per_run=True,
)
base.alarm(
    "ApiAlarmTarget5xx",
    target_group.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT),
    GTE,
    5,
    "Api tasks answer 5xx. Look first at the Api log group.",
)
app.synth()
