"""examples/second_service.py in the AWS CDK: the stack and a second service, whoami
under /api/* on the listener that forwards, in Cloud Map and probed, scaled up to 4
tasks, fully alarmed (the probe's two alarms and the first service's four, two of them
rolling back its deployments), with two dashboard widgets and its exported Outputs."""

from aws_cdk import App, BootstrapVersionlessStackSynthesizer, CfnOutput, Duration, Fn, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from nginx_probe import GT, GTE, LT, NAMESPACE, PUBLIC, X86, NginxProbe, aws_logs, health_check

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
desired, running = (
    cw.Metric(
        namespace="ECS/ContainerInsights",
        metric_name=metric,
        dimensions_map={"ClusterName": base.cluster.cluster_name, "ServiceName": api.service_name},
    )
    for metric in ("DesiredTaskCount", "RunningTaskCount")
)
target_5xx = target_group.metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT)
alarms = [
    base.alarm(
        "ApiAlarmTarget5xx",
        target_5xx,
        GTE,
        5,
        "Api tasks answer 5xx. Look first at the service log group.",
    ),
    base.alarm(
        "ApiAlarmUnhealthyTargets",
        target_group.metrics.unhealthy_host_count(statistic="Maximum"),
        GTE,
        1,
        "Api targets fail health checks. Look first at the target group's target health.",
    ),
    base.alarm(
        "ApiAlarmResponseTime",
        target_group.metrics.target_response_time(statistic="p90"),
        GT,
        1,
        "Api p90 response time is degraded. Look first at the service CPU and task count.",
    ),
    base.alarm(
        "ApiAlarmRunningTasks",
        cw.MathExpression(
            expression="desired - running",
            label="Tasks missing",
            using_metrics={"desired": desired, "running": running},
        ),
        GT,
        0,
        "Fewer Api tasks run than desired. Look first at the ECS service events.",
    ),
]
api.enable_deployment_alarms(
    [alarms[0].alarm_name, alarms[1].alarm_name], behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM
)
base.dashboard.add_widgets(
    cw.GraphWidget(
        title="Api: requests, 5xx, latency",
        width=12,
        left=[target_group.metrics.request_count(), target_5xx],
        right=[target_group.metrics.target_response_time(statistic="p90")],
    ),
    cw.GraphWidget(
        title="Api: CPU, memory, tasks",
        width=12,
        left=[api.metric_cpu_utilization(), api.metric_memory_utilization()],
        right=[desired, running],
    ),
)
outputs = {
    "ApiServiceUrl": Fn.join(
        "", [base.scheme, "://", base.load_balancer.load_balancer_dns_name, "/api/"]
    ),
    "ApiServiceName": api.service_name,
    "ApiDiscoveryName": Fn.join(".", [name, NAMESPACE]),
}
for output, value in outputs.items():
    CfnOutput(stack, output, value=value, export_name=Fn.sub(f"${{AWS::StackName}}-{output}"))
app.synth()
