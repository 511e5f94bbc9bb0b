"""Per-concern wiring of the template: what reaches what, and what depends on what."""

from __future__ import annotations

import json
import re

import pytest

from infra_gen import Config, ConfigError, build_stack, render
from infra_gen.config import FARGATE_TASK_SIZES
from tests.support.stack import DOMAIN, GOVERNED, of_type, props, refs, template


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
    # Until its association exists, a subnet uses the main route table (no internet): the
    # load balancer, and through it the service and its image pulls, wait for every one.
    needs = set(t["Resources"]["LoadBalancer"]["DependsOn"])
    assert {
        "NetworkPublicDefaultRoute",
        *(a for a in of_type(t, "AWS::EC2::SubnetRouteTableAssociation")),
    } <= needs


def test_cluster_schedules_on_fargate_and_spot(t: dict) -> None:
    cluster = props(t, "EcsCluster")
    assert cluster["CapacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    strategy = {s["CapacityProvider"]: s for s in cluster["DefaultCapacityProviderStrategy"]}
    assert strategy["FARGATE"]["Weight"] == 1 and strategy["FARGATE_SPOT"]["Weight"] == 1
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["ClusterSettings"]


def test_strategy_follows_the_config_on_cluster_and_service() -> None:
    cfg = Config.from_mapping(
        {"cluster": {"fargate_weight": 0, "fargate_spot_weight": 3, "fargate_base": 2}}
    )
    t = template(cfg)
    expected = [
        {"Base": 2, "CapacityProvider": "FARGATE", "Weight": 0},
        {"CapacityProvider": "FARGATE_SPOT", "Weight": 3},
    ]
    assert props(t, "EcsCluster")["DefaultCapacityProviderStrategy"] == expected
    assert props(t, "EcsService")["CapacityProviderStrategy"] == expected


def test_one_on_demand_task_by_default_so_spot_never_takes_the_last(t: dict) -> None:
    (on_demand,) = [
        s
        for s in props(t, "EcsService")["CapacityProviderStrategy"]
        if s["CapacityProvider"] == "FARGATE"
    ]
    assert on_demand["Base"] >= 1 and t["Parameters"]["MinTasks"]["MinValue"] >= 1


def test_service_names_the_cluster_strategy_public_ips_lb_and_cloud_map(t: dict) -> None:
    service = props(t, "EcsService")
    # ECS applies the cluster default only at creation: the service names the same
    # strategy itself, so a changed mix reaches it on the next update.
    assert "LaunchType" not in service
    assert (
        service["CapacityProviderStrategy"]
        == props(t, "EcsCluster")["DefaultCapacityProviderStrategy"]
    )
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
    # Scaling owns the count: with no DesiredCount, an update never resets it.
    assert "DesiredCount" not in service
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
    log = container["LogConfiguration"]
    assert log["LogDriver"] == "awslogs"
    assert log["Options"]["awslogs-group"] == {"Ref": "EcsServiceLogGroup"}
    # Not left to the account's default log driver mode: never block nginx on logging.
    assert log["Options"]["mode"] == "non-blocking"
    assert re.fullmatch(r"[0-9]+m", log["Options"]["max-buffer-size"])
    assert props(t, "EcsServiceLogGroup")["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_execution_role_may_write_only_its_log_group(t: dict) -> None:
    role = props(t, "EcsTaskExecutionRole")
    assert "ManagedPolicyArns" not in role
    policy, pull = role["Policies"]
    assert pull["Fn::If"][0] == "IsPrivateEcrImage" and pull["Fn::If"][2] == {"Ref": "AWS::NoValue"}
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
        p
        for g in t["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        for p in g["Parameters"]
    }
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
    pattern = t["Parameters"]["TaskSize"]["AllowedPattern"]
    # Every cpu value Fargate knows against every memory size in 512 MiB steps.
    candidates = {f"{c}/{m}" for c in FARGATE_TASK_SIZES for m in range(512, 123_393, 512)}
    accepted = {v for v in candidates if re.fullmatch(pattern, v)}
    assert accepted == {f"{c}/{m}" for c, sizes in FARGATE_TASK_SIZES.items() for m in sizes}
    assert not re.fullmatch(pattern, "256/512 ") and not re.fullmatch(pattern, "1256/512")
    assert t["Parameters"]["TaskSize"]["Default"] == "256/512"


def test_parameter_defaults_come_from_the_config() -> None:
    cfg = Config.from_mapping(
        {
            "service": {
                "image": "docker.io/library/nginx:1.27",
                "desired_count": 5,
                "cpu": 2048,
                "memory": 8192,
                "log_retention_days": 90,
            },
            "probe": {"schedule": "rate(5 minutes)"},
        }
    )
    params = template(cfg)["Parameters"]
    assert params["ServiceImage"]["Default"] == "docker.io/library/nginx:1.27"
    assert params["MinTasks"]["Default"] == 5
    assert params["TaskSize"]["Default"] == "2048/8192"
    assert params["LogRetentionDays"]["Default"] == 90
    assert params["ProbeSchedule"]["Default"] == "rate(5 minutes)"


def test_outputs_are_exported_unless_a_parameter_changes_them(t: dict) -> None:
    expected = {
        "ServiceUrl",
        "LoadBalancerDnsName",
        "ClusterName",
        "ServiceName",
        "NamespaceName",
        "NamespaceId",
        "DiscoveryName",
        "DashboardUrl",
    }
    assert expected <= set(t["Outputs"])
    assert t["Outputs"]["DiscoveryName"]["Value"] == {
        "Fn::Join": [".", [{"Fn::GetAtt": ["DiscoveryService", "Name"]}, "infra-gen.internal"]]
    }
    # CertificateArn turns ServiceUrl's scheme to https, and CloudFormation refuses to change
    # an exported value another stack imports: the DNS name is exported instead.
    assert "HasCertificate" in json.dumps(t["Outputs"]["ServiceUrl"]["Value"])
    for name in expected - {"DashboardUrl", "ServiceUrl"}:
        assert t["Outputs"][name]["Export"] == {"Name": {"Fn::Sub": "${AWS::StackName}-" + name}}
    assert {k for k, o in t["Outputs"].items() if "Export" not in o} == {
        "DashboardUrl",
        "ServiceUrl",
    }


@pytest.mark.parametrize("mapping", [{}, GOVERNED, DOMAIN], ids=["default", "governed", "domain"])
def test_no_exported_value_changes_with_a_parameter(mapping: dict) -> None:
    stack = build_stack(mapping)
    stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10)
    outputs = json.loads(render(stack.template, "json"))["Outputs"]
    parameters = set(stack.template.parameters) | set(stack.template.conditions)
    for name, output in outputs.items():
        if "Export" in output:
            assert not refs(output["Value"]) & parameters, name
            assert "Fn::If" not in json.dumps(output["Value"]), name
    # A URL fixed at generation is exported: governed and with a domain, always https.
    assert ("Export" in outputs["ServiceUrl"]) == bool(mapping)


def test_no_hard_coded_arns() -> None:
    text = str(
        template(
            Config.from_mapping(
                {"security": {"kms_logs": True, "flow_logs": True, "alb_access_logs": True}}
            )
        )
    )
    assert "arn:aws:" not in text


# Where the official nginx image's nginx writes, as its packaging sets it. Source:
# github.com/nginx/pkg-oss (commit e6727633, April 2026): alpine/alpine/nginx.conf and
# debian/debian/nginx.conf say "pid /run/nginx.pid;", and the configure arguments in
# alpine/Makefile and debian/Makefile set --lock-path=/run/nginx.lock and every
# --http-*-temp-path under /var/cache/nginx. Logs go to /dev/stdout and /dev/stderr
# links (github.com/nginx/docker-nginx stable/*/Dockerfile), and the entrypoint's
# scripts skip their edits of /etc/nginx when it is read-only.
NGINX_WRITES = (
    "/run/nginx.pid",
    "/run/nginx.lock",
    "/var/cache/nginx/client_temp",
    "/var/cache/nginx/proxy_temp",
    "/var/cache/nginx/fastcgi_temp",
    "/var/cache/nginx/uwsgi_temp",
    "/var/cache/nginx/scgi_temp",
)


def test_task_storage_is_mounted_where_nginx_writes(t: dict) -> None:
    task = props(t, "EcsTaskDefinition")
    (container,) = task["ContainerDefinitions"]
    assert container["ReadonlyRootFilesystem"] is True
    volumes = {v["Name"] for v in task["Volumes"]}
    mounts = {m["ContainerPath"]: m for m in container["MountPoints"]}
    assert {m["SourceVolume"] for m in mounts.values()} == volumes
    assert not any(m.get("ReadOnly", False) for m in mounts.values())  # ECS: writable
    for path in NGINX_WRITES:
        assert any(path.startswith(mount + "/") for mount in mounts), path
    # Each mount serves a file nginx writes: none is left over.
    assert all(any(p.startswith(m + "/") for p in NGINX_WRITES) for m in mounts)


def _private_ecr_condition(image: str, account: str, region: str, suffix: str) -> bool:
    """Condition IsPrivateEcrImage evaluated as CloudFormation does, for ``image``."""
    t = template()
    equals = t["Conditions"]["IsPrivateEcrImage"]["Fn::Equals"]
    index, (delimiter, ref) = equals[0]["Fn::Select"][0], equals[0]["Fn::Select"][1]["Fn::Split"]
    assert ref == {"Ref": "ServiceImage"}
    left = image.split(delimiter)[index]
    pseudo = {"AWS::AccountId": account, "AWS::Region": region, "AWS::URLSuffix": suffix}
    joiner, parts = equals[1]["Fn::Join"]
    right = joiner.join(pseudo[p["Ref"]] if isinstance(p, dict) else p for p in parts)
    return left == right


@pytest.mark.parametrize(
    ("image", "region", "suffix", "pulls"),
    [
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.2",
            "eu-west-1",
            "amazonaws.com",
            True,
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/web@sha256:" + "a" * 64,
            "cn-north-1",
            "amazonaws.com.cn",
            True,
        ),
        # Another Region's or another account's registry: no grant (the pull fails).
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.2",
            "eu-west-1",
            "amazonaws.com",
            False,
        ),
        (
            "210987654321.dkr.ecr.eu-west-1.amazonaws.com/web:1.2",
            "eu-west-1",
            "amazonaws.com",
            False,
        ),
        ("public.ecr.aws/docker/library/nginx:stable-alpine", "eu-west-1", "amazonaws.com", False),
        ("nginx", "eu-west-1", "amazonaws.com", False),
    ],
)
def test_private_ecr_pull_is_granted_only_for_this_accounts_registry(
    image: str, region: str, suffix: str, pulls: bool
) -> None:
    assert _private_ecr_condition(image, "123456789012", region, suffix) is pulls


def test_private_ecr_pull_is_scoped_to_the_accounts_repositories(t: dict) -> None:
    (_, pull) = props(t, "EcsTaskExecutionRole")["Policies"]
    token, images = pull["Fn::If"][1]["PolicyDocument"]["Statement"]
    assert token["Action"] == ["ecr:GetAuthorizationToken"] and token["Resource"] == ["*"]
    assert images["Action"] == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert images["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"}
    ]


def test_subnets_take_the_given_availability_zone_ids() -> None:
    ids = ["apne1-az1", "apne1-az2", "apne1-az4"]
    cfg = Config.from_mapping({"network": {"az_count": 3, "availability_zone_ids": ids}})
    t = template(cfg)
    zones = [props(t, f"NetworkPublicSubnet{i}") for i in (1, 2, 3)]
    assert [z["AvailabilityZoneId"] for z in zones] == ["apne1-az1", "apne1-az2", "apne1-az4"]
    assert not any("AvailabilityZone" in z for z in zones)


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (["use1-az1"], "has 1 IDs; network.az_count=2 needs exactly 2"),
        (["use1-az1", "use1-az1"], "names a zone twice"),
        (["use1-az1", "usw2-az1"], "spans Regions"),
        (["us-east-1a", "us-east-1b"], "is not an Availability Zone ID"),
    ],
)
def test_bad_availability_zone_ids_are_rejected(ids: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=r"^network\.availability_zone_ids: .*" + message):
        Config.from_mapping({"network": {"availability_zone_ids": ids}})


def test_the_stack_refuses_regions_it_cannot_serve(t: dict) -> None:
    (assertion,) = t["Rules"]["SupportedRegion"]["Assertions"]
    aws, others = assertion["Assert"]["Fn::Or"]
    assert aws == {"Fn::Equals": [{"Ref": "AWS::Partition"}, "aws"]}
    regions, region = others["Fn::Contains"]
    assert region == {"Ref": "AWS::Region"}
    # Exactly the GovCloud and China Regions with a console domain and an ELB log account.
    assert regions == ["cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1"]
    assert set(t["Mappings"]["ConsoleDomains"]) == {"aws", "aws-cn", "aws-us-gov"}
    assert "aws partition" in assertion["AssertDescription"]
