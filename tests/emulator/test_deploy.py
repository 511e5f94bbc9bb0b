"""Deploys the template to moto's AWS emulator, as ``aws cloudformation deploy`` does.

moto runs in server mode on 127.0.0.1; every call goes through boto3 over HTTP. A
stack is created with a CREATE change set (``CAPABILITY_IAM``), then changed with an
UPDATE change set that overrides Parameters and passes ``UsePreviousValue`` for the
others: the calls and waiters of the AWS CLI's ``deploy``. The tests then read the
emulated resources back through their own service APIs, mapping logical IDs to
physical IDs with ``DescribeStackResources``.

What moto's CloudFormation (5.2) does with each resource type of the template:

Created by moto's own handlers; what they keep is read back and checked:
    AWS::EC2::InternetGateway, AWS::EC2::VPCGatewayAttachment,
    AWS::EC2::RouteTable, AWS::EC2::Route, AWS::EC2::FlowLog,
    AWS::ElasticLoadBalancingV2::LoadBalancer, ...::TargetGroup, ...::Listener,
    AWS::Events::Rule, AWS::Lambda::Permission, AWS::SNS::Topic,
    AWS::CloudWatch::Dashboard, AWS::S3::Bucket (encryption only).

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
    AWS::ECS::Service (drops load balancers, registries, network configuration),
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
    AWS::ApplicationAutoScaling::ScalableTarget, ...::ScalingPolicy (no handler); moto
        does not move the service's count into the registered range as
        RegisterScalableTarget does, so the scalable target's handler does that too.

moto leaves None where an Fn::If yields AWS::NoValue in a list; the role handler drops
it, as CloudFormation does.

Not modelled at all: moto skips these without an error and they are NOT checked here
(``test_every_resource_is_emulated_or_listed`` keeps this list true):
    AWS::Lambda::EventInvokeConfig, AWS::S3::BucketPolicy, AWS::SNS::Subscription,
    AWS::SNS::TopicPolicy.

Properties no moto API returns, also NOT checked: the service's capacity provider
strategy, the load balancer's attributes
(deletion protection, header handling, access log bucket), the target group's
attributes (deregistration delay), the function's LoggingConfig, the namespace's VPC,
and the bucket's versioning, public access block, ownership controls and lifecycle.

Further emulator gaps worked around here, each in one place:
    - ``GetAtt LoadBalancer.LoadBalancerFullName`` and ``TargetGroup.TargetGroupFullName``
      are not implemented; they are computed from the ARN as AWS defines them.
    - A stack created or updated through a change set keeps the Outputs of the empty
      template it started with; they are recomputed after each execution.
    - Parameter constraints (AllowedPattern, AllowedValues, MinValue, MaxValue) are not
      enforced; ``deploy`` checks override values as CloudFormation does before any
      call, and the tests of that check run without the emulator.
    - An update offers resources whose values did not change, drops those whose type it
      cannot update, and runs in template key order (a service before the task definition
      it names); updates are made to compare Parameters with their previous values and
      to run in dependency order, as CloudFormation does.

The default stack is deployed from the YAML rendering, the hardened and the governed
ones from the JSON rendering; ``deploy`` refuses a body over 51,200 bytes, as the AWS CLI
does without ``--s3-bucket``.
"""

from __future__ import annotations

import io
import ipaddress
import json
import logging
import re
import threading
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
import yaml
from botocore.config import Config as BotoConfig
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cloudformation.models import CloudFormationBackend
from moto.elbv2 import models as elbv2_models
from moto.server import ThreadedMotoServer
from stack import GOVERNED

from infra_gen import Config, build_template, render
from infra_gen.template.probe import RUNTIME

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
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
        "AWS::S3::BucketPolicy",
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


def _ecs_service(api: Api, name: str, p: dict[str, Any]) -> _Made:
    params = _camel({"ServiceName": name, **p})
    # CloudFormation creates a service without DesiredCount with one task.
    params["desiredCount"] = int(params.get("desiredCount", 1))
    service = api("ecs").create_service(**params)["service"]
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


_BRIDGES: dict[str, _Bridge] = {
    "AWS::ApplicationAutoScaling::ScalableTarget": _Bridge(
        "", _scalable_target, _update_scalable_target
    ),
    "AWS::ApplicationAutoScaling::ScalingPolicy": _Bridge("PolicyName", _scaling_policy),
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
    "AWS::ServiceDiscovery::PrivateDnsNamespace": _Bridge("Name", _namespace),
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
    """LoadBalancerFullName and TargetGroupFullName: the ARN's resource part, as AWS defines."""
    load_balancer_attribute = elbv2_models.FakeLoadBalancer.get_cfn_attribute

    def load_balancer(self: Any, name: str) -> Any:
        if name == "LoadBalancerFullName":
            return self.arn.split(":loadbalancer/", 1)[1]
        return load_balancer_attribute(self, name)

    def target_group(self: Any, name: str) -> Any:
        if name == "TargetGroupFullName":
            return self.arn.split(":", 5)[5]
        raise UnformattedGetAttTemplateException()

    monkeypatch.setattr(elbv2_models.FakeLoadBalancer, "get_cfn_attribute", load_balancer)
    monkeypatch.setattr(
        elbv2_models.FakeTargetGroup, "get_cfn_attribute", target_group, raising=False
    )


def _outputs_after_change_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recompute a stack's Outputs from the template its change set applied."""
    execute = CloudFormationBackend.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        execute(self, change_set_name, stack_name)
        for stack in self.stacks.values():
            stack._parse_template()
            stack.output_map = stack._create_output_map()

    monkeypatch.setattr(CloudFormationBackend, "execute_change_set", execute_change_set)


def _references(value: Any) -> set[str]:
    """Names a value refers to through Ref, Fn::GetAtt and ${...} in Fn::Sub."""
    if isinstance(value, list):
        return set().union(*map(_references, value)) if value else set()
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
            found |= _references(inner[1]) if isinstance(inner, list) else set()
        else:
            found |= _references(inner)
    return found


def _dependency_order(resources: Mapping[str, Any]) -> list[str]:
    """Logical IDs, each after every resource it refers to or depends on."""
    needs = {}
    for name, resource in resources.items():
        depends = resource.get("DependsOn", [])
        depends = [depends] if isinstance(depends, str) else depends
        needs[name] = sorted((_references(resource) | set(depends)) & resources.keys() - {name})
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


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """moto in server mode on a free loopback port, for this module only."""
    with pytest.MonkeyPatch.context() as mp:
        # Fake credentials, and no profile or metadata service of the machine.
        empty = tmp_path_factory.mktemp("aws") / "none"
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(empty),
            "AWS_SHARED_CREDENTIALS_FILE": str(empty),
            "AWS_EC2_METADATA_DISABLED": "true",
        }.items():
            mp.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            mp.delenv(name, raising=False)

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        emulator = Api(f"http://{host}:{port}")

        _bridge_resource_types(mp, emulator)
        _full_name_attributes(mp)
        _outputs_after_change_sets(mp)
        _updates_as_cloudformation_orders_them(mp)
        werkzeug = logging.getLogger("werkzeug")
        level = werkzeug.level
        werkzeug.setLevel(logging.ERROR)  # one access log line per request otherwise
        try:
            yield emulator
        finally:
            werkzeug.setLevel(level)
            # moto's backends are process-wide: leave none of this module's resources behind.
            reset = urllib.request.Request(f"{emulator.endpoint}/moto-api/reset", method="POST")
            urllib.request.urlopen(reset, timeout=10).close()
            server.stop()


# --------------------------------------------------------------------------------------
# Deploying: the calls of ``aws cloudformation deploy``.
# --------------------------------------------------------------------------------------


def deploy(api: Api, stack_name: str, body: str, overrides: Mapping[str, str] | None = None) -> str:
    """Create or update ``stack_name`` through a change set; return the change set type."""
    overrides = dict(overrides or {})
    if len(body.encode()) > INLINE_TEMPLATE_LIMIT:
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
    change_set = cfn.create_change_set(
        StackName=stack_name,
        ChangeSetName=f"infra-gen-{change_set_type.lower()}",
        ChangeSetType=change_set_type,
        TemplateBody=body,
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
        "PROBE_SERVICE_NAMES": stack.cfg.service.name,
        "PROBE_NAMESPACE": stack.cfg.discovery.namespace,
        "PROBE_PORT": str(stack.cfg.service.container_port),
        "PROBE_PATH": probe.path,
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
    assert exports == {k: (None if k == "DashboardUrl" else f"{stack.name}-{k}") for k in outputs}


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
