"""An existing VPC instead of the stack's own, and the private subnets' route tables.

An existing VPC comes three ways: IDs given at generation time (``network.vpc_id`` and
the subnets' IDs), IDs given at deploy time (``network.vpc_id = "parameter"``: typed
Parameters), or a host template's own VPC and subnets (``build_stack(template=host,
network=ExistingNetwork(...))``). Each adds no VPC, subnet, gateway, route table or route,
and every other concern uses the given VPC and subnets.
"""

from __future__ import annotations

import io
import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from troposphere import Ref, Template, ec2

from infra_gen import (
    Config,
    ConfigError,
    ExistingNetwork,
    build_stack,
    build_template,
    cli,
    render,
)
from infra_gen.config.sections import OWN_VPC_KEYS
from infra_gen.deploy.parameters import problems
from tests.support import checkov
from tests.support.documentation import ROOT
from tests.support.refusals import one_error_line
from tests.support.stack import GOVERNED, lint_findings, of_type, props, refs

VPC = "vpc-0123456789abcdef0"
PUBLIC = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
PRIVATE = ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"]
# The governed profile's settings outside [network] (its AZ IDs shape its own VPC).
PROFILE = {k: v for k, v in GOVERNED.items() if k != "network"}

STACK_DOC = (ROOT / "docs" / "stack.md").read_text(encoding="utf-8")
EXISTING = {
    "default, IDs": {"network": {"vpc_id": VPC, "public_subnet_ids": PUBLIC}},
    "default, Parameters": {"network": {"vpc_id": "parameter"}},
    "governed, IDs": {
        **PROFILE,
        "network": {"vpc_id": VPC, "public_subnet_ids": PUBLIC, "private_subnet_ids": PRIVATE},
    },
    "governed, Parameters": {**PROFILE, "network": {"vpc_id": "parameter"}},
}
# What the stack's own network is made of: none of it with an existing VPC.
OWN_NETWORK = {
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::NatGateway",
    "AWS::EC2::EIP",
    "AWS::EC2::RouteTable",
    "AWS::EC2::Route",
    "AWS::EC2::SubnetRouteTableAssociation",
}


def built(label: str) -> dict[str, Any]:
    return json.loads(render(build_template(EXISTING[label]), "json"))


def expected_ids(t: dict[str, Any], governed: bool, by_parameter: bool) -> tuple[Any, Any, Any]:
    """The VPC, public and task subnets as the template must name them."""
    if by_parameter:
        public = {"Ref": "PublicSubnetIds"}
        return {"Ref": "VpcId"}, public, {"Ref": "PrivateSubnetIds"} if governed else public
    return VPC, PUBLIC, PRIVATE if governed else PUBLIC


@pytest.mark.parametrize("label", EXISTING)
def test_an_existing_vpc_adds_no_network_and_every_concern_uses_it(label: str) -> None:
    t = built(label)
    governed, by_parameter = label.startswith("governed"), label.endswith("Parameters")
    types = {r["Type"] for r in t["Resources"].values()}
    assert not types & OWN_NETWORK
    vpc, public, tasks = expected_ids(t, governed, by_parameter)
    assert props(t, "LoadBalancer")["Subnets"] == public
    awsvpc = props(t, "EcsService")["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert awsvpc["Subnets"] == tasks
    assert awsvpc["AssignPublicIp"] == ("DISABLED" if governed else "ENABLED")
    assert props(t, "ProbeFunction")["VpcConfig"]["SubnetIds"] == tasks
    assert props(t, "DiscoveryNamespace")["Vpc"] == vpc
    groups = of_type(t, "AWS::EC2::SecurityGroup")
    assert len(groups) == 3 and all(g["Properties"]["VpcId"] == vpc for g in groups.values())
    assert props(t, "LoadBalancerTargetGroup")["VpcId"] == vpc
    # Nothing waits for a route the stack does not make.
    for name, resource in t["Resources"].items():
        depends = resource.get("DependsOn", [])
        assert not [d for d in depends if d.startswith("Network")], name
        assert not {r for r in refs(resource) if r.startswith("Network")}, name


@pytest.mark.parametrize("governed", [False, True], ids=["default", "governed"])
def test_deploy_time_ids_are_typed_parameters_without_defaults(governed: bool) -> None:
    t = built("governed, Parameters" if governed else "default, Parameters")
    types = {
        "VpcId": "AWS::EC2::VPC::Id",
        "PublicSubnetIds": "List<AWS::EC2::Subnet::Id>",
        **({"PrivateSubnetIds": "List<AWS::EC2::Subnet::Id>"} if governed else {}),
    }
    for name, kind in types.items():
        assert t["Parameters"][name]["Type"] == kind
        assert "Default" not in t["Parameters"][name]  # one template, several accounts
    assert "PrivateSubnetIds" in t["Parameters"] if governed else True
    groups = t["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    assert groups[0] == {"Label": {"default": "Network"}, "Parameters": list(types)}


@pytest.mark.parametrize("label", EXISTING)
def test_an_existing_vpc_lints_clean(label: str) -> None:
    for fmt in ("yaml", "json"):
        assert lint_findings(render(build_template(EXISTING[label]), fmt)) == []


def test_checkov_finds_no_failed_check_in_an_existing_vpc(tmp_path: Path) -> None:
    texts = {
        label.replace(", ", "-").lower(): render(build_template(cfg), "yaml")
        for label, cfg in EXISTING.items()
    }
    reports = checkov.scan(texts, tmp_path)
    for name, report in reports.items():
        results = report["results"]
        failed = [f"{c['check_id']} {c['resource']}" for c in results["failed_checks"]]
        assert (name, failed, results["parsing_errors"]) == (name, [], [])
        assert len(results["passed_checks"]) > 50, name


def test_flow_logs_on_an_existing_vpc_log_that_vpc() -> None:
    for network, vpc in (
        ({"vpc_id": VPC, "public_subnet_ids": PUBLIC}, VPC),
        ({"vpc_id": "parameter"}, {"Ref": "VpcId"}),
    ):
        cfg = {"network": network, "security": {"flow_logs": True}}
        t = json.loads(render(build_template(cfg), "json"))
        assert props(t, "NetworkFlowLog")["ResourceId"] == vpc
        assert props(t, "NetworkFlowLog")["ResourceType"] == "VPC"
        assert lint_findings(render(build_template(cfg), "yaml")) == []


def test_an_existing_vpc_costs_fewer_bytes_than_the_stacks_own() -> None:
    own = len(render(build_template(), "json"))
    for label in ("default, IDs", "default, Parameters"):
        assert len(render(build_template(EXISTING[label]), "json")) < own


# --------------------------------------------------------------------------------------
# One route table per private subnet: switching NAT modes updates routes in place.
# --------------------------------------------------------------------------------------


def _create_only(resource_type: str) -> set[str]:
    """CloudFormation's resource schema (cfn-lint's copy): what an update replaces it for."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    return {p.removeprefix("/properties/") for p in schema.get("createOnlyProperties", [])}


def _governed(nat: str, zones: int = 2) -> dict[str, Any]:
    network = {
        "az_count": zones,
        "nat_gateways": nat,
        "availability_zone_ids": ["use1-az1", "use1-az2", "use1-az4"][:zones],
    }
    return json.loads(render(build_template({**GOVERNED, "network": network}), "json"))


@pytest.mark.parametrize("zones", [2, 3])
def test_switching_nat_gateways_changes_only_the_routes_target(zones: int) -> None:
    per_az, one = _governed("per_az", zones), _governed("one", zones)
    both = per_az["Resources"].keys() & one["Resources"].keys()
    changed = sorted(lid for lid in both if per_az["Resources"][lid] != one["Resources"][lid])
    routes = [f"NetworkPrivateDefaultRoute{n}" for n in range(2, zones + 1)]
    assert changed == routes
    for lid in routes:
        before, after = props(per_az, lid), props(one, lid)
        assert {k for k in before if before[k] != after.get(k)} == {"NatGatewayId"}
        assert "NatGatewayId" not in _create_only("AWS::EC2::Route")  # updated in place
    # Every subnet keeps its table, in either mode: no association is replaced.
    for n in range(1, zones + 1):
        association = f"NetworkPrivateSubnet{n}RouteTableAssociation"
        assert props(one, association)["RouteTableId"] == {"Ref": f"NetworkPrivateRouteTable{n}"}
    # Only the gateways of the other AZs and their addresses go.
    gone = sorted(per_az["Resources"].keys() - one["Resources"].keys())
    assert gone == sorted(
        f"NetworkNatGateway{e}{n}" for n in range(2, zones + 1) for e in ("", "Eip")
    )


# --------------------------------------------------------------------------------------
# A host template's own VPC and subnets.
# --------------------------------------------------------------------------------------


def host_with_vpc(private: bool = False) -> tuple[Template, ExistingNetwork]:
    """A host template holding a VPC, two public subnets (two private ones), and a route."""
    host = Template()
    vpc = host.add_resource(
        ec2.VPC("HostVpc", CidrBlock="10.1.0.0/16", EnableDnsSupport=True, EnableDnsHostnames=True)
    )
    gateway = host.add_resource(ec2.InternetGateway("HostGateway"))
    attachment = host.add_resource(
        ec2.VPCGatewayAttachment("HostAttachment", VpcId=vpc.ref(), InternetGatewayId=gateway.ref())
    )
    table = host.add_resource(ec2.RouteTable("HostTable", VpcId=vpc.ref()))
    route = host.add_resource(
        ec2.Route(
            "HostRoute",
            DependsOn=attachment,
            RouteTableId=table.ref(),
            DestinationCidrBlock="0.0.0.0/0",
            GatewayId=gateway.ref(),
        )
    )
    subnets, waits = [], [route]
    for n in range(4 if private else 2):
        subnet = host.add_resource(
            ec2.Subnet(
                f"HostSubnet{n}",
                VpcId=vpc.ref(),
                CidrBlock=f"10.1.{n}.0/24",
                AvailabilityZoneId=["use1-az1", "use1-az2"][n % 2],
            )
        )
        if n < 2:  # the private ones would route to a NAT gateway of the host
            waits.append(
                host.add_resource(
                    ec2.SubnetRouteTableAssociation(
                        f"HostSubnet{n}Table", SubnetId=subnet.ref(), RouteTableId=table.ref()
                    )
                )
            )
        subnets.append(subnet)
    return host, ExistingNetwork(
        vpc=vpc, public_subnets=subnets[:2], private_subnets=subnets[2:], depends_on=waits
    )


def test_a_host_templates_vpc_serves_the_stack() -> None:
    host, network = host_with_vpc()
    before = set(host.resources)
    stack = build_stack(template=host, network=network)
    added = set(host.resources) - before
    assert not [lid for lid in added if host.resources[lid].resource_type in OWN_NETWORK]
    t = json.loads(render(host, "json"))
    subnets = [{"Ref": "HostSubnet0"}, {"Ref": "HostSubnet1"}]
    assert props(t, "LoadBalancer")["Subnets"] == subnets
    awsvpc = props(t, "EcsService")["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert awsvpc["Subnets"] == subnets
    assert props(t, "DiscoveryNamespace")["Vpc"] == {"Ref": "HostVpc"}
    # The load balancer becomes active once the host's subnets reach the internet.
    depends = t["Resources"]["LoadBalancer"]["DependsOn"]
    assert depends == ["HostRoute", "HostSubnet0Table", "HostSubnet1Table"]
    assert stack.network.vpc is network.vpc and not stack.network.owns_vpc
    assert lint_findings(render(host, "yaml")) == []


def test_a_governed_stack_in_a_host_templates_vpc_runs_its_tasks_in_the_private_subnets() -> None:
    host, network = host_with_vpc(private=True)
    build_stack(PROFILE, template=host, network=network)
    t = json.loads(render(host, "json"))
    private = [{"Ref": "HostSubnet2"}, {"Ref": "HostSubnet3"}]
    awsvpc = props(t, "EcsService")["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert (awsvpc["Subnets"], awsvpc["AssignPublicIp"]) == (private, "DISABLED")
    assert props(t, "ProbeFunction")["VpcConfig"]["SubnetIds"] == private
    assert props(t, "LoadBalancer")["Subnets"] == [{"Ref": "HostSubnet0"}, {"Ref": "HostSubnet1"}]


def _bad_handles() -> list[tuple[str, Any, str]]:
    """(case, a function of (host, network) -> build_stack's kwargs, the error's start)."""
    other = ec2.VPC("Elsewhere", CidrBlock="10.2.0.0/16")
    stray = ec2.Subnet("Stray", VpcId="vpc-12345678", CidrBlock="10.1.9.0/24")
    return [
        ("no host", lambda h, n: {"network": n}, "network: is a host template's VPC"),
        ("not a handle", lambda h, n: {"template": h, "network": {"vpc": n.vpc}}, "network:"),
        (
            "vpc_id too",
            lambda h, n: {
                "cfg": {"network": {"vpc_id": "parameter"}},
                "template": h,
                "network": n,
            },
            "network: and network.vpc_id='parameter' both give the VPC",
        ),
        (
            "a VPC the host lacks",
            lambda h, n: {"template": h, "network": ExistingNetwork(other, n.public_subnets)},
            "network.vpc: Elsewhere is not a resource of the host template",
        ),
        (
            "text for a VPC",
            lambda h, n: {"template": h, "network": ExistingNetwork("vpc-1", n.public_subnets)},
            "network.vpc: expected a troposphere VPC, got str",
        ),
        (
            "one subnet",
            lambda h, n: {"template": h, "network": ExistingNetwork(n.vpc, n.public_subnets[:1])},
            "network.public_subnets: has 1 subnet(s); allowed 2-6",
        ),
        (
            "a subnet the host lacks",
            lambda h, n: {
                "template": h,
                "network": ExistingNetwork(n.vpc, [n.public_subnets[0], stray]),
            },
            "network.public_subnets: Stray is not a resource of the host template",
        ),
        (
            "a subnet twice",
            lambda h, n: {
                "template": h,
                "network": ExistingNetwork(n.vpc, [n.public_subnets[0]] * 2),
            },
            "network: names subnet HostSubnet0 twice",
        ),
        (
            "private subnets without governed",
            lambda h, n: {
                "template": h,
                "network": ExistingNetwork(n.vpc, n.public_subnets, n.public_subnets),
            },
            "network.private_subnets: runs tasks in private subnets",
        ),
        (
            "governed without private subnets",
            lambda h, n: {"cfg": PROFILE, "template": h, "network": n},
            "network.private_subnets: has 0 subnet(s)",
        ),
        (
            "a generator for subnets",
            lambda h, n: {
                "template": h,
                "network": ExistingNetwork(n.vpc, iter(n.public_subnets)),  # type: ignore[arg-type]
            },
            "network.public_subnets: expected a list of ec2.Subnet, got list_iterator",
        ),
        (
            "depends_on not in the host",
            lambda h, n: {
                "template": h,
                "network": ExistingNetwork(n.vpc, n.public_subnets, depends_on=[other]),
            },
            "network.depends_on: Elsewhere is not a resource of the host template",
        ),
    ]


@pytest.mark.parametrize(("case", "kwargs", "message"), _bad_handles(), ids=lambda v: v)
def test_a_bad_host_network_is_one_line_and_the_host_untouched(
    case: str, kwargs: Any, message: str
) -> None:
    host, network = host_with_vpc()
    before = render(host, "json")
    args = kwargs(host, network)
    with pytest.raises(ConfigError) as raised:
        build_stack(args.pop("cfg", None), **args)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)
    assert render(host, "json") == before


def test_a_subnet_of_another_vpc_is_refused() -> None:
    host, network = host_with_vpc()
    other = host.add_resource(ec2.VPC("OtherVpc", CidrBlock="10.3.0.0/16"))
    moved = host.add_resource(ec2.Subnet("Moved", VpcId=Ref(other), CidrBlock="10.3.0.0/24"))
    handle = ExistingNetwork(network.vpc, [network.public_subnets[0], moved])
    with pytest.raises(ConfigError, match=r"^network.public_subnets: Moved is in another VPC"):
        build_stack(template=host, network=handle)


# --------------------------------------------------------------------------------------
# Hostile input: one line naming the key, exit 2, nothing written.
# --------------------------------------------------------------------------------------

HOSTILE: list[tuple[dict[str, Any], str]] = [
    ({"vpc_id": "vpc-1234567"}, "network.vpc_id: 'vpc-1234567' is not a VPC ID"),
    ({"vpc_id": "vpc-123456789"}, "network.vpc_id: 'vpc-123456789' is not a VPC ID"),
    ({"vpc_id": "VPC-12345678"}, "network.vpc_id: 'VPC-12345678' is not a VPC ID"),
    ({"vpc_id": "vpc-1234567g"}, "network.vpc_id: 'vpc-1234567g' is not a VPC ID"),
    ({"vpc_id": "subnet-12345678"}, "network.vpc_id: 'subnet-12345678' is not a VPC ID"),
    ({"vpc_id": "vpc-12345678\n"}, "network.vpc_id: "),
    ({"vpc_id": "Parameter"}, "network.vpc_id: 'Parameter' is not a VPC ID"),
    ({"vpc_id": "host"}, "network.vpc_id: 'host' is a host template's VPC"),
    ({"vpc_id": 12345678}, "network.vpc_id: expected a string, got 12345678"),
    ({"vpc_id": ["vpc-12345678"]}, "network.vpc_id: expected a string"),
    ({"vpc_id": "vpc-12345678"}, "network.public_subnet_ids: is empty"),
    (
        {"vpc_id": "vpc-12345678", "public_subnet_ids": ["subnet-12345678"]},
        "network.public_subnet_ids: has 1 subnet(s); allowed 2-6",
    ),
    (
        {"vpc_id": "vpc-12345678", "public_subnet_ids": [f"subnet-1234567{n}" for n in range(7)]},
        "network.public_subnet_ids: has 7 subnet(s); allowed 2-6",
    ),
    (
        {"vpc_id": "vpc-12345678", "public_subnet_ids": ["subnet-12345678", "subnet-1234"]},
        "network.public_subnet_ids: 'subnet-1234' is not a subnet ID",
    ),
    (
        {"vpc_id": "vpc-12345678", "public_subnet_ids": ["subnet-12345678", "vpc-12345678"]},
        "network.public_subnet_ids: 'vpc-12345678' is not a subnet ID",
    ),
    (
        {"vpc_id": "vpc-12345678", "public_subnet_ids": ["subnet-12345678"] * 2},
        "network.public_subnet_ids: names subnet-12345678 twice",
    ),
    (
        {"vpc_id": "vpc-12345678", "public_subnet_ids": "subnet-12345678"},
        "network.public_subnet_ids: expected a list of strings",
    ),
    (
        {"vpc_id": "vpc-12345678", "public_subnet_ids": [1, 2]},
        "network.public_subnet_ids: expected a list of strings",
    ),
    (
        {"vpc_id": "vpc-12345678", "public_subnet_ids": PUBLIC, "private_subnet_ids": PRIVATE},
        "network.private_subnet_ids: runs tasks in private subnets, which only governed",
    ),
    (
        {"vpc_id": "vpc-12345678", "public_subnet_ids": PUBLIC, "private_subnet_ids": PUBLIC},
        "network.private_subnet_ids: names subnet-0123456789abcdef0, a public subnet too",
    ),
    ({"public_subnet_ids": PUBLIC}, "network.public_subnet_ids: names subnets of an existing"),
    ({"private_subnet_ids": PRIVATE}, "network.private_subnet_ids: names subnets of an existing"),
    (
        {"vpc_id": "parameter", "public_subnet_ids": PUBLIC},
        "network.public_subnet_ids: is given, but network.vpc_id='parameter'",
    ),
    (
        {"vpc_id": "parameter", "private_subnet_ids": PRIVATE},
        "network.private_subnet_ids: is given, but network.vpc_id='parameter'",
    ),
    *[
        ({"vpc_id": "parameter", key: value}, f"network.{key}: {shown} shapes the stack's own VPC")
        for key, value, shown in (
            ("vpc_cidr", "10.1.0.0/16", "'10.1.0.0/16'"),
            ("az_count", 3, "3"),
            ("subnet_cidrs", ["10.0.0.0/24", "10.0.1.0/24"], "['10.0.0.0/24', '10.0.1.0/24']"),
            ("availability_zone_ids", ["use1-az1", "use1-az2"], "['use1-az1', 'use1-az2']"),
            ("nat_gateways", "one", "'one'"),
            ("private_subnet_cidrs", ["10.0.128.0/20"], "['10.0.128.0/20']"),
        )
    ],
]
GOVERNED_HOSTILE: list[tuple[dict[str, Any], str]] = [
    (
        {"vpc_id": VPC, "public_subnet_ids": PUBLIC},
        "network.private_subnet_ids: is empty; governed = true runs the tasks in private",
    ),
    (
        {"vpc_id": VPC, "public_subnet_ids": PUBLIC, "private_subnet_ids": PRIVATE[:1]},
        "network.private_subnet_ids: has 1 subnet(s); allowed 2-6",
    ),
    (
        {"vpc_id": VPC, "public_subnet_ids": PUBLIC, "nat_gateways": "per_az"},
        "network.nat_gateways: 'per_az' shapes the stack's own VPC",
    ),
]


def test_the_table_covers_every_new_key_and_every_setting_an_existing_vpc_refuses() -> None:
    named = {m.split(":")[0].removeprefix("network.") for _, m in HOSTILE + GOVERNED_HOSTILE}
    assert {"vpc_id", "public_subnet_ids", "private_subnet_ids", *OWN_VPC_KEYS} <= named


CASES = [(n, False, m) for n, m in HOSTILE] + [(n, True, m) for n, m in GOVERNED_HOSTILE]
CASE_IDS = [f"{i}-{m.split(':')[0]}" for i, (_, _, m) in enumerate(CASES)]


@pytest.mark.parametrize(("network", "governed", "message"), CASES, ids=CASE_IDS)
def test_hostile_network_values_through_the_library(
    network: dict[str, Any], governed: bool, message: str
) -> None:
    profile = PROFILE if governed else {}
    with pytest.raises(ConfigError) as raised:
        build_stack({**profile, "network": network})
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def _toml(value: Any) -> str:
    """``value`` as a ``--set`` value: TOML's form of it."""
    return json.dumps(value, ensure_ascii=True)


@pytest.mark.parametrize(("network", "governed", "message"), CASES, ids=CASE_IDS)
def test_hostile_network_values_through_the_cli(
    network: dict[str, Any],
    governed: bool,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["-o", str(tmp_path / "stack.yaml")]
    if governed:
        config = tmp_path / "governed.toml"
        lines = ["governed = true", "[service]"]
        lines += [f"{k} = {_toml(v)}" for k, v in PROFILE["service"].items()]
        config.write_text("\n".join(lines) + "\n")
        argv += ["--config", str(config)]
    for key, value in network.items():
        argv += ["--set", f"network.{key}={_toml(value)}"]
    code = cli.main(argv, stdout=io.StringIO(), stdin=io.StringIO(""))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("infra-gen: error: "), err
    # --set reads a value as its key's type: text for a string key, so the CLI refuses
    # a number or a list given for vpc_id as a bad ID rather than as another type.
    expected = message.split(": ")[0] + ": " if "expected a string" in message else message
    assert err.removeprefix("infra-gen: error: ").startswith(expected), err
    assert list(tmp_path.glob("stack*")) == []  # nothing written, not even a temporary


def test_an_existing_vpc_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "stack.json"
    argv = ["--set", f"network.vpc_id={VPC}", "--set", f"network.public_subnet_ids={_toml(PUBLIC)}"]
    assert cli.main([*argv, "-o", str(out)], stdout=io.StringIO()) == 0
    t = json.loads(out.read_text())
    assert props(t, "LoadBalancer")["Subnets"] == PUBLIC
    assert (
        Config.from_mapping(EXISTING["default, IDs"]).digest()
        == (t["Metadata"]["InfraGen"]["ConfigSha256"])
    )


def test_the_new_settings_leave_the_digest_of_a_configuration_without_them() -> None:
    # A configuration that does not use an existing VPC keeps its digest, and so its
    # template its bytes: out/ and every deployed stack's template stay as they were.
    assert Config().digest() == "f3cd0176222d346aaa19049a757cc93d0a2eaf9d5e8879cc664168b9860f5855"
    assert Config.from_mapping(EXISTING["default, Parameters"]).digest() != Config().digest()


# --------------------------------------------------------------------------------------
# What a default -> governed update replaces in the network (docs/stack.md).
# --------------------------------------------------------------------------------------


def _replaced(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[str]]:
    """Logical ID -> the create-only properties an update from ``before`` changes."""
    found = {}
    for lid in sorted(before["Resources"].keys() & after["Resources"].keys()):
        old, new = props(before, lid), props(after, lid)
        changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        create_only = changed & _create_only(before["Resources"][lid]["Type"])
        if create_only:
            found[lid] = sorted(create_only)
    return found


def test_default_to_governed_replaces_the_public_subnets_and_the_documented_blocks_fit() -> None:
    default = json.loads(render(build_template(), "json"))
    zones = ["AvailabilityZone", "AvailabilityZoneId"]
    governed = json.loads(render(build_template(GOVERNED), "json"))
    network = {k: v for k, v in _replaced(default, governed).items() if k.startswith("Network")}
    assert network == {"NetworkPublicSubnet1": zones, "NetworkPublicSubnet2": zones}
    # With the same blocks, each new subnet would be created while the old one holds its
    # block. docs/stack.md's blocks are free in the old VPC: the update can proceed.
    moved = {
        **GOVERNED,
        "network": {
            **GOVERNED["network"],
            "subnet_cidrs": ["10.0.32.0/20", "10.0.48.0/20"],
            "private_subnet_cidrs": ["10.0.128.0/20", "10.0.144.0/20"],
        },
    }
    assert '`network.subnet_cidrs = ["10.0.32.0/20", "10.0.48.0/20"]`' in STACK_DOC
    assert '`network.private_subnet_cidrs = ["10.0.128.0/20", "10.0.144.0/20"]`' in STACK_DOC
    after = json.loads(render(build_template(moved), "json"))
    replaced = {k for k in _replaced(default, after) if k.startswith("Network")}
    assert replaced == {"NetworkPublicSubnet1", "NetworkPublicSubnet2"}
    old_blocks = [
        ipaddress.ip_network(props(default, lid)["CidrBlock"])
        for lid in of_type(default, "AWS::EC2::Subnet")
    ]
    for lid in of_type(after, "AWS::EC2::Subnet"):
        block = ipaddress.ip_network(props(after, lid)["CidrBlock"])
        assert not any(block.overlaps(old) for old in old_blocks), lid
    # The load balancer, the service and the probe follow their subnets in place.
    assert not {"LoadBalancer", "EcsService", "ProbeFunction"} & _replaced(default, after).keys()


def test_a_move_to_an_existing_vpc_replaces_what_the_vpc_holds() -> None:
    own = json.loads(render(build_template(), "json"))
    existing = built("default, IDs")
    assert set(_replaced(own, existing)) == {
        "DiscoveryNamespace",
        "EcsServiceSecurityGroup",
        "LoadBalancerSecurityGroup",
        "LoadBalancerTargetGroup",
        "ProbeSecurityGroup",
    }


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        ("VpcId=vpc-1", "--parameter VpcId='vpc-1': expected a VPC ID (vpc- and 8 or 17 hex"),
        ("VpcId=subnet-12345678", "--parameter VpcId='subnet-12345678': expected a VPC ID"),
        ("PublicSubnetIds=subnet-12345678", None),
        (
            "PublicSubnetIds=subnet-12345678,vpc-12345678",
            "--parameter PublicSubnetIds='subnet-12345678,vpc-12345678': expected a list of "
            "subnet IDs (subnet- and 8 or 17 hex digits, separated by commas)",
        ),
        ("PublicSubnetIds=subnet-12345678, subnet-87654321", "--parameter PublicSubnetIds="),
        ("PublicSubnetIds=", "--parameter PublicSubnetIds='': expected a list of subnet IDs"),
    ],
)
def test_a_deploy_time_id_of_the_wrong_form_is_refused_before_any_aws_call(
    parameter: str, message: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["deploy", "--stack-name", "web", "--set", "network.vpc_id=parameter"]
    argv += ["--parameter", parameter]
    if message is None:  # a well-formed list of one: CloudFormation and preflight decide
        assert problems({"Type": "List<AWS::EC2::Subnet::Id>"}, parameter.split("=")[1]) == []
        return
    assert one_error_line(capsys, argv).startswith(message)
