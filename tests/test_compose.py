"""Composing services: each its own task role and grants, environment and secrets,
handles for its route and metrics, refusals that name both sides."""

from __future__ import annotations

import json
from typing import Any

import pytest
from awacs import sqs
from awacs.aws import Allow, Statement
from stack import lint_findings
from troposphere import Sub, Template

from infra_gen import Stack, build_stack, render

QUEUE = Sub("arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:jobs")


def _resources(t: Template) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(render(t, "json"))["Resources"]
    return loaded


def _with_api(**options: Any) -> Stack:
    stack = build_stack()
    stack.add_service(
        "Api", {"name": "api"}, path_pattern="/api/*", priority=10, **options
    )
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
    stack.service.grant(
        t, [Statement(Effect=Allow, Action=[sqs.ReceiveMessage], Resource=[QUEUE])]
    )
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
        stack.service.grant(Template(), [Statement(Effect=Allow, Action=[sqs.SendMessage],
                                                   Resource=[QUEUE])])  # fmt: skip
    assert "Policies" not in _resources(stack.template)["EcsTaskRole"]["Properties"]
