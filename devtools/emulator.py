"""moto's AWS emulator: a server, and bridges for what its CloudFormation lacks.

moto runs in server mode on 127.0.0.1 (``serving``); every call goes through boto3
over HTTP, through an ``Api``.

What moto's CloudFormation (5.2) does with each resource type of the template:

Created by moto's own handlers; what they keep is read back and checked:
    AWS::EC2::InternetGateway, AWS::EC2::VPCGatewayAttachment,
    AWS::EC2::RouteTable, AWS::EC2::Route, AWS::EC2::FlowLog,
    AWS::ElasticLoadBalancingV2::LoadBalancer, ...::TargetGroup, ...::Listener,
    AWS::Events::Rule, AWS::Lambda::Permission, AWS::SNS::Topic,
    AWS::CloudWatch::Dashboard.

Created through moto's service APIs by the handlers in ``_BRIDGES``, because moto's
CloudFormation has no handler for the type, or its handler drops or garbles properties
that matter here. Each handler passes the properties moto's CloudFormation resolved
(Refs, GetAtts, Parameters, Conditions) to the AWS API calls that create the resource,
renaming members only where the API spells them differently, so botocore checks them
against the AWS API model and moto's service stores them:
    AWS::ServiceDiscovery::PrivateDnsNamespace, AWS::ServiceDiscovery::Service
        (no handler: the stack could not even resolve ``GetAtt DiscoveryService.Arn``),
    AWS::CloudWatch::Alarm, AWS::EC2::SecurityGroupEgress (no handler),
    AWS::ECS::Cluster (moto drops capacity providers, strategy and settings),
    AWS::ECS::Service (drops load balancers, registries, network configuration; moto's
        ECS itself keeps no deploymentConfiguration: see DEPLOYMENT_CONFIGURATIONS),
    AWS::ECS::TaskDefinition (drops network mode, compatibilities, size and roles;
        registers an empty container definition on update),
    AWS::Lambda::Function (drops Architectures),
    AWS::Logs::LogGroup (drops KmsKeyId),
    AWS::EC2::VPC (drops EnableDnsSupport and EnableDnsHostnames),
    AWS::EC2::SecurityGroup (drops SecurityGroupEgress, keeps the allow-all rule),
    AWS::EC2::SecurityGroupIngress (drops the Description of group-sourced rules),
    AWS::EC2::Subnet (drops AvailabilityZoneId),
    AWS::EC2::SubnetRouteTableAssociation (stores it where no API returns it),
    AWS::IAM::Role (stores inline policies so that the API returns no JSON),
    AWS::KMS::Key (stores the key policy so that DescribeKey fails),
    AWS::S3::Bucket (moto keeps its encryption only: not its public access block,
        ownership controls, versioning or lifecycle), AWS::S3::BucketPolicy (no handler),
    AWS::ApplicationAutoScaling::ScalableTarget, ...::ScalingPolicy (no handler); moto
        does not move the service's count into the registered range as
        RegisterScalableTarget does, so the scalable target's handler does that too.
    AWS::CertificateManager::Certificate (no handler): requested through ACM, and, as
        CloudFormation does for a certificate whose DomainValidationOptions name a
        hosted zone, its validation CNAME written in that zone. moto does NOT validate:
        it reports a DNS-validated certificate ISSUED once a set time has passed,
        whatever DNS holds, and the handler returns without waiting, where CloudFormation
        waits for ACM to issue it (minutes; a failure after 72 hours). What the tests
        check is the request and the record, not the validation.

moto leaves None where an Fn::If yields AWS::NoValue in a list; the role handler drops
it, as CloudFormation does.

A stack's deletion (``infra-gen delete``) deletes moto's own resources; a bridged one
leaves the stack but stays in moto's service, where nothing reads it after.

Not modelled at all: moto skips these without an error and they are NOT checked here
(``test_every_resource_is_emulated_or_listed`` in tests/emulator/test_deploy.py keeps this
list true):
    AWS::Lambda::EventInvokeConfig, AWS::SNS::Subscription, AWS::SNS::TopicPolicy.

Properties no moto API returns, also NOT checked: the service's capacity provider
strategy, the load balancer's attributes
(deletion protection, header handling, access log bucket), the target group's
attributes (deregistration delay), the function's LoggingConfig and the namespace's VPC.

Further emulator gaps worked around here, each in one place:
    - moto's hosted zone IDs are 22 random upper-case letters and digits; Route 53's
      start with ``Z`` (which ``domain.hosted_zone_id`` requires), so moto's are made
      to as well.
    - ``GetAtt LoadBalancer.LoadBalancerFullName`` and ``TargetGroup.TargetGroupFullName``
      are not implemented; they are computed from the ARN as AWS defines them.
      ``LoadBalancer.CanonicalHostedZoneID`` is not either; it is the zone ID moto's
      DescribeLoadBalancers returns.
    - A stack created or updated through a change set keeps the Outputs of the empty
      template it started with; they are recomputed after each execution.
    - moto reads a path-style ``TemplateURL`` (``http://host:port/bucket/key``, the form
      built on the S3 client's own endpoint) only when its host is ``localhost``; the
      emulator's host, 127.0.0.1, is read the same way.
    - moto evaluates a bucket policy's statements without their Conditions, so a Deny
      of requests without TLS (``aws:SecureTransport`` false) denies every request. The
      emulator's plain-HTTP requests stand in for S3's HTTPS ones: such a Deny is
      left out of the evaluation, every other statement kept.
    - ``GetTemplate`` ignores ``ChangeSetName`` and ``TemplateStage`` (it answers the
      stack's template, which for a new stack is empty), and ``DescribeChangeSet`` answers
      no ``Capabilities`` (moto does not keep them) and no ``Tags`` (moto keeps them,
      its answer drops them). Both are answered here from what the change set was
      created with: the template text as submitted, the request's capabilities and tags.
    - Parameter constraints (AllowedPattern, AllowedValues, MinValue, MaxValue) are not
      enforced; ``deploy`` checks override values as CloudFormation does before any
      call, and the tests of that check run without the emulator.
    - An update offers resources whose values did not change, drops those whose type it
      cannot update, and runs in template key order (a service before the task definition
      it names); updates are made to compare Parameters with their previous values and
      to run in dependency order, as CloudFormation does.

What moto 5.2 does not do, and ``emulating`` adds on top of it (``_emulate_*``):

- Replacement. moto's change set lists Action, LogicalResourceId and ResourceType only,
  and misses resources that change through a Parameter. Here a change set also gets
  the resources whose Properties refer to a changed Parameter, and for each Modify the
  changed top-level properties: ``Replacement`` is True when one of them is in the
  resource type's ``createOnlyProperties`` (CloudFormation's own resource schemas, as
  shipped with cfn-lint), which is how CloudFormation decides it for these types.
  What is checked: that ``diff`` reads ``Replacement`` and ``Details`` as the API
  returns them and that the replaced resource really gets a new physical ID.
- Conditions. moto's CREATE change set also lists the resources whose Condition is
  false (the e-mail subscription, the HTTPS listener); CloudFormation leaves them out.
  The diff of a new stack is checked against the template's count, as moto lists it.
- Resource events. moto records stack events only; here each resource it creates or
  updates gets its IN_PROGRESS and COMPLETE events, so progress has something to show.
- Failure. moto raises out of ExecuteChangeSet when a resource fails; CloudFormation
  instead records the resource's ``CREATE_FAILED`` with its reason and rolls back. Here
  the failure is injected into one resource's handler, the event recorded and the
  stack set to ``ROLLBACK_COMPLETE`` (nothing is rolled back). What is checked: the
  reason reaches the user, with the resource, and the exit status is non-zero.

Run it for a try-out of the commands on a laptop (``make emulator``, or
``python -m devtools.emulator --port 5000``): it prints the environment variables that
point boto3's usual chain (and so ``infra-gen``) at it. Every resource lives in memory
and is gone when it stops. This is a development tool: moto is a test dependency, so it
stays outside the ``infra_gen`` package.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import re
import signal
import sys
import tempfile
import threading
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cloudformation.models import CloudFormationBackend
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult
from moto.elbv2 import models as elbv2_models
from moto.route53 import models as route53_models
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account


# --------------------------------------------------------------------------------------
# CloudFormation's check of Parameter values, which moto does not perform.
# --------------------------------------------------------------------------------------


def parameter_errors(
    declared: Mapping[str, Mapping[str, Any]], values: Mapping[str, str]
) -> list[str]:
    """What CloudFormation rejects in ``values`` before it touches a resource.

    CloudFormation matches AllowedPattern against the whole value, compares
    AllowedValues as strings, and checks a Number's type before its bounds.
    """
    errors = []
    for name, value in sorted(values.items()):
        spec = declared.get(name)
        if spec is None:
            errors.append(f"Parameters: [{name}] do not exist in the template")
            continue
        if spec["Type"] == "Number":
            try:
                number = float(value)
            except ValueError:
                errors.append(f"Parameter '{name}' must be a number.")
                continue
            if "MinValue" in spec and number < float(spec["MinValue"]):
                errors.append(
                    f"Parameter '{name}' must be a number not less than {spec['MinValue']}"
                )
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                errors.append(
                    f"Parameter '{name}' must be a number not greater than {spec['MaxValue']}"
                )
        if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
            errors.append(f"Parameter '{name}' must be one of AllowedValues")
        if "AllowedPattern" in spec and re.fullmatch(spec["AllowedPattern"], value) is None:
            errors.append(f"Parameter '{name}' must match pattern {spec['AllowedPattern']}")
        if "MinLength" in spec and len(value) < int(spec["MinLength"]):
            errors.append(
                f"Parameter '{name}' must contain at least {spec['MinLength']} characters"
            )
        if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
            errors.append(f"Parameter '{name}' must contain at most {spec['MaxLength']} characters")
    return errors


class ParameterValidationError(ValueError):
    """CloudFormation's ValidationError for a bad Parameter value."""


# --------------------------------------------------------------------------------------
# The emulator: moto in server mode, plus handlers for what its CloudFormation lacks.
# --------------------------------------------------------------------------------------


class Api:
    """boto3 clients of the emulator, one per service, shared by tests and handlers."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str) -> Any:
        # Handlers run on the server's request threads; creating clients is not thread-safe.
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._session.client(
                    service,
                    endpoint_url=self.endpoint,
                    config=BotoConfig(retries={"max_attempts": 1}),
                )
            return self._clients[service]


@dataclass
class _Made:
    """A resource a bridge created: what Ref and GetAtt return for it."""

    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    """The resolved properties it was made from."""

    # The interface moto's CloudFormation expects of a created resource.
    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def get_cfn_attribute(self, name: str) -> Any:
        if name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attributes[name]

    def is_created(self) -> bool:
        return True


Create = Callable[[Api, str, dict[str, Any]], _Made]
Update = Callable[[Api, _Made, str, dict[str, Any]], _Made]


@dataclass(frozen=True)
class _Bridge:
    name_property: str
    """The property CloudFormation names the resource by; generated when absent."""
    create: Create
    update: Update | None = None


def _unresolved(value: Any, path: str = "") -> list[str]:
    """Paths of intrinsic functions moto's CloudFormation left unresolved."""
    if isinstance(value, dict):
        found = [path] if any(k == "Ref" or k.startswith("Fn::") for k in value) else []
        for key, inner in value.items():
            found += _unresolved(inner, f"{path}.{key}")
        return found
    if isinstance(value, list):
        return [p for i, inner in enumerate(value) for p in _unresolved(inner, f"{path}[{i}]")]
    return []


def _camel(value: Any) -> Any:
    """CloudFormation's PascalCase ECS properties as the ECS API's camelCase members."""
    if isinstance(value, dict):
        return {
            key[:1].lower() + key[1:]: inner
            if key in ("Options", "DockerLabels")
            else _camel(inner)
            for key, inner in value.items()
        }
    if isinstance(value, list):
        return [_camel(inner) for inner in value]
    return value


def _permission(rule: Mapping[str, Any], peer: str) -> dict[str, Any]:
    """A CloudFormation security group rule as an EC2 IpPermission."""
    permission: dict[str, Any] = {"IpProtocol": str(rule["IpProtocol"])}
    for port in ("FromPort", "ToPort"):
        if port in rule:
            permission[port] = int(rule[port])
    described = {"Description": rule["Description"]} if "Description" in rule else {}
    if "CidrIp" in rule:
        permission["IpRanges"] = [{"CidrIp": rule["CidrIp"], **described}]
    if "CidrIpv6" in rule:
        permission["Ipv6Ranges"] = [{"CidrIpv6": rule["CidrIpv6"], **described}]
    if f"{peer}SecurityGroupId" in rule:
        permission["UserIdGroupPairs"] = [{"GroupId": rule[f"{peer}SecurityGroupId"], **described}]
    if f"{peer}PrefixListId" in rule:
        permission["PrefixListIds"] = [{"PrefixListId": rule[f"{peer}PrefixListId"], **described}]
    return permission


def _namespace(api: Api, name: str, p: dict[str, Any]) -> _Made:
    sd = api("servicediscovery")
    operation = sd.create_private_dns_namespace(**p)["OperationId"]
    namespace_id = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    namespace = sd.get_namespace(Id=namespace_id)["Namespace"]
    zone = namespace["Properties"]["DnsProperties"]["HostedZoneId"]
    return _Made(namespace_id, {"Id": namespace_id, "Arn": namespace["Arn"], "HostedZoneId": zone})


def _discovery_service(api: Api, name: str, p: dict[str, Any]) -> _Made:
    service = api("servicediscovery").create_service(**p)["Service"]
    return _Made(service["Id"], {k: service[k] for k in ("Id", "Arn", "Name")})


def _secret(api: Api, name: str, p: dict[str, Any]) -> _Made:
    # A generated value is made up here: moto's CloudFormation has no Secret at all.
    value = p.get("SecretString") or "generated-" + name
    arn = api("secretsmanager").create_secret(Name=p.get("Name", name), SecretString=value)["ARN"]
    return _Made(arn, {"Id": arn})


def _alarm(api: Api, name: str, p: dict[str, Any]) -> _Made:
    cloudwatch = api("cloudwatch")
    cloudwatch.put_metric_alarm(**{"AlarmName": name, **p})
    alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    return _Made(name, {"Arn": alarm["AlarmArn"]})


def _json(value: Any) -> str:
    """A policy document: CloudFormation takes an object, the APIs a JSON string."""
    return value if isinstance(value, str) else json.dumps(value)


def _role(api: Api, name: str, p: dict[str, Any]) -> _Made:
    iam = api("iam")
    role = iam.create_role(
        RoleName=name,
        Path=p.get("Path", "/"),
        AssumeRolePolicyDocument=_json(p["AssumeRolePolicyDocument"]),
    )["Role"]
    # An Fn::If that yields AWS::NoValue in a list: CloudFormation drops the item,
    # moto leaves None in its place.
    for policy in [q for q in p.get("Policies", []) if q is not None]:
        iam.put_role_policy(
            RoleName=name,
            PolicyName=policy["PolicyName"],
            PolicyDocument=_json(policy["PolicyDocument"]),
        )
    for arn in p.get("ManagedPolicyArns", []):
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    return _Made(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})


def _true(value: Any) -> bool:
    """A CloudFormation Boolean, which a template may also write as a string."""
    return str(value).lower() == "true"


def _vpc(api: Api, name: str, p: dict[str, Any]) -> _Made:
    ec2 = api("ec2")
    vpc_id = ec2.create_vpc(
        CidrBlock=p["CidrBlock"], InstanceTenancy=p.get("InstanceTenancy", "default")
    )["Vpc"]["VpcId"]
    # ModifyVpcAttribute takes one attribute per call.
    for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
        if attribute in p:
            ec2.modify_vpc_attribute(VpcId=vpc_id, **{attribute: {"Value": _true(p[attribute])}})
    if p.get("Tags"):
        ec2.create_tags(Resources=[vpc_id], Tags=p["Tags"])
    return _Made(vpc_id, {"VpcId": vpc_id, "CidrBlock": p["CidrBlock"]})


def _subnet(api: Api, name: str, p: dict[str, Any]) -> _Made:
    ec2 = api("ec2")
    zone = {k: p[k] for k in ("AvailabilityZone", "AvailabilityZoneId") if k in p}
    subnet = ec2.create_subnet(VpcId=p["VpcId"], CidrBlock=p["CidrBlock"], **zone)["Subnet"]
    subnet_id = subnet["SubnetId"]
    ec2.modify_subnet_attribute(
        SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": _true(p.get("MapPublicIpOnLaunch"))}
    )
    if p.get("Tags"):
        ec2.create_tags(Resources=[subnet_id], Tags=p["Tags"])
    return _Made(subnet_id, {"SubnetId": subnet_id, "AvailabilityZone": subnet["AvailabilityZone"]})


def _key(api: Api, name: str, p: dict[str, Any]) -> _Made:
    kms = api("kms")
    policy = _json(p["KeyPolicy"])
    key = kms.create_key(Policy=policy, Description=p.get("Description", ""))["KeyMetadata"]
    if _true(p.get("EnableKeyRotation", False)):
        kms.enable_key_rotation(KeyId=key["KeyId"])
    return _Made(key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]})


def _security_group(api: Api, name: str, p: dict[str, Any]) -> _Made:
    ec2 = api("ec2")
    group = ec2.create_security_group(
        GroupName=name, Description=p["GroupDescription"], VpcId=p["VpcId"]
    )["GroupId"]
    if "SecurityGroupEgress" in p:
        # CloudFormation replaces EC2's default allow-all egress rule with the listed ones.
        ec2.revoke_security_group_egress(
            GroupId=group,
            IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )
        ec2.authorize_security_group_egress(
            GroupId=group,
            IpPermissions=[_permission(r, "Destination") for r in p["SecurityGroupEgress"]],
        )
    if "SecurityGroupIngress" in p:
        ec2.authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[_permission(r, "Source") for r in p["SecurityGroupIngress"]],
        )
    return _Made(group, {"GroupId": group, "VpcId": p["VpcId"]})


def _group_rule(direction: str, peer: str) -> Create:
    def create(api: Api, name: str, p: dict[str, Any]) -> _Made:
        authorize = getattr(api("ec2"), f"authorize_security_group_{direction}")
        rules = authorize(GroupId=p["GroupId"], IpPermissions=[_permission(p, peer)])
        rule_id = rules["SecurityGroupRules"][0]["SecurityGroupRuleId"]
        return _Made(rule_id, {"Id": rule_id})

    return create


def _route_table_association(api: Api, name: str, p: dict[str, Any]) -> _Made:
    association = api("ec2").associate_route_table(
        RouteTableId=p["RouteTableId"], SubnetId=p["SubnetId"]
    )["AssociationId"]
    return _Made(association, {"Id": association})


def _log_group(api: Api, name: str, p: dict[str, Any]) -> _Made:
    logs = api("logs")
    encrypted = {"kmsKeyId": p["KmsKeyId"]} if "KmsKeyId" in p else {}
    logs.create_log_group(logGroupName=name, **encrypted)
    if "RetentionInDays" in p:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(p["RetentionInDays"]))
    group = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
    return _Made(name, {"Arn": group["arn"]})  # CloudFormation's Arn ends in ":*" too


def _inline_zip(source: str) -> bytes:
    """CloudFormation's packaging of ZipFile code: one file named index.py."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entry = zipfile.ZipInfo("index.py", date_time=(1980, 1, 1, 0, 0, 0))
        entry.external_attr = 0o644 << 16
        archive.writestr(entry, source)
    return buffer.getvalue()


def _function(api: Api, name: str, p: dict[str, Any]) -> _Made:
    code = dict(p["Code"])
    if "ZipFile" in code:
        code["ZipFile"] = _inline_zip(code["ZipFile"])
    function = api("lambda").create_function(**{**p, "FunctionName": name, "Code": code})
    return _Made(function["FunctionName"], {"Arn": function["FunctionArn"]})


def _cluster(api: Api, name: str, p: dict[str, Any]) -> _Made:
    params = _camel({"ClusterName": name, **p})
    params["settings"] = params.pop("clusterSettings", [])
    cluster = api("ecs").create_cluster(**params)["cluster"]
    return _Made(cluster["clusterName"], {"Arn": cluster["clusterArn"]})


def _task_definition(api: Api, name: str, p: dict[str, Any]) -> _Made:
    ecs = api("ecs")
    registered = ecs.register_task_definition(**_camel({"Family": name, **p}))["taskDefinition"]
    arn = registered["taskDefinitionArn"]
    return _Made(arn, {"TaskDefinitionArn": arn})


def _replace_task_definition(api: Api, old: _Made, name: str, p: dict[str, Any]) -> _Made:
    new = _task_definition(api, name, p)
    api("ecs").deregister_task_definition(taskDefinition=old.physical_id)
    return new


# Not capacityProviderStrategy: moto keeps none and fails to describe a service given one.
_SERVICE_UPDATABLE = (
    "deploymentConfiguration",
    "desiredCount",
    "enableECSManagedTags",
    "healthCheckGracePeriodSeconds",
    "loadBalancers",
    "networkConfiguration",
    "platformVersion",
    "propagateTags",
    "serviceRegistries",
    "taskDefinition",
)


# moto's ECS keeps no deploymentConfiguration (strategy, canary or linear settings,
# bake time, rollback alarms) and no service deployments: CreateService and
# UpdateService still get it, so botocore checks it against the ECS API model, and it is
# kept here, by service ARN, for the tests to read. No traffic is shifted, nothing bakes.
DEPLOYMENT_CONFIGURATIONS: dict[str, dict[str, Any]] = {}


def _ecs_service(api: Api, name: str, p: dict[str, Any]) -> _Made:
    params = _camel({"ServiceName": name, **p})
    # CloudFormation creates a service without DesiredCount with one task.
    params["desiredCount"] = int(params.get("desiredCount", 1))
    service = api("ecs").create_service(**params)["service"]
    DEPLOYMENT_CONFIGURATIONS[service["serviceArn"]] = params.get("deploymentConfiguration", {})
    return _Made(service["serviceArn"], {"Name": service["serviceName"]})


def _update_ecs_service(api: Api, old: _Made, name: str, p: dict[str, Any]) -> _Made:
    params = _camel(p)
    changes = {k: v for k, v in params.items() if k in _SERVICE_UPDATABLE}
    # Without DesiredCount in the template, CloudFormation leaves the count out of the
    # call: the service keeps the count it has.
    if "desiredCount" in changes:
        changes["desiredCount"] = int(changes["desiredCount"])
    service = api("ecs").update_service(
        cluster=params["cluster"], service=old.physical_id, **changes
    )["service"]
    if "deploymentConfiguration" in changes:
        DEPLOYMENT_CONFIGURATIONS[service["serviceArn"]] = changes["deploymentConfiguration"]
    return _Made(service["serviceArn"], {"Name": service["serviceName"]})


def _scalable_target(api: Api, name: str, p: dict[str, Any]) -> _Made:
    aas = api("application-autoscaling")
    key = {k: p[k] for k in ("ServiceNamespace", "ResourceId", "ScalableDimension")}
    aas.register_scalable_target(
        **key, MinCapacity=int(p["MinCapacity"]), MaxCapacity=int(p["MaxCapacity"])
    )
    # RegisterScalableTarget moves an active resource's capacity into the new range
    # (API reference); moto does not, so the bridge does it for ECS services.
    _, cluster, service = p["ResourceId"].split("/")
    ecs = api("ecs")
    (current,) = ecs.describe_services(cluster=cluster, services=[service])["services"]
    count = min(max(current["desiredCount"], int(p["MinCapacity"])), int(p["MaxCapacity"]))
    if count != current["desiredCount"]:
        ecs.update_service(cluster=cluster, service=service, desiredCount=count)
    # CloudFormation's Ref of a scalable target: resource ID|dimension|namespace.
    return _Made("|".join([p["ResourceId"], p["ScalableDimension"], p["ServiceNamespace"]]))


def _update_scalable_target(api: Api, old: _Made, name: str, p: dict[str, Any]) -> _Made:
    return _scalable_target(api, name, p)


def _scaling_policy(api: Api, name: str, p: dict[str, Any]) -> _Made:
    resource_id, dimension, namespace = p["ScalingTargetId"].split("|")
    policy = api("application-autoscaling").put_scaling_policy(
        PolicyName=p["PolicyName"],
        ServiceNamespace=namespace,
        ResourceId=resource_id,
        ScalableDimension=dimension,
        PolicyType=p["PolicyType"],
        TargetTrackingScalingPolicyConfiguration=p["TargetTrackingScalingPolicyConfiguration"],
    )
    return _Made(policy["PolicyARN"], {"Arn": policy["PolicyARN"]})


def _certificate(api: Api, name: str, p: dict[str, Any]) -> _Made:
    acm = api("acm")
    arn = acm.request_certificate(
        DomainName=p["DomainName"], ValidationMethod=p.get("ValidationMethod", "EMAIL")
    )["CertificateArn"]
    # CloudFormation writes each validation record in the hosted zone the option names.
    zones = {o["DomainName"]: o["HostedZoneId"] for o in p.get("DomainValidationOptions", [])}
    described = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    for option in described.get("DomainValidationOptions", []):
        if option["DomainName"] in zones:
            record = option["ResourceRecord"]
            api("route53").change_resource_record_sets(
                HostedZoneId=zones[option["DomainName"]],
                ChangeBatch={
                    "Changes": [
                        {
                            "Action": "UPSERT",
                            "ResourceRecordSet": {
                                "Name": record["Name"],
                                "Type": record["Type"],
                                "TTL": 300,
                                "ResourceRecords": [{"Value": record["Value"]}],
                            },
                        }
                    ]
                },
            )
    return _Made(arn)


def _bucket_settings(api: Api, name: str, p: dict[str, Any]) -> None:
    """A bucket's CloudFormation properties through the S3 API calls that set them."""
    s3 = api("s3")
    if "BucketEncryption" in p:
        rules = [
            {
                "ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"],
                **(
                    {"BucketKeyEnabled": _true(r["BucketKeyEnabled"])}
                    if "BucketKeyEnabled" in r
                    else {}
                ),
            }
            for r in p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if "PublicAccessBlockConfiguration" in p:
        block = {k: _true(v) for k, v in p["PublicAccessBlockConfiguration"].items()}
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
    if "OwnershipControls" in p:
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=p["OwnershipControls"])
    if "VersioningConfiguration" in p:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=p["VersioningConfiguration"])
    if "LifecycleConfiguration" in p:
        rules = []
        for r in p["LifecycleConfiguration"]["Rules"]:
            rule: dict[str, Any] = {
                "ID": r["Id"],
                "Status": r["Status"],
                "Filter": {"Prefix": r.get("Prefix", "")},
            }
            if "ExpirationInDays" in r:
                rule["Expiration"] = {"Days": int(r["ExpirationInDays"])}
            if "NoncurrentVersionExpiration" in r:
                days = int(r["NoncurrentVersionExpiration"]["NoncurrentDays"])
                rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": days}
            if "AbortIncompleteMultipartUpload" in r:
                days = int(r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
                rule["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
            rules.append(rule)
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})


def _bucket(api: Api, name: str, p: dict[str, Any]) -> _Made:
    # CloudFormation names a bucket in lower case (stack, logical ID, a random suffix).
    name = name.lower()
    api("s3").create_bucket(Bucket=name)  # us-east-1: no LocationConstraint
    _bucket_settings(api, name, p)
    return _Made(
        name,
        {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
        },
    )


def _update_bucket(api: Api, old: _Made, name: str, p: dict[str, Any]) -> _Made:
    _bucket_settings(api, old.physical_id, p)
    return _Made(old.physical_id, old.attributes)


def _bucket_policy(api: Api, name: str, p: dict[str, Any]) -> _Made:
    api("s3").put_bucket_policy(Bucket=p["Bucket"], Policy=_json(p["PolicyDocument"]))
    return _Made(p["Bucket"])


def _update_bucket_policy(api: Api, old: _Made, name: str, p: dict[str, Any]) -> _Made:
    return _bucket_policy(api, name, p)


_BRIDGES: dict[str, _Bridge] = {
    "AWS::ApplicationAutoScaling::ScalableTarget": _Bridge(
        "", _scalable_target, _update_scalable_target
    ),
    "AWS::ApplicationAutoScaling::ScalingPolicy": _Bridge("PolicyName", _scaling_policy),
    "AWS::CertificateManager::Certificate": _Bridge("", _certificate),
    "AWS::CloudWatch::Alarm": _Bridge("AlarmName", _alarm),
    "AWS::EC2::SecurityGroup": _Bridge("GroupName", _security_group),
    "AWS::EC2::SecurityGroupEgress": _Bridge("", _group_rule("egress", "Destination")),
    "AWS::EC2::SecurityGroupIngress": _Bridge("", _group_rule("ingress", "Source")),
    "AWS::EC2::Subnet": _Bridge("", _subnet),
    "AWS::EC2::SubnetRouteTableAssociation": _Bridge("", _route_table_association),
    "AWS::EC2::VPC": _Bridge("", _vpc),
    "AWS::ECS::Cluster": _Bridge("ClusterName", _cluster),
    "AWS::ECS::Service": _Bridge("ServiceName", _ecs_service, _update_ecs_service),
    "AWS::ECS::TaskDefinition": _Bridge("Family", _task_definition, _replace_task_definition),
    "AWS::IAM::Role": _Bridge("RoleName", _role),
    "AWS::KMS::Key": _Bridge("", _key),
    "AWS::Lambda::Function": _Bridge("FunctionName", _function),
    "AWS::Logs::LogGroup": _Bridge("LogGroupName", _log_group),
    "AWS::SecretsManager::Secret": _Bridge("Name", _secret),
    "AWS::ServiceDiscovery::PrivateDnsNamespace": _Bridge("Name", _namespace),
    "AWS::S3::Bucket": _Bridge("BucketName", _bucket, _update_bucket),
    "AWS::S3::BucketPolicy": _Bridge("", _bucket_policy, _update_bucket_policy),
    "AWS::ServiceDiscovery::Service": _Bridge("Name", _discovery_service),
}


def _handler(api: Api, resource_type: str, bridge: _Bridge) -> type:
    """A class with the classmethods moto's CloudFormation calls for ``resource_type``."""

    def checked(properties: dict[str, Any]) -> dict[str, Any]:
        unresolved = _unresolved(properties)
        if unresolved:
            raise ValueError(f"{resource_type}: unresolved {', '.join(unresolved)}")
        return properties

    class Handler:
        @staticmethod
        def cloudformation_type() -> str:
            return resource_type

        @staticmethod
        def cloudformation_name_type() -> str:
            return bridge.name_property

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], *_: Any, **__: Any
        ) -> _Made:
            properties = checked(cloudformation_json["Properties"])
            made = bridge.create(api, resource_name, properties)
            made.properties = properties
            return made

        @classmethod
        def update_from_cloudformation_json(
            cls,
            original_resource: _Made,
            new_resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> _Made:
            properties = checked(cloudformation_json["Properties"])
            # CloudFormation leaves a resource alone when its values did not change.
            if properties == original_resource.properties:
                return original_resource
            if bridge.update is None:
                raise NotImplementedError(f"no update of {resource_type} in this emulator")
            made = bridge.update(api, original_resource, new_resource_name, properties)
            made.properties = properties
            return made

        @classmethod
        def delete_from_cloudformation_json(cls, *_: Any, **__: Any) -> None:
            # The stack lets go of it; moto's service keeps it (see the module docstring).
            return None

    return Handler


def _bridge_resource_types(monkeypatch: pytest.MonkeyPatch, api: Api) -> None:
    """Route the types of ``_BRIDGES`` to their handlers, all others to moto's."""
    handlers = {t: _handler(api, t, b) for t, b in _BRIDGES.items()}
    resource_class = cfn_parsing.resource_class_from_type
    name_property = cfn_parsing.resource_name_property_from_type

    def bridged_class(resource_type: str) -> Any:
        return handlers.get(resource_type) or resource_class(resource_type)

    def bridged_name_property(resource_type: str) -> str | None:
        if resource_type in _BRIDGES:
            return _BRIDGES[resource_type].name_property
        return name_property(resource_type)

    monkeypatch.setattr(cfn_parsing, "resource_class_from_type", bridged_class)
    monkeypatch.setattr(cfn_parsing, "resource_name_property_from_type", bridged_name_property)


def _full_name_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    """LoadBalancerFullName and TargetGroupFullName: the ARN's resource part, as AWS defines;
    CanonicalHostedZoneID: the zone DescribeLoadBalancers names."""
    load_balancer_attribute = elbv2_models.FakeLoadBalancer.get_cfn_attribute

    def load_balancer(self: Any, name: str) -> Any:
        if name == "LoadBalancerFullName":
            return self.arn.split(":loadbalancer/", 1)[1]
        if name == "CanonicalHostedZoneID":
            return self.canonical_hosted_zone_id
        return load_balancer_attribute(self, name)

    def target_group(self: Any, name: str) -> Any:
        if name == "TargetGroupFullName":
            return self.arn.split(":", 5)[5]
        raise UnformattedGetAttTemplateException()

    monkeypatch.setattr(elbv2_models.FakeLoadBalancer, "get_cfn_attribute", load_balancer)
    monkeypatch.setattr(
        elbv2_models.FakeTargetGroup, "get_cfn_attribute", target_group, raising=False
    )


def _zone_ids_as_route53_makes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hosted zone IDs that start with Z, as Route 53's do."""
    make = route53_models.create_route53_zone_id

    def zone_id(*args: Any, **kwargs: Any) -> str:
        return "Z" + str(make(*args, **kwargs))[1:]

    monkeypatch.setattr(route53_models, "create_route53_zone_id", zone_id)


def _outputs_after_change_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recompute a stack's Outputs (and register its exports) from the template its change
    set applied."""
    execute = CloudFormationBackend.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        stack_id = self.describe_change_set(change_set_name).stack_id
        execute(self, change_set_name, stack_name)
        # This change set's stack only: another one may be an empty REVIEW_IN_PROGRESS
        # stack whose template moto cannot parse.
        stack = self.stacks[stack_id]
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        # As CreateStack registers them: DeleteStack removes each, and fails on one missing.
        for export in stack.exports:
            self.exports[export.name] = export

    monkeypatch.setattr(CloudFormationBackend, "execute_change_set", execute_change_set)


class _Described:
    """A change set as DescribeChangeSet answers it: its tags as a list, its capabilities."""

    def __init__(self, change_set: Any) -> None:
        self._change_set = change_set
        self.tags = [{"Key": k, "Value": v} for k, v in (change_set.tags or {}).items()]
        self.capabilities = getattr(change_set, "capabilities", [])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._change_set, name)


def _template_urls_on_the_emulator(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    """A path-style TemplateURL on the emulator's own host, read as moto reads localhost's."""
    from moto.cloudformation import responses as cfn_responses

    read = cfn_responses.get_stack_from_s3_url

    def from_s3(url: str, account_id: str, partition: str) -> str:
        if url.startswith(endpoint + "/"):
            url = url.replace(endpoint, "http://localhost", 1)
        return str(read(url, account_id=account_id, partition=partition))

    monkeypatch.setattr(cfn_responses, "get_stack_from_s3_url", from_s3)


_WITHOUT_TLS = {"Bool": {"aws:SecureTransport": "false"}}


def _requests_over_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bucket policy evaluated as S3 does for a request made over HTTPS."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy)
        statements = policy["Statement"]
        statements = statements if isinstance(statements, list) else [statements]
        policy["Statement"] = [s for s in statements if s.get("Condition") != _WITHOUT_TLS]
        if not policy["Statement"]:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    monkeypatch.setattr(FakeBucket, "get_permission", get_permission)


def _change_sets_as_cloudformation_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """GetTemplate of a change set, and DescribeChangeSet's Capabilities and Tags."""
    create = CloudFormationResponse.create_change_set
    describe = CloudFormationResponse.describe_change_set
    stack_template = CloudFormationResponse.get_template

    def create_change_set(self: Any) -> ActionResult:
        result = create(self)
        made = self.cloudformation_backend.change_sets[result.result["Id"]]
        made.capabilities = self._get_param("Capabilities", [])
        return result

    def describe_change_set(self: Any) -> ActionResult:
        change_set = describe(self).result
        return ActionResult(_Described(change_set))

    def get_template(self: Any) -> ActionResult:
        name = self._get_param("ChangeSetName")
        if not name:
            return stack_template(self)
        change_set = self.cloudformation_backend.describe_change_set(change_set_name=name)
        if self._get_param("TemplateStage", "Original") != "Original":
            return stack_template(self)
        return ActionResult({"TemplateBody": change_set.template})

    monkeypatch.setattr(CloudFormationResponse, "create_change_set", create_change_set)
    monkeypatch.setattr(CloudFormationResponse, "describe_change_set", describe_change_set)
    monkeypatch.setattr(CloudFormationResponse, "get_template", get_template)


def references(value: Any) -> set[str]:
    """Names a value refers to through Ref, Fn::GetAtt and ${...} in Fn::Sub."""
    if isinstance(value, list):
        return set().union(*map(references, value)) if value else set()
    if not isinstance(value, dict):
        return set()
    found = set()
    for key, inner in value.items():
        if key == "Ref" and isinstance(inner, str):
            found.add(inner)
        elif key == "Fn::GetAtt":
            found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
        elif key == "Fn::Sub":
            text = inner[0] if isinstance(inner, list) else inner
            found |= {m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text)}
            found |= references(inner[1]) if isinstance(inner, list) else set()
        else:
            found |= references(inner)
    return found


def _dependency_order(resources: Mapping[str, Any]) -> list[str]:
    """Logical IDs, each after every resource it refers to or depends on."""
    needs = {}
    for name, resource in resources.items():
        depends = resource.get("DependsOn", [])
        depends = [depends] if isinstance(depends, str) else depends
        needs[name] = sorted((references(resource) | set(depends)) & resources.keys() - {name})
    order: list[str] = []

    def visit(name: str) -> None:
        if name not in order:
            for needed in needs[name]:
                visit(needed)
            order.append(name)

    for name in sorted(resources):
        visit(name)
    return order


def _updates_as_cloudformation_orders_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Update only what changed, and each resource after those it refers to.

    moto compares new Parameter values with those given at creation, so a Parameter
    then left at its default (and now passed with UsePreviousValue) counts as changed;
    it adds an empty Properties to a stored resource that has none, so that resource
    differs from the new template's; either way it "updates" resources that did not
    change and drops those whose type it cannot update. And it updates in template key
    order, so a service would be updated before the task definition it names.
    """
    update = cfn_parsing.ResourceMap.update

    def update_in_order(self: Any, template: Any, parameters: Any = None) -> None:
        previous = {k: str(v) for k, v in self.resolved_parameters.items()}
        self.input_parameters = {**previous, **(self.input_parameters or {})}
        resources = template["Resources"]
        for resource in resources.values():
            resource.setdefault("Properties", {})
        template["Resources"] = {k: resources[k] for k in _dependency_order(resources)}
        update(self, template, parameters)

    monkeypatch.setattr(cfn_parsing.ResourceMap, "update", update_in_order)

    diff = cfn_parsing.ResourceMap.build_resource_diff

    def diff_with_dependents(self: Any, template: Any, parameters: Any = None) -> Any:
        # moto modifies only resources whose own text or directly referenced Parameters
        # changed; CloudFormation also updates those that refer to a resource whose
        # values changed (a service whose task definition was replaced). Bridged types
        # are offered every time, in dependency order: their handlers compare the
        # resolved values and leave a resource alone when nothing changed.
        actions = diff(self, template, parameters)
        made = {k for k, v in self._parsed_resources.items() if isinstance(v, _Made)}
        actions["Modify"] = [
            name
            for name, resource in template["Resources"].items()
            if name in actions["Modify"] or (resource["Type"] in _BRIDGES and name in made)
        ]
        return actions

    monkeypatch.setattr(cfn_parsing.ResourceMap, "build_resource_diff", diff_with_dependents)


@contextlib.contextmanager
def serving(workdir: Path, port: int = 0) -> Iterator[Api]:
    """moto in server mode on a loopback port (0: a free one), its gaps bridged, until the
    block ends."""
    with pytest.MonkeyPatch.context() as mp:
        # Fake credentials, and no profile or metadata service of the machine.
        empty = workdir / "none"
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(empty),
            "AWS_SHARED_CREDENTIALS_FILE": str(empty),
            "AWS_EC2_METADATA_DISABLED": "true",
            # AWS managed policies (moto's copy of AWS's list), which a role attaches
            # by ARN: ECS's load balancer role.
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
        }.items():
            mp.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            mp.delenv(name, raising=False)

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        emulator = Api(f"http://{host}:{port}")

        _bridge_resource_types(mp, emulator)
        _full_name_attributes(mp)
        _zone_ids_as_route53_makes_them(mp)
        _outputs_after_change_sets(mp)
        _change_sets_as_cloudformation_answers(mp)
        _template_urls_on_the_emulator(mp, emulator.endpoint)
        _requests_over_tls(mp)
        _updates_as_cloudformation_orders_them(mp)
        werkzeug = logging.getLogger("werkzeug")
        level = werkzeug.level
        werkzeug.setLevel(logging.ERROR)  # one access log line per request otherwise
        try:
            yield emulator
        finally:
            werkzeug.setLevel(level)
            # moto's backends are process-wide: leave none of this block's resources behind.
            reset = urllib.request.Request(f"{emulator.endpoint}/moto-api/reset", method="POST")
            urllib.request.urlopen(reset, timeout=10).close()
            server.stop()


# --------------------------------------------------------------------------------------
# What moto lacks in replacement, resource events and failures, emulated (the docstring).
# --------------------------------------------------------------------------------------


def _create_only(resource_type: str) -> set[str]:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, resource_type).schema
    return {p.removeprefix("/properties/") for p in schema.get("createOnlyProperties", [])}


def _emulate_replacement(mp: pytest.MonkeyPatch) -> None:
    diff = cfn_models.ChangeSet.diff

    def diff_with_replacement(self: Any) -> list[Any]:
        changes = diff(self)
        if self.change_set_type != "UPDATE":
            return changes
        rmap = self.stack.resource_map
        old = rmap._resource_json_map
        new = self.template_dict["Resources"]
        previous = {k: str(v) for k, v in rmap.resolved_parameters.items()}
        # Parameters whose value changes, then resources that will be replaced: what
        # refers to either changes too.
        changed = {k for k, v in self.parameters.items() if previous.get(k) != str(v)}
        kept = [c for c in changes if c.action != "Modify"]
        modified: dict[str, Any] = {}
        while True:
            found = False
            for name in sorted(new.keys() & old.keys() - modified.keys()):
                before = old[name].get("Properties", {})
                after = new[name].get("Properties", {})
                names = sorted(
                    k
                    for k in before.keys() | after.keys()
                    if before.get(k) != after.get(k) or references(after.get(k)) & changed
                )
                if not names:
                    continue  # moto lists some unchanged resources; CloudFormation does not
                if rmap[name] is None:
                    # Never made (its Condition was false): CloudFormation adds it now.
                    modified[name] = cfn_models.Change("Add", name, new[name]["Type"])
                    continue
                c = cfn_models.Change("Modify", name, new[name]["Type"])
                forced = _create_only(c.resource_type)
                c.replacement = "True" if forced & set(names) else "False"
                c.physical_resource_id = rmap[name].physical_resource_id
                c.details = [
                    {
                        "Target": {
                            "Attribute": "Properties",
                            "Name": n,
                            "RequiresRecreation": "Always" if n in forced else "Never",
                        }
                    }
                    for n in names
                ]
                modified[name] = c
                found = True
                if c.replacement == "True":
                    changed.add(name)  # its Ref and attributes change
            if not found:
                return kept + list(modified.values())

    mp.setattr(cfn_models.ChangeSet, "diff", diff_with_replacement)


def _stack_of(rmap: Any) -> Any:
    backend = cfn_models.cloudformation_backends[rmap._account_id][rmap._region_name]
    # None for a stack being deleted: moto parses its resources once more (to list its
    # exports) after the stack left ``stacks``; that is no event of CloudFormation's.
    return backend.stacks.get(rmap.stack_id)


def _record(
    rmap: Any,
    logical_id: str,
    resource_type: str,
    status: str,
    reason: str = "",
    physical: str = "",
) -> None:
    stack = _stack_of(rmap)
    if stack is None:
        return
    stack.events.append(
        cfn_models.Event(
            stack.stack_id,
            stack.name,
            logical_id,
            physical,
            resource_type,
            status,
            reason or None,
            None,
        )
    )


def _emulate_resource_events(mp: pytest.MonkeyPatch) -> None:
    create, update = cfn_parsing.parse_and_create_resource, cfn_parsing.parse_and_update_resource

    def created(logical_id: str, resource_json: Any, rmap: Any, **kwargs: Any) -> Any:
        resource_type = resource_json["Type"]
        try:
            made = create(logical_id, resource_json, rmap, **kwargs)
        except Exception as e:
            _record(rmap, logical_id, resource_type, "CREATE_IN_PROGRESS")
            _record(rmap, logical_id, resource_type, "CREATE_FAILED", str(e))
            raise
        if made is not None:
            _record(rmap, logical_id, resource_type, "CREATE_IN_PROGRESS")
            _record(
                rmap,
                logical_id,
                resource_type,
                "CREATE_COMPLETE",
                physical=getattr(made, "physical_resource_id", None) or "",
            )
        return made

    def updated(logical_id: str, resource_json: Any, rmap: Any, **kwargs: Any) -> Any:
        before = rmap._parsed_resources.get(logical_id)
        made = update(logical_id, resource_json, rmap, **kwargs)  # moto retries failures
        if made is not before:  # the bridges return the resource itself when nothing changed
            _record(rmap, logical_id, resource_json["Type"], "UPDATE_IN_PROGRESS")
            _record(rmap, logical_id, resource_json["Type"], "UPDATE_COMPLETE")
        return made

    mp.setattr(cfn_parsing, "parse_and_create_resource", created)
    mp.setattr(cfn_parsing, "parse_and_update_resource", updated)

    execute = cfn_models.CloudFormationBackend.execute_change_set

    def execute_and_fail_like_cloudformation(
        self: Any, change_set_name: str, stack_name: str | None = None
    ) -> None:
        change_set = self.describe_change_set(change_set_name)
        stack = self.stacks[change_set.stack_id]
        try:
            execute(self, change_set_name, stack_name)
        except Exception:
            failed = [
                e.logical_resource_id for e in stack.events if e.resource_status.endswith("_FAILED")
            ]
            if not failed:
                raise  # not a resource's failure: a gap of the emulator, shown as such
            kind = "create" if change_set.change_set_type == "CREATE" else "update"
            status = "ROLLBACK" if kind == "create" else "UPDATE_ROLLBACK"
            stack._add_stack_event(
                f"{status}_IN_PROGRESS",
                f"The following resource(s) failed to {kind}: [{', '.join(failed)}]. "
                "Rollback requested by user.",
            )
            stack._add_stack_event(f"{status}_COMPLETE")
            stack.status = f"{status}_COMPLETE"
            stack.template = change_set.template  # GetTemplate returns the failed template
            change_set.execution_status = "EXECUTE_FAILED"

    mp.setattr(
        cfn_models.CloudFormationBackend, "execute_change_set", execute_and_fail_like_cloudformation
    )


@contextlib.contextmanager
def emulating(api: Api) -> Iterator[Api]:
    """``api`` that also replaces, records resource events and fails as CloudFormation does."""
    with pytest.MonkeyPatch.context() as mp:
        _emulate_replacement(mp)
        _emulate_resource_events(mp)
        # An account that has used ECS, as deploy's preflight requires. moto's
        # CreateServiceLinkedRole names it AWSServiceRoleForecs; AWS, as here.
        api("iam").create_role(
            RoleName="AWSServiceRoleForECS",
            Path="/aws-service-role/ecs.amazonaws.com/",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": "ecs.amazonaws.com"},
                        }
                    ],
                }
            ),
        )
        yield api


# --------------------------------------------------------------------------------------
# make emulator: the same emulator, for a try-out of the commands on a laptop.
# --------------------------------------------------------------------------------------

# What points boto3's usual chain at the emulator: its endpoint, a Region and fake
# credentials, and no profile of the machine's.
ENVIRONMENT = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:{port}",
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}
UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE")


def environment_lines(port: int) -> list[str]:
    """The shell lines that point boto3's usual chain at an emulator on ``port``."""
    lines = [f"export {k}={v.format(port=port)}" for k, v in ENVIRONMENT.items()]
    return [*lines, f"unset {' '.join(UNSET)}"]


def main(argv: list[str] | None = None) -> int:
    """Serve the emulator on a port until Ctrl-C (SIGINT); 0."""
    parser = argparse.ArgumentParser(
        prog="python -m devtools.emulator",
        description="moto's AWS emulator with the bridges the suite uses, for trying "
        "infra-gen diff, deploy, preflight, verify and delete on a laptop",
    )
    parser.add_argument("--port", type=int, default=5000, help="TCP port (default 5000)")
    args = parser.parse_args(argv)
    # Ctrl-C, and kill (SIGTERM), stop it cleanly, also when started in the background of
    # a shell that ignores SIGINT there.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory() as workdir:
        try:
            with serving(Path(workdir), port=args.port) as api, emulating(api):
                port = int(api.endpoint.rsplit(":", 1)[1])
                print(f"AWS emulator on {api.endpoint} (account {ACCOUNT}, Region {REGION}).")
                print("In another shell:")
                for line in environment_lines(port):
                    print(f"  {line}")
                print("  infra-gen deploy --stack-name demo --yes")
                print("Ctrl-C stops it; every resource lives in memory and goes with it.")
                sys.stdout.flush()
                threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
