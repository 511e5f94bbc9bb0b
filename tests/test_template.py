"""Per-concern wiring of the template: what reaches what, and what depends on what."""

from __future__ import annotations

import re

import pytest
from stack import of_type, props, refs, template

from infra_gen import Config
from infra_gen.config import FARGATE_TASK_SIZES


@pytest.fixture(scope="module")
def t() -> dict:
    return template()


def test_vpc_resolves_private_dns(t: dict) -> None:
    vpc = props(t, "NetworkVpc")
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    assert vpc["EnableDnsSupport"] is True and vpc["EnableDnsHostnames"] is True


@pytest.mark.parametrize("az_count", [2, 3])
def test_one_public_subnet_per_az_routed_to_the_gateway(az_count: int) -> None:
    t = template(Config.from_mapping({"network": {"az_count": az_count}}))
    subnets = of_type(t, "AWS::EC2::Subnet")
    assert len(subnets) == az_count
    azs = [s["Properties"]["AvailabilityZone"]["Fn::Select"][0] for s in subnets.values()]
    assert sorted(azs) == list(range(az_count))
    associations = of_type(t, "AWS::EC2::SubnetRouteTableAssociation").values()
    assert {a["Properties"]["SubnetId"]["Ref"] for a in associations} == set(subnets)
    assert {a["Properties"]["RouteTableId"]["Ref"] for a in associations} == {
        "NetworkPublicRouteTable"
    }
    route = t["Resources"]["NetworkPublicDefaultRoute"]
    assert route["Properties"]["DestinationCidrBlock"] == "0.0.0.0/0"
    assert route["Properties"]["GatewayId"] == {"Ref": "NetworkInternetGateway"}
    assert route["DependsOn"] == "NetworkGatewayAttachment"


def test_cluster_schedules_on_fargate_and_spot(t: dict) -> None:
    cluster = props(t, "EcsCluster")
    assert cluster["CapacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    strategy = {s["CapacityProvider"]: s for s in cluster["DefaultCapacityProviderStrategy"]}
    assert strategy["FARGATE"]["Weight"] == 1 and strategy["FARGATE_SPOT"]["Weight"] == 1
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["ClusterSettings"]


def test_strategy_follows_the_config() -> None:
    cfg = Config.from_mapping(
        {"cluster": {"fargate_weight": 0, "fargate_spot_weight": 3, "fargate_base": 1}}
    )
    strategy = props(template(cfg), "EcsCluster")["DefaultCapacityProviderStrategy"]
    assert strategy == [
        {"Base": 1, "CapacityProvider": "FARGATE", "Weight": 0},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 3},
    ]


def test_service_uses_the_cluster_strategy_public_ips_lb_and_cloud_map(t: dict) -> None:
    service = props(t, "EcsService")
    assert "LaunchType" not in service and "CapacityProviderStrategy" not in service
    vpc = service["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert vpc["AssignPublicIp"] == "ENABLED"
    assert vpc["Subnets"] == [{"Ref": "NetworkPublicSubnet1"}, {"Ref": "NetworkPublicSubnet2"}]
    assert vpc["SecurityGroups"] == [{"Ref": "EcsServiceSecurityGroup"}]
    assert service["LoadBalancers"] == [
        {
            "ContainerName": "nginx",
            "ContainerPort": 80,
            "TargetGroupArn": {"Ref": "LoadBalancerTargetGroup"},
        }
    ]
    assert service["ServiceRegistries"] == [
        {"RegistryArn": {"Fn::GetAtt": ["DiscoveryService", "Arn"]}}
    ]
    assert service["DesiredCount"] == {"Ref": "DesiredCount"}
    deployment = service["DeploymentConfiguration"]
    assert deployment["MinimumHealthyPercent"] == 100 and deployment["MaximumPercent"] == 200
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


def test_service_starts_after_the_listener_that_forwards_to_it(t: dict) -> None:
    service = t["Resources"]["EcsService"]
    # Through Fn::If: the HTTPS listener with a certificate, the HTTP one without.
    assert {"LoadBalancerHttpsListener", "LoadBalancerHttpListener"} <= refs(service)
    https = t["Resources"]["LoadBalancerHttpsListener"]
    assert https["Condition"] == "HasCertificate"


def test_task_definition(t: dict) -> None:
    task = props(t, "EcsTaskDefinition")
    assert task["RequiresCompatibilities"] == ["FARGATE"] and task["NetworkMode"] == "awsvpc"
    assert task["Cpu"] == {"Fn::Select": [0, {"Fn::Split": ["/", {"Ref": "TaskSize"}]}]}
    assert task["Memory"] == {"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": "TaskSize"}]}]}
    assert task["RuntimePlatform"]["CpuArchitecture"] == "X86_64"  # FARGATE_SPOT needs it
    (container,) = task["ContainerDefinitions"]
    assert container["Image"] == {"Ref": "ServiceImage"}
    assert container["PortMappings"][0]["ContainerPort"] == 80
    assert container["ReadonlyRootFilesystem"] is True
    mounted = {m["ContainerPath"] for m in container["MountPoints"]}
    assert mounted == {"/var/cache/nginx", "/var/run"}
    log = container["LogConfiguration"]
    assert log["LogDriver"] == "awslogs"
    assert log["Options"]["awslogs-group"] == {"Ref": "EcsServiceLogGroup"}
    assert props(t, "EcsServiceLogGroup")["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_execution_role_may_write_only_its_log_group(t: dict) -> None:
    role = props(t, "EcsTaskExecutionRole")
    assert "ManagedPolicyArns" not in role
    (policy,) = role["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == [{"Fn::GetAtt": ["EcsServiceLogGroup", "Arn"]}]
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": ["ecs-tasks.amazonaws.com"]}
    assert "Policies" not in props(t, "EcsTaskRole")


def test_cloud_map_namespace_and_service(t: dict) -> None:
    namespace = props(t, "DiscoveryNamespace")
    assert namespace["Name"] == "infra-gen.internal"
    assert namespace["Vpc"] == {"Ref": "NetworkVpc"}
    service = props(t, "DiscoveryService")
    assert service["Name"] == "nginx"
    assert service["NamespaceId"] == {"Ref": "DiscoveryNamespace"}
    assert service["DnsConfig"]["RoutingPolicy"] == "MULTIVALUE"
    assert service["DnsConfig"]["DnsRecords"] == [{"TTL": 10, "Type": "A"}]
    assert "HealthCheckCustomConfig" in service


def test_target_group_health_check(t: dict) -> None:
    tg = props(t, "LoadBalancerTargetGroup")
    assert tg["TargetType"] == "ip" and tg["Port"] == 80
    assert tg["HealthCheckPath"] == "/"
    assert tg["VpcId"] == {"Ref": "NetworkVpc"}


def test_load_balancer_is_public_in_every_subnet(t: dict) -> None:
    lb = props(t, "LoadBalancer")
    assert lb["Scheme"] == "internet-facing"
    assert lb["Subnets"] == [{"Ref": "NetworkPublicSubnet1"}, {"Ref": "NetworkPublicSubnet2"}]


def test_every_parameter_is_constrained_grouped_and_its_default_allowed(t: dict) -> None:
    grouped = {
        p for g in t["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        for p in g["Parameters"]
    }  # fmt: skip
    assert grouped == set(t["Parameters"])
    for name, param in t["Parameters"].items():
        default = str(param["Default"])
        if "AllowedValues" in param:
            assert default in [str(v) for v in param["AllowedValues"]], name
        elif "AllowedPattern" in param:
            assert re.fullmatch(param["AllowedPattern"], default), name
        else:
            assert param["MinValue"] <= param["Default"] <= param["MaxValue"], name


def test_task_size_parameter_offers_exactly_fargates_sizes(t: dict) -> None:
    offered = t["Parameters"]["TaskSize"]["AllowedValues"]
    expected = [f"{c}/{m}" for c, sizes in FARGATE_TASK_SIZES.items() for m in sizes]
    assert offered == expected
    assert "256/4096" not in offered
    assert t["Parameters"]["TaskSize"]["Default"] == "256/512"


def test_parameter_defaults_come_from_the_config() -> None:
    cfg = Config.from_mapping(
        {
            "service": {"image": "docker.io/library/nginx:1.27", "desired_count": 5,
                        "cpu": 2048, "memory": 8192, "log_retention_days": 90},
            "probe": {"schedule": "rate(5 minutes)"},
        }
    )  # fmt: skip
    params = template(cfg)["Parameters"]
    assert params["ServiceImage"]["Default"] == "docker.io/library/nginx:1.27"
    assert params["DesiredCount"]["Default"] == 5
    assert params["TaskSize"]["Default"] == "2048/8192"
    assert params["LogRetentionDays"]["Default"] == 90
    assert params["ProbeSchedule"]["Default"] == "rate(5 minutes)"


def test_outputs_are_exported(t: dict) -> None:
    expected = {
        "ServiceUrl", "LoadBalancerDnsName", "ClusterName", "ServiceName", "NamespaceName",
        "NamespaceId", "DiscoveryName", "DashboardUrl",
    }  # fmt: skip
    assert expected <= set(t["Outputs"])
    assert t["Outputs"]["DiscoveryName"]["Value"] == {
        "Fn::Join": [".", [{"Fn::GetAtt": ["DiscoveryService", "Name"]}, "infra-gen.internal"]]
    }
    for name in expected - {"DashboardUrl"}:
        assert t["Outputs"][name]["Export"] == {"Name": {"Fn::Sub": "${AWS::StackName}-" + name}}


def test_no_hard_coded_arns() -> None:
    text = str(template(Config.from_mapping({"security": {"kms_logs": True, "flow_logs": True,
                                                          "alb_access_logs": True}})))  # fmt: skip
    assert "arn:aws:" not in text
