"""Security proof of the template: scanner-clean, least privilege, network exposure, hardening.

checkov runs from its own environment (it pins its dependencies tightly); the
suite finds it through ``CHECKOV_BIN`` and fails, not skips, without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra_gen import Config, build_template, render
from infra_gen.cli import main
from tests.support import checkov
from tests.support.stack import GOVERNED, of_type, props, template

HARDENED = {"security": {"flow_logs": True, "kms_logs": True, "alb_access_logs": True}}
CONFIGS = {
    "default": {},
    "hardened": HARDENED,
    "hardened-three-azs-port-8080": {
        **HARDENED,
        "network": {"az_count": 3},
        "service": {"container_port": 8080},
    },
    "governed": GOVERNED,
    # ECS shifts traffic: a second target group, a listener rule, ECS's load balancer role.
    "canary": {"service": {"deployment": "canary"}},
}
SCANNED = ["default", "hardened", "governed", "canary"]
# The one AWS managed policy, on the role ECS assumes to move a canary's listener rule
# weights (docs/security.md says why): role -> policy name.
MANAGED = {"EcsLoadBalancerRole": "AmazonECSInfrastructureRolePolicyForLoadBalancers"}

LB_GROUP = "LoadBalancerSecurityGroup"
TASKS_GROUP = "EcsServiceSecurityGroup"
PROBE_GROUP = "ProbeSecurityGroup"
WORLD = ("cidr", "0.0.0.0/0")
WORLD_V6 = ("cidr6", "::/0")
# The rule the stack puts in place of the default allow-all egress: the limited
# broadcast address is never routed, so the rule matches no traffic.
MATCHES_NOTHING = ("cidr", "255.255.255.255/32")
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def cfg_of(name: str) -> Config:
    return Config.from_mapping(CONFIGS[name])


def port_of(name: str) -> int:
    return int(cfg_of(name).service.container_port)


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def named(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return request.param, template(cfg_of(request.param))


# --- checkov -------------------------------------------------------------------------------

# The checks each resource skips, with their reasons in the template. A change
# here is a change to docs/security.md.
EXPECTED_SKIPS = {
    "default": {
        ("AlarmTopic", "CKV_AWS_26"),
        ("EcsServiceLogGroup", "CKV_AWS_158"),
        ("LoadBalancer", "CKV_AWS_91"),
        ("LoadBalancerHttpIngress", "CKV_AWS_260"),
        ("LoadBalancerHttpListener", "CKV_AWS_103"),
        ("LoadBalancerHttpListener", "CKV_AWS_2"),
        ("ProbeFunction", "CKV_AWS_115"),
        ("ProbeFunction", "CKV_AWS_116"),
        ("ProbeFunction", "CKV_AWS_173"),
        ("ProbeLogGroup", "CKV_AWS_158"),
        ("ProbeRole", "CKV_AWS_111"),
    },
    "hardened": {
        ("AlarmTopic", "CKV_AWS_26"),
        ("LoadBalancerAccessLogBucket", "CKV_AWS_18"),
        ("LoadBalancerHttpIngress", "CKV_AWS_260"),
        ("LoadBalancerHttpListener", "CKV_AWS_103"),
        ("LoadBalancerHttpListener", "CKV_AWS_2"),
        ("ProbeFunction", "CKV_AWS_115"),
        ("ProbeFunction", "CKV_AWS_116"),
        ("ProbeFunction", "CKV_AWS_173"),
        ("ProbeRole", "CKV_AWS_111"),
    },
    # HTTPS always and HTTP only redirecting: CKV_AWS_2 and CKV_AWS_103 pass.
    "governed": {
        ("AlarmTopic", "CKV_AWS_26"),
        ("EcsServiceLogGroup", "CKV_AWS_158"),
        ("LoadBalancerAccessLogBucket", "CKV_AWS_18"),
        ("LoadBalancerHttpIngress", "CKV_AWS_260"),
        ("ProbeFunction", "CKV_AWS_115"),
        ("ProbeFunction", "CKV_AWS_116"),
        ("ProbeFunction", "CKV_AWS_173"),
        ("ProbeLogGroup", "CKV_AWS_158"),
        ("ProbeRole", "CKV_AWS_111"),
    },
}
EXPECTED_SKIPS["canary"] = EXPECTED_SKIPS["default"]


def skips(t: dict[str, Any]) -> dict[tuple[str, str], str]:
    """Every checkov skip in the template: (logical ID, check ID) -> reason."""
    found: dict[tuple[str, str], str] = {}
    for logical_id, resource in t["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            key = (logical_id, skip["id"])
            assert key not in found, f"{key} is skipped twice"
            found[key] = skip["comment"]
    return found


@dataclass(frozen=True)
class Scan:
    template: dict[str, Any]
    report: dict[str, Any]
    """checkov's report of one run over every template of SCANNED, cut to this one's checks."""
    resources: int
    """The resources of every template of that run."""


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    texts = {name: render(build_template(cfg_of(name)), "yaml") for name in SCANNED}
    return checkov.scan(texts, tmp_path_factory.mktemp("checkov"))


@pytest.fixture(params=SCANNED)
def scan(request: pytest.FixtureRequest, reports: dict[str, dict[str, Any]]) -> Scan:
    every = sum(len(template(cfg_of(name))["Resources"]) for name in SCANNED)
    return Scan(template(cfg_of(request.param)), reports[request.param], every)


def test_checkov_finds_no_failed_check(scan: Scan) -> None:
    results = scan.report["results"]
    failed = [
        f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in results["failed_checks"]
    ]
    assert failed == []
    assert results["parsing_errors"] == []
    # It read the whole of every template, and ran checks on this one.
    assert scan.report["summary"]["resource_count"] == scan.resources
    assert len(results["passed_checks"]) > 50


def test_checkov_honours_exactly_the_skips_in_the_template(scan: Scan) -> None:
    honoured = {
        (c["resource"].rsplit(".", 1)[1], c["check_id"]): c["check_result"]["suppress_comment"]
        for c in scan.report["results"]["skipped_checks"]
    }
    assert honoured == skips(scan.template)


@pytest.mark.parametrize("name", SCANNED)
def test_the_skip_table_is_the_reviewed_one(name: str) -> None:
    assert set(skips(template(cfg_of(name)))) == EXPECTED_SKIPS[name]


def test_every_skip_names_one_check_and_gives_a_reason(named: tuple[str, dict[str, Any]]) -> None:
    _, t = named
    assert "checkov" not in t.get("Metadata", {})  # no template-wide skip
    for (logical_id, check), reason in skips(t).items():
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), (logical_id, check)
        assert len(reason.strip()) >= 40, (logical_id, check, reason)
    for logical_id, resource in t["Resources"].items():
        assert "bridgecrew" not in resource.get("Metadata", {}), logical_id


def test_each_option_drops_the_skips_it_makes_unnecessary() -> None:
    cases = {
        "kms_logs": ("CKV_AWS_158", "AWS::Logs::LogGroup"),
        "alb_access_logs": ("CKV_AWS_91", "AWS::ElasticLoadBalancingV2::LoadBalancer"),
    }
    for option, (check, resource_type) in cases.items():
        for enabled in (False, True):
            t = template(Config.from_mapping({"security": {option: enabled, "flow_logs": True}}))
            skipped = {logical_id for logical_id, c in skips(t) if c == check}
            assert skipped == (set() if enabled else set(of_type(t, resource_type))), option


# --- least privilege -----------------------------------------------------------------------

# Resource "*" where AWS offers no narrower resource, by (logical ID, action). A VPC
# function's network interfaces are created by Lambda through the role, so no ID
# exists ahead of time, and the Describe actions support no resource-level permissions.
STAR_RESOURCE_ALLOWED = {
    ("ProbeRole", "ec2:AssignPrivateIpAddresses"),
    ("ProbeRole", "ec2:CreateNetworkInterface"),
    ("ProbeRole", "ec2:DeleteNetworkInterface"),
    ("ProbeRole", "ec2:DescribeNetworkInterfaces"),
    ("ProbeRole", "ec2:DescribeSubnets"),
    ("ProbeRole", "ec2:UnassignPrivateIpAddresses"),
    # Only with an image of this account's ECR (condition IsPrivateEcrImage).
    ("EcsTaskExecutionRole", "ecr:GetAuthorizationToken"),
}
# In a key policy Resource "*" means "this key": there is no other form.
KEY_POLICIES = {"LogsKey"}


@dataclass(frozen=True)
class Document:
    logical_id: str
    resource_type: str
    where: str
    statements: tuple[dict[str, Any], ...]


def documents(t: dict[str, Any]) -> list[Document]:
    """Every policy document of every resource, both branches of an Fn::If included."""
    found: list[Document] = []

    def walk(logical_id: str, resource_type: str, where: str, value: Any) -> None:
        if isinstance(value, dict):
            if "Statement" in value:
                statements = value["Statement"]
                assert isinstance(statements, list), (logical_id, where)
                found.append(Document(logical_id, resource_type, where, tuple(statements)))
                return
            for key, inner in value.items():
                walk(logical_id, resource_type, f"{where}.{key}", inner)
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(logical_id, resource_type, f"{where}[{index}]", inner)

    for logical_id, resource in t["Resources"].items():
        walk(logical_id, resource["Type"], "Properties", resource.get("Properties", {}))
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allows(t: dict[str, Any]) -> Iterator[tuple[Document, dict[str, Any]]]:
    for document in documents(t):
        for statement in document.statements:
            if statement["Effect"] == "Allow":
                yield document, statement


def test_every_policy_holder_is_walked(named: tuple[str, dict[str, Any]]) -> None:
    name, t = named
    holders = {(d.resource_type, d.where.split("[")[0]) for d in documents(t)}
    expected = {
        ("AWS::IAM::Role", "Properties.AssumeRolePolicyDocument"),
        ("AWS::IAM::Role", "Properties.Policies"),
        ("AWS::SNS::TopicPolicy", "Properties.PolicyDocument"),
    }
    if name not in ("default", "canary"):
        expected.add(("AWS::S3::BucketPolicy", "Properties.PolicyDocument"))
    if name.startswith("hardened"):
        expected.add(("AWS::KMS::Key", "Properties.KeyPolicy"))
    assert holders == expected
    roles = of_type(t, "AWS::IAM::Role")
    trusts = {d.logical_id for d in documents(t) if d.where.endswith("AssumeRolePolicyDocument")}
    assert trusts == set(roles)


def test_no_allow_statement_grants_a_wildcard_action(named: tuple[str, dict[str, Any]]) -> None:
    _, t = named
    for document, statement in allows(t):
        assert "NotAction" not in statement and "NotResource" not in statement, document
        for action in as_list(statement["Action"]):
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action), (document.logical_id, action)


def test_resource_star_only_where_aws_offers_nothing_narrower(
    named: tuple[str, dict[str, Any]],
) -> None:
    _, t = named
    star_grants = set()
    for document, statement in allows(t):
        if "*" not in as_list(statement.get("Resource", [])):
            continue
        if document.resource_type == "AWS::KMS::Key":
            assert document.logical_id in KEY_POLICIES
            assert all(a.startswith("kms:") for a in as_list(statement["Action"]))
            continue
        star_grants |= {(document.logical_id, a) for a in as_list(statement["Action"])}
    # Equal, not a subset: a grant that became narrower leaves the allow-list too.
    assert star_grants == STAR_RESOURCE_ALLOWED


def test_no_managed_policies_and_no_identities(named: tuple[str, dict[str, Any]]) -> None:
    _, t = named
    for logical_id, role in of_type(t, "AWS::IAM::Role").items():
        if logical_id in MANAGED:
            assert role["Properties"]["ManagedPolicyArns"] == [
                {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::aws:policy/{MANAGED[logical_id]}"}
            ]
            assert "Policies" not in role["Properties"]
            continue
        assert "ManagedPolicyArns" not in role["Properties"], logical_id
    for kind in ("ManagedPolicy", "Policy", "User", "Group", "AccessKey", "InstanceProfile"):
        assert of_type(t, f"AWS::IAM::{kind}") == {}
    # nginx calls no AWS API: its task role holds no permission at all.
    assert "Policies" not in props(t, "EcsTaskRole")


# Roles whose service does not document setting aws:SourceAccount when it assumes
# them (a condition on a missing key denies every attempt): Lambda execution roles, and
# ECS's load balancer role (its guide's trust policy has no condition).
TRUST_WITHOUT_SOURCE_ACCOUNT = {"ProbeRole", "EcsLoadBalancerRole"}


def test_roles_trust_one_service_of_this_account(named: tuple[str, dict[str, Any]]) -> None:
    _, t = named
    unconditioned = set()
    for logical_id, role in of_type(t, "AWS::IAM::Role").items():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Effect"] == "Allow" and statement["Action"] == ["sts:AssumeRole"]
        (service,) = statement["Principal"]["Service"]
        assert re.fullmatch(r"[a-z-]+\.amazonaws\.com", service), logical_id
        if "Condition" not in statement:
            unconditioned.add(logical_id)
            continue
        assert statement["Condition"] == {
            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        }, logical_id
    assert unconditioned == TRUST_WITHOUT_SOURCE_ACCOUNT & set(of_type(t, "AWS::IAM::Role"))


def test_resource_policies_never_allow_everyone(named: tuple[str, dict[str, Any]]) -> None:
    _, t = named
    for document, statement in allows(t):
        if document.resource_type == "AWS::IAM::Role":
            continue  # identity policies name no principal
        principal = statement["Principal"]
        assert principal != "*" and "*" not in as_list(principal.get("AWS", [])), document


# --- network exposure ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    group: str
    direction: str  # "in" or "out"
    protocol: str
    ports: tuple[int, int]
    peer: tuple[str, str]  # ("sg", logical ID), ("cidr", block) or ("cidr6", block)
    condition: str | None
    described: bool


def group_id(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return str(value["Ref"])
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        logical_id, attribute = value["Fn::GetAtt"]
        assert attribute == "GroupId"
        return str(logical_id)
    raise AssertionError(f"not a reference to a security group of the stack: {value!r}")


def rule(group: str, direction: str, p: dict[str, Any], condition: str | None) -> Rule:
    peers = [
        ("cidr", p.get("CidrIp")),
        ("cidr6", p.get("CidrIpv6")),
        ("sg", p.get("SourceSecurityGroupId") or p.get("DestinationSecurityGroupId")),
    ]
    known = {
        "GroupId",
        "IpProtocol",
        "FromPort",
        "ToPort",
        "CidrIp",
        "CidrIpv6",
        "SourceSecurityGroupId",
        "DestinationSecurityGroupId",
        "Description",
    }
    assert set(p) <= known, f"{group}: rule with {sorted(set(p) - known)} is not modelled"
    ((kind, value),) = [(k, v) for k, v in peers if v is not None]
    peer = (kind, group_id(value) if kind == "sg" else value)
    return Rule(
        group=group,
        direction=direction,
        protocol=str(p["IpProtocol"]),
        ports=(int(p.get("FromPort", -1)), int(p.get("ToPort", -1))),
        peer=peer,
        condition=condition,
        described=bool(p.get("Description")),
    )


def rules(t: dict[str, Any]) -> list[Rule]:
    """Every rule of every security group: inline ones and separate rule resources."""
    found = []
    for logical_id, sg in of_type(t, "AWS::EC2::SecurityGroup").items():
        for direction, key in (("in", "SecurityGroupIngress"), ("out", "SecurityGroupEgress")):
            for p in sg["Properties"].get(key, []):
                found.append(rule(logical_id, direction, p, sg.get("Condition")))
    for direction, kind in (("in", "SecurityGroupIngress"), ("out", "SecurityGroupEgress")):
        for resource in of_type(t, f"AWS::EC2::{kind}").values():
            p = resource["Properties"]
            found.append(rule(group_id(p["GroupId"]), direction, p, resource.get("Condition")))
    return found


def effective(t: dict[str, Any], group: str, direction: str) -> set[tuple[Any, ...]]:
    return {
        (r.protocol, r.ports, r.peer, r.condition)
        for r in rules(t)
        if r.group == group and r.direction == direction and r.peer != MATCHES_NOTHING
    }


def test_the_stack_has_three_groups(named: tuple[str, dict[str, Any]]) -> None:
    _, t = named
    assert set(of_type(t, "AWS::EC2::SecurityGroup")) == {LB_GROUP, TASKS_GROUP, PROBE_GROUP}


def test_groups_are_attached_to_what_they_guard(named: tuple[str, dict[str, Any]]) -> None:
    _, t = named
    assert props(t, "LoadBalancer")["SecurityGroups"] == [{"Ref": LB_GROUP}]
    service = props(t, "EcsService")["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert service["SecurityGroups"] == [{"Ref": TASKS_GROUP}]
    assert props(t, "ProbeFunction")["VpcConfig"]["SecurityGroupIds"] == [{"Ref": PROBE_GROUP}]


def test_only_the_load_balancer_is_open_to_the_world(named: tuple[str, dict[str, Any]]) -> None:
    name, t = named
    open_to_world = {
        (r.group, r.protocol, r.ports, r.condition)
        for r in rules(t)
        if r.direction == "in" and r.peer in (WORLD, WORLD_V6)
    }
    https = None if name == "governed" else "HasCertificate"  # governed: always
    assert open_to_world == {
        (LB_GROUP, "tcp", (80, 80), None),
        (LB_GROUP, "tcp", (443, 443), https),
    }
    # No other address range is admitted anywhere: every other ingress names a group.
    for r in rules(t):
        if r.direction == "in" and r.peer not in (WORLD, WORLD_V6):
            assert r.peer[0] == "sg", r


def test_tasks_admit_only_the_load_balancer_and_the_probe(
    named: tuple[str, dict[str, Any]],
) -> None:
    name, t = named
    port = (port_of(name), port_of(name))
    assert effective(t, TASKS_GROUP, "in") == {
        ("tcp", port, ("sg", LB_GROUP), None),
        ("tcp", port, ("sg", PROBE_GROUP), None),
    }
    assert effective(t, PROBE_GROUP, "in") == set()


def test_egress_is_no_wider_than_the_design(named: tuple[str, dict[str, Any]]) -> None:
    name, t = named
    port = (port_of(name), port_of(name))
    # Image pulls and the awslogs driver: HTTPS only. DNS to the VPC resolver is
    # not subject to security groups.
    assert effective(t, TASKS_GROUP, "out") == {("tcp", (443, 443), WORLD, None)}
    assert effective(t, LB_GROUP, "out") == {("tcp", port, ("sg", TASKS_GROUP), None)}
    assert effective(t, PROBE_GROUP, "out") == {("tcp", port, ("sg", TASKS_GROUP), None)}


def test_no_group_keeps_the_default_allow_all_egress(named: tuple[str, dict[str, Any]]) -> None:
    _, t = named
    # A group created without SecurityGroupEgress gets allow-all egress from EC2.
    for logical_id, sg in of_type(t, "AWS::EC2::SecurityGroup").items():
        assert sg["Properties"].get("SecurityGroupEgress"), logical_id
    for r in rules(t):
        assert r.protocol not in ("-1", "all"), r
        assert r.described, r


def test_no_subnet_hands_out_public_ips(named: tuple[str, dict[str, Any]]) -> None:
    _, t = named
    for logical_id, subnet in of_type(t, "AWS::EC2::Subnet").items():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False, logical_id


# --- load balancer hardening ---------------------------------------------------------------


def attributes(t: dict[str, Any]) -> dict[str, Any]:
    return {a["Key"]: a["Value"] for a in props(t, "LoadBalancer")["LoadBalancerAttributes"]}


def test_load_balancer_drops_invalid_headers_and_mitigates_desync(
    named: tuple[str, dict[str, Any]],
) -> None:
    _, t = named
    lb = props(t, "LoadBalancer")
    assert lb["Type"] == "application" and lb["Scheme"] == "internet-facing"
    attrs = attributes(t)
    assert attrs["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attrs["routing.http.desync_mitigation_mode"] == "defensive"


def test_deletion_protection_is_a_parameter(named: tuple[str, dict[str, Any]]) -> None:
    name, t = named
    if name == "governed":  # on, not a choice
        assert attributes(t)["deletion_protection.enabled"] == "true"
        assert "DeletionProtection" not in t["Parameters"]
        return
    assert attributes(t)["deletion_protection.enabled"] == {"Ref": "DeletionProtection"}
    param = t["Parameters"]["DeletionProtection"]
    assert param["AllowedValues"] == ["false", "true"] and param["Default"] == "false"


def test_https_listener_only_with_a_certificate_and_a_modern_policy(
    named: tuple[str, dict[str, Any]],
) -> None:
    name, t = named
    if name == "governed":  # HTTPS always: no condition, a certificate required
        https = t["Resources"]["LoadBalancerHttpsListener"]
        assert "Condition" not in https and "HasCertificate" not in t["Conditions"]
        assert https["Properties"]["SslPolicy"] == TLS_POLICY
        assert "Default" not in t["Parameters"]["CertificateArn"]
        return
    assert t["Conditions"]["HasCertificate"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]
    }
    assert t["Parameters"]["CertificateArn"]["Default"] == ""
    https = t["Resources"]["LoadBalancerHttpsListener"]
    assert https["Condition"] == "HasCertificate"
    p = https["Properties"]
    assert (p["Protocol"], p["Port"], p["SslPolicy"]) == ("HTTPS", 443, TLS_POLICY)
    assert p["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    assert p["DefaultActions"] == [
        {"Type": "forward", "TargetGroupArn": {"Ref": "LoadBalancerTargetGroup"}}
    ]
    listeners = of_type(t, "AWS::ElasticLoadBalancingV2::Listener")
    assert set(listeners) == {"LoadBalancerHttpListener", "LoadBalancerHttpsListener"}


def test_http_redirects_with_a_certificate_and_forwards_without(
    named: tuple[str, dict[str, Any]],
) -> None:
    name, t = named
    if name == "governed":  # only the redirect
        (action,) = props(t, "LoadBalancerHttpListener")["DefaultActions"]
        assert action["Type"] == "redirect" and action["RedirectConfig"]["Protocol"] == "HTTPS"
        return
    http = t["Resources"]["LoadBalancerHttpListener"]
    assert "Condition" not in http
    p = http["Properties"]
    assert (p["Protocol"], p["Port"]) == ("HTTP", 80)
    (action,) = p["DefaultActions"]
    condition, with_certificate, without = action["Fn::If"]
    assert condition == "HasCertificate"
    assert with_certificate == {
        "Type": "redirect",
        "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
    }
    assert without == {"Type": "forward", "TargetGroupArn": {"Ref": "LoadBalancerTargetGroup"}}


# --- options -------------------------------------------------------------------------------

OPTION_RESOURCES = {
    "flow_logs": {"NetworkFlowLog", "NetworkFlowLogGroup", "NetworkFlowLogRole"},
    "kms_logs": {"LogsKey"},
    "alb_access_logs": {"LoadBalancerAccessLogBucket", "LoadBalancerAccessLogBucketPolicy"},
}


@pytest.mark.parametrize("option", sorted(OPTION_RESOURCES))
def test_each_option_adds_its_resources_only(option: str) -> None:
    default = set(template()["Resources"])
    with_option = set(template(Config.from_mapping({"security": {option: True}}))["Resources"])
    assert with_option - default == OPTION_RESOURCES[option]
    assert default - with_option == set()


def test_options_are_off_by_default() -> None:
    t = template()
    assert of_type(t, "AWS::EC2::FlowLog") == {}
    assert of_type(t, "AWS::KMS::Key") == {}
    assert of_type(t, "AWS::S3::Bucket") == {} and of_type(t, "AWS::S3::BucketPolicy") == {}
    for logical_id, group in of_type(t, "AWS::Logs::LogGroup").items():
        assert "KmsKeyId" not in group["Properties"], logical_id
    assert not any(key.startswith("access_logs.") for key in attributes(t))


def test_flow_logs_record_all_vpc_traffic_to_a_log_group() -> None:
    t = template(Config.from_mapping({"security": {"flow_logs": True}}))
    (flow_log,) = of_type(t, "AWS::EC2::FlowLog").values()
    p = flow_log["Properties"]
    assert p["ResourceType"] == "VPC" and p["ResourceId"] == {"Ref": "NetworkVpc"}
    assert p["TrafficType"] == "ALL"
    assert p["LogDestinationType"] == "cloud-watch-logs"
    assert p["LogGroupName"] == {"Ref": "NetworkFlowLogGroup"}
    assert t["Resources"]["NetworkFlowLogGroup"]["Type"] == "AWS::Logs::LogGroup"
    assert props(t, "NetworkFlowLogGroup")["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert p["DeliverLogsPermissionArn"] == {"Fn::GetAtt": ["NetworkFlowLogRole", "Arn"]}
    role = props(t, "NetworkFlowLogRole")
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": ["vpc-flow-logs.amazonaws.com"]}
    (policy,) = role["Policies"]
    write = policy["PolicyDocument"]["Statement"][0]
    assert write["Resource"] == [{"Fn::GetAtt": ["NetworkFlowLogGroup", "Arn"]}]


@pytest.mark.parametrize("flow_logs", [False, True])
def test_kms_logs_encrypts_every_log_group(flow_logs: bool) -> None:
    t = template(Config.from_mapping({"security": {"kms_logs": True, "flow_logs": flow_logs}}))
    groups = of_type(t, "AWS::Logs::LogGroup")
    assert len(groups) == (3 if flow_logs else 2)
    for logical_id, group in groups.items():
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["LogsKey", "Arn"]}, logical_id
    key = props(t, "LogsKey")
    assert key["EnableKeyRotation"] is True
    logs_statement = next(s for s in key["KeyPolicy"]["Statement"] if "Service" in s["Principal"])
    assert logs_statement["Principal"] == {
        "Service": [{"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}]
    }
    # CloudWatch Logs may use the key for this account's log groups only.
    assert logs_statement["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": {
                "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
            }
        }
    }


def test_alb_access_logs_go_to_a_private_bucket_only_under_this_account() -> None:
    t = template(Config.from_mapping({"security": {"alb_access_logs": True}}))
    attrs = attributes(t)
    assert attrs["access_logs.s3.enabled"] == "true"
    assert attrs["access_logs.s3.bucket"] == {"Ref": "LoadBalancerAccessLogBucket"}
    # The ELB checks write access when the attribute is set: the policy comes first.
    assert "LoadBalancerAccessLogBucketPolicy" in t["Resources"]["LoadBalancer"]["DependsOn"]

    bucket = props(t, "LoadBalancerAccessLogBucket")
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (rule_,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule_["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}

    policy = props(t, "LoadBalancerAccessLogBucketPolicy")
    assert policy["Bucket"] == {"Ref": "LoadBalancerAccessLogBucket"}
    statements = policy["PolicyDocument"]["Statement"]
    under_account = {"Fn::Sub": "${LoadBalancerAccessLogBucket.Arn}/AWSLogs/${AWS::AccountId}/*"}
    (allowed,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allowed["Action"] == ["s3:PutObject"]
    assert allowed["Resource"] == [under_account]
    principal = allowed["Principal"]
    # The service principal (aws Regions opened since August 2022) and the regional ELB
    # accounts of the stack's own partition, each a valid principal only there.
    assert principal["Service"] == ["logdelivery.elasticloadbalancing.amazonaws.com"]
    assert principal["AWS"] == {
        "Fn::FindInMap": ["ElbLogDeliveryAccounts", {"Ref": "AWS::Partition"}, "Accounts"]
    }
    accounts = t["Mappings"]["ElbLogDeliveryAccounts"]
    assert set(accounts) == {"aws", "aws-cn", "aws-us-gov"}
    # From the ELB documentation's table (enable-access-logging.html).
    assert "127311923021" in accounts["aws"]["Accounts"]  # us-east-1
    assert accounts["aws-us-gov"]["Accounts"] == ["190560391635", "048591011584"]
    assert accounts["aws-cn"]["Accounts"] == ["638102146993", "037604701340"]
    assert not set(accounts["aws"]["Accounts"]) & set(
        accounts["aws-cn"]["Accounts"] + accounts["aws-us-gov"]["Accounts"]
    )
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_scanned_template_is_what_the_cli_writes(tmp_path: Path) -> None:
    # The hardened YAML is over 51,200 bytes; the CLI says so and writes the JSON that fits.
    overrides = [f"--set=security.{k}=true" for k in HARDENED["security"]]
    assert main(["-o", str(tmp_path / "stack.yaml"), *overrides]) == 2
    assert not (tmp_path / "stack.yaml").exists()
    out = tmp_path / "stack.json"
    assert main(["-o", str(out), *overrides]) == 0
    assert out.read_text(encoding="utf-8") == render(build_template(cfg_of("hardened")), "json")
