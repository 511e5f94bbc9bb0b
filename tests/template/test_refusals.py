"""Hostile arguments to every public function of the library: each is one ConfigError line
naming the argument, raised before anything is added to the template or the host."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from awacs import sqs as sqs_actions
from awacs.aws import Allow, Statement
from troposphere import Export, GetAtt, Join, Output, Parameter, Ref, Sub, Template, ec2, s3, sqs

from infra_gen import (
    GREATER,
    AlarmSpec,
    Config,
    Metric,
    Stack,
    TemplateTooLarge,
    build_stack,
    check_size,
    grants,
    largest_parts,
    render,
)
from infra_gen.template.metrics import MetricMath
from tests.support.refusals import refused_untouched

ARN = "arn:aws:sqs:us-east-1:123456789012:jobs"


def _statement(**props: Any) -> Statement:
    return Statement(
        **{"Effect": Allow, "Action": [sqs_actions.SendMessage], "Resource": [ARN], **props}
    )


def _spec(stack: Stack, **fields: Any) -> AlarmSpec:
    return AlarmSpec(
        **{
            "logical_id": "AlarmExtra",
            "metric": stack.service.metric("CPUUtilization"),
            "comparison": GREATER,
            "threshold": 90,
            "description": "CPU is high. Look first at the service.",
            **fields,
        }
    )


def _host(**build: Callable[[Template], object]) -> Template:
    host = Template()
    for add in build.values():
        add(host)
    return host


def _filled(section: str, count: int) -> Callable[[Template], object]:
    def fill(t: Template) -> None:
        for i in range(count):
            if section == "resources":
                t.add_resource(sqs.Queue(f"HostQueue{i}"))
            elif section == "parameters":
                t.add_parameter(Parameter(f"HostParameter{i}", Type="String", Default="x"))
            else:
                t.add_output(Output(f"HostOutput{i}", Value="x"))

    return fill


def _export(name: object) -> Callable[[Template], object]:
    return lambda t: t.add_output(Output("HostUrl", Value="x", Export=Export(name)))


def _nested(depth: int) -> dict[str, Any]:
    data: dict[str, Any] = {}
    inner = data
    for _ in range(depth):
        inner["a"] = {}
        inner = inner["a"]
    return data


# (id, the argument a refusal names, the call on a fresh default stack)
STACK_CASES: list[tuple[str, str, Callable[[Stack], object]]] = [
    (
        "add_service service=None",
        "service",
        lambda s: s.add_service("Api", None, path_pattern=None),
    ),  # type: ignore[arg-type]
    (
        "add_service probe_path=1",
        "probe_path",
        lambda s: s.add_service("Api", {"name": "api"}, path_pattern=None, probe_path=1),  # type: ignore[arg-type]
    ),
    (
        "add_service a worker with a priority",
        "priority",
        lambda s: s.add_service("Api", {"name": "api"}, path_pattern=None, priority=3),
    ),
    ("add_environment t=None", "t", lambda s: s.service.add_environment(None, {"A": "b"})),  # type: ignore[arg-type]
    ("add_secrets t=None", "t", lambda s: s.service.add_secrets(None, {"A": ARN})),  # type: ignore[arg-type]
    ("grant t=None", "t", lambda s: s.service.grant(None, [_statement()])),  # type: ignore[arg-type]
    (
        "grant empty Action",
        "statements[0]",
        lambda s: s.service.grant(s.template, [_statement(Action=[])]),
    ),
    (
        "grant empty Resource",
        "statements[0]",
        lambda s: s.service.grant(s.template, [_statement(Resource=[])]),
    ),
    (
        "grant Sid with a space",
        "statements[0]",
        lambda s: s.service.grant(s.template, [_statement(Sid="send jobs")]),
    ),
    (
        "grant Sid twice",
        "statements[1]",
        lambda s: s.service.grant(s.template, [_statement(Sid="A"), _statement(Sid="A")]),
    ),
    (
        "grant a resource of no template",
        "statements[0]",
        lambda s: s.service.grant(s.template, grants.send(sqs.Queue("Elsewhere"))),
    ),
    (
        "grant a bucket by its name",
        "statements[0]",
        lambda s: s.service.grant(s.template, [_statement(Resource=[Sub("${Reports}")])]),
    ),
    ("add_alarm t=None", "t", lambda s: s.alarms.add_alarm(None, _spec(s))),  # type: ignore[arg-type]
    (
        "add_alarm a dict for an AlarmSpec",
        "spec",
        lambda s: s.alarms.add_alarm(s.template, {"logical_id": "AlarmExtra"}),  # type: ignore[arg-type]
    ),
    (
        "add_alarm threshold=10**400",
        "threshold",
        lambda s: s.alarms.add_alarm(s.template, _spec(s, threshold=10**400)),
    ),
    (
        "add_alarm a day and a minute of one-minute periods",
        "evaluation_periods",
        lambda s: s.alarms.add_alarm(
            s.template, _spec(s, period=60, evaluation_periods=1441, datapoints_to_alarm=1)
        ),
    ),
    (
        "add_alarm over a week of hours",
        "evaluation_periods",
        lambda s: s.alarms.add_alarm(
            s.template, _spec(s, period=3600, evaluation_periods=169, datapoints_to_alarm=1)
        ),
    ),
    (
        "add_alarm on another stack's template",
        "t",
        lambda s: build_stack().alarms.add_alarm(s.template, _spec(s)),
    ),
    (
        "add_alarm a metric naming what the template lacks",
        "metric",
        lambda s: s.alarms.add_alarm(
            s.template,
            _spec(
                s,
                metric=Metric(
                    "AWS/SQS", "NumberOfMessagesSent", (("Q", GetAtt("Gone", "QueueName")),), "Sum"
                ),
            ),
        ),
    ),
    (
        "admit t=None",
        "t",
        lambda s: s.service.admit(
            None,  # type: ignore[arg-type]
            s.probe.security_group,
            ingress_id="A",
            egress_id="B",
            description="x",
        ),
    ),
    (
        "admit a group of another template",
        "client_group",
        lambda s: s.service.admit(
            s.template,
            build_stack().probe.security_group,
            ingress_id="BastionIngress",
            egress_id="BastionEgress",
            description="bastion",
        ),
    ),
    (
        "admit a group of no template",
        "client_group",
        lambda s: s.service.admit(
            s.template,
            ec2.SecurityGroup("Bastion", GroupDescription="b"),
            ingress_id="BastionIngress",
            egress_id="BastionEgress",
            description="bastion",
        ),
    ),
]


@pytest.mark.parametrize(
    ("key", "call"), [c[1:] for c in STACK_CASES], ids=[c[0] for c in STACK_CASES]
)
def test_a_hostile_argument_is_one_line_naming_it_and_the_template_is_unchanged(
    key: str, call: Callable[[Stack], object]
) -> None:
    stack = build_stack()
    stack.template.add_resource(s3.Bucket("Reports"))
    refused_untouched(key, lambda: call(stack), stack.template)


HOSTS: list[tuple[str, Callable[[], Template]]] = [
    ("near 500 resources", lambda: _host(fill=_filled("resources", 450))),
    ("near 200 Parameters", lambda: _host(fill=_filled("parameters", 195))),
    ("near 200 Outputs", lambda: _host(fill=_filled("outputs", 195))),
    (
        "console groups not a list",
        lambda: _host(
            meta=lambda t: t.set_metadata(
                {"AWS::CloudFormation::Interface": {"ParameterGroups": {}}}
            )
        ),
    ),
    (
        "a console group without a label",
        lambda: _host(
            meta=lambda t: t.set_metadata(
                {"AWS::CloudFormation::Interface": {"ParameterGroups": [{"Parameters": ["A"]}]}}
            )
        ),
    ),
    (
        "export name by Join",
        lambda: _host(out=_export(Join("-", [Ref("AWS::StackName"), "LoadBalancerDnsName"]))),
    ),
    (
        "export name by a Sub variable",
        lambda: _host(out=_export(Sub("${AWS::StackName}-${Name}", Name="LoadBalancerDnsName"))),
    ),
    (
        "export name by a Parameter",
        lambda: _host(out=_export(Sub("${Env}-LoadBalancerDnsName"))),
    ),
    ("export name it cannot read", lambda: _host(out=_export({"Fn::Base64": "x"}))),
]


@pytest.mark.parametrize("host", [h[1] for h in HOSTS], ids=[h[0] for h in HOSTS])
def test_a_host_the_stack_cannot_join_is_refused_and_left_as_it_was(
    host: Callable[[], Template],
) -> None:
    template = host()
    refused_untouched("template", lambda: build_stack(template=template), template)


def test_a_host_export_of_another_name_is_taken() -> None:
    host = _host(out=_export(Sub("${AWS::StackName}-${Name}-db", Name="Orders")))
    stack = build_stack(template=host)
    assert "HostUrl" in stack.template.outputs and "ServiceUrl" in stack.template.outputs


PLAIN_CASES: list[tuple[str, str, Callable[[], object]]] = [
    ("render(None)", "t", lambda: render(None)),  # type: ignore[arg-type]
    ("render(t, 'xml')", "fmt", lambda: render(Template(), "xml")),  # type: ignore[arg-type]
    ("check_size(123)", "template", lambda: check_size(123)),  # type: ignore[arg-type]
    ("check_size of text that is not UTF-8", "template", lambda: check_size("\udc80")),
    ("largest_parts(bytes)", "text", lambda: largest_parts(b"{}")),  # type: ignore[arg-type]
    ("largest_parts of deep JSON", "text", lambda: largest_parts("[" * 100_000, "json")),
    ("largest_parts of deep data", "text", lambda: largest_parts(_nested(100_000))),
    ("largest_parts count=-1", "count", lambda: largest_parts("{}", "json", -1)),
    ("Config.from_mapping(None)", "config", lambda: Config.from_mapping(None)),  # type: ignore[arg-type]
    ("Config.from_mapping([])", "config", lambda: Config.from_mapping([])),  # type: ignore[arg-type]
    ("statistic p999", "statistic", lambda: Metric("AWS/ECS", "CPUUtilization", (), "p999")),
    ("statistic p(", "statistic", lambda: Metric("AWS/ECS", "CPUUtilization", (), "p(")),
    ("statistic tm(90%:10%)", "statistic", lambda: Metric("AWS/ECS", "C", (), "tm(90%:10%)")),
    (
        "metric math ID twice",
        "inputs",
        lambda: MetricMath("a + a", "x", (("a", _metric()), ("a", _metric()))),
    ),
    (
        "metric math ID upper case",
        "result_id",
        lambda: MetricMath("a", "x", (("a", _metric()),), "R"),
    ),
    ("grants a bucket's Ref", "resource", lambda: grants.read(Ref(s3.Bucket("B")), kind="bucket")),
    ("grants a table's Ref", "resource", lambda: grants.read_write(Ref("Orders"), kind="table")),
    ("build_stack(template=123)", "template", lambda: build_stack(template=123)),  # type: ignore[arg-type]
]


def _metric() -> Metric:
    return Metric("AWS/ECS", "CPUUtilization", (), "Average")


@pytest.mark.parametrize(
    ("key", "call"), [c[1:] for c in PLAIN_CASES], ids=[c[0] for c in PLAIN_CASES]
)
def test_a_hostile_argument_to_a_plain_function_is_one_line_naming_it(
    key: str, call: Callable[[], object]
) -> None:
    refused_untouched(key, call)


def test_an_extended_statistic_cloudwatch_takes_is_taken() -> None:
    for stat in ("p99.9", "p100", "tm90", "tm(10%:90%)", "TM(2:5)", "PR(:0.5)", "wm(:95%)"):
        assert Metric("AWS/ECS", "CPUUtilization", (), stat).statistic == stat


def test_a_bucket_is_granted_by_its_arn_never_its_name() -> None:
    bucket = s3.Bucket("Reports")
    (on_bucket, on_objects) = [s.JSONrepr() for s in grants.read(bucket)]
    assert json.loads(json.dumps(on_bucket["Resource"], default=lambda o: o.to_dict())) == [
        {"Fn::GetAtt": ["Reports", "Arn"]}
    ]
    # A Parameter holding an ARN is taken as a Sub of it.
    (statement, _) = grants.read(Sub("${ReportsArn}"), kind="bucket")
    assert statement.JSONrepr()["Resource"][0].to_dict() == {"Fn::Sub": "${ReportsArn}"}


def test_a_partial_secret_arn_is_granted_with_one_suffix_however_it_was_added() -> None:
    stack = build_stack()
    partial = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"
    stack.service.add_secrets(stack.template, {"A": partial})
    stack.service.add_secrets(stack.template, {"B": partial.replace("db", "other")})
    api = stack.add_service("Api", {"name": "api"}, path_pattern=None, secrets={"C": partial})
    shaped = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:db"
    api.add_secrets(stack.template, {"D": Sub(shaped + ":password::")})
    api.add_secrets(stack.template, {"E": Sub(shaped)})
    text = render(stack.template, "json")
    role = json.loads(text)["Resources"]["EcsTaskExecutionRole"]["Properties"]["Policies"][-1]
    (statement,) = role["PolicyDocument"]["Statement"]
    assert statement["Resource"] == [
        partial + "-??????",
        partial.replace("db", "other-??????"),
        {"Fn::Sub": shaped + "-??????"},
    ]
    assert "??????-??????" not in text


def test_text_too_deep_to_measure_is_still_too_large() -> None:
    with pytest.raises(TemplateTooLarge, match=r"^the JSON template is 100,000 bytes, over"):
        check_size("[" * 100_000, "json")
