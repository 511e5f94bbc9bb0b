"""examples/api_and_worker.py in the AWS CDK: the stack, a DynamoDB table, a secret and a
queue of its own; an API on port 8080 under /api/* (its image a Parameter, health checked
and probed on /health, reading and writing the table, reading the secret) and a worker
without a route (its image a Parameter, in Cloud Map, not probed, consuming the queue,
the secret's value from ECS at task start, scaled on CPU up to 4 tasks, alarmed when
tasks are missing), with their exported Outputs."""

from aws_cdk import (
    App,
    Aws,
    BootstrapVersionlessStackSynthesizer,
    CfnCondition,
    CfnOutput,
    CfnParameter,
    Duration,
    Fn,
    Stack,
)
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from nginx_probe import (
    GT,
    GTE,
    IMAGE,
    LT,
    NAMESPACE,
    PUBLIC,
    X86,
    NginxProbe,
    aws_logs,
    health_check,
)

WHOAMI = "ghcr.io/traefik/whoami:v1.11.0"

app = App()
stack = Stack(app, "NginxProbe", synthesizer=BootstrapVersionlessStackSynthesizer())
base = NginxProbe(stack, "Stack")


def own_key(construct, check):
    """checkov's skip of a check that wants a customer managed key."""
    skip = [{"id": check, "comment": "Encrypted under the service's key"}]
    construct.node.default_child.add_metadata("checkov", {"skip": skip})


def image_parameter(scope_id, task):
    """The image Parameter <scope>Image, and pulls from this account's ECR when it is there."""
    image = CfnParameter(stack, f"{scope_id}Image", default=WHOAMI, allowed_pattern=IMAGE)
    registry = Fn.join(".", [Aws.ACCOUNT_ID, "dkr.ecr", Aws.REGION, Aws.URL_SUFFIX])
    private = CfnCondition(
        stack,
        f"{scope_id}IsPrivateEcrImage",
        expression=Fn.condition_equals(
            Fn.select(0, Fn.split("/", image.value_as_string)), registry
        ),
    )
    pull = iam.Policy(
        stack,
        f"Pull{scope_id}Image",
        statements=[
            iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            iam.PolicyStatement(
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources=[
                    stack.format_arn(service="ecr", resource="repository", resource_name="*")
                ],
            ),
        ],
    )
    task.obtain_execution_role().attach_inline_policy(pull)
    pull.node.default_child.cfn_options.condition = private
    return ecs.ContainerImage.from_registry(image.value_as_string)


def service(scope_id, name, port, **container):
    """A service of the stack's cluster: its task definition, container, tasks and group."""
    task = ecs.FargateTaskDefinition(
        stack, f"{scope_id}TaskDefinition", cpu=256, memory_limit_mib=512, runtime_platform=X86
    )
    task.add_container(
        name,
        image=image_parameter(scope_id, task),
        readonly_root_filesystem=True,  # whoami writes no file
        stop_timeout=Duration.seconds(120),
        port_mappings=[ecs.PortMapping(container_port=port, name="http")],
        logging=aws_logs(base.log_group(f"{scope_id}Logs"), name),
        **container,
    )
    return ecs.FargateService(
        stack,
        scope_id,
        task_definition=task,
        vpc_subnets=PUBLIC,
        security_groups=[base.task_security_group(scope_id)],
        cloud_map_options=base.cloud_map(name),
        **base.service_props,
    )


table = dynamodb.Table(
    stack,
    "OrdersTable",
    partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
    billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
    point_in_time_recovery=True,
)
own_key(table, "CKV_AWS_119")
secret = secretsmanager.Secret(
    stack,
    "ApiKeySecret",
    generate_secret_string=secretsmanager.SecretStringGenerator(password_length=32),
)
own_key(secret, "CKV_AWS_149")
queue = sqs.Queue(stack, "JobsQueue", encryption=sqs.QueueEncryption.SQS_MANAGED)
own_key(queue, "CKV_AWS_27")
api = service(
    "Api",
    "api",
    8080,
    environment={
        "WHOAMI_PORT_NUMBER": "8080",
        "TABLE": table.table_name,
        "API_KEY_SECRET": secret.secret_arn,
    },
)
target_group = elbv2.ApplicationTargetGroup(
    stack,
    "ApiTargetGroup",
    vpc=base.vpc,
    port=8080,
    protocol=elbv2.ApplicationProtocol.HTTP,
    targets=[api],
    health_check=health_check("/health"),
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
api.connections.allow_from(base.probe, ec2.Port.tcp(8080), "Container port from the probe function")
name = api.cloud_map_service.service_name
base.probed.append(name)
base.probe.add_environment("PROBE_SERVICE_NAMES", Fn.join(",", base.probed))
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
table.grant_read_write_data(api.task_definition.task_role)
secret.grant_read(api.task_definition.task_role)
worker = service(
    "Worker",
    "worker",
    80,
    environment={"QUEUE_URL": queue.queue_url},
    secrets={"API_KEY": ecs.Secret.from_secrets_manager(secret)},
)
queue.grant_consume_messages(worker.task_definition.task_role)
scaling = worker.auto_scale_task_count(min_capacity=1, max_capacity=4)
scaling.scale_on_cpu_utilization(
    "Cpu",
    target_utilization_percent=60,
    scale_in_cooldown=Duration.seconds(300),
    scale_out_cooldown=Duration.seconds(60),
)
desired, running = (
    cw.Metric(
        namespace="ECS/ContainerInsights",
        metric_name=metric,
        dimensions_map={
            "ClusterName": base.cluster.cluster_name,
            "ServiceName": worker.service_name,
        },
    )
    for metric in ("DesiredTaskCount", "RunningTaskCount")
)
base.alarm(
    "WorkerAlarmRunningTasks",
    cw.MathExpression(
        expression="desired - running",
        label="Tasks missing",
        using_metrics={"desired": desired, "running": running},
    ),
    GT,
    0,
    "Fewer Worker tasks run than desired. Look first at the ECS service events.",
)
outputs = {
    "ApiServiceUrl": Fn.join(
        "", [base.scheme, "://", base.load_balancer.load_balancer_dns_name, "/api/"]
    ),
    "ApiServiceName": api.service_name,
    "ApiDiscoveryName": Fn.join(".", [name, NAMESPACE]),
    "WorkerServiceName": worker.service_name,
    "WorkerDiscoveryName": Fn.join(".", [worker.cloud_map_service.service_name, NAMESPACE]),
}
for output, value in outputs.items():
    CfnOutput(stack, output, value=value, export_name=Fn.sub(f"${{AWS::StackName}}-{output}"))
app.synth()
