"""examples/three_services.py in the AWS CDK: the stack and two more services, whoami
under /api/* and /admin/*, one task each, in Cloud Map and probed, with the probe's two
alarms and its exported Outputs each."""

from aws_cdk import App, BootstrapVersionlessStackSynthesizer, CfnOutput, Duration, Fn, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from nginx_probe import GTE, LT, NAMESPACE, PUBLIC, X86, NginxProbe, aws_logs, health_check

WHOAMI = "ghcr.io/traefik/whoami:v1.11.0"

app = App()
stack = Stack(app, "NginxProbe", synthesizer=BootstrapVersionlessStackSynthesizer())
base = NginxProbe(stack, "Stack")
for scope, path, priority in [("Api", "/api/*", 10), ("Admin", "/admin/*", 20)]:
    task = ecs.FargateTaskDefinition(
        stack, f"{scope}TaskDefinition", cpu=256, memory_limit_mib=512, runtime_platform=X86
    )
    task.add_container(
        scope.lower(),
        image=ecs.ContainerImage.from_registry(WHOAMI),
        readonly_root_filesystem=True,  # whoami writes no file
        stop_timeout=Duration.seconds(120),
        port_mappings=[ecs.PortMapping(container_port=80, name="http")],
        logging=aws_logs(base.log_group(f"{scope}Logs"), scope.lower()),
    )
    service = ecs.FargateService(
        stack,
        scope,
        task_definition=task,
        desired_count=1,
        vpc_subnets=PUBLIC,
        security_groups=[base.task_security_group(scope)],
        cloud_map_options=base.cloud_map(scope.lower()),
        **base.service_props,
    )
    target_group = elbv2.ApplicationTargetGroup(
        stack,
        f"{scope}TargetGroup",
        vpc=base.vpc,
        port=80,
        protocol=elbv2.ApplicationProtocol.HTTP,
        targets=[service],
        health_check=health_check("/"),
        deregistration_delay=Duration.seconds(30),
    )
    rule = elbv2.ApplicationListenerRule(
        stack,
        f"{scope}Rule",
        listener=base.listener,
        priority=priority,
        conditions=[elbv2.ListenerCondition.path_patterns([path])],
        action=elbv2.ListenerAction.forward([target_group]),
    )
    rule.node.default_child.listener_arn = base.active_listener_arn
    service.connections.allow_from(
        base.probe, ec2.Port.tcp(80), "Container port from the probe function"
    )
    name = service.cloud_map_service.service_name
    base.probed.append(name)
    base.alarm(
        f"{scope}AlarmProbeFailedRequests",
        base.probe_metric("FailedRequests", name),
        GTE,
        1,
        f"Probe requests to {scope} tasks fail. Look first at the probe log group.",
        per_run=True,
    )
    base.alarm(
        f"{scope}AlarmProbeNoInstances",
        base.probe_metric("DiscoveredInstances", name, "Minimum"),
        LT,
        1,
        f"The probe finds no {scope} task. Look first at its ECS service events.",
        per_run=True,
    )
    dns = base.load_balancer.load_balancer_dns_name
    outputs = {
        "ServiceUrl": Fn.join("", [base.scheme, "://", dns, path.rstrip("*")]),
        "ServiceName": service.service_name,
        "DiscoveryName": Fn.join(".", [name, NAMESPACE]),
    }
    for output, value in outputs.items():
        CfnOutput(
            stack,
            scope + output,
            value=value,
            export_name=Fn.sub(f"${{AWS::StackName}}-{scope}{output}"),
        )
base.probe.add_environment("PROBE_SERVICE_NAMES", Fn.join(",", base.probed))
app.synth()
