"""Deploys the template to moto's AWS emulator, as ``aws cloudformation deploy`` does.

moto runs in server mode on 127.0.0.1; every call goes through boto3 over HTTP. A
stack is created with a CREATE change set (``CAPABILITY_IAM``), then changed with an
UPDATE change set that overrides Parameters and passes ``UsePreviousValue`` for the
others: the calls and waiters of the AWS CLI's ``deploy``. The tests then read the
emulated resources back through their own service APIs, mapping logical IDs to
physical IDs with ``DescribeStackResources``.

How the emulator stands in for AWS, and what it does not do: devtools/emulator.py.

The default stack is deployed from the YAML rendering, the hardened and the governed
ones from the JSON rendering; ``deploy`` refuses a body over 51,200 bytes, as the AWS CLI
does without ``--s3-bucket``.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from moto.cloudformation import parsing as cfn_parsing

from devtools.emulator import (
    ACCOUNT,
    DEPLOYMENT_CONFIGURATIONS,
    REGION,
    Api,
    ParameterValidationError,
    parameter_errors,
)
from infra_gen import Config, build_stack, build_template, render
from infra_gen.template.probe import RUNTIME
from tests.support.stack import GOVERNED

# The AWS CLI's own limit: a larger template must go through an S3 bucket.
INLINE_TEMPLATE_LIMIT = 51_200

HARDENED = {
    "network": {"az_count": 3},
    "security": {"flow_logs": True, "kms_logs": True, "alb_access_logs": True},
}
# name -> (configuration, rendering deployed)
STACKS: dict[str, tuple[Config, str]] = {
    "default": (Config(), "yaml"),
    "hardened": (Config.from_mapping(HARDENED), "json"),
}

NOT_EMULATED = frozenset(
    {
        "AWS::Lambda::EventInvokeConfig",
        "AWS::SNS::Subscription",
        "AWS::SNS::TopicPolicy",
    }
)
# False with the Parameters' defaults: no certificate, no alarm e-mail.
FALSE_CONDITIONS = frozenset({"HasCertificate", "HasAlarmEmail"})

# The AWS API's "disallow all" rule the template uses to replace default egress.
NO_EGRESS = ("icmp", 252, 86, "255.255.255.255/32")

pytestmark = pytest.mark.filterwarnings(
    "ignore:Tried to parse .* but it's not supported:UserWarning"
)


# --------------------------------------------------------------------------------------
# Deploying: the calls of ``aws cloudformation deploy``.
# --------------------------------------------------------------------------------------


def deploy(
    api: Api,
    stack_name: str,
    body: str,
    overrides: Mapping[str, str] | None = None,
    s3_bucket: str = "",
) -> str:
    """Create or update ``stack_name`` through a change set; return the change set type.

    With ``s3_bucket``, the template goes through that bucket (``--s3-bucket``)."""
    overrides = dict(overrides or {})
    if len(body.encode()) > INLINE_TEMPLATE_LIMIT and not s3_bucket:
        raise ValueError(
            "Templates with a size greater than 51,200 bytes must be deployed via an S3 Bucket."
        )
    declared = json.loads(body)["Parameters"] if body.startswith("{") else _parameters_of(body)
    errors = parameter_errors(declared, overrides)
    if errors:
        raise ParameterValidationError("; ".join(errors))

    cfn = api("cloudformation")
    try:
        status = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
        exists = status != "REVIEW_IN_PROGRESS"
    except cfn.exceptions.ClientError:
        exists = False
    parameters: list[dict[str, Any]] = [
        {"ParameterKey": k, "ParameterValue": v} for k, v in sorted(overrides.items())
    ]
    if exists:
        previous = {
            p["ParameterKey"] for p in cfn.get_template_summary(StackName=stack_name)["Parameters"]
        }
        parameters += [
            {"ParameterKey": k, "UsePreviousValue": True}
            for k in sorted(declared)
            if k not in overrides and k in previous
        ]
    change_set_type = "UPDATE" if exists else "CREATE"
    source: dict[str, str] = {"TemplateBody": body}
    if s3_bucket:
        api("s3").create_bucket(Bucket=s3_bucket)
        api("s3").put_object(Bucket=s3_bucket, Key=stack_name, Body=body.encode())
        source = {"TemplateURL": f"https://s3.{REGION}.amazonaws.com/{s3_bucket}/{stack_name}"}
    change_set = cfn.create_change_set(
        StackName=stack_name,
        ChangeSetName=f"infra-gen-{change_set_type.lower()}",
        ChangeSetType=change_set_type,
        **source,
        Parameters=parameters,
        Capabilities=["CAPABILITY_IAM"],
    )["Id"]
    quick = {"Delay": 1, "MaxAttempts": 30}
    cfn.get_waiter("change_set_create_complete").wait(
        ChangeSetName=change_set, StackName=stack_name, WaiterConfig=quick
    )
    cfn.execute_change_set(ChangeSetName=change_set, StackName=stack_name)
    waiter = "stack_update_complete" if exists else "stack_create_complete"
    cfn.get_waiter(waiter).wait(StackName=stack_name, WaiterConfig=quick)
    return change_set_type


class _TagsIgnored(yaml.SafeLoader):
    """Reads a template's YAML; short-form intrinsic functions load as None."""


_TagsIgnored.add_multi_constructor("!", lambda loader, suffix, node: None)


def _parameters_of(yaml_body: str) -> dict[str, Any]:
    """The Parameters section of a YAML template (no intrinsic function occurs in it)."""
    return dict(yaml.load(yaml_body, Loader=_TagsIgnored)["Parameters"])


@dataclass(frozen=True)
class Stack:
    """A deployed stack as the tests read it."""

    name: str
    cfg: Config
    template: dict[str, Any]
    description: dict[str, Any]
    physical: dict[str, str]
    """Logical ID -> physical ID, from DescribeStackResources."""
    types: dict[str, str]

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        return {o["OutputKey"]: o for o in self.description.get("Outputs") or []}

    @property
    def parameters(self) -> dict[str, str]:
        return {p["ParameterKey"]: p["ParameterValue"] for p in self.description["Parameters"]}

    def ids(self, resource_type: str) -> dict[str, str]:
        return {k: v for k, v in sorted(self.physical.items()) if self.types[k] == resource_type}

    @property
    def subnets(self) -> list[str]:
        count = self.cfg.network.az_count
        return [self.physical[f"NetworkPublicSubnet{i}"] for i in range(1, count + 1)]


def read_stack(api: Api, stack_name: str, cfg: Config) -> Stack:
    cfn = api("cloudformation")
    description = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    resources = cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
    # moto lists a placeholder without a logical ID for each resource it skipped.
    listed = [r for r in resources if r.get("LogicalResourceId")]
    return Stack(
        name=stack_name,
        cfg=cfg,
        template=json.loads(render(build_template(cfg), "json")),
        description=description,
        physical={r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in listed},
        types={r["LogicalResourceId"]: r["ResourceType"] for r in listed},
    )


@pytest.fixture(scope="module")
def deployed(api: Api) -> dict[str, Stack]:
    """The stacks of ``STACKS`` deployed so far, each deployed once, on first use."""
    return {}


def _stack(api: Api, deployed: dict[str, Stack], name: str) -> Stack:
    if name not in deployed:
        cfg, fmt = STACKS[name]
        stack_name = f"infra-gen-{name}"
        assert deploy(api, stack_name, render(build_template(cfg), fmt)) == "CREATE"  # type: ignore[arg-type]
        deployed[name] = read_stack(api, stack_name, cfg)
    return deployed[name]


@pytest.fixture(params=sorted(STACKS))
def stack(request: pytest.FixtureRequest, api: Api, deployed: dict[str, Stack]) -> Stack:
    return _stack(api, deployed, request.param)


@pytest.fixture
def hardened(api: Api, deployed: dict[str, Stack]) -> Stack:
    return _stack(api, deployed, "hardened")


# --------------------------------------------------------------------------------------
# The stack and its coverage.
# --------------------------------------------------------------------------------------


def test_stack_is_created(stack: Stack) -> None:
    assert stack.description["StackStatus"] == "CREATE_COMPLETE"
    defaults = {k: str(v.get("Default", "")) for k, v in stack.template["Parameters"].items()}
    assert stack.parameters == defaults


def test_every_resource_is_emulated_or_listed(stack: Stack) -> None:
    resources = stack.template["Resources"]
    not_created = {lid for lid, r in resources.items() if r.get("Condition") in FALSE_CONDITIONS}
    skipped_types = {
        r["Type"]
        for r in resources.values()
        if cfn_parsing.resource_class_from_type(r["Type"]) is None
    }
    print("resource types moto's CloudFormation skips (not checked):", sorted(skipped_types))
    assert skipped_types <= NOT_EMULATED
    expected = {
        lid
        for lid, r in resources.items()
        if lid not in not_created and r["Type"] not in NOT_EMULATED
    }
    assert set(stack.physical) == expected
    # moto's Lambda Permission has no physical ID; every other resource must have one.
    assert {stack.types[k] for k, v in stack.physical.items() if not v} <= {
        "AWS::Lambda::Permission"
    }
    assert {lid: stack.types[lid] for lid in expected} == {
        lid: resources[lid]["Type"] for lid in expected
    }


# --------------------------------------------------------------------------------------
# Network.
# --------------------------------------------------------------------------------------


def test_vpc_and_one_subnet_per_zone(api: Api, stack: Stack) -> None:
    ec2 = api("ec2")
    vpc_id = stack.physical["NetworkVpc"]
    (vpc,) = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    assert vpc["CidrBlock"] == stack.cfg.network.vpc_cidr
    for attribute in ("enableDnsSupport", "enableDnsHostnames"):
        answer = ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=attribute)
        assert answer[attribute[0].upper() + attribute[1:]]["Value"] is True

    subnets = {
        s["SubnetId"]: s
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    }
    assert sorted(subnets) == sorted(stack.subnets)
    in_order = [subnets[s] for s in stack.subnets]
    assert [s["CidrBlock"] for s in in_order] == list(stack.cfg.network.subnets)
    zones = [s["AvailabilityZone"] for s in in_order]
    assert len(set(zones)) == stack.cfg.network.az_count
    assert all(z.startswith(REGION) for z in zones)
    assert not any(s["MapPublicIpOnLaunch"] for s in in_order)
    vpc_block = ipaddress.ip_network(stack.cfg.network.vpc_cidr)
    assert all(ipaddress.ip_network(s["CidrBlock"]).subnet_of(vpc_block) for s in in_order)  # type: ignore[arg-type]


def test_internet_gateway_route_serves_every_subnet(api: Api, stack: Stack) -> None:
    ec2 = api("ec2")
    vpc_id = stack.physical["NetworkVpc"]
    gateway_id = stack.physical["NetworkInternetGateway"]
    (gateway,) = ec2.describe_internet_gateways(InternetGatewayIds=[gateway_id])["InternetGateways"]
    assert [(a["VpcId"], a["State"]) for a in gateway["Attachments"]] == [(vpc_id, "available")]

    (table,) = ec2.describe_route_tables(RouteTableIds=[stack.physical["NetworkPublicRouteTable"]])[
        "RouteTables"
    ]
    assert table["VpcId"] == vpc_id
    default = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    assert [(r["GatewayId"], r["State"]) for r in default] == [(gateway_id, "active")]
    associated = {a["SubnetId"] for a in table["Associations"] if "SubnetId" in a}
    assert associated == set(stack.subnets)


def _rules(permissions: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    """(protocol, from port, to port, peer) for each peer of each permission."""
    peers = {
        "IpRanges": "CidrIp",
        "Ipv6Ranges": "CidrIpv6",
        "UserIdGroupPairs": "GroupId",
        "PrefixListIds": "PrefixListId",
    }
    return {
        (p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), peer[key])
        for p in permissions
        for field_name, key in peers.items()
        for peer in p.get(field_name, [])
    }


def test_security_group_rules(api: Api, stack: Stack) -> None:
    ids = {
        "alb": stack.physical["LoadBalancerSecurityGroup"],
        "service": stack.physical["EcsServiceSecurityGroup"],
        "probe": stack.physical["ProbeSecurityGroup"],
    }
    groups = {
        g["GroupId"]: g
        for g in api("ec2").describe_security_groups(GroupIds=list(ids.values()))["SecurityGroups"]
    }
    port = stack.cfg.service.container_port

    def rules(name: str, direction: str) -> set[tuple[Any, ...]]:
        return _rules(groups[ids[name]][direction])

    assert all(g["VpcId"] == stack.physical["NetworkVpc"] for g in groups.values())
    # The world reaches the load balancer on HTTP only (HTTPS needs a certificate) ...
    assert rules("alb", "IpPermissions") == {("tcp", 80, 80, "0.0.0.0/0")}
    assert rules("alb", "IpPermissionsEgress") == {NO_EGRESS, ("tcp", port, port, ids["service"])}
    # ... the tasks hear the load balancer and the probe on the container port only ...
    assert rules("service", "IpPermissions") == {
        ("tcp", port, port, ids["alb"]),
        ("tcp", port, port, ids["probe"]),
    }
    # ... and reach out on HTTPS only (image registries, CloudWatch Logs).
    assert rules("service", "IpPermissionsEgress") == {("tcp", 443, 443, "0.0.0.0/0")}
    assert rules("probe", "IpPermissions") == set()
    assert rules("probe", "IpPermissionsEgress") == {NO_EGRESS, ("tcp", port, port, ids["service"])}


# --------------------------------------------------------------------------------------
# Load balancer.
# --------------------------------------------------------------------------------------


def test_load_balancer_forwards_to_the_ip_target_group(api: Api, stack: Stack) -> None:
    elb = api("elbv2")
    arn = stack.physical["LoadBalancer"]
    (lb,) = elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"]
    assert (lb["Type"], lb["Scheme"]) == ("application", "internet-facing")
    assert lb["VpcId"] == stack.physical["NetworkVpc"]
    assert sorted(z["SubnetId"] for z in lb["AvailabilityZones"]) == sorted(stack.subnets)
    assert lb["SecurityGroups"] == [stack.physical["LoadBalancerSecurityGroup"]]

    (listener,) = elb.describe_listeners(LoadBalancerArn=arn)["Listeners"]
    assert listener["ListenerArn"] == stack.physical["LoadBalancerHttpListener"]
    assert (listener["Protocol"], listener["Port"]) == ("HTTP", 80)
    target_group_arn = stack.physical["LoadBalancerTargetGroup"]
    assert [(a["Type"], a["TargetGroupArn"]) for a in listener["DefaultActions"]] == [
        ("forward", target_group_arn)
    ]

    (tg,) = elb.describe_target_groups(TargetGroupArns=[target_group_arn])["TargetGroups"]
    assert tg["LoadBalancerArns"] == [arn]
    assert tg["VpcId"] == stack.physical["NetworkVpc"]
    assert (tg["TargetType"], tg["Protocol"], tg["Port"]) == (
        "ip",
        "HTTP",
        stack.cfg.service.container_port,
    )
    assert tg["HealthCheckPath"] == stack.cfg.service.health_check_path
    assert tg["Matcher"] == {"HttpCode": "200-399"}


# --------------------------------------------------------------------------------------
# Cloud Map and ECS.
# --------------------------------------------------------------------------------------


def test_cloud_map_namespace_and_service(api: Api, stack: Stack) -> None:
    sd = api("servicediscovery")
    namespace_id = stack.physical["DiscoveryNamespace"]
    namespace = sd.get_namespace(Id=namespace_id)["Namespace"]
    assert (namespace["Name"], namespace["Type"]) == (stack.cfg.discovery.namespace, "DNS_PRIVATE")

    service = sd.get_service(Id=stack.physical["DiscoveryService"])["Service"]
    assert service["Name"] == stack.cfg.service.name
    assert service["NamespaceId"] == namespace_id
    assert service["DnsConfig"]["RoutingPolicy"] == "MULTIVALUE"
    assert service["DnsConfig"]["DnsRecords"] == [{"Type": "A", "TTL": stack.cfg.discovery.dns_ttl}]
    assert service["HealthCheckCustomConfig"] == {"FailureThreshold": 1}


def cluster_strategy(cfg: Config) -> list[dict[str, Any]]:
    return [
        {
            "capacityProvider": "FARGATE",
            "weight": cfg.cluster.fargate_weight,
            "base": cfg.cluster.fargate_base,
        },
        {"capacityProvider": "FARGATE_SPOT", "weight": cfg.cluster.fargate_spot_weight},
    ]


def test_service_scales_between_the_count_parameters(api: Api, stack: Stack) -> None:
    aas = api("application-autoscaling")
    service = stack.outputs["ServiceName"]["OutputValue"]
    resource_id = f"service/{stack.physical['EcsCluster']}/{service}"
    (target,) = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])[
        "ScalableTargets"
    ]
    assert target["ScalableDimension"] == "ecs:service:DesiredCount"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (
        int(stack.parameters["MinTasks"]),
        int(stack.parameters["MaxTasks"]),
    )
    policies = {
        p["PolicyName"]: p
        for p in aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)[
            "ScalingPolicies"
        ]
    }
    assert set(policies) == {"average-cpu", "requests-per-task"}
    label = policies["requests-per-task"]["TargetTrackingScalingPolicyConfiguration"][
        "PredefinedMetricSpecification"
    ]["ResourceLabel"]
    lb_name = stack.physical["LoadBalancer"].split(":loadbalancer/", 1)[1]
    tg_name = stack.physical["LoadBalancerTargetGroup"].split(":", 5)[5]
    assert label == f"{lb_name}/{tg_name}"


def test_cluster_spreads_over_fargate_and_spot(api: Api, stack: Stack) -> None:
    (cluster,) = api("ecs").describe_clusters(
        clusters=[stack.physical["EcsCluster"]], include=["SETTINGS"]
    )["clusters"]
    assert cluster["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    weights = stack.cfg.cluster
    assert cluster["defaultCapacityProviderStrategy"] == [
        {
            "capacityProvider": "FARGATE",
            "weight": weights.fargate_weight,
            "base": weights.fargate_base,
        },
        {"capacityProvider": "FARGATE_SPOT", "weight": weights.fargate_spot_weight},
    ]
    assert {"name": "containerInsights", "value": "enabled"} in cluster["settings"]


def test_task_definition(api: Api, stack: Stack) -> None:
    task = api("ecs").describe_task_definition(taskDefinition=stack.physical["EcsTaskDefinition"])[
        "taskDefinition"
    ]
    svc = stack.cfg.service
    assert task["networkMode"] == "awsvpc"
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert (task["cpu"], task["memory"]) == (str(svc.cpu), str(svc.memory))
    assert task["runtimePlatform"] == {
        "operatingSystemFamily": "LINUX",
        "cpuArchitecture": "X86_64",
    }
    roles = api("iam")
    for key, logical in (
        ("executionRoleArn", "EcsTaskExecutionRole"),
        ("taskRoleArn", "EcsTaskRole"),
    ):
        assert task[key] == roles.get_role(RoleName=stack.physical[logical])["Role"]["Arn"]

    (container,) = task["containerDefinitions"]
    assert (container["name"], container["image"]) == (svc.name, svc.image)
    assert container["readonlyRootFilesystem"] is True
    assert [(m["containerPort"], m["protocol"]) for m in container["portMappings"]] == [
        (svc.container_port, "tcp")
    ]
    assert container["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": stack.physical["EcsServiceLogGroup"],
            "awslogs-region": REGION,
            "awslogs-stream-prefix": svc.name,
            "mode": "non-blocking",
            "max-buffer-size": "25m",
        },
    }
    volumes = {v["name"] for v in task["volumes"]}
    assert {m["sourceVolume"] for m in container["mountPoints"]} == volumes


def test_service_is_wired_to_target_group_cloud_map_and_subnets(api: Api, stack: Stack) -> None:
    ecs = api("ecs")
    cluster = stack.physical["EcsCluster"]
    (service,) = ecs.describe_services(cluster=cluster, services=[stack.physical["EcsService"]])[
        "services"
    ]
    svc = stack.cfg.service
    assert service["serviceName"] == stack.outputs["ServiceName"]["OutputValue"]
    assert service["clusterArn"].endswith(f":cluster/{cluster}")
    # Created with one task, moved to MinTasks when the scalable target registered.
    assert service["desiredCount"] == svc.desired_count
    assert service["taskDefinition"] == stack.physical["EcsTaskDefinition"]
    assert service["loadBalancers"] == [
        {
            "targetGroupArn": stack.physical["LoadBalancerTargetGroup"],
            "containerName": svc.name,
            "containerPort": svc.container_port,
        }
    ]
    registry = api("servicediscovery").get_service(Id=stack.physical["DiscoveryService"])["Service"]
    assert service["serviceRegistries"] == [{"registryArn": registry["Arn"]}]
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    assert network["subnets"] == stack.subnets
    assert network["securityGroups"] == [stack.physical["EcsServiceSecurityGroup"]]
    assert network["assignPublicIp"] == "ENABLED"
    # The tag that orders the service after the listener names the real listener.
    tags = ecs.list_tags_for_resource(resourceArn=service["serviceArn"])["tags"]
    assert {
        "key": "infra-gen:listener",
        "value": stack.physical["LoadBalancerHttpListener"],
    } in tags


# --------------------------------------------------------------------------------------
# Probe, schedule, logs.
# --------------------------------------------------------------------------------------


def test_probe_function(api: Api, stack: Stack) -> None:
    function = api("lambda").get_function(FunctionName=stack.physical["ProbeFunction"])
    config = function["Configuration"]
    probe = stack.cfg.probe
    assert config["Runtime"] == RUNTIME == "python3.14"
    assert config["Architectures"] == ["arm64"]
    assert config["Handler"] == "index.handler"
    assert (config["MemorySize"], config["Timeout"]) == (
        probe.memory_mb,
        probe.function_timeout_seconds,
    )
    role = api("iam").get_role(RoleName=stack.physical["ProbeRole"])["Role"]
    assert config["Role"] == role["Arn"]
    assert config["VpcConfig"]["SubnetIds"] == stack.subnets
    assert config["VpcConfig"]["SecurityGroupIds"] == [stack.physical["ProbeSecurityGroup"]]
    assert config["Environment"]["Variables"] == {
        "PROBE_STACK": stack.name,
        "PROBE_SERVICE_NAMES": stack.cfg.service.name,  # port 80 and /: the name alone
        "PROBE_NAMESPACE": stack.cfg.discovery.namespace,
        "PROBE_TIMEOUT_SECONDS": str(probe.request_timeout_seconds),
        "PROBE_MAX_BODY_BYTES": str(probe.max_body_bytes),
        "PROBE_METRIC_NAMESPACE": probe.metric_namespace,
    }


def test_schedule_invokes_the_function(api: Api, stack: Stack) -> None:
    events = api("events")
    rule_name = stack.physical["ProbeScheduleRule"]
    rule = events.describe_rule(Name=rule_name)
    function_arn = api("lambda").get_function(FunctionName=stack.physical["ProbeFunction"])[
        "Configuration"
    ]["FunctionArn"]
    assert (rule["ScheduleExpression"], rule["State"]) == (stack.cfg.probe.schedule, "ENABLED")
    assert events.list_targets_by_rule(Rule=rule_name)["Targets"] == [
        {
            "Id": "probe",
            "Arn": function_arn,
            "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60},
        }
    ]
    policy = json.loads(
        api("lambda").get_policy(FunctionName=stack.physical["ProbeFunction"])["Policy"]
    )
    (statement,) = policy["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["Arn"]


def test_log_groups_retention_and_encryption(api: Api, stack: Stack) -> None:
    expected = {"EcsServiceLogGroup", "ProbeLogGroup"}
    if stack.cfg.security.flow_logs:
        expected.add("NetworkFlowLogGroup")
    names = stack.ids("AWS::Logs::LogGroup")
    assert set(names) == expected
    logs = api("logs")
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
    key = None
    if stack.cfg.security.kms_logs:
        key = api("kms").describe_key(KeyId=stack.physical["LogsKey"])["KeyMetadata"]["Arn"]
    for name in names.values():
        assert groups[name]["retentionInDays"] == stack.cfg.service.log_retention_days
        assert groups[name].get("kmsKeyId") == key


def test_roles_trust_one_service_and_write_only_their_own_logs(api: Api, stack: Stack) -> None:
    # logical ID -> (trusted service, {inline policy: log group it may write to})
    expected: dict[str, tuple[str, dict[str, str | None]]] = {
        "EcsTaskExecutionRole": ("ecs-tasks", {"write-service-logs": "EcsServiceLogGroup"}),
        "EcsTaskRole": ("ecs-tasks", {}),
        "ProbeRole": (
            "lambda",
            {"write-probe-logs": "ProbeLogGroup", "vpc-network-interfaces": None},
        ),
    }
    if stack.cfg.security.flow_logs:
        expected["NetworkFlowLogRole"] = (
            "vpc-flow-logs",
            {"deliver-flow-logs": "NetworkFlowLogGroup"},
        )
    assert set(stack.ids("AWS::IAM::Role")) == set(expected)
    iam, logs = api("iam"), api("logs")
    group_arns = {g["logGroupName"]: g["arn"] for g in logs.describe_log_groups()["logGroups"]}
    for logical, (service, policies) in expected.items():
        name = stack.physical[logical]
        trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        principals = [s["Principal"] for s in trust["Statement"]]
        assert principals == [{"Service": [f"{service}.amazonaws.com"]}], logical
        assert sorted(iam.list_role_policies(RoleName=name)["PolicyNames"]) == sorted(policies)
        for policy, group in policies.items():
            document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
            writes = [s for s in document["Statement"] if "logs:PutLogEvents" in s["Action"]]
            if group is None:
                assert writes == [], (logical, policy)
                continue
            (statement,) = writes
            assert statement["Resource"] == [group_arns[stack.physical[group]]], (logical, policy)


# --------------------------------------------------------------------------------------
# Alarms, dashboard, outputs.
# --------------------------------------------------------------------------------------


def test_alarms_watch_this_stacks_resources(api: Api, stack: Stack) -> None:
    alarm_ids = stack.ids("AWS::CloudWatch::Alarm")
    assert len(alarm_ids) == 12
    alarms = {
        a["AlarmName"]: a
        for a in api("cloudwatch").describe_alarms(AlarmNames=list(alarm_ids.values()))[
            "MetricAlarms"
        ]
    }
    assert set(alarms) == set(alarm_ids.values())
    for logical, name in alarm_ids.items():
        # CloudFormation names an alarm <stack>-<logical ID>-<suffix>.
        assert name.startswith(f"{stack.name}-{logical}-")

    topic = stack.physical["AlarmTopic"]
    lb_name = stack.physical["LoadBalancer"].split(":loadbalancer/", 1)[1]
    tg_name = stack.physical["LoadBalancerTargetGroup"].split(":", 5)[5]
    service = {
        "ClusterName": stack.physical["EcsCluster"],
        "ServiceName": stack.outputs["ServiceName"]["OutputValue"],
    }
    expected_dimensions = {
        "AlarmProbeFailedRequests": {"Stack": stack.name, "Service": stack.cfg.service.name},
        "AlarmProbeNoInstances": {"Stack": stack.name, "Service": stack.cfg.service.name},
        "AlarmProbeNotRunning": {"FunctionName": stack.physical["ProbeFunction"]},
        "AlarmProbeErrors": {"FunctionName": stack.physical["ProbeFunction"]},
        "AlarmProbeThrottles": {"FunctionName": stack.physical["ProbeFunction"]},
        "AlarmLoadBalancer5xx": {"LoadBalancer": lb_name},
        "AlarmTarget5xx": {"TargetGroup": tg_name, "LoadBalancer": lb_name},
        "AlarmUnhealthyTargets": {"TargetGroup": tg_name, "LoadBalancer": lb_name},
        "AlarmResponseTime": {"TargetGroup": tg_name, "LoadBalancer": lb_name},
        "AlarmServiceCpu": service,
        "AlarmServiceMemory": service,
    }
    for logical, name in alarm_ids.items():
        alarm = alarms[name]
        assert alarm["AlarmActions"] == alarm["OKActions"] == [topic], logical
        if logical == "AlarmRunningTasks":
            stats = [q for q in alarm["Metrics"] if "MetricStat" in q]
            assert [q["MetricStat"]["Metric"]["MetricName"] for q in stats] == [
                "DesiredTaskCount",
                "RunningTaskCount",
            ]
            for query in stats:
                dims = query["MetricStat"]["Metric"]["Dimensions"]
                assert {d["Name"]: d["Value"] for d in dims} == service
            continue
        if alarm.get("Metrics"):  # an error rate: errors and requests of the same resource
            stats = [q["MetricStat"]["Metric"] for q in alarm["Metrics"] if "MetricStat" in q]
            assert [m["MetricName"].split("_")[-1] for m in stats] == ["Count", "RequestCount"]
            for m in stats:
                dims = {d["Name"]: d["Value"] for d in m["Dimensions"]}
                assert dims == expected_dimensions[logical], logical
            continue
        dims = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        assert dims == expected_dimensions[logical], logical


def test_dashboard_names_this_stacks_resources(api: Api, stack: Stack) -> None:
    name = stack.physical["Dashboard"]
    body = api("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"]
    assert "${" not in body and "Fn::" not in body
    values = {
        v
        for w in json.loads(body)["widgets"]
        for row in w["properties"]["metrics"]
        for v in row
        if isinstance(v, str)
    }
    assert {
        stack.physical["LoadBalancer"].split(":loadbalancer/", 1)[1],
        stack.physical["LoadBalancerTargetGroup"].split(":", 5)[5],
        stack.physical["EcsCluster"],
        stack.outputs["ServiceName"]["OutputValue"],
        stack.physical["ProbeFunction"],
    } <= values


def test_outputs(api: Api, stack: Stack) -> None:
    outputs = {k: o["OutputValue"] for k, o in stack.outputs.items()}
    (lb,) = api("elbv2").describe_load_balancers(LoadBalancerArns=[stack.physical["LoadBalancer"]])[
        "LoadBalancers"
    ]
    (service,) = api("ecs").describe_services(
        cluster=stack.physical["EcsCluster"], services=[stack.physical["EcsService"]]
    )["services"]
    discovery = f"{stack.cfg.service.name}.{stack.cfg.discovery.namespace}"
    assert outputs == {
        "ServiceUrl": f"http://{lb['DNSName']}",
        "LoadBalancerDnsName": lb["DNSName"],
        "ClusterName": stack.physical["EcsCluster"],
        "ServiceName": service["serviceName"],
        "NamespaceName": stack.cfg.discovery.namespace,
        "NamespaceId": stack.physical["DiscoveryNamespace"],
        "DiscoveryName": discovery,
        "DashboardUrl": (
            f"https://console.aws.amazon.com/cloudwatch/home?region={REGION}"
            f"#dashboards:name={stack.physical['Dashboard']}"
        ),
    }
    exports = {k: o.get("ExportName") for k, o in stack.outputs.items()}
    # ServiceUrl's scheme changes with CertificateArn: not exported, the DNS name is.
    unexported = ("DashboardUrl", "ServiceUrl")
    assert exports == {k: (None if k in unexported else f"{stack.name}-{k}") for k in outputs}


# --------------------------------------------------------------------------------------
# Hardening switches.
# --------------------------------------------------------------------------------------


def test_flow_logs_deliver_to_their_group(api: Api, hardened: Stack) -> None:
    (flow,) = api("ec2").describe_flow_logs(FlowLogIds=[hardened.physical["NetworkFlowLog"]])[
        "FlowLogs"
    ]
    assert flow["ResourceId"] == hardened.physical["NetworkVpc"]
    assert flow["TrafficType"] == "ALL"
    assert flow["LogDestinationType"] == "cloud-watch-logs"
    assert flow["LogGroupName"] == hardened.physical["NetworkFlowLogGroup"]
    role = api("iam").get_role(RoleName=hardened.physical["NetworkFlowLogRole"])["Role"]
    assert flow["DeliverLogsPermissionArn"] == role["Arn"]


def test_logs_key_rotates_and_admits_cloudwatch_logs(api: Api, hardened: Stack) -> None:
    kms = api("kms")
    key_id = hardened.physical["LogsKey"]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    principals = {s["Sid"]: s["Principal"] for s in policy["Statement"]}
    assert principals == {
        "AccountAdministersKey": {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]},
        "CloudWatchLogsUsesKeyForThisAccountsGroups": {"Service": [f"logs.{REGION}.amazonaws.com"]},
    }


def test_access_log_bucket_encryption(api: Api, hardened: Stack) -> None:
    s3 = api("s3")
    bucket = hardened.physical["LoadBalancerAccessLogBucket"]
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert [r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules] == ["AES256"]


def test_a_private_image_of_this_account_gets_pull_access(api: Api) -> None:
    name = "infra-gen-private-image"
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/web:1.0"
    zones = ["use1-az2", "use1-az4"]
    cfg = Config.from_mapping(
        {"service": {"image": image}, "network": {"availability_zone_ids": zones}}
    )
    assert deploy(api, name, render(build_template(cfg), "yaml")) == "CREATE"
    stack = read_stack(api, name, cfg)
    iam = api("iam")
    role = stack.physical["EcsTaskExecutionRole"]
    assert sorted(iam.list_role_policies(RoleName=role)["PolicyNames"]) == [
        "pull-image",
        "write-service-logs",
    ]
    document = iam.get_role_policy(RoleName=role, PolicyName="pull-image")["PolicyDocument"]
    token, images = document["Statement"]
    assert token["Action"] == ["ecr:GetAuthorizationToken"]
    # The one repository of service.image; ServiceImage accepts only its tags and digests.
    assert images["Resource"] == [f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/web"]
    # A public image gets none: see test_roles_trust_one_service_and_write_only_their_own_logs.
    # The subnets went to the AZ IDs given.
    subnets = api("ec2").describe_subnets(SubnetIds=stack.subnets)["Subnets"]
    by_id = {s["SubnetId"]: s["AvailabilityZoneId"] for s in subnets}
    assert [by_id[s] for s in stack.subnets] == zones


def test_the_governed_profile_deploys_with_private_tasks(api: Api) -> None:
    name = "infra-gen-governed"
    cfg = Config.from_mapping(GOVERNED)
    # moto's load balancer checks the certificate exists: request one from its ACM.
    certificate = api("acm").request_certificate(DomainName="www.example.com")["CertificateArn"]
    body = render(build_template(cfg), "json")
    assert deploy(api, name, body, {"CertificateArn": certificate}) == "CREATE"
    stack = read_stack(api, name, cfg)
    assert stack.description["StackStatus"] == "CREATE_COMPLETE"
    assert set(stack.physical) == {
        lid for lid, r in stack.template["Resources"].items() if r["Type"] not in NOT_EMULATED
    }
    ec2 = api("ec2")
    private = [stack.physical[f"NetworkPrivateSubnet{n}"] for n in (1, 2)]
    subnets = {s["SubnetId"]: s for s in ec2.describe_subnets(SubnetIds=private)["Subnets"]}
    assert [subnets[s]["AvailabilityZoneId"] for s in private] == ["use1-az1", "use1-az2"]
    assert [subnets[s]["CidrBlock"] for s in private] == list(cfg.network.private_subnets)
    # Each private subnet's table sends 0.0.0.0/0 to the NAT gateway of its AZ's public subnet.
    for n, subnet in enumerate(private, start=1):
        (table,) = ec2.describe_route_tables(
            Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
        )["RouteTables"]
        (route,) = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
        assert route["NatGatewayId"] == stack.physical[f"NetworkNatGateway{n}"]
        (nat,) = ec2.describe_nat_gateways(NatGatewayIds=[route["NatGatewayId"]])["NatGateways"]
        assert nat["SubnetId"] == stack.physical[f"NetworkPublicSubnet{n}"]
    ecs = api("ecs")
    (service,) = ecs.describe_services(
        cluster=stack.physical["EcsCluster"], services=[stack.physical["EcsService"]]
    )["services"]
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    assert (network["assignPublicIp"], network["subnets"]) == ("DISABLED", private)
    task = ecs.describe_task_definition(taskDefinition=stack.physical["EcsTaskDefinition"])
    (container,) = task["taskDefinition"]["containerDefinitions"]
    assert (container["user"], container["memory"], container["stopTimeout"]) == ("101", 512, 120)
    assert container["portMappings"][0]["containerPort"] == 8080
    function = api("lambda").get_function(FunctionName=stack.physical["ProbeFunction"])
    assert sorted(function["Configuration"]["VpcConfig"]["SubnetIds"]) == sorted(private)
    elb = api("elbv2")
    listeners = elb.describe_listeners(LoadBalancerArn=stack.physical["LoadBalancer"])["Listeners"]
    by_port = {item["Port"]: item for item in listeners}
    assert by_port[443]["Certificates"] == [{"CertificateArn": certificate}]
    assert by_port[80]["DefaultActions"][0]["Type"] == "redirect"


# --------------------------------------------------------------------------------------
# Update with --parameter-overrides.
# --------------------------------------------------------------------------------------

OVERRIDES = {"MinTasks": "3", "ServiceImage": "docker.io/library/nginx:stable-alpine"}


def test_update_with_parameter_overrides(api: Api) -> None:
    name = "infra-gen-update"
    body = render(build_template(Config()), "yaml")
    assert deploy(api, name, body) == "CREATE"
    before = read_stack(api, name, Config())
    assert deploy(api, name, body, OVERRIDES) == "UPDATE"
    after = read_stack(api, name, Config())

    assert after.description["StackStatus"] == "UPDATE_COMPLETE"
    assert after.parameters == {**before.parameters, **OVERRIDES}
    ecs = api("ecs")
    (service,) = ecs.describe_services(
        cluster=after.physical["EcsCluster"], services=[after.physical["EcsService"]]
    )["services"]
    assert after.physical["EcsService"] == before.physical["EcsService"]  # updated in place
    assert service["desiredCount"] == 3
    # A new image replaces the task definition; the old revision is deregistered.
    new_task = after.physical["EcsTaskDefinition"]
    assert new_task != before.physical["EcsTaskDefinition"]
    assert service["taskDefinition"] == new_task
    task = ecs.describe_task_definition(taskDefinition=new_task)["taskDefinition"]
    assert [c["image"] for c in task["containerDefinitions"]] == [OVERRIDES["ServiceImage"]]
    assert task["networkMode"] == "awsvpc"
    old = ecs.describe_task_definition(taskDefinition=before.physical["EcsTaskDefinition"])
    assert old["taskDefinition"]["status"] == "INACTIVE"
    # Everything the overrides do not touch stays as it was.
    untouched = {k for k in before.physical if k not in ("EcsTaskDefinition",)}
    assert {k: after.physical[k] for k in untouched} == {k: before.physical[k] for k in untouched}


def test_an_update_keeps_the_count_that_scaling_chose(api: Api) -> None:
    name = "infra-gen-scaled"
    body = render(build_template(Config()), "yaml")
    assert deploy(api, name, body) == "CREATE"
    stack = read_stack(api, name, Config())
    ecs = api("ecs")
    cluster, service = stack.physical["EcsCluster"], stack.physical["EcsService"]
    # What Application Auto Scaling does on a scale-out: set the service's count.
    ecs.update_service(cluster=cluster, service=service, desiredCount=7)
    overrides = {"ServiceImage": "docker.io/library/nginx:stable-alpine"}
    assert deploy(api, name, body, overrides) == "UPDATE"
    after = read_stack(api, name, Config())
    (updated,) = ecs.describe_services(cluster=cluster, services=[service])["services"]
    assert updated["taskDefinition"] == after.physical["EcsTaskDefinition"]  # it was updated
    assert updated["desiredCount"] == 7


def test_overrides_outside_the_constraints_never_reach_cloudformation(api: Api) -> None:
    body = render(build_template(Config()), "yaml")
    with pytest.raises(ParameterValidationError, match="MinTasks"):
        deploy(api, "infra-gen-rejected", body, {"MinTasks": "0"})
    cfn = api("cloudformation")
    assert "infra-gen-rejected" not in {s["StackName"] for s in cfn.list_stacks()["StackSummaries"]}


# --------------------------------------------------------------------------------------
# Parameter constraints, checked as CloudFormation checks them (moto does not).
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def declared() -> dict[str, dict[str, Any]]:
    return dict(json.loads(render(build_template(Config()), "json"))["Parameters"])


@pytest.mark.parametrize("name", sorted(STACKS))
def test_parameter_defaults_satisfy_their_own_constraints(name: str) -> None:
    params = json.loads(render(build_template(STACKS[name][0]), "json"))["Parameters"]
    defaults = {k: str(v["Default"]) for k, v in params.items()}
    assert parameter_errors(params, defaults) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ProbeSchedule", "rate(0 minutes)"),
        ("ProbeSchedule", "every minute"),
        ("ProbeSchedule", "rate(1 minutes)"),
        ("ProbeSchedule", "rate(5 minute)"),
        ("ProbeSchedule", "cron(0/5 * * * ?)"),
        ("ProbeSchedule", "rate(5 minutes) "),
        ("ProbeSchedule", "rate(10 minutes)"),  # slower than the not-running alarm's window
        ("ProbeSchedule", "cron(0/5 * * * ? *)"),
        ("TaskSize", "256/4096"),
        ("TaskSize", "256"),
        ("TaskSize", "512/512"),
        ("MinTasks", "0"),
        ("MinTasks", "11"),  # above scaling.max_tasks, where MaxTasks starts
        ("MinTasks", "two"),
        ("MaxTasks", "9"),
        ("MaxTasks", "101"),
        ("ServiceImage", "nginx:"),
        ("ServiceImage", "Docker.io/Library/NGINX"),
        ("ServiceImage", "docker.io/library/nginx:stable alpine"),
        ("ServiceImage", "docker.io/library/nginx@sha256:abc"),
        ("ServiceImage", "docker.io//nginx"),
        ("ServiceImage", ""),
        ("LogRetentionDays", "2"),
        ("DeletionProtection", "yes"),
        ("CertificateArn", "arn:aws:iam::123456789012:server-certificate/x"),
        ("AlarmEmail", "on-call"),
    ],
)
def test_bad_override_is_rejected(
    declared: dict[str, dict[str, Any]], name: str, value: str
) -> None:
    errors = parameter_errors(declared, {name: value})
    assert len(errors) == 1 and f"'{name}'" in errors[0]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ProbeSchedule", "rate(1 minute)"),
        ("ProbeSchedule", "rate(2 minutes)"),
        ("ProbeSchedule", "rate(5 minutes)"),
        ("TaskSize", "1024/4096"),
        ("TaskSize", "16384/122880"),
        ("MinTasks", "1"),
        ("MinTasks", "10"),
        ("MaxTasks", "10"),
        ("MaxTasks", "100"),
        ("ServiceImage", "docker.io/library/nginx:stable-alpine"),
        ("ServiceImage", "nginx"),
        ("ServiceImage", "localhost:5000/team/nginx:1.27"),
        ("ServiceImage", "public.ecr.aws/docker/library/nginx@sha256:" + "a" * 64),
        ("LogRetentionDays", "3653"),
        ("DeletionProtection", "true"),
        ("CertificateArn", "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f"),
        ("AlarmEmail", "on-call@example.com"),
        ("AlarmEmail", ""),
    ],
)
def test_good_override_is_accepted(
    declared: dict[str, dict[str, Any]], name: str, value: str
) -> None:
    assert parameter_errors(declared, {name: value}) == []


def test_every_parameter_is_constrained(declared: dict[str, dict[str, Any]]) -> None:
    keys = {"AllowedValues", "AllowedPattern", "MinValue", "MaxValue"}
    assert all(keys & spec.keys() for spec in declared.values())
    assert parameter_errors(declared, {"NoSuchParameter": "1"}) == [
        "Parameters: [NoSuchParameter] do not exist in the template"
    ]


# --------------------------------------------------------------------------------------
# Canary and linear: ECS shifts the traffic between two target groups.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("deployment", ["canary", "linear"])
def test_a_shifted_deployment_deploys_with_its_rule_role_and_rates(
    api: Api, deployment: str
) -> None:
    name = f"infra-gen-{deployment}"
    cfg = Config.from_mapping({"service": {"deployment": deployment}})
    built = build_stack(cfg)
    built.add_service(
        "Api",
        {"name": "api"},
        path_pattern="/api/*",
        priority=10,
        all_alarms=True,
        deployment=deployment,
    )
    body = json.dumps(built.template.to_dict(), separators=(",", ":"))
    # Two shifted services with every alarm: over the inline limit, from S3.
    assert deploy(api, name, body, s3_bucket=f"{name}-templates") == "CREATE"
    stack = read_stack(api, name, cfg)
    assert stack.description["StackStatus"] == "CREATE_COMPLETE"
    template = json.loads(body)
    assert set(stack.physical) == {
        lid
        for lid, r in template["Resources"].items()
        if r["Type"] not in NOT_EMULATED and r.get("Condition") not in FALSE_CONDITIONS
    }
    ecs, elb, iam = api("ecs"), api("elbv2"), api("iam")
    role = stack.physical["EcsLoadBalancerRole"]
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == [
        "AmazonECSInfrastructureRolePolicyForLoadBalancers"
    ]
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": ["ecs.amazonaws.com"]}]
    role_arn = iam.get_role(RoleName=role)["Role"]["Arn"]
    for scope, priority, path in (("", 50000, "/*"), ("Api", 10, "/api/*")):
        primary = stack.physical[f"{scope}LoadBalancerTargetGroup"]
        alternate = stack.physical[f"{scope}LoadBalancerAlternateTargetGroup"]
        rule_arn = stack.physical[f"{scope}LoadBalancerRule"]
        (rule,) = elb.describe_rules(RuleArns=[rule_arn])["Rules"]
        (condition,) = rule["Conditions"]
        assert (rule["Priority"], condition["PathPatternConfig"]["Values"]) == (
            str(priority),
            [path],
        )
        (action,) = rule["Actions"]
        weights = [
            (g["TargetGroupArn"], g["Weight"]) for g in action["ForwardConfig"]["TargetGroups"]
        ]
        assert weights == [(primary, 100), (alternate, 0)]
        (service,) = ecs.describe_services(
            cluster=stack.physical["EcsCluster"], services=[stack.physical[f"{scope}EcsService"]]
        )["services"]
        (balancer,) = service["loadBalancers"]
        assert balancer["targetGroupArn"] == primary
        # moto keeps what CreateService was given here, checked by botocore against
        # the ECS API model on the way in.
        assert balancer["advancedConfiguration"] == {
            "alternateTargetGroupArn": alternate,
            "productionListenerRule": rule_arn,
            "roleArn": role_arn,
        }
        # moto drops deploymentConfiguration (strategy, bake times, alarms): the bridge
        # passed them through botocore, which refuses a member the API lacks; the
        # values are what the emulator's CloudFormation resolved.
        config = DEPLOYMENT_CONFIGURATIONS[service["serviceArn"]]
        assert config["strategy"] == deployment.upper()
        assert config["bakeTimeInMinutes"] == 15
        assert "deploymentCircuitBreaker" not in config  # rolling deployments only
        assert {
            "canary": (
                "canaryConfiguration",
                {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 15},
            ),
            "linear": ("linearConfiguration", {"stepPercent": 20.0, "stepBakeTimeInMinutes": 5}),
        }[deployment] in config.items()
        assert (config["alarms"]["enable"], config["alarms"]["rollback"]) == (True, True)
        rollback = config["alarms"]["alarmNames"]
        assert rollback == [
            stack.physical[f"{scope}{a}"]
            for a in (
                "AlarmTarget5xx",
                "AlarmUnhealthyTargets",
                "AlarmResponseTime",
                "AlarmProbeFailedRequests",
            )
        ]
        (rate,) = api("cloudwatch").describe_alarms(AlarmNames=[rollback[0]])["MetricAlarms"]
        groups = {
            d["Value"]
            for q in rate["Metrics"]
            if "MetricStat" in q
            for d in q["MetricStat"]["Metric"]["Dimensions"]
            if d["Name"] == "TargetGroup"
        }
        assert groups == {arn.split(":", 5)[5] for arn in (primary, alternate)}
