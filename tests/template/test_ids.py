"""Logical IDs are public API: a rename replaces a live resource.

The lists below are written out by hand on purpose. A failure here means a change
renames, adds or drops a logical ID of a deployed stack: CloudFormation would
delete the resource of the old name and create one under the new (a new VPC, a new
load balancer DNS name, lost logs). Update the list only for a change made on
purpose and say so in the release notes.
"""

from __future__ import annotations

import pytest

from infra_gen import Config, build_template, ids
from tests.support.stack import CERTIFICATE, DOMAIN, GOVERNED, GOVERNED_DOMAIN, LARGEST

RESOURCES = {
    "AlarmEmailSubscription",
    "AlarmLoadBalancer5xx",
    "AlarmProbeErrors",
    "AlarmProbeFailedRequests",
    "AlarmProbeNoInstances",
    "AlarmProbeNotRunning",
    "AlarmProbeThrottles",
    "AlarmResponseTime",
    "AlarmRunningTasks",
    "AlarmServiceCpu",
    "AlarmServiceMemory",
    "AlarmTarget5xx",
    "AlarmTopic",
    "AlarmTopicPolicy",
    "AlarmUnhealthyTargets",
    "Dashboard",
    "DiscoveryNamespace",
    "DiscoveryService",
    "EcsCluster",
    "EcsLoadBalancerEgressToService",
    "EcsService",
    "EcsServiceIngressFromLoadBalancer",
    "EcsServiceLogGroup",
    "EcsServiceSecurityGroup",
    "EcsTaskDefinition",
    "EcsTaskExecutionRole",
    "EcsTaskRole",
    "LoadBalancer",
    "LoadBalancerHttpIngress",
    "LoadBalancerHttpListener",
    "LoadBalancerHttpsIngress",
    "LoadBalancerHttpsListener",
    "LoadBalancerSecurityGroup",
    "LoadBalancerTargetGroup",
    "NetworkGatewayAttachment",
    "NetworkInternetGateway",
    "NetworkPublicDefaultRoute",
    "NetworkPublicRouteTable",
    "NetworkPublicSubnet1",
    "NetworkPublicSubnet1RouteTableAssociation",
    "NetworkPublicSubnet2",
    "NetworkPublicSubnet2RouteTableAssociation",
    "NetworkVpc",
    "ProbeEgressToService",
    "ProbeFunction",
    "ProbeInvokeConfig",
    "ProbeInvokePermission",
    "ProbeLogGroup",
    "ProbeRole",
    "ProbeScheduleRule",
    "ProbeSecurityGroup",
    "ProbeServiceIngress",
    "ScalingCpuPolicy",
    "ScalingRequestsPolicy",
    "ScalingTarget",
}
# What the largest configuration (three AZs, every security option) adds.
LARGEST_EXTRA_RESOURCES = {
    "LoadBalancerAccessLogBucket",
    "LoadBalancerAccessLogBucketPolicy",
    "LogsKey",
    "NetworkFlowLog",
    "NetworkFlowLogGroup",
    "NetworkFlowLogRole",
    "NetworkPublicSubnet3",
    "NetworkPublicSubnet3RouteTableAssociation",
}
PARAMETERS = {
    "AlarmEmail",
    "CertificateArn",
    "DeletionProtection",
    "LogRetentionDays",
    "MaxTasks",
    "MinTasks",
    "PermissionsBoundaryArn",
    "ProbeSchedule",
    "ServiceImage",
    "TaskSize",
}
# The governed profile: private subnets behind NAT gateways, and the access log bucket;
# no DeletionProtection (always on) nor TaskSize (fixed: CT.ECS.PR.7 compares numbers).
GOVERNED_EXTRA_RESOURCES = {
    "LoadBalancerAccessLogBucket",
    "LoadBalancerAccessLogBucketPolicy",
    "NetworkNatGateway1",
    "NetworkNatGateway2",
    "NetworkNatGatewayEip1",
    "NetworkNatGatewayEip2",
    "NetworkPrivateDefaultRoute1",
    "NetworkPrivateDefaultRoute2",
    "NetworkPrivateRouteTable1",
    "NetworkPrivateRouteTable2",
    "NetworkPrivateSubnet1",
    "NetworkPrivateSubnet1RouteTableAssociation",
    "NetworkPrivateSubnet2",
    "NetworkPrivateSubnet2RouteTableAssociation",
}
GOVERNED_PARAMETERS = PARAMETERS - {"DeletionProtection", "TaskSize"}
# A canary or linear service: ECS's second target group, the rule it shifts, its role.
SHIFTED_EXTRA_RESOURCES = {
    "EcsLoadBalancerRole",
    "LoadBalancerAlternateTargetGroup",
    "LoadBalancerRule",
}
# A domain: the stack's own certificate and the alias record; no CertificateArn Parameter
# (nor its HasCertificate Condition): HTTPS is always on.
DOMAIN_EXTRA_RESOURCES = {"DomainAliasRecord", "DomainCertificate"}
OUTPUTS = {
    "ClusterName",
    "DashboardUrl",
    "DiscoveryName",
    "LoadBalancerDnsName",
    "NamespaceId",
    "NamespaceName",
    "ServiceName",
    "ServiceUrl",
}

RENAME = (
    "logical IDs changed: a renamed resource is REPLACED in every deployed stack (deleted "
    "and created anew), a renamed Parameter breaks --parameter-overrides, a renamed Output "
    "breaks the stacks importing it. If this is on purpose, update the list in "
    "tests/template/test_ids.py. Added: {added}; gone: {gone}"
)


def _same(kind: str, actual: set[str], expected: set[str]) -> None:
    added, gone = sorted(actual - expected), sorted(expected - actual)
    assert not added and not gone, f"{kind} " + RENAME.format(added=added, gone=gone)


def test_default_template_keeps_its_logical_ids() -> None:
    t = build_template()
    _same("Resources", set(t.resources), RESOURCES)
    _same("Parameters", set(t.parameters), PARAMETERS)
    _same("Outputs", set(t.outputs), OUTPUTS)


def test_largest_configuration_adds_only_its_own_ids() -> None:
    t = build_template(Config.from_mapping(LARGEST))
    _same("Resources", set(t.resources), RESOURCES | LARGEST_EXTRA_RESOURCES)
    _same("Parameters", set(t.parameters), PARAMETERS)
    _same("Outputs", set(t.outputs), OUTPUTS)


CANARY = {"service": {"deployment": "canary"}}


@pytest.mark.parametrize("deployment", ["canary", "linear"])
def test_a_shifted_deployment_adds_only_its_own_ids(deployment: str) -> None:
    t = build_template(Config.from_mapping({"service": {"deployment": deployment}}))
    _same("Resources", set(t.resources), RESOURCES | SHIFTED_EXTRA_RESOURCES)
    _same("Parameters", set(t.parameters), PARAMETERS)
    _same("Outputs", set(t.outputs), OUTPUTS)


def test_the_governed_profile_adds_only_its_own_ids() -> None:
    t = build_template(Config.from_mapping(GOVERNED))
    _same("Resources", set(t.resources), RESOURCES | GOVERNED_EXTRA_RESOURCES)
    _same("Parameters", set(t.parameters), GOVERNED_PARAMETERS)
    _same("Outputs", set(t.outputs), OUTPUTS)
    # One NAT gateway: number 1 of each, whatever the AZ count.
    one = {**GOVERNED, "network": {**GOVERNED["network"], "nat_gateways": "one"}}
    nat = {r for r in build_template(Config.from_mapping(one)).resources if "Nat" in r}
    assert nat == {"NetworkNatGateway1", "NetworkNatGatewayEip1"}


# An existing VPC: none of the network's resources; by Parameter, its IDs as Parameters.
@pytest.mark.parametrize("governed", [False, True], ids=["default", "governed"])
def test_an_existing_vpc_drops_the_networks_ids_and_keeps_every_other(governed: bool) -> None:
    profile = {k: v for k, v in GOVERNED.items() if k != "network"} if governed else {}
    public = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    private = {"private_subnet_ids": ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"]}
    by_id = {"vpc_id": "vpc-0123456789abcdef0", "public_subnet_ids": public}
    expected = (RESOURCES | (GOVERNED_EXTRA_RESOURCES if governed else set())) - {
        r for r in RESOURCES | GOVERNED_EXTRA_RESOURCES if r.startswith("Network")
    }
    params = GOVERNED_PARAMETERS if governed else PARAMETERS
    new = {"VpcId", "PublicSubnetIds"} | ({"PrivateSubnetIds"} if governed else set())
    for network, added in (
        ({**by_id, **(private if governed else {})}, set()),
        ({"vpc_id": "parameter"}, new),
    ):
        t = build_template(Config.from_mapping({**profile, "network": network}))
        _same("Resources", set(t.resources), expected)
        _same("Parameters", set(t.parameters), params | added)
        _same("Outputs", set(t.outputs), OUTPUTS)


def test_a_domain_adds_only_its_own_ids() -> None:
    for mapping, resources, parameters in (
        (DOMAIN, RESOURCES, PARAMETERS),
        (GOVERNED_DOMAIN, RESOURCES | GOVERNED_EXTRA_RESOURCES, GOVERNED_PARAMETERS),
    ):
        t = build_template(Config.from_mapping(mapping))
        _same("Resources", set(t.resources), resources | DOMAIN_EXTRA_RESOURCES)
        _same("Parameters", set(t.parameters), parameters - {"CertificateArn"})
        _same("Outputs", set(t.outputs), OUTPUTS)
        assert ids.LoadBalancer.HAS_CERTIFICATE not in t.conditions
    # A certificate made elsewhere: no certificate of the stack's own.
    elsewhere = {**DOMAIN["domain"], "certificate_arn": CERTIFICATE}
    t = build_template(Config.from_mapping({"domain": elsewhere}))
    _same("Resources", set(t.resources), RESOURCES | {"DomainAliasRecord"})


def test_the_ids_module_names_every_id_and_nothing_else() -> None:
    t = build_template(Config.from_mapping(LARGEST))
    three = {"az_count": 3, "availability_zone_ids": ["use1-az1", "use1-az2", "use1-az4"]}
    governed = build_template(Config.from_mapping({**GOVERNED, "network": three}))
    domain = build_template(Config.from_mapping(DOMAIN))
    everything = set(t.resources) | set(t.parameters) | set(t.outputs) | set(t.conditions)
    everything |= set(governed.resources) | set(governed.parameters) | set(domain.resources)
    everything |= set(build_template(Config.from_mapping(CANARY)).resources)
    given = {**GOVERNED, "network": {"vpc_id": "parameter"}}
    everything |= set(build_template(Config.from_mapping(given)).parameters)
    exported = set()
    for name in ids.__all__:
        for key, value in vars(getattr(ids, name)).items():
            if key.isupper():
                exported |= {value.format(n) for n in (1, 2, 3)}
    template_ids = RESOURCES | LARGEST_EXTRA_RESOURCES | GOVERNED_EXTRA_RESOURCES | PARAMETERS
    template_ids |= OUTPUTS | SHIFTED_EXTRA_RESOURCES | DOMAIN_EXTRA_RESOURCES
    assert template_ids <= exported, sorted(template_ids - exported)
    assert exported <= everything, sorted(exported - everything)


def test_readme_lists_every_id_by_concern() -> None:
    from tests.support.documentation import DOCS as readme

    table = readme.split("### Logical IDs", 1)[1].split("\n## ", 1)[0]
    for name in ids.__all__:
        (row,) = [line for line in table.splitlines() if line.startswith(f"| `ids.{name}` |")]
        for key, value in vars(getattr(ids, name)).items():
            if key.isupper():
                assert f"`{value}`" in row, (name, value)
