"""The governed profile's shape: private tasks behind NAT, its refusals, its Parameters."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra_gen import Config, ConfigError
from infra_gen.cli import main
from infra_gen.config import parse_setting
from tests.support.stack import GOVERNED, of_type, props, refs, template


def governed(**network: Any) -> dict[str, Any]:
    net = {**GOVERNED["network"], **network}
    return template(Config.from_mapping({**GOVERNED, "network": net}))


def test_tasks_and_probe_run_in_private_subnets_the_load_balancer_in_public_ones() -> None:
    t = governed()
    private = [{"Ref": f"NetworkPrivateSubnet{n}"} for n in (1, 2)]
    public = [{"Ref": f"NetworkPublicSubnet{n}"} for n in (1, 2)]
    network = props(t, "EcsService")["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert (network["AssignPublicIp"], network["Subnets"]) == ("DISABLED", private)
    assert props(t, "ProbeFunction")["VpcConfig"]["SubnetIds"] == private
    assert props(t, "LoadBalancer")["Subnets"] == public
    # Carved from the VPC's second half, in the AZs of the public subnets.
    blocks = [props(t, f"NetworkPrivateSubnet{n}")["CidrBlock"] for n in (1, 2)]
    assert blocks == ["10.0.128.0/20", "10.0.144.0/20"]
    zones = [props(t, f"NetworkPrivateSubnet{n}")["AvailabilityZoneId"] for n in (1, 2)]
    assert zones == ["use1-az1", "use1-az2"]


@pytest.mark.parametrize(("nat", "gateways"), [("per_az", 2), ("one", 1)])
def test_each_private_subnet_routes_to_a_nat_gateway(nat: str, gateways: int) -> None:
    t = governed(nat_gateways=nat)
    nats = of_type(t, "AWS::EC2::NatGateway")
    assert len(nats) == gateways
    for n in range(1, gateways + 1):
        nat_props = props(t, f"NetworkNatGateway{n}")
        assert nat_props["SubnetId"] == {"Ref": f"NetworkPublicSubnet{n}"}
        assert refs(nat_props["AllocationId"]) == {f"NetworkNatGatewayEip{n}"}
    for n in (1, 2):
        # Each subnet its own table, whose default route goes to its AZ's gateway or the one.
        route = props(t, f"NetworkPrivateDefaultRoute{n}")
        assert route["DestinationCidrBlock"] == "0.0.0.0/0"
        assert route["NatGatewayId"] == {"Ref": f"NetworkNatGateway{min(n, gateways)}"}
        assert route["RouteTableId"] == {"Ref": f"NetworkPrivateRouteTable{n}"}
        table = props(t, f"NetworkPrivateSubnet{n}RouteTableAssociation")["RouteTableId"]
        assert table == {"Ref": f"NetworkPrivateRouteTable{n}"}
    # The tasks start once every subnet of theirs has its way out.
    depends = set(t["Resources"]["EcsService"]["DependsOn"])
    assert {f"NetworkPrivateSubnet{n}RouteTableAssociation" for n in (1, 2)} <= depends
    assert {f"NetworkPrivateDefaultRoute{n}" for n in (1, 2)} <= depends


def test_the_container_port_reaches_every_client() -> None:
    t = governed()
    assert props(t, "LoadBalancerTargetGroup")["Port"] == 8080
    for rule in ("EcsServiceIngressFromLoadBalancer", "ProbeServiceIngress"):
        assert (props(t, rule)["FromPort"], props(t, rule)["ToPort"]) == (8080, 8080)
    env = props(t, "ProbeFunction")["Environment"]["Variables"]
    assert env["PROBE_SERVICE_NAMES"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": ["DiscoveryService", "Name"]}, ":8080"]]
    }
    (container,) = props(t, "EcsTaskDefinition")["ContainerDefinitions"]
    assert container["PortMappings"][0]["ContainerPort"] == 8080 and container["User"] == "101"


def test_the_image_is_pinned_and_pulled_from_its_repository_only() -> None:
    t = governed()
    pattern = t["Parameters"]["ServiceImage"]["AllowedPattern"]
    image = GOVERNED["service"]["image"]
    assert re.fullmatch(pattern, image)
    assert not re.fullmatch(pattern, image.split("@")[0] + ":1.27")  # no digest
    assert not re.fullmatch(pattern, image.replace("nginx-unprivileged", "other"))
    assert "TaskSize" not in t["Parameters"]
    (_, pull) = props(t, "EcsTaskExecutionRole")["Policies"]
    statements = pull["Fn::If"][1]["PolicyDocument"]["Statement"]
    assert statements[1]["Resource"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}"
            ":${AWS::AccountId}:repository/nginx-unprivileged"
        }
    ]


def test_the_default_scopes_a_private_image_to_its_repository_too() -> None:
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web:1.0"
    t = template(Config.from_mapping({"service": {"image": image}}))
    (_, pull) = props(t, "EcsTaskExecutionRole")["Policies"]
    (resource,) = pull["Fn::If"][1]["PolicyDocument"]["Statement"][1]["Resource"]
    assert resource["Fn::Sub"].endswith(":repository/team/web")
    pattern = t["Parameters"]["ServiceImage"]["AllowedPattern"]
    assert re.fullmatch(pattern, image.replace(":1.0", ":1.1"))
    assert not re.fullmatch(pattern, image.replace("team/web", "team/api"))
    # A public image keeps today's grant for a private image given at deploy time.
    (_, pull) = props(template(), "EcsTaskExecutionRole")["Policies"]
    (resource,) = pull["Fn::If"][1]["PolicyDocument"]["Statement"][1]["Resource"]
    assert resource["Fn::Sub"].endswith(":repository/*")


REFUSED = {
    "network.availability_zone_ids": ({"network": {"availability_zone_ids": []}}, "AZ IDs"),
    "service.image": (
        {"service": {"image": "public.ecr.aws/nginx/nginx-unprivileged:1.27"}},
        "pinned by digest",
    ),
    "service.user": ({"service": {"user": "root"}}, "CT.ECS.PR.3"),
    "service.container_port": ({"service": {"container_port": 80}}, "CT.ECS.PR.3"),
    "network.private_subnet_cidrs": (
        {"network": {"subnet_cidrs": ["10.0.0.0/24", "10.0.1.0/24"]}},
        "private blocks",
    ),
    "network.vpc_cidr": ({"network": {"vpc_cidr": "10.0.0.0/26"}}, "private"),
}


@pytest.mark.parametrize("key", sorted(REFUSED))
def test_refused_combinations_name_the_key_and_what_breaks(key: str) -> None:
    change, says = REFUSED[key]
    mapping = {**GOVERNED, **{k: {**GOVERNED.get(k, {}), **v} for k, v in change.items()}}
    with pytest.raises(ConfigError) as e:
        Config.from_mapping(mapping)
    assert e.value.key == key and says in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("key", ["nat_gateways", "private_subnet_cidrs"])
def test_private_subnet_settings_need_the_governed_profile(key: str) -> None:
    value = "one" if key == "nat_gateways" else ["10.0.128.0/24", "10.0.129.0/24"]
    with pytest.raises(ConfigError, match=f"network.{key}: .*governed = true"):
        Config.from_mapping({"network": {key: value}})


def test_governed_fills_its_defaults_and_round_trips_as_toml() -> None:
    cfg = Config.from_mapping(GOVERNED)
    assert (cfg.network.nat_gateways, cfg.security.alb_access_logs) == ("per_az", True)
    assert cfg.to_toml().startswith("governed = true\n\n[network]\n")
    assert parse_setting("governed=true") == ("", "governed", True)
    with pytest.raises(ConfigError, match="^governed: expected true or false"):
        parse_setting("governed=1")


def test_cli_set_governed(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "governed.json"  # its YAML is over the request limit, its JSON fits
    args = [
        "--set",
        "governed=true",
        "--set",
        'network.availability_zone_ids=["use1-az1", "use1-az2"]',
        "--set",
        f"service.image={GOVERNED['service']['image']}",
        "--set",
        "service.user=101",
        "--set",
        "service.container_port=8080",
    ]
    assert main(["-o", str(out), *args]) == 0
    assert '"NetworkNatGateway2":' in out.read_text(encoding="utf-8")
    assert main(["-o", str(out), "--set", "governed=true"]) == 2
    assert "network.availability_zone_ids:" in capsys.readouterr().err
