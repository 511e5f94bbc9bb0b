"""Composing services: each its own task role and grants, environment and secrets,
handles for its route and metrics, refusals that name both sides."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest
from awacs import sqs
from awacs.aws import Allow, Statement
from hypothesis import given
from hypothesis import strategies as st
from troposphere import Export, Output, Parameter, Sub, Template, ec2, encode_to_dict
from troposphere import elasticloadbalancingv2 as elb
from troposphere.iam import Role

from infra_gen import (
    GREATER,
    AlarmSpec,
    Config,
    ConfigError,
    Stack,
    add_load_balancer,
    add_log_settings,
    add_network,
    build_stack,
    render,
)
from infra_gen.template.compose import AddedService
from infra_gen.template.outputs import request_path
from tests.support.stack import GOVERNED, lint_findings

QUEUE = Sub("arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:jobs")


def _resources(t: Template) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(render(t, "json"))["Resources"]
    return loaded


def _with_api(**options: Any) -> Stack:
    stack = build_stack()
    stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10, **options)
    return stack


def _policies(role: dict[str, Any]) -> list[dict[str, Any]]:
    """The role's policies, a conditional one (``Fn::If``) as when its condition holds."""
    return [p["Fn::If"][1] if "Fn::If" in p else p for p in role["Properties"].get("Policies", [])]


def _actions(role: dict[str, Any]) -> list[str]:
    return [
        action
        for policy in _policies(role)
        for statement in policy["PolicyDocument"]["Statement"]
        for action in statement["Action"]
    ]


def test_each_service_runs_under_its_own_task_role() -> None:
    stack = build_stack()
    api = stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10)
    assert api.task_role is not stack.service.task_role
    assert api.execution_role is stack.service.execution_role
    r = _resources(stack.template)
    assert r["EcsTaskDefinition"]["Properties"]["TaskRoleArn"] == {
        "Fn::GetAtt": ["EcsTaskRole", "Arn"]
    }
    assert r["ApiEcsTaskDefinition"]["Properties"]["TaskRoleArn"] == {
        "Fn::GetAtt": ["ApiEcsTaskRole", "Arn"]
    }
    # Added after the build, it still gets the permissions boundary, as every role.
    assert r["ApiEcsTaskRole"]["Properties"]["PermissionsBoundary"] == {
        "Fn::If": ["HasBoundary", {"Ref": "PermissionsBoundaryArn"}, {"Ref": "AWS::NoValue"}]
    }
    assert "Policies" not in r["ApiEcsTaskRole"]["Properties"]


def test_a_grant_reaches_only_the_service_it_is_given_to() -> None:
    stack = build_stack()
    t = stack.template
    api = stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10)
    api.grant(t, [Statement(Effect=Allow, Action=[sqs.SendMessage], Resource=[QUEUE])])
    stack.service.grant(t, [Statement(Effect=Allow, Action=[sqs.ReceiveMessage], Resource=[QUEUE])])
    policy = api.grant(
        t, [Statement(Effect=Allow, Action=[sqs.GetQueueAttributes], Resource=[QUEUE])]
    )
    assert policy.PolicyName == "grant-2"
    r = _resources(t)
    assert _actions(r["ApiEcsTaskRole"]) == ["sqs:SendMessage", "sqs:GetQueueAttributes"]
    assert _actions(r["EcsTaskRole"]) == ["sqs:ReceiveMessage"]
    assert "sqs:SendMessage" not in _actions(r["EcsTaskExecutionRole"])
    statement = r["ApiEcsTaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement[0]["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:jobs"}
    ]
    assert lint_findings(render(t, "yaml")) == []


def test_grant_refuses_what_is_not_a_statement_and_a_foreign_template() -> None:
    stack = build_stack()
    with pytest.raises(ValueError, match="awacs Statements"):
        stack.service.grant(stack.template, [])
    with pytest.raises(ValueError, match="not in this template"):
        stack.service.grant(
            Template(), [Statement(Effect=Allow, Action=[sqs.SendMessage], Resource=[QUEUE])]
        )
    assert "Policies" not in _resources(stack.template)["EcsTaskRole"]["Properties"]


SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
PARAMETER = "arn:aws:ssm:us-east-1:123456789012:parameter/app/token"
READS = {"secretsmanager:GetSecretValue": [SECRET], "ssm:GetParameters": [PARAMETER]}


def _container(r: dict[str, Any], scope: str = "") -> dict[str, Any]:
    container: dict[str, Any] = r[scope + "EcsTaskDefinition"]["Properties"][
        "ContainerDefinitions"
    ][0]
    return container


def _reads(r: dict[str, Any]) -> dict[str, list[str]]:
    """What the execution role may read: action -> resources of its read-secrets policy."""
    (policy,) = [
        p for p in _policies(r["EcsTaskExecutionRole"]) if p["PolicyName"] == "read-secrets"
    ]
    return {
        action: statement["Resource"]
        for statement in policy["PolicyDocument"]["Statement"]
        for action in statement["Action"]
    }


def test_an_added_service_gets_its_environment_and_secrets_and_nothing_broader() -> None:
    stack = _with_api(
        environment={"MODE": "api", "API_LEVEL": "2"},
        secrets={"DB": SECRET + ":password::", "TOKEN": PARAMETER},
    )
    r = _resources(stack.template)
    api = _container(r, "Api")
    assert api["Environment"] == [
        {"Name": "API_LEVEL", "Value": "2"},
        {"Name": "MODE", "Value": "api"},
    ]
    assert api["Secrets"] == [
        {"Name": "DB", "ValueFrom": SECRET + ":password::"},
        {"Name": "TOKEN", "ValueFrom": PARAMETER},
    ]
    # The JSON key selects what ECS reads; IAM names the secret itself.
    assert _reads(r) == READS
    first = _container(r)
    assert "Environment" not in first and "Secrets" not in first
    assert not {"secretsmanager:GetSecretValue", "ssm:GetParameters"} & {
        *_actions(r["EcsTaskRole"]),
        *_actions(r["ApiEcsTaskRole"]),
    }
    assert lint_findings(render(stack.template, "yaml")) == []


def test_the_first_service_takes_environment_and_secrets_through_its_handle() -> None:
    stack = build_stack()
    t = stack.template
    stack.service.add_environment(t, {"LEVEL": "info"})
    stack.service.add_secrets(t, {"TOKEN": PARAMETER})
    api = stack.add_service(
        "Api", {"name": "api"}, path_pattern="/api/*", priority=10, secrets={"DB": SECRET}
    )
    api.add_secrets(t, {"TOKEN2": PARAMETER})  # the same ARN again: granted once
    r = _resources(t)
    assert _container(r)["Environment"] == [{"Name": "LEVEL", "Value": "info"}]
    assert _container(r)["Secrets"] == [{"Name": "TOKEN", "ValueFrom": PARAMETER}]
    # One policy on the shared execution role, for both services' secrets, each ARN once.
    assert _reads(r) == READS


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"secrets": {"DB": "arn:aws:s3:::bucket/key"}}, "secrets.DB: 'arn:aws:s3:::bucket/key'"),
        ({"secrets": {"DB": "arn:aws:secretsmanager:us-east-1:12345:secret:x"}}, "secrets.DB: "),
        ({"secrets": {"DB": "db-password"}}, "secrets.DB: 'db-password' is not allowed"),
        ({"environment": {"1X": "a"}}, "environment.1X: is not a variable name"),
        ({"environment": {"X": 1}}, "environment.X: 1 is not allowed; allowed: text"),
        ({"environment": {"DB": "a"}, "secrets": {"DB": SECRET}}, "secrets.DB: DB is in envir"),
    ],
)
def test_bad_environment_and_secrets_are_refused_before_anything_is_added(
    options: dict[str, Any], message: str
) -> None:
    stack = build_stack()
    before = render(stack.template, "json")
    with pytest.raises(ConfigError) as raised:
        stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10, **options)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)
    assert render(stack.template, "json") == before


def test_a_name_the_container_already_sets_is_refused_naming_both() -> None:
    stack = build_stack()
    t = stack.template
    stack.service.add_environment(t, {"DB": "local"})
    with pytest.raises(
        ConfigError,
        match=r"^secrets.DB: the container nginx already sets DB "
        r"\(environment\)$",
    ):
        stack.service.add_secrets(t, {"DB": SECRET})
    assert "Secrets" not in _container(_resources(t))


def test_an_added_service_hands_out_its_route_and_its_own_metrics() -> None:
    stack = build_stack()
    t = stack.template
    api = stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10)
    assert api.target_group is t.resources["ApiLoadBalancerTargetGroup"]
    assert api.rule is t.resources["ApiLoadBalancerRule"]
    assert stack.service.target_group is stack.load_balancer.target_group
    assert stack.service.rule is None
    # The rule forwards to the handed-out group, and the service depends on the rule.
    assert api.rule.Actions[0].TargetGroupArn.to_dict() == api.target_group.ref().to_dict()
    assert api.service.DependsOn == [api.rule.title]
    for logical_id, metric in (
        ("ApiTarget5xx", api.target_metric("HTTPCode_Target_5XX_Count")),
        ("ApiCpu", api.metric("CPUUtilization")),
        ("ApiRunning", api.insights_metric("RunningTaskCount", "Minimum")),
    ):
        stack.alarms.add_alarm(
            t,
            AlarmSpec(
                logical_id=logical_id,
                metric=metric,
                comparison=GREATER,
                threshold=1,
                description="x",
            ),
        )
    r = _resources(t)
    dims = {
        k: {d["Name"]: d["Value"] for d in r[k]["Properties"]["Dimensions"]}
        for k in ("ApiTarget5xx", "ApiCpu", "ApiRunning")
    }
    assert dims["ApiTarget5xx"] == {
        "TargetGroup": {"Fn::GetAtt": ["ApiLoadBalancerTargetGroup", "TargetGroupFullName"]},
        "LoadBalancer": {"Fn::GetAtt": ["LoadBalancer", "LoadBalancerFullName"]},
    }
    service_dims = {
        "ClusterName": {"Ref": "EcsCluster"},
        "ServiceName": {"Fn::GetAtt": ["ApiEcsService", "Name"]},
    }
    assert dims["ApiCpu"] == dims["ApiRunning"] == service_dims
    assert r["ApiCpu"]["Properties"]["Namespace"] == "AWS/ECS"
    assert r["ApiRunning"]["Properties"]["Namespace"] == "ECS/ContainerInsights"
    first = stack.service.target_metric("UnHealthyHostCount").dimensions[0][1].to_dict()
    assert first == {"Fn::GetAtt": ["LoadBalancerTargetGroup", "TargetGroupFullName"]}


def _refused(stack: Stack, scope: str, service: dict[str, Any], path: str, priority: int) -> str:
    before = render(stack.template, "json")
    with pytest.raises(ConfigError) as raised:
        stack.add_service(scope, service, path_pattern=path, priority=priority)
    assert render(stack.template, "json") == before  # nothing half-added
    return str(raised.value)


def test_a_taken_priority_name_or_path_is_refused_naming_both_sides() -> None:
    stack = build_stack()
    stack.add_service("Web", {"name": "web"}, path_pattern="/web/*", priority=10)
    assert _refused(stack, "Api", {"name": "api"}, "/api/*", 10) == (
        "priority: add_service('Api', ...): 10 is already taken by Web"
    )
    assert _refused(stack, "Api", {"name": "web"}, "/api/*", 20) == (
        "service.name: add_service('Api', ...): 'web' is already the Cloud Map name of Web"
    )
    assert _refused(stack, "Api", {"name": "nginx"}, "/api/*", 20) == (
        "service.name: add_service('Api', ...): 'nginx' is already the Cloud Map name of the "
        "first service"
    )
    assert _refused(stack, "Api", {"name": "api"}, "/web/*", 20) == (
        "path_pattern: add_service('Api', ...): '/web/*' is already routed to Web"
    )
    assert _refused(stack, "Web", {"name": "api"}, "/api/*", 20) == (
        "scope: add_service('Web', ...): Web is already the scope of a service (WebEcsService); "
        "give each added service its own"
    )
    stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=20)


def _added_ids(**options: Any) -> list[tuple[str, dict[str, Any]]]:
    stack = build_stack()
    before = set(stack.template.resources)
    stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10, **options)
    return [(i, options) for i in sorted(set(stack.template.resources) - before)]


@pytest.mark.parametrize(
    ("logical_id", "options"), _added_ids() + _added_ids(scaling={}, all_alarms=True)
)
def test_every_logical_id_it_would_add_is_checked_before_anything_is_added(
    logical_id: str, options: dict[str, Any]
) -> None:
    stack = build_stack()
    stack.template.add_resource(ec2.SecurityGroup(logical_id, GroupDescription="the host's"))
    before = render(stack.template, "json")
    with pytest.raises(ConfigError) as raised:
        stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10, **options)
    assert render(stack.template, "json") == before
    message = str(raised.value)
    assert message == (
        f"scope: add_service('Api', ...): logical ID {logical_id} is already taken by the "
        "template's AWS::EC2::SecurityGroup"
    )


def test_a_host_rule_on_the_stacks_listener_counts_and_one_elsewhere_does_not() -> None:
    stack = build_stack()
    t = stack.template
    t.add_resource(
        elb.ListenerRule(
            "HostRule",
            ListenerArn=stack.load_balancer.http_listener.ref(),
            Priority=10,
            Conditions=[elb.Condition(Field="path-pattern", Values=["/host/*"])],
            Actions=[
                elb.ListenerRuleAction(
                    Type="fixed-response",
                    FixedResponseConfig=(elb.FixedResponseConfig(StatusCode="204")),
                )
            ],
        )
    )
    t.add_resource(
        elb.ListenerRule(
            "OtherRule",
            ListenerArn="arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/"
            "app/other/1/2",
            Priority=30,
            Conditions=[elb.Condition(Field="path-pattern", Values=["/api/*"])],
            Actions=[
                elb.ListenerRuleAction(
                    Type="fixed-response",
                    FixedResponseConfig=elb.FixedResponseConfig(StatusCode="204"),
                )
            ],
        )
    )
    assert _refused(stack, "Api", {"name": "api"}, "/api/*", 10).endswith(
        "10 is already taken by HostRule"
    )
    assert _refused(stack, "Api", {"name": "api"}, "/host/*", 20).endswith(
        "'/host/*' is already routed to HostRule"
    )
    stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=30)


def test_composing_into_a_host_template_keeps_its_metadata_and_console_groups() -> None:
    host = Template(Description="a larger stack")
    host.set_metadata({"Owner": {"Team": "payments"}})
    mine = host.add_parameter(Parameter("HostColour", Type="String", Default="blue"))
    host.add_parameter_to_group(mine, "Host settings")
    host.set_parameter_label(mine, "Colour")
    cfg = Config()
    log_settings = add_log_settings(host, cfg)
    network = add_network(host, cfg, log_settings=log_settings)
    add_load_balancer(host, cfg, network=network)
    interface = host.metadata["AWS::CloudFormation::Interface"]
    labels = [g["Label"]["default"] for g in interface["ParameterGroups"]]
    # The host's group keeps its first place; the stack's follow it in console order.
    assert labels == ["Host settings", "Service", "Security"]
    assert interface["ParameterGroups"][0]["Parameters"] == ["HostColour"]
    assert interface["ParameterLabels"]["HostColour"] == {"default": "Colour"}
    assert host.metadata["Owner"] == {"Team": "payments"}


def _host() -> Template:
    host = Template(Description="a larger stack")
    host.set_metadata({"Owner": {"Team": "payments"}})
    mine = host.add_parameter(Parameter("HostColour", Type="String", Default="blue"))
    host.add_parameter_to_group(mine, "Host settings")
    host.add_resource(
        ec2.VPC("HostVpc", CidrBlock="10.9.0.0/16", Tags=[{"Key": "colour", "Value": mine.ref()}])
    )
    return host


def test_the_stack_built_into_a_host_template_is_the_stack_plus_the_hosts_own() -> None:
    host = _host()
    stack = build_stack({"service": {"cpu": 512, "memory": 1024}}, template=host)
    assert stack.template is host
    built = json.loads(render(host, "json"))
    alone = json.loads(
        render(build_stack({"service": {"cpu": 512, "memory": 1024}}).template, "json")
    )
    # The host's description, Metadata, Parameter, group and resource are kept; the rest
    # is the stack as build_stack makes it alone, provenance included.
    assert built["Description"] == "a larger stack"
    assert built["Metadata"]["Owner"] == {"Team": "payments"}
    assert built["Metadata"]["InfraGen"] == alone["Metadata"]["InfraGen"]
    groups = built["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    assert groups[0] == {"Label": {"default": "Host settings"}, "Parameters": ["HostColour"]}
    assert groups[1:] == alone["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    assert built["Resources"] == {**alone["Resources"], "HostVpc": built["Resources"]["HostVpc"]}
    assert built["Parameters"] == {
        **alone["Parameters"],
        "HostColour": {"Type": "String", "Default": "blue"},
    }
    for section in ("Outputs", "Conditions", "Mappings", "Rules"):
        assert built[section] == alone[section]
    # A host without a description gets the stack's.
    assert build_stack(template=Template()).template.description == alone["Description"]
    assert lint_findings(render(host, "yaml")) == []


def test_a_host_gets_the_stack_as_the_documented_order_would_build_into_it() -> None:
    host = _host()
    host.add_resource(Role("HostRole", AssumeRolePolicyDocument={"Statement": []}))
    extra = host.add_parameter(Parameter("HostSize", Type="String", Default="s"))
    host.add_parameter_to_group(extra, "Service")  # a group the stack fills too
    stack = build_stack(template=host)
    # The handles name the host's objects: what they add lands in the host.
    api = stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10)
    assert host.resources["ApiEcsService"] is api.service
    assert host.resources["EcsTaskExecutionRole"] is stack.service.execution_role
    built = json.loads(render(host, "json"))
    # add_permissions_boundary reaches every role in the template, the host's too.
    assert built["Resources"]["HostRole"]["Properties"]["PermissionsBoundary"] == {
        "Fn::If": ["HasBoundary", {"Ref": "PermissionsBoundaryArn"}, {"Ref": "AWS::NoValue"}]
    }
    groups = built["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    assert [g["Label"]["default"] for g in groups] == [
        "Host settings",
        "Service",
        "Probe",
        "Alarms",
        "Security",
    ]
    assert groups[1]["Parameters"][0] == "HostSize"
    assert groups[1]["Parameters"][1:] == ["LogRetentionDays", "ServiceImage", "TaskSize"] + [
        "MinTasks",
        "MaxTasks",
    ]


@pytest.mark.parametrize(
    ("add", "message"),
    [
        (
            lambda h: h.add_resource(ec2.VPC("EcsCluster", CidrBlock="10.9.0.0/16")),
            "logical ID EcsCluster is already the host template's AWS::EC2::VPC",
        ),
        (
            lambda h: h.add_parameter(Parameter("NetworkVpc", Type="String")),
            "logical ID NetworkVpc is already the host template's Parameter",
        ),
        (
            lambda h: h.add_resource(ec2.VPC("TaskSize", CidrBlock="10.9.0.0/16")),
            "logical ID TaskSize is already the host template's AWS::EC2::VPC",
        ),
        (
            lambda h: h.add_output(Output("ServiceUrl", Value="x")),
            "logical ID ServiceUrl is already the host template's Output",
        ),
        (
            lambda h: h.add_condition("HasCertificate", {"Fn::Equals": ["a", "b"]}),
            "logical ID HasCertificate is already the host template's Condition",
        ),
        (
            lambda h: h.add_mapping("ConsoleDomains", {"aws": {"Domain": "x"}}),
            "logical ID ConsoleDomains is already the host template's Mapping",
        ),
    ],
)
def test_a_host_template_holding_one_of_the_stacks_ids_is_refused_untouched(
    add: Any, message: str
) -> None:
    host = _host()
    add(host)
    before = render(host, "json")
    with pytest.raises(ConfigError, match=f"^template: {message}; the stack adds one of that ID$"):
        build_stack(template=host)
    assert render(host, "json") == before


def test_a_host_that_is_not_a_template_is_refused() -> None:
    with pytest.raises(ConfigError, match="^template: expected a troposphere Template, got dict$"):
        build_stack(template={"Resources": {}})  # type: ignore[arg-type]


def test_an_added_service_scales_like_the_first_under_its_scope() -> None:
    stack = build_stack()
    t = stack.template
    api = stack.add_service(
        "Api",
        {"name": "api", "desired_count": 1},
        path_pattern="/api/*",
        priority=10,
        scaling={"max_tasks": 4, "cpu_percent": 60},
    )
    assert api.scaling is not None and api.scaling.target is t.resources["ApiScalingTarget"]
    r = _resources(t)
    target = r["ApiScalingTarget"]["Properties"]
    assert target["ResourceId"] == {
        "Fn::Join": [
            "/",
            ["service", {"Ref": "EcsCluster"}, {"Fn::GetAtt": ["ApiEcsService", "Name"]}],
        ]
    }
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 4)
    # No DesiredCount: the scalable target owns the count, as for the first service.
    assert "DesiredCount" not in r["ApiEcsService"]["Properties"]
    cpu = r["ApiScalingCpuPolicy"]["Properties"]
    requests = r["ApiScalingRequestsPolicy"]["Properties"]
    assert cpu["ScalingTargetId"] == requests["ScalingTargetId"] == {"Ref": "ApiScalingTarget"}
    assert cpu["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 60
    label = requests["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
        "ResourceLabel"
    ]
    assert label["Fn::Join"][1][1] == {
        "Fn::GetAtt": ["ApiLoadBalancerTargetGroup", "TargetGroupFullName"]
    }
    # The first service's scaling, Parameters included, is as it was.
    default = _resources(build_stack().template)
    for logical_id in ("ScalingTarget", "ScalingCpuPolicy", "ScalingRequestsPolicy"):
        assert r[logical_id] == default[logical_id]
    assert set(t.parameters) == set(build_stack().template.parameters)
    assert lint_findings(render(t, "yaml")) == []


def test_an_unscaled_added_service_keeps_its_desired_count() -> None:
    stack = _with_api()
    r = _resources(stack.template)
    assert r["ApiEcsService"]["Properties"]["DesiredCount"] == 2
    assert not any(k.startswith("ApiScaling") for k in r)


@pytest.mark.parametrize(
    ("scaling", "service", "message"),
    [
        ({"max_tasks": 1}, {"name": "api"}, "service.desired_count: 2 is above scaling.max_tasks"),
        ({"cpu_percent": 0}, {"name": "api"}, "scaling.cpu_percent: "),
        (True, {"name": "api"}, "scaling: True is not allowed"),
    ],
)
def test_bad_scaling_of_an_added_service_is_refused_naming_the_key(
    scaling: Any, service: dict[str, Any], message: str
) -> None:
    stack = build_stack()
    before = render(stack.template, "json")
    with pytest.raises(ConfigError) as raised:
        stack.add_service("Api", service, path_pattern="/api/*", priority=10, scaling=scaling)
    assert str(raised.value).startswith(message)
    assert render(stack.template, "json") == before


def test_all_alarms_give_an_added_service_the_first_ones_set_on_its_own_resources() -> None:
    stack = _with_api(all_alarms=True)
    r = _resources(stack.template)
    default = _resources(build_stack().template)
    target_group = {"Fn::GetAtt": ["ApiLoadBalancerTargetGroup", "TargetGroupFullName"]}
    for alarm, metric in (
        ("AlarmTarget5xx", "HTTPCode_Target_5XX_Count"),
        ("AlarmUnhealthyTargets", "UnHealthyHostCount"),
        ("AlarmResponseTime", "TargetResponseTime"),
    ):
        props = r["Api" + alarm]["Properties"]
        first = default[alarm]["Properties"]
        # The error rate is metric math: its inputs name the target group.
        (stat, *_) = [q["MetricStat"] for q in props.get("Metrics", []) if "MetricStat" in q] or [
            {"Metric": props, "Period": props["Period"]}
        ]
        assert stat["Metric"]["MetricName"] == metric
        assert {"Name": "TargetGroup", "Value": target_group} in stat["Metric"]["Dimensions"]
        assert props["AlarmActions"] == props["OKActions"] == [{"Ref": "AlarmTopic"}]
        for key in ("ComparisonOperator", "Threshold", "EvaluationPeriods"):
            assert props[key] == first[key], (alarm, key)
        assert props["AlarmDescription"].startswith("Api ")
    running = r["ApiAlarmRunningTasks"]["Properties"]["Metrics"]
    assert [q["MetricStat"]["Metric"]["Dimensions"][1]["Value"] for q in running[:2]] == [
        {"Fn::GetAtt": ["ApiEcsService", "Name"]}
    ] * 2
    assert r["ApiAlarmRunningTasks"]["Properties"]["AlarmDescription"].startswith("Fewer Api ")
    # A failing release of the added service rolls back on its own alarms, not the first's.
    assert r["ApiEcsService"]["Properties"]["DeploymentConfiguration"]["Alarms"] == {
        "AlarmNames": [
            {"Ref": "ApiAlarmTarget5xx"},
            {"Ref": "ApiAlarmUnhealthyTargets"},
            {"Ref": "ApiAlarmResponseTime"},
            {"Ref": "ApiAlarmProbeFailedRequests"},
        ],
        "Enable": True,
        "Rollback": True,
    }
    for logical_id in ("AlarmTarget5xx", "AlarmRunningTasks", "EcsService"):
        assert r[logical_id] == default[logical_id]
    assert lint_findings(render(stack.template, "yaml")) == []


def test_without_all_alarms_an_added_service_has_the_probe_alarms_only() -> None:
    r = _resources(_with_api().template)
    alarms = sorted(
        k for k, v in r.items() if k.startswith("Api") and v["Type"] == "AWS::CloudWatch::Alarm"
    )
    assert alarms == ["ApiAlarmProbeFailedRequests", "ApiAlarmProbeNoInstances"]
    assert "Alarms" not in r["ApiEcsService"]["Properties"]["DeploymentConfiguration"]


def test_a_host_resource_still_being_built_does_not_break_the_checks() -> None:
    stack = build_stack()
    # No Actions nor Conditions yet: troposphere would refuse to serialize it.
    stack.template.add_resource(
        elb.ListenerRule(
            "HostDraftRule",
            ListenerArn=stack.load_balancer.http_listener.ref(),
            Priority=40,
        )
    )
    before = list(stack.template.resources)
    with pytest.raises(ConfigError, match="40 is already taken by HostDraftRule$"):
        stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=40)
    assert list(stack.template.resources) == before
    api = stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10)
    assert api.rule is stack.template.resources["ApiLoadBalancerRule"]


@pytest.mark.parametrize(
    ("path_pattern", "path"),
    [("/api/*", "/api/"), ("/v1/items", "/v1/items"), ("/a?c/*", "/axc/"), ("/*.png", "/.png")],
)
def test_an_added_service_exports_its_url_service_and_cloud_map_name(
    path_pattern: str, path: str
) -> None:
    stack = build_stack()
    t = stack.template
    api = stack.add_service("Api", {"name": "api"}, path_pattern=path_pattern, priority=10)
    # The first service's Outputs are the stack's; an added service carries its own.
    assert isinstance(api, AddedService) and not isinstance(stack.service, AddedService)
    assert stack.outputs.service_url is t.outputs["ServiceUrl"]
    assert (api.outputs.service_url, api.outputs.service_name, api.outputs.discovery_name) == (
        t.outputs["ApiServiceUrl"],
        t.outputs["ApiServiceName"],
        t.outputs["ApiDiscoveryName"],
    )
    outputs = json.loads(render(t, "json"))["Outputs"]
    # The stack's scheme and load balancer, then a path the pattern matches.
    first = outputs["ServiceUrl"]["Value"]["Fn::Join"]
    assert outputs["ApiServiceUrl"]["Value"] == {"Fn::Join": ["", [*first[1], path]]}
    assert outputs["ApiServiceName"]["Value"] == {"Fn::GetAtt": ["ApiEcsService", "Name"]}
    assert outputs["ApiDiscoveryName"]["Value"] == {
        "Fn::Join": [".", [{"Fn::GetAtt": ["ApiDiscoveryService", "Name"]}, "infra-gen.internal"]]
    }
    for name in ("ApiServiceUrl", "ApiServiceName", "ApiDiscoveryName"):
        assert outputs[name]["Description"].startswith("Api ")
    for name in ("ApiServiceName", "ApiDiscoveryName"):
        assert outputs[name]["Export"] == {"Name": {"Fn::Sub": "${AWS::StackName}-" + name}}
    # CertificateArn turns its scheme to https: an exported value could not change.
    assert "Export" not in outputs["ApiServiceUrl"]
    # The first service's Outputs are as they were.
    default = json.loads(render(build_stack().template, "json"))["Outputs"]
    assert {k: v for k, v in outputs.items() if not k.startswith("Api")} == default


def test_a_governed_added_service_is_exported_on_https() -> None:
    stack = build_stack(GOVERNED)
    stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10)
    outputs = json.loads(render(stack.template, "json"))["Outputs"]
    assert outputs["ApiServiceUrl"]["Value"]["Fn::Join"][1] == [
        "https",
        "://",
        {"Fn::GetAtt": ["LoadBalancer", "DNSName"]},
        "/api/",
    ]
    # Always https: no Parameter changes it, so it is exported.
    assert outputs["ApiServiceUrl"]["Export"] == {
        "Name": {"Fn::Sub": "${AWS::StackName}-ApiServiceUrl"}
    }


@pytest.mark.parametrize("logical_id", ["ApiServiceUrl", "ApiServiceName", "ApiDiscoveryName"])
def test_a_taken_output_id_is_refused_naming_both_sides(logical_id: str) -> None:
    stack = build_stack()
    stack.template.add_output(Output(logical_id, Value="the host's"))
    before = render(stack.template, "json")
    assert _refused(stack, "Api", {"name": "api"}, "/api/*", 10) == (
        f"scope: add_service('Api', ...): logical ID {logical_id} is already taken by the "
        "template's Output"
    )
    assert render(stack.template, "json") == before


def _rows(widget: dict[str, Any]) -> list[list[Any]]:
    """A widget's metric rows with CloudWatch's "." shorthand expanded."""
    rows: list[list[Any]] = []
    for short in widget["properties"]["metrics"]:
        rows.append([rows[-1][i] if v == "." else v for i, v in enumerate(short)])
    return rows


def test_an_added_service_gets_dashboard_widgets_of_its_own_metrics() -> None:
    stack = build_stack()
    t = stack.template
    before = render(t, "json")
    stack.add_service("Bare", {"name": "bare"}, path_pattern="/bare/*", priority=5)
    # Without dashboard=True (the size budget) the dashboard is as it was.
    assert (
        json.loads(render(t, "json"))["Resources"]["Dashboard"]
        == (json.loads(before)["Resources"]["Dashboard"])
    )
    stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10, dashboard=True)
    stack.add_service("Web", {"name": "web"}, path_pattern="/web/*", priority=20, dashboard=True)
    body = json.loads(render(t, "json"))["Resources"]["Dashboard"]["Properties"]["DashboardBody"]
    text, variables = body["Fn::Sub"]
    widgets = json.loads(text)["widgets"]
    default = json.loads(render(build_stack().template, "json"))["Resources"]["Dashboard"]
    first_text, first_variables = default["Properties"]["DashboardBody"]["Fn::Sub"]
    # The stack's own widgets and variables are as they were; the added ones follow.
    assert widgets[:4] == json.loads(first_text)["widgets"]
    assert variables == first_variables
    assert [w["properties"]["title"] for w in widgets[4:]] == [
        "Api: requests, 5xx, latency",
        "Api: CPU, memory, tasks",
        "Web: requests, 5xx, latency",
        "Web: CPU, memory, tasks",
    ]
    target = [
        "TargetGroup",
        "${ApiLoadBalancerTargetGroup.TargetGroupFullName}",
        "LoadBalancer",
        "${LoadBalancer}",
    ]
    tasks = ["ClusterName", "${Cluster}", "ServiceName", "${ApiEcsService.Name}"]
    right = {"yAxis": "right"}
    assert _rows(widgets[4]) == [
        ["AWS/ApplicationELB", "RequestCount", *target],
        ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", *target],
        ["AWS/ApplicationELB", "TargetResponseTime", *target, {"stat": "p90", **right}],
    ]
    assert widgets[4]["properties"]["stat"] == "Sum"
    assert _rows(widgets[5]) == [
        ["AWS/ECS", "CPUUtilization", *tasks],
        ["AWS/ECS", "MemoryUtilization", *tasks],
        ["ECS/ContainerInsights", "DesiredTaskCount", *tasks, right],
        ["ECS/ContainerInsights", "RunningTaskCount", *tasks, right],
    ]
    assert "stat" not in widgets[5]["properties"]  # Average, CloudWatch's default
    assert "${WebEcsService.Name}" in json.dumps(widgets[7])
    for w in widgets[4:]:
        # Placed by CloudWatch in the next free place, two to a row below the stack's own.
        assert (w["width"], w["properties"]["region"], w["properties"]["period"]) == (
            12,
            "${AWS::Region}",
            60,
        )
        assert not {"x", "y", "height"} & set(w)
    assert lint_findings(render(t, "yaml")) == []


@given(st.text(alphabet="ab/._-$~\"'@:+&*?", max_size=40).map(lambda rest: "/" + rest))
def test_the_url_of_an_added_service_is_one_its_listener_rule_matches(pattern: str) -> None:
    # A listener rule's path pattern: '*' any characters ('/' too), '?' exactly one, the
    # rest literal and case-sensitive; fnmatchcase reads it so (no '[' is allowed).
    path = request_path(pattern)
    assert fnmatch.fnmatchcase(path, pattern) and "*" not in path and "?" not in path


@pytest.mark.parametrize("key", ["all_alarms", "dashboard"])
@pytest.mark.parametrize("value", [1, "yes", None])
def test_a_switch_that_is_not_a_bool_is_refused_before_anything_is_added(
    key: str, value: object
) -> None:
    stack = build_stack()
    before = render(stack.template, "json")
    with pytest.raises(ConfigError, match=f"^{key}: {value!r} is not allowed; allowed: a bool$"):
        stack.add_service(
            "Api", {"name": "api"}, path_pattern="/api/*", priority=10, **{key: value}
        )
    assert render(stack.template, "json") == before


def test_an_added_service_with_a_private_ecr_image_may_pull_from_its_repository_alone() -> None:
    stack = build_stack()  # the first service's image is public
    t = stack.template
    stack.add_service("Pub", {"name": "pub"}, path_pattern="/pub/*", priority=5)
    stack.add_service(
        "Api",
        {"name": "api", "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.0"},
        path_pattern="/api/*",
        priority=10,
    )
    policies = _resources(t)["EcsTaskExecutionRole"]["Properties"]["Policies"]
    named = {p["PolicyName"]: p["PolicyDocument"] for p in policies if "PolicyName" in p}
    # The public one adds no pull policy; the private one may pull from its repository,
    # in its account and Region, and no other.
    assert sorted(named) == ["pull-Api-image", "write-service-logs"]
    pull = named["pull-Api-image"]["Statement"]
    assert pull[0] == {
        "Effect": "Allow",
        "Action": ["ecr:GetAuthorizationToken"],
        "Resource": ["*"],
    }
    assert pull[1]["Action"] == ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert pull[1]["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:ecr:eu-west-1:123456789012:repository/team/api"}
    ]
    # The first service's own pull policy stays as it was: on its condition.
    assert any("Fn::If" in p for p in policies)
    assert lint_findings(render(t, "yaml")) == []


def test_an_added_service_cannot_keep_its_logs_for_other_days_than_the_stack() -> None:
    stack = build_stack()
    before = render(stack.template, "json")
    with pytest.raises(
        ConfigError,
        match="^service.log_retention_days: 90 differs from the "
        "stack's 30: every log group keeps the days of the LogRetentionDays "
        "Parameter$",
    ):
        stack.add_service(
            "Api", {"name": "api", "log_retention_days": 90}, path_pattern="/api/*", priority=10
        )
    assert render(stack.template, "json") == before
    stack.add_service(
        "Api", {"name": "api", "log_retention_days": 30}, path_pattern="/api/*", priority=10
    )


def test_a_rule_evaluated_first_that_takes_the_others_requests_is_refused() -> None:
    stack = build_stack()
    stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10)
    # /api/v2/ would reach Api's rule first: the new service would get no traffic.
    assert _refused(stack, "Two", {"name": "two"}, "/api/v2/*", 20) == (
        "path_pattern: add_service('Two', ...): '/api/v2/*' at priority 20 and '/api/*' of Api "
        "at 10: '/api/*', evaluated first, takes '/api/v2/'"
    )
    # Evaluated first, /* would take Api's requests.
    assert _refused(stack, "All", {"name": "all"}, "/*", 5) == (
        "path_pattern: add_service('All', ...): '/*' at priority 5 and '/api/*' of Api at 10: "
        "'/*', evaluated first, takes '/api/'"
    )
    # A narrower pattern evaluated first is how rules are meant to be ordered.
    stack.add_service("Admin", {"name": "admin"}, path_pattern="/api/admin/*", priority=5)
    stack.add_service("Two", {"name": "two"}, path_pattern="/v2/*", priority=20)


def test_an_export_name_the_template_already_exports_is_refused() -> None:
    stack = build_stack()
    t = stack.template
    export = Export(Sub("${AWS::StackName}-ApiServiceUrl"))
    t.add_output(Output("HostUrl", Value="x", Export=export))
    before = render(t, "json")
    assert _refused(stack, "Api", {"name": "api"}, "/api/*", 10) == (
        "scope: add_service('Api', ...): the export name of Output ApiServiceUrl is already "
        "that of the template's Output HostUrl"
    )
    assert render(t, "json") == before


def test_a_service_past_the_templates_500_resources_is_refused_before_anything_is_added() -> None:
    stack = build_stack()
    t = stack.template
    added = 0
    with pytest.raises(
        ConfigError,
        match=r"^scope: add_service\('S\d+', \.\.\.\): the template "
        r"holds \d+ resources; 21 more pass the 500 CloudFormation takes$",
    ):
        while True:
            before = render(t, "json")
            stack.add_service(
                f"S{added}",
                {"name": f"s{added}"},
                path_pattern=f"/s{added}/*",
                priority=added + 1,
                scaling={},
                all_alarms=True,
            )
            added += 1
            assert added < 30
    assert render(t, "json") == before
    assert len(t.resources) + 21 > 500 >= len(t.resources) and added == 21


def test_a_secret_named_by_a_partial_arn_is_granted_under_its_full_arn() -> None:
    stack = build_stack()
    base = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
    stack.add_service(
        "Api",
        {"name": "api"},
        path_pattern="/api/*",
        priority=10,
        secrets={
            "DB": base + "db",  # a partial ARN: the name only
            "KEY": base + "api/key-AbCdEf:password::",  # a full ARN and a JSON key
            "TOKEN": base + "token-AbCdEf",
        },
    )
    policies = _resources(stack.template)["EcsTaskExecutionRole"]["Properties"]["Policies"]
    (read,) = [p for p in policies if p.get("PolicyName") == "read-secrets"]
    # IAM matches a request against the secret's full ARN: its name and six characters.
    assert read["PolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [base + "api/key-AbCdEf", base + "db-??????", base + "token-AbCdEf"],
        }
    ]
    (container,) = _resources(stack.template)["ApiEcsTaskDefinition"]["Properties"][
        "ContainerDefinitions"
    ]
    # ECS is given each ARN as it was written.
    assert {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}["DB"] == base + "db"
    # Secrets added later, to either service, keep the partial ARN's grant as it was.
    stack.service.add_secrets(stack.template, {"TOKEN": PARAMETER})
    assert _reads(_resources(stack.template))["secretsmanager:GetSecretValue"] == [
        base + "api/key-AbCdEf",
        base + "db-??????",
        base + "token-AbCdEf",
    ]


def test_a_host_output_with_one_of_the_stacks_export_names_is_refused_untouched() -> None:
    host = _host()
    export = Export(Sub("${AWS::StackName}-LoadBalancerDnsName"))
    host.add_output(Output("HostUrl", Value="x", Export=export))
    before = render(host, "json")
    with pytest.raises(
        ConfigError,
        match="^template: the host template's Output HostUrl has "
        "the export name of the stack's Output LoadBalancerDnsName$",
    ):
        build_stack(template=host)
    assert render(host, "json") == before


def test_handles_keep_the_lists_the_template_renders() -> None:
    stack = build_stack()
    t = stack.template
    api = stack.add_service(
        "Api", {"name": "api"}, path_pattern="/api/*", priority=10, dashboard=True
    )
    rendered = json.loads(render(t, "json"))
    r = rendered["Resources"]
    variables = r["ProbeFunction"]["Properties"]["Environment"]["Variables"]
    names = [encode_to_dict(name) for name in stack.probe.service_names]
    assert names == [
        {"Fn::GetAtt": [s, "Name"]} for s in ("DiscoveryService", "ApiDiscoveryService")
    ]
    assert variables["PROBE_SERVICE_NAMES"] == {"Fn::Join": [",", names]}
    text, _ = r["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert (
        json.loads(text)["widgets"] == stack.dashboard.widgets and len(stack.dashboard.widgets) == 6
    )
    assert stack.service.shared is not None and api.shared is stack.service.shared
    (logs, *_) = _policies(r["EcsTaskExecutionRole"])
    assert logs["PolicyDocument"]["Statement"][0]["Resource"] == [
        encode_to_dict(arn) for arn in stack.service.shared.log_group_arns
    ]
    assert len(stack.service.shared.log_group_arns) == 2
    allowed = rendered["Parameters"]["ProbeSchedule"]["AllowedValues"]
    assert list(stack.probe.schedules) == allowed


def test_an_added_service_deploys_canary_with_its_own_groups_rule_and_rollback() -> None:
    stack = build_stack()
    stack.add_service(
        "Api",
        {"name": "api", "canary_percent": 20.0},
        path_pattern="/api/*",
        priority=10,
        all_alarms=True,
        deployment="canary",
    )
    r = _resources(stack.template)
    service = r["ApiEcsService"]["Properties"]
    (balancer,) = service["LoadBalancers"]
    assert balancer["AdvancedConfiguration"] == {
        "AlternateTargetGroupArn": {"Ref": "ApiLoadBalancerAlternateTargetGroup"},
        "ProductionListenerRule": {"Ref": "ApiLoadBalancerRule"},
        "RoleArn": {"Fn::GetAtt": ["EcsLoadBalancerRole", "Arn"]},
    }
    config = service["DeploymentConfiguration"]
    assert (config["Strategy"], config["CanaryConfiguration"]["CanaryPercent"]) == ("CANARY", 20.0)
    (action,) = r["ApiLoadBalancerRule"]["Properties"]["Actions"]
    assert [g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]] == [100, 0]
    # The first service stays rolling: its rule-less default action, no role of its own.
    first = r["EcsService"]["Properties"]
    assert "AdvancedConfiguration" not in first["LoadBalancers"][0]
    assert "LoadBalancerRule" not in r
    assert lint_findings(render(stack.template, "yaml")) == []


def test_a_shifted_added_service_needs_its_rollback_alarms() -> None:
    stack = build_stack()
    before = set(stack.template.resources)
    with pytest.raises(
        ConfigError, match=r"^deployment: 'canary' needs a path_pattern and all_alarms=True"
    ):
        stack.add_service(
            "Api", {"name": "api"}, path_pattern="/api/*", priority=10, deployment="canary"
        )
    with pytest.raises(ConfigError, match=r"^service\.deployment: is add_service's deployment="):
        stack.add_service(
            "Api", {"name": "api", "deployment": "canary"}, path_pattern="/api/*", priority=10
        )
    with pytest.raises(ConfigError, match=r"^service\.deployment: 'blue' is not allowed"):
        stack.add_service(
            "Api", {"name": "api"}, path_pattern="/api/*", priority=10, deployment="blue"
        )
    assert set(stack.template.resources) == before


def _mounts(t: Template, logical_id: str) -> dict[str, str]:
    container = _resources(t)[logical_id]["Properties"]["ContainerDefinitions"][0]
    return {m["SourceVolume"]: m["ContainerPath"] for m in container["MountPoints"]}


def test_an_added_service_takes_the_stacks_writable_paths_unless_it_names_its_own() -> None:
    stack = build_stack(GOVERNED)
    governed = {"tmp": "/tmp", "var-cache-nginx": "/var/cache/nginx"}
    assert _mounts(stack.template, "EcsTaskDefinition") == governed
    stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10)
    assert _mounts(stack.template, "ApiEcsTaskDefinition") == governed
    stack.add_service(
        "Own",
        {"name": "own", "writable_paths": ["/data"]},
        path_pattern="/own/*",
        priority=20,
    )
    assert _mounts(stack.template, "OwnEcsTaskDefinition") == {"data": "/data"}
    stack.add_service("Arg", {"name": "arg"}, path_pattern="/arg/*", priority=30, writable_paths={})
    assert _mounts(stack.template, "ArgEcsTaskDefinition") == {}
    before = len(stack.template.resources)
    with pytest.raises(ConfigError, match="^writable_paths: is given twice"):
        stack.add_service(
            "Both",
            {"name": "both", "writable_paths": ["/data"]},
            path_pattern="/both/*",
            priority=40,
            writable_paths={"data": "/data"},
        )
    assert len(stack.template.resources) == before
