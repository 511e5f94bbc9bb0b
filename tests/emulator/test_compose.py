"""examples/api_and_worker.py deployed to the emulator as a release would deploy it: from
S3, with its image Parameters given, and what the tasks may do read back from IAM."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devtools.emulator import ACCOUNT, REGION, Api
from tests.support.commands import run, stack_resources

pytestmark = [
    pytest.mark.filterwarnings("ignore:Tried to parse .* but it's not supported:UserWarning"),
    pytest.mark.usefixtures("endpoint"),
]

ROOT = Path(__file__).resolve().parents[2]
RELEASE = "ghcr.io/traefik/whoami:v1.10.3"


def _policy(api: Api, role: str, name: str) -> dict[str, Any]:
    document: dict[str, Any] = api("iam").get_role_policy(RoleName=role, PolicyName=name)[
        "PolicyDocument"
    ]
    return document


def test_the_api_and_worker_example_deploys_with_a_release_image(
    emulator: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "api_and_worker.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    path = tmp_path / "stack.json"
    path.write_text(done.stdout, encoding="utf-8")
    emulator("s3").create_bucket(Bucket="ig-api-worker")
    name = "ig-api-worker"
    code, out = run(
        "deploy",
        "--stack-name",
        name,
        "--template-file",
        str(path),
        "--yes",
        "--skip-preflight",
        "--s3-bucket",
        "ig-api-worker",
        "--parameter",
        f"ApiImage={RELEASE}",
    )
    assert code == 0, capsys.readouterr().err
    assert f"Stack {name}: CREATE_COMPLETE" in out
    physical = stack_resources(emulator, name)
    assert {"ApiEcsService", "WorkerEcsService", "OrdersTable", "JobsQueue"} <= set(physical)
    assert "WorkerLoadBalancerTargetGroup" not in physical
    ecs = emulator("ecs")
    (task,) = ecs.describe_task_definition(taskDefinition=physical["ApiEcsTaskDefinition"])[
        "taskDefinition"
    ]["containerDefinitions"]
    assert task["image"] == RELEASE  # the Parameter given, not the template's default
    assert [p["containerPort"] for p in task["portMappings"]] == [8080]
    groups = emulator("elbv2").describe_target_groups(
        TargetGroupArns=[physical["ApiLoadBalancerTargetGroup"]]
    )["TargetGroups"]
    assert [(g["Port"], g["HealthCheckPath"]) for g in groups] == [(8080, "/health")]
    # The API's own role: the table and its indexes, the secret; the worker's: the queue.
    api_role = _policy(emulator, physical["ApiEcsTaskRole"], "grant-1")
    assert [s["Action"][0] for s in api_role["Statement"]] == [
        "dynamodb:BatchGetItem",
        "secretsmanager:GetSecretValue",
    ]
    table_arn = api_role["Statement"][0]["Resource"]
    assert table_arn[0].endswith(":table/" + physical["OrdersTable"])
    assert table_arn[1] == table_arn[0] + "/index/*"
    worker_role = _policy(emulator, physical["WorkerEcsTaskRole"], "grant-1")
    (consume,) = worker_role["Statement"]
    assert consume["Action"][0] == "sqs:ReceiveMessage"
    assert consume["Resource"] == [
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:" + physical["JobsQueue"].rsplit("/", 1)[1]
    ]
    # The secret reaches the worker from ECS; the shared execution role reads it alone.
    (worker,) = ecs.describe_task_definition(taskDefinition=physical["WorkerEcsTaskDefinition"])[
        "taskDefinition"
    ]["containerDefinitions"]
    assert worker["secrets"] == [{"name": "API_KEY", "valueFrom": physical["ApiKeySecret"]}]
    read = _policy(emulator, physical["EcsTaskExecutionRole"], "read-secrets")
    assert read["Statement"][0]["Resource"] == [physical["ApiKeySecret"]]
