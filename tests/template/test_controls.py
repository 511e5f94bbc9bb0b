"""The controls an AWS reviewer holds the templates to, one test per control ID.

Each test restates the control's check from its documentation: the Control Tower
proactive controls' rule specifications (docs.aws.amazon.com/controltower/latest/
controlreference: ecs-rules.html, elb-rules.html, ec2-rules.html, lambda-rules.html)
and the Security Hub controls (docs.aws.amazon.com/securityhub/latest/userguide).
Control Tower evaluates them as CloudFormation hooks, on each resource's properties
with Parameters resolved: ``hook_view`` does that, with the Parameters' defaults and,
for the governed profile, a certificate ARN (it has no default). Each test shows the
default template's verdict where the control fails there, and the governed one's pass.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra_gen import Config
from tests.support.stack import CERTIFICATE, GOVERNED, GOVERNED_DOMAIN, hook_view, template

DEFAULT = hook_view(template())
GOVERNED_VIEW = hook_view(template(Config.from_mapping(GOVERNED)), {"CertificateArn": CERTIFICATE})
# CT.ECS.PR.3 / PR.8: ROOT_USER_PATTERNS = [0, "0", "root", /^0:.*$/, /^root:.*$/]
ROOT_USER = re.compile(r"^(0|root)(:.*)?$")
# CT.ELASTICLOADBALANCING.PR.2: ACM_CERTIFICATE_ARN_PATTERN
ACM_ARN = re.compile(r"arn:aws[a-z0-9\-]*:acm:[a-z0-9\-]+:\d{12}:certificate\/[\w\-]{1,64}")


def of_type(view: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    found = [r.get("Properties", {}) for r in view.values() if r["Type"] == resource_type]
    assert found, resource_type
    return found


def containers(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for p in of_type(view, "AWS::ECS::TaskDefinition") for c in p["ContainerDefinitions"]]


def attributes(view: dict[str, Any]) -> dict[str, Any]:
    (lb,) = of_type(view, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    return {a["Key"]: a["Value"] for a in lb["LoadBalancerAttributes"]}


def ecs_2_no_public_ip(view: dict[str, Any]) -> bool:
    """ECS.2 and CT.ECS.PR.9: AssignPublicIp absent or DISABLED on every service."""
    return all(
        p.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {}).get("AssignPublicIp")
        in (None, "DISABLED")
        for p in of_type(view, "AWS::ECS::Service")
    )


def test_ecs_2_and_ct_ecs_pr_9_services_assign_no_public_ip() -> None:
    assert not ecs_2_no_public_ip(DEFAULT)
    assert ecs_2_no_public_ip(GOVERNED_VIEW)


def ct_ecs_pr_3(view: dict[str, Any]) -> bool:
    """Every container gives a User, and none a root one (0, root, 0:*, root:*)."""
    return all("User" in c and not ROOT_USER.match(str(c["User"])) for c in containers(view))


def test_ct_ecs_pr_3_containers_run_as_a_non_root_user() -> None:
    assert not ct_ecs_pr_3(DEFAULT)
    assert ct_ecs_pr_3(GOVERNED_VIEW)


def ct_ecs_pr_7(view: dict[str, Any]) -> bool:
    """Every container has a Memory hard limit, a number of at least 4 (Guard: Memory >= 4)."""
    return all(isinstance(c.get("Memory"), int) and c["Memory"] >= 4 for c in containers(view))


def test_ct_ecs_pr_7_containers_have_a_memory_limit() -> None:
    assert not ct_ecs_pr_7(DEFAULT)
    assert ct_ecs_pr_7(GOVERNED_VIEW)
    # The limit is the task's memory: the container may use all of it, never more.
    (task,) = of_type(GOVERNED_VIEW, "AWS::ECS::TaskDefinition")
    assert [c["Memory"] for c in task["ContainerDefinitions"]] == [int(task["Memory"])]


def ct_elb_pr_1(view: dict[str, Any]) -> bool:
    """Every HTTP listener's default actions all redirect to HTTPS."""
    http = [
        p for p in of_type(view, "AWS::ElasticLoadBalancingV2::Listener") if p["Protocol"] == "HTTP"
    ]
    return all(
        p.get("DefaultActions")
        and all(
            a["Type"] == "redirect" and a.get("RedirectConfig", {}).get("Protocol") == "HTTPS"
            for a in p["DefaultActions"]
        )
        for p in http
    )


def test_ct_elasticloadbalancing_pr_1_http_redirects_to_https() -> None:
    assert not ct_elb_pr_1(DEFAULT)
    assert ct_elb_pr_1(GOVERNED_VIEW)


def _acm_certificate(view: dict[str, Any], arn: Any) -> bool:
    """check_is_acm_certificate: an ACM ARN, or a Ref or Fn::GetAtt of a resource of the
    template of type AWS::CertificateManager::Certificate (check_local_references)."""
    if isinstance(arn, str):
        return bool(ACM_ARN.search(arn))
    if not isinstance(arn, dict) or len(arn) != 1:
        return False
    ((function, target),) = arn.items()
    name = target if function == "Ref" else target[0] if function == "Fn::GetAtt" else None
    local = view.get(name) if isinstance(name, str) else None
    return bool(local) and local["Type"] == "AWS::CertificateManager::Certificate"


def ct_elb_pr_2(view: dict[str, Any]) -> str:
    """HTTPS and TLS listeners carry ACM certificates only; SKIP without such a listener."""
    secure = [
        p
        for p in of_type(view, "AWS::ElasticLoadBalancingV2::Listener")
        if p["Protocol"] in ("HTTPS", "TLS")
    ]
    if not secure:
        return "SKIP"
    ok = all(
        p.get("Certificates")
        and all(_acm_certificate(view, c["CertificateArn"]) for c in p["Certificates"])
        for p in secure
    )
    return "PASS" if ok else "FAIL"


def test_ct_elasticloadbalancing_pr_2_https_with_an_acm_certificate() -> None:
    # The default serves plain HTTP: no HTTPS listener, nothing for the control to pass.
    assert ct_elb_pr_2(DEFAULT) == "SKIP"
    assert ct_elb_pr_2(GOVERNED_VIEW) == "PASS"
    # Governed, the certificate cannot be left out: no default, and "" fails the pattern.
    param = template(Config.from_mapping(GOVERNED))["Parameters"]["CertificateArn"]
    assert "Default" not in param
    assert not re.fullmatch(param["AllowedPattern"], "")
    assert re.fullmatch(param["AllowedPattern"], CERTIFICATE)


def test_governed_with_a_domain_passes_the_controls_as_a_static_template() -> None:
    # No Parameter to give: the certificate is a resource of the stack, named by Ref.
    t = template(Config.from_mapping(GOVERNED_DOMAIN))
    assert "CertificateArn" not in t["Parameters"]
    view = hook_view(t)
    assert ecs_2_no_public_ip(view) and ct_ecs_pr_3(view) and ct_ecs_pr_7(view)
    assert ct_elb_pr_1(view)
    assert ct_elb_pr_2(view) == "PASS"
    attrs = attributes(view)
    assert attrs["deletion_protection.enabled"] == "true"  # PR.5
    assert attrs["routing.http.desync_mitigation_mode"] == "defensive"  # PR.3
    assert attrs["routing.http.drop_invalid_header_fields.enabled"] == "true"  # PR.4
    assert ct_elb_pr_6(view)
    # The same rule fails a listener whose certificate is not ACM's, or not a certificate.
    for arn in ({"Ref": "LoadBalancer"}, "arn:aws:iam::123456789012:server-certificate/x"):
        https = view["LoadBalancerHttpsListener"]["Properties"]
        changed = {**view, "LoadBalancerHttpsListener": {**view["LoadBalancerHttpsListener"]}}
        changed["LoadBalancerHttpsListener"]["Properties"] = {
            **https,
            "Certificates": [{"CertificateArn": arn}],
        }
        assert ct_elb_pr_2(changed) == "FAIL"


def test_https_uses_a_tls_1_3_policy() -> None:
    for view in (hook_view(template(), {"CertificateArn": CERTIFICATE}), GOVERNED_VIEW):
        (https,) = [
            p
            for p in of_type(view, "AWS::ElasticLoadBalancingV2::Listener")
            if p["Protocol"] == "HTTPS"
        ]
        assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13-")


def test_ct_elasticloadbalancing_pr_5_deletion_protection() -> None:
    assert attributes(DEFAULT)["deletion_protection.enabled"] != "true"
    assert attributes(GOVERNED_VIEW)["deletion_protection.enabled"] == "true"


def ct_elb_pr_6(view: dict[str, Any]) -> bool:
    """access_logs.s3.enabled true, and access_logs.s3.bucket a name or a reference."""
    attrs = attributes(view)
    enabled = attrs.get("access_logs.s3.enabled") == "true"
    return enabled and bool(attrs.get("access_logs.s3.bucket"))


def test_ct_elasticloadbalancing_pr_6_access_logs() -> None:
    assert not ct_elb_pr_6(DEFAULT)
    assert ct_elb_pr_6(GOVERNED_VIEW)


@pytest.mark.parametrize("view", [DEFAULT, GOVERNED_VIEW], ids=["default", "governed"])
def test_ct_ec2_pr_3_world_ingress_only_on_80_and_443(view: dict[str, Any]) -> None:
    rules = [p for p in of_type(view, "AWS::EC2::SecurityGroupIngress")]
    for group in of_type(view, "AWS::EC2::SecurityGroup"):
        rules += group.get("SecurityGroupIngress", [])
    for rule in rules:
        if rule.get("CidrIp") == "0.0.0.0/0" or rule.get("CidrIpv6") == "::/0":
            assert (rule["FromPort"], rule["ToPort"]) in ((80, 80), (443, 443)), rule


@pytest.mark.parametrize("view", [DEFAULT, GOVERNED_VIEW], ids=["default", "governed"])
def test_ec2_15_subnets_assign_no_public_ip(view: dict[str, Any]) -> None:
    assert all(p["MapPublicIpOnLaunch"] is False for p in of_type(view, "AWS::EC2::Subnet"))


def test_ct_lambda_pr_3_probe_in_the_vpc_and_governed_in_private_subnets() -> None:
    for view in (DEFAULT, GOVERNED_VIEW):
        (fn,) = of_type(view, "AWS::Lambda::Function")
        assert fn["VpcConfig"]["SubnetIds"] and fn["VpcConfig"]["SecurityGroupIds"]
    (fn,) = of_type(GOVERNED_VIEW, "AWS::Lambda::Function")
    assert {s["Ref"] for s in fn["VpcConfig"]["SubnetIds"]} == {
        "NetworkPrivateSubnet1",
        "NetworkPrivateSubnet2",
    }


@pytest.mark.parametrize("mapping", [{}, GOVERNED], ids=["default", "governed"])
def test_iam_every_role_takes_the_permissions_boundary(mapping: dict[str, Any]) -> None:
    t = template(Config.from_mapping({**mapping, "security": {"flow_logs": True}}))
    boundary = "arn:aws:iam::123456789012:policy/boundary"
    with_one = hook_view(t, {"CertificateArn": CERTIFICATE, "PermissionsBoundaryArn": boundary})
    roles = of_type(with_one, "AWS::IAM::Role")
    assert len(roles) == 4 and all(r["PermissionsBoundary"] == boundary for r in roles)
    without = of_type(hook_view(t, {"CertificateArn": CERTIFICATE}), "AWS::IAM::Role")
    assert not any("PermissionsBoundary" in r for r in without)


@pytest.mark.parametrize("mapping", [{}, GOVERNED], ids=["default", "governed"])
def test_releases_roll_back_on_target_errors_and_unhealthy_hosts(mapping: dict) -> None:
    t = template(Config.from_mapping(mapping))
    deployment = t["Resources"]["EcsService"]["Properties"]["DeploymentConfiguration"]
    rollback = ["AlarmTarget5xx", "AlarmUnhealthyTargets", "AlarmResponseTime"]
    rollback.append("AlarmProbeFailedRequests")
    assert deployment["Alarms"] == {
        "AlarmNames": [{"Ref": name} for name in rollback],
        "Enable": True,
        "Rollback": True,
    }
    watched = {
        stat["MetricStat"]["Metric"]["MetricName"]
        for stat in t["Resources"]["AlarmTarget5xx"]["Properties"]["Metrics"]
        if "MetricStat" in stat
    } | {t["Resources"][a]["Properties"]["MetricName"] for a in rollback[1:]}
    assert watched == {
        "HTTPCode_Target_5XX_Count",
        "RequestCount",
        "UnHealthyHostCount",
        "TargetResponseTime",
        "FailedRequests",
    }


@pytest.mark.parametrize("mapping", [{}, GOVERNED], ids=["default", "governed"])
def test_container_health_check_and_a_stop_timeout_for_spot(mapping: dict) -> None:
    cfg = Config.from_mapping(mapping)
    (container,) = template(cfg)["Resources"]["EcsTaskDefinition"]["Properties"][
        "ContainerDefinitions"
    ]
    kind, command = container["HealthCheck"]["Command"]
    # The check requests the port and path the target group checks.
    port, path = cfg.service.container_port, cfg.service.health_check_path
    assert kind == "CMD-SHELL" and f"http://127.0.0.1:{port}{path} " in command
    # Fargate Spot gives two minutes' notice; Fargate allows a StopTimeout of 120 s at most.
    assert container["StopTimeout"] == 120


def test_governed_retains_log_groups_and_the_key() -> None:
    t = template(Config.from_mapping({**GOVERNED, "security": {"kms_logs": True}}))
    kept = [
        r for r in t["Resources"].values() if r["Type"] in ("AWS::Logs::LogGroup", "AWS::KMS::Key")
    ]
    assert len(kept) == 3
    for resource in kept:
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert not any(
        "DeletionPolicy" in r
        for r in template()["Resources"].values()
        if r["Type"] == "AWS::Logs::LogGroup"
    )


# The access-log bucket (governed; security.alb_access_logs), against Control Tower's S3
# proactive controls (controlreference/s3-rules.html). The default template has no
# bucket: every one of them SKIPs there.
def _bucket(view: dict[str, Any]) -> dict[str, Any]:
    (bucket,) = of_type(view, "AWS::S3::Bucket")
    return bucket


def test_the_default_template_has_no_bucket_for_the_s3_controls_to_check() -> None:
    assert not [r for r in DEFAULT.values() if r["Type"].startswith("AWS::S3::")]


def test_ct_s3_pr_1_the_log_bucket_blocks_public_access() -> None:
    block = _bucket(GOVERNED_VIEW)["PublicAccessBlockConfiguration"]
    keys = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    assert all(block.get(k) is True for k in keys)


def test_ct_s3_pr_2_is_not_met_the_log_bucket_never_logs_to_itself() -> None:
    # PR.2 passes any LoggingConfiguration, {} included, which makes S3 log the bucket's
    # access into the bucket itself: a log record for every log delivered. Decided: not
    # met (docs/security.md says why); the bucket carries no LoggingConfiguration at all.
    assert "LoggingConfiguration" not in _bucket(GOVERNED_VIEW)


def ct_s3_pr_3_and_6(bucket: dict[str, Any]) -> bool:
    """PR.3 (versioned: an enabled lifecycle rule), PR.6 (a non-empty rule list, one enabled)."""
    rules = bucket.get("LifecycleConfiguration", {}).get("Rules") or []
    return bool(rules) and any(r.get("Status") == "Enabled" for r in rules)


def test_ct_s3_pr_3_6_and_11_the_log_bucket_is_versioned_with_lifecycle_rules() -> None:
    bucket = _bucket(GOVERNED_VIEW)
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"  # PR.11
    assert ct_s3_pr_3_and_6(bucket)


def ct_s3_pr_4(bucket: dict[str, Any]) -> bool:
    """EventBridgeConfiguration.EventBridgeEnabled true, or a non-empty list of Lambda,
    queue or topic configurations."""
    notification = bucket.get("NotificationConfiguration")
    if not isinstance(notification, dict):
        return False
    bridge = notification.get("EventBridgeConfiguration")
    if isinstance(bridge, dict) and bridge.get("EventBridgeEnabled") is True:
        return True
    kinds = ("LambdaConfigurations", "QueueConfigurations", "TopicConfigurations")
    return any(isinstance(notification.get(k), list) and notification[k] for k in kinds)


def test_ct_s3_pr_4_the_log_bucket_sends_event_notifications() -> None:
    assert ct_s3_pr_4(_bucket(GOVERNED_VIEW))
    assert not ct_s3_pr_4({"NotificationConfiguration": {}})  # the rule's FAIL example


def test_ct_s3_pr_5_the_log_bucket_grants_nothing_through_acls() -> None:
    bucket = _bucket(GOVERNED_VIEW)
    assert "AccessControl" not in bucket
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


# CT.S3.PR.8's ARN patterns: the bucket, and every object of it.
S3_BUCKET_ARN = re.compile(r"^arn:aws[a-z0-9\-]*:s3:::[a-z0-9][a-z0-9\.-]*[a-z0-9]$")
S3_OBJECTS_ARN = re.compile(r"^arn:aws[a-z0-9\-]*:s3:::[a-z0-9][a-z0-9\.-]*[a-z0-9]\/\*$")


def ct_s3_pr_8(policy: dict[str, Any]) -> bool:
    """A statement denying every principal every S3 action on the bucket and its objects
    when aws:SecureTransport is false (the hook's view: ARNs resolved)."""
    for s in policy["PolicyDocument"]["Statement"]:
        actions = s.get("Action") if isinstance(s.get("Action"), list) else [s.get("Action")]
        resources = s.get("Resource") if isinstance(s.get("Resource"), list) else []
        if (
            s.get("Effect") == "Deny"
            and all(a in ("s3:*", "*") for a in actions)
            and s.get("Principal") in ("*", {"AWS": "*"})
            and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            and (
                s.get("Resource") == "*"
                or (
                    any(isinstance(r, str) and S3_BUCKET_ARN.match(r) for r in resources)
                    and any(isinstance(r, str) and S3_OBJECTS_ARN.match(r) for r in resources)
                )
            )
        ):
            return True
    return False


def _resolved(value: Any, logical_id: str, arn: str) -> Any:
    """``value`` with the bucket's Arn resolved, as CloudFormation hands it to a hook."""
    if value == {"Fn::GetAtt": [logical_id, "Arn"]}:
        return arn
    if isinstance(value, dict) and list(value) == ["Fn::Sub"] and isinstance(value["Fn::Sub"], str):
        return value["Fn::Sub"].replace("${" + logical_id + ".Arn}", arn)
    if isinstance(value, dict):
        return {k: _resolved(v, logical_id, arn) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v, logical_id, arn) for v in value]
    return value


def test_ct_s3_pr_8_the_log_bucket_takes_tls_only() -> None:
    (policy,) = of_type(GOVERNED_VIEW, "AWS::S3::BucketPolicy")
    (bucket_id,) = [k for k, r in GOVERNED_VIEW.items() if r["Type"] == "AWS::S3::Bucket"]
    resolved = _resolved(policy, bucket_id, "arn:aws:s3:::web-loadbalanceraccesslogbucket-1")
    assert ct_s3_pr_8(resolved)
    # A policy without the statement fails.
    assert not ct_s3_pr_8(
        {"PolicyDocument": {"Statement": resolved["PolicyDocument"]["Statement"][:1]}}
    )


def test_ct_s3_pr_9_and_10_are_not_met_by_choice() -> None:
    bucket = _bucket(GOVERNED_VIEW)
    # PR.9: Object Lock would keep logs past the lifecycle's expiry; not asked for here.
    assert "ObjectLockEnabled" not in bucket
    # PR.10: ELB access log delivery writes only to SSE-S3 buckets.
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
