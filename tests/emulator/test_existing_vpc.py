"""An existing VPC against moto's emulator: deploy into it, and preflight its subnets.

The VPC, its subnets, internet gateway, NAT gateway and route tables are made in the
emulator first, through EC2's API, as a network team would hand them out. Then the
stack is deployed into it with ``infra-gen deploy`` (IDs given at generation time with
``--set``, or at deploy time as Parameters with ``--parameter``), default and governed,
and read back: it made no network resource of its own, and its load balancer, tasks and
probe sit in the subnets given. The preflight's subnet checks answer from the emulator's
DescribeSubnets, DescribeRouteTables and DescribeVpcEndpoints.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from devtools.emulator import REGION, Api
from infra_gen import build_template
from infra_gen import render as render_template
from infra_gen.deploy import preflight as pf
from tests.support.commands import run, stack_resources
from tests.support.stack import GOVERNED

pytestmark = [
    pytest.mark.filterwarnings("ignore:Tried to parse .* but it's not supported:UserWarning"),
    pytest.mark.usefixtures("endpoint"),
]
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
PROFILE = {k: v for k, v in GOVERNED.items() if k != "network"}


@dataclass(frozen=True)
class Vpc:
    """A network team's VPC in the emulator."""

    vpc: str
    public: list[str]
    """Routed to the internet gateway, in two AZs."""
    private: list[str]
    """Routed to a NAT gateway, in the same two AZs."""
    isolated: list[str]
    """No route out at all, in the same two AZs."""
    other_vpc_subnet: str


def _subnet(ec2: Any, vpc: str, cidr: str, zone: str, table: str | None) -> str:
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]
    if table:
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet["SubnetId"])
    return str(subnet["SubnetId"])


@pytest.fixture
def given(emulator: Api) -> Iterator[Vpc]:
    ec2 = emulator("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
        ec2.modify_vpc_attribute(VpcId=vpc, **{attribute: {"Value": True}})
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    public_table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    zones = [f"{REGION}a", f"{REGION}b"]
    public = [
        _subnet(ec2, vpc, f"10.9.{n}.0/24", zone, public_table) for n, zone in enumerate(zones)
    ]
    address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public[0], AllocationId=address)["NatGateway"]
    private_table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(
        RouteTableId=private_table,
        DestinationCidrBlock="0.0.0.0/0",
        NatGatewayId=nat["NatGatewayId"],
    )
    private = [
        _subnet(ec2, vpc, f"10.9.{10 + n}.0/24", zone, private_table)
        for n, zone in enumerate(zones)
    ]
    isolated = [
        _subnet(ec2, vpc, f"10.9.{20 + n}.0/24", zone, None) for n, zone in enumerate(zones)
    ]
    other = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    stray = _subnet(ec2, other, "10.8.0.0/24", zones[0], None)
    yield Vpc(vpc, public, private, isolated, stray)


def ids_set(given: Vpc, governed: bool) -> list[str]:
    argv = ["--set", f"network.vpc_id={given.vpc}"]
    argv += ["--set", f"network.public_subnet_ids={json.dumps(given.public)}"]
    if governed:
        argv += ["--set", f"network.private_subnet_ids={json.dumps(given.private)}"]
    return argv


def parameters_set(given: Vpc, governed: bool) -> list[str]:
    argv = ["--set", "network.vpc_id=parameter"]
    argv += ["--parameter", f"VpcId={given.vpc}"]
    argv += ["--parameter", f"PublicSubnetIds={','.join(given.public)}"]
    if governed:
        argv += ["--parameter", f"PrivateSubnetIds={','.join(given.private)}"]
    return argv


def governed_config(tmp_path: Any) -> list[str]:
    path = tmp_path / "governed.toml"
    lines = ["governed = true", "[service]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in PROFILE["service"].items()]
    path.write_text("\n".join(lines) + "\n")
    return ["--config", str(path)]


@pytest.mark.parametrize("governed", [False, True], ids=["default", "governed"])
@pytest.mark.parametrize("how", ["ids", "parameters"])
def test_a_stack_deploys_into_an_existing_vpc_with_its_outputs(
    emulator: Api,
    given: Vpc,
    how: str,
    governed: bool,
    tmp_path: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = f"ig-vpc-{how}-{'governed' if governed else 'default'}"
    argv = (ids_set if how == "ids" else parameters_set)(given, governed)
    # Cloud Map refuses a private namespace whose name another one in the VPC holds
    # (ConflictingDomainExists): stacks sharing a VPC name their own. (moto refuses any
    # second namespace in a VPC, so each test here has a VPC of its own.)
    argv += ["--set", f"discovery.namespace={name}.internal"]
    if governed:
        # A certificate the emulator's load balancer finds; the governed image is a private
        # one that the emulator's ECR does not hold, so the image check is skipped here (the
        # network checks are tested below).
        arn = emulator("acm").request_certificate(DomainName="www.example.com")
        argv += governed_config(tmp_path)
        argv += ["--parameter", f"CertificateArn={arn['CertificateArn']}", "--skip-preflight"]
    code, out = run("deploy", "--stack-name", name, "--yes", *argv)
    assert code == 0, capsys.readouterr().err
    assert f"Stack {name}: CREATE_COMPLETE" in out
    if not governed:
        # deploy's preflight read the subnets, their zones and their routes first.
        err = capsys.readouterr().err
        assert "FAIL" not in err, err
    cfn = emulator("cloudformation")
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    types = {r["ResourceType"] for r in resources if r.get("LogicalResourceId")}
    assert not types & OWN_NETWORK
    physical = stack_resources(emulator, name)
    (balancer,) = emulator("elbv2").describe_load_balancers(
        LoadBalancerArns=[physical["LoadBalancer"]]
    )["LoadBalancers"]
    assert balancer["VpcId"] == given.vpc
    assert sorted(z["SubnetId"] for z in balancer["AvailabilityZones"]) == sorted(given.public)
    tasks = given.private if governed else given.public
    (service,) = emulator("ecs").describe_services(
        cluster=physical["EcsCluster"], services=[physical["EcsService"]]
    )["services"]
    awsvpc = service["networkConfiguration"]["awsvpcConfiguration"]
    assert awsvpc["subnets"] == tasks
    assert awsvpc["assignPublicIp"] == ("DISABLED" if governed else "ENABLED")
    function = emulator("lambda").get_function(FunctionName=physical["ProbeFunction"])
    assert sorted(function["Configuration"]["VpcConfig"]["SubnetIds"]) == sorted(tasks)
    groups = [v for k, v in physical.items() if k.endswith("SecurityGroup")]
    described = emulator("ec2").describe_security_groups(GroupIds=groups)["SecurityGroups"]
    assert {g["VpcId"] for g in described} == {given.vpc}
    (stack,) = cfn.describe_stacks(StackName=name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    scheme = "https" if governed else "http"
    assert outputs["ServiceUrl"] == f"{scheme}://{balancer['DNSName']}"
    assert outputs["LoadBalancerDnsName"] == balancer["DNSName"]
    assert outputs["NamespaceId"] == physical["DiscoveryNamespace"]
    assert outputs["ClusterName"] == physical["EcsCluster"]


# --------------------------------------------------------------------------------------
# Preflight: what only AWS knows of the subnets given.
# --------------------------------------------------------------------------------------


def network_findings(given: Vpc, public: list[str], tasks: list[str] | None = None) -> list[str]:
    """The network findings of the preflight for a template in ``given``'s VPC."""
    network: dict[str, Any] = {"vpc_id": given.vpc, "public_subnet_ids": public}
    cfg: dict[str, Any] = {"network": network}
    if tasks is not None:
        cfg = {**PROFILE, "network": {**network, "private_subnet_ids": tasks}}
    template = json.loads(render_template(build_template(cfg), "json"))
    found = pf.given_network(template, {})
    assert found is not None
    findings = pf._network(boto3.client("ec2"), found, REGION)
    return [f"{f.status} {f.check}: {f.detail}" for f in findings]


def test_subnets_in_the_vpc_in_two_zones_routed_out_are_ready(given: Vpc) -> None:
    assert network_findings(given, given.public, given.private) == [
        f"ok subnets: 4 subnets in {given.vpc}",
        f"ok VPC DNS: {given.vpc} has DNS support and host names on",
        f"ok subnet zones: public subnets in {REGION}a, {REGION}b",
        f"ok subnet zones: private subnets in {REGION}a, {REGION}b",
        "ok routes: public subnets routed to an internet gateway",
        "ok routes: private subnets routed to a NAT gateway",
    ]


def test_each_network_finding_is_one_line_saying_what_to_do(given: Vpc) -> None:
    # Public subnets without an internet route: the load balancer could not be reached.
    lines = network_findings(given, given.private)
    assert (
        f"FAIL routes: public subnets {', '.join(given.private)} have no 0.0.0.0/0 route to "
        "an internet gateway: an internet-facing load balancer needs one in each"
    ) in lines
    # A subnet of another VPC.
    (line,) = network_findings(given, [given.public[0], given.other_vpc_subnet])
    assert line.startswith(f"FAIL subnets: not all in {given.vpc}: {given.other_vpc_subnet} is in")
    # Two subnets in one zone.
    lines = network_findings(given, [given.public[0], given.private[0]])
    assert lines[2] == (
        f"FAIL subnet zones: public subnets {given.public[0]}, {given.private[0]} share "
        f"{REGION}a: give one subnet per Availability Zone, in two zones at least"
    )
    # Private subnets with no way out: a NAT route, or the endpoints a private image needs.
    lines = network_findings(given, given.public, given.isolated)
    assert lines[-1] == (
        f"FAIL routes: private subnets {', '.join(given.isolated)} have no 0.0.0.0/0 route to "
        f"a NAT gateway: add one, or VPC endpoints com.amazonaws.{REGION}.ecr.api, "
        f"com.amazonaws.{REGION}.ecr.dkr, com.amazonaws.{REGION}.s3, "
        f"com.amazonaws.{REGION}.logs (a private ECR image only)"
    )
    assert all("\n" not in line for line in lines)
    # A VPC without DNS host names: Cloud Map's names would not resolve.
    emulator_ec2 = boto3.client("ec2")
    emulator_ec2.modify_vpc_attribute(VpcId=given.vpc, EnableDnsHostnames={"Value": False})
    lines = network_findings(given, given.public)
    assert lines[1] == (
        f"FAIL VPC DNS: {given.vpc} has dns-hostnames off: Cloud Map's names do not resolve "
        f"in it and the probe finds no task; aws ec2 modify-vpc-attribute --vpc-id {given.vpc} "
        "--enable-dns-hostnames (one option a call)"
    )
    # A subnet that does not exist.
    (line,) = network_findings(given, [given.public[0], "subnet-0123456789abcdef0"])
    assert line.startswith("FAIL subnets: ")
    assert "subnet-0123456789abcdef0" in line


def test_private_subnets_with_the_endpoints_but_no_nat_are_a_warning(
    emulator: Api, given: Vpc
) -> None:
    ec2 = emulator("ec2")
    made = []
    for service in ("ecr.api", "ecr.dkr", "s3", "logs"):
        endpoint = ec2.create_vpc_endpoint(
            VpcId=given.vpc,
            ServiceName=f"com.amazonaws.{REGION}.{service}",
            VpcEndpointType="Gateway" if service == "s3" else "Interface",
        )
        made.append(endpoint["VpcEndpoint"]["VpcEndpointId"])
    try:
        lines = network_findings(given, given.public, given.isolated)
        assert lines[-1].startswith(
            f"warn routes: private subnets {', '.join(given.isolated)} have no NAT route"
        )
    finally:
        ec2.delete_vpc_endpoints(VpcEndpointIds=made)


def test_the_preflight_command_shows_the_network_findings(
    emulator: Api, given: Vpc, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(
        "preflight",
        "--stack-name",
        "ig-vpc-preflight",
        "--set",
        "network.vpc_id=parameter",
        "--parameter",
        f"VpcId={given.vpc}",
        "--parameter",
        f"PublicSubnetIds={given.private[0]},{given.private[1]}",
    )
    assert code == 1, capsys.readouterr().err
    (line,) = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert line.split()[:2] == ["FAIL", "routes"] and "internet gateway" in line
    assert [line.split()[1] for line in out.splitlines()[:-1]].count("subnets") == 1


def test_a_template_with_its_own_vpc_has_no_network_findings() -> None:
    template = json.loads(render_template(build_template(), "json"))
    assert pf.given_network(template, {}) is None
    # Deploy-time IDs without values: the offline check names the missing Parameters.
    template = json.loads(
        render_template(build_template({"network": {"vpc_id": "parameter"}}), "json")
    )
    assert pf.given_network(template, {}) is None
    assert pf.given_network(template, {"VpcId": "vpc-12345678", "PublicSubnetIds": "a,b"}) == (
        pf.GivenNetwork("vpc-12345678", ("a", "b"), ("a", "b"), private=False)
    )


def test_a_malformed_subnet_id_is_a_finding_not_an_error() -> None:
    ec2 = boto3.client("ec2")
    stub = Stubber(ec2)
    ids = ["subnet-12345678", "subnet-x"]
    stub.add_client_error(
        "describe_subnets",
        "InvalidSubnetID.Malformed",
        'Invalid id: "subnet-x"',
        expected_params={"SubnetIds": ids},
    )
    stub.activate()
    given = pf.GivenNetwork("vpc-12345678", tuple(ids), tuple(ids), private=False)
    (finding,) = pf._network(ec2, given, REGION)
    assert (finding.status, finding.check) == ("FAIL", "subnets")
    assert finding.detail == 'subnet-12345678, subnet-x: Invalid id: "subnet-x"'
