"""The example workflow's plan and deploy jobs: what runs where, with which rights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "publish.yml"


def jobs() -> dict[str, Any]:
    return dict(yaml.safe_load(WORKFLOW.read_text())["jobs"])


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job["steps"])


def test_pull_requests_and_a_manual_run_on_main_get_a_plan_as_an_artifact() -> None:
    plan = jobs()["plan"]
    assert "github.event_name == 'pull_request'" in plan["if"]
    assert (
        "github.event_name == 'workflow_dispatch' && github.ref == 'refs/heads/main'" in plan["if"]
    )
    assert plan["permissions"] == {"contents": "read", "id-token": "write"}
    assert 'infra-gen preflight --stack-name "$STACK_NAME" --template-file "$TEMPLATE"' in runs(
        plan
    )
    assert 'infra-gen diff --stack-name "$STACK_NAME" --template-file "$TEMPLATE"' in runs(plan)
    assert "--plan-out plan.json" in runs(plan)
    (upload,) = [s for s in plan["steps"] if "upload-artifact" in str(s.get("uses"))]
    assert (upload["with"]["name"], upload["with"]["path"]) == ("deploy-plan", "plan.json")
    (aws,) = [s for s in plan["steps"] if "configure-aws-credentials" in str(s.get("uses"))]
    assert aws["with"]["role-to-assume"] == "${{ vars.AWS_PLAN_ROLE_ARN }}"


def test_main_deploys_that_plan_and_waits_until_healthy() -> None:
    deploy = jobs()["deploy"]
    assert "github.ref == 'refs/heads/main'" in deploy["if"]
    assert "github.event_name == 'push'" in deploy["if"]
    assert "inputs.deploy && needs.plan.result == 'success'" in deploy["if"]
    assert deploy["environment"] == "production"
    assert deploy["permissions"]["id-token"] == "write"
    assert deploy["concurrency"]["cancel-in-progress"] is False
    script = runs(deploy)
    assert 'gh run download "$run" --name deploy-plan --dir plan' in script
    # The plan is of this commit's reviewed template, then executed as it is.
    assert "jq -r .template_sha256 plan/plan.json" in script and "make -s deploy-file" in script
    assert script.index("--plan plan/plan.json --yes") < script.index("verify --stack-name")
    assert "--wait 600" in script
    (aws,) = [s for s in deploy["steps"] if "configure-aws-credentials" in str(s.get("uses"))]
    assert aws["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"


@pytest.mark.parametrize("deployment", ["rolling", "canary", "linear"])
def test_the_deploy_job_outlasts_a_releases_shift_and_bake(deployment: str) -> None:
    from infra_gen import Config

    service = Config.from_mapping({"service": {"deployment": deployment}}).service
    bake = service.bake_minutes if deployment != "rolling" else 0
    setup, tasks = 10, 10  # make artifact and the installs; the new revision's tasks
    verify = int(runs(jobs()["deploy"]).split("--wait ", 1)[1].split()[0]) // 60
    needed = setup + tasks + service.shift_minutes + bake + verify
    assert jobs()["deploy"]["timeout-minutes"] >= needed, (deployment, needed)


def test_every_setup_caches_pip_on_the_pinned_files() -> None:
    for name, job in jobs().items():
        (setup,) = [s for s in job["steps"] if "setup-python" in str(s.get("uses"))]
        assert setup["with"]["cache"] == "pip", name
        assert setup["with"]["cache-dependency-path"].split() == [
            "pyproject.toml",
            "constraints/runtime.txt",
        ]


def test_pushes_attest_the_templates_provenance_by_their_checksums() -> None:
    template = jobs()["template"]
    assert template["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "attestations": "write",
    }
    (attest,) = [s for s in template["steps"] if "attest-build-provenance" in str(s.get("uses"))]
    assert attest["if"] == "github.event_name != 'pull_request'"
    assert attest["with"] == {"subject-checksums": "out/SHA256SUMS"}
    names = [s.get("name") or s.get("uses") for s in template["steps"]]
    assert names.index("Check, lint and checksum the template") < names.index(
        "Attest the template's provenance"
    )


def test_a_tag_gets_release_notes_with_the_checksums() -> None:
    release = jobs()["release"]
    assert "cat out/SHA256SUMS" in runs(release)
    (publish,) = [s for s in release["steps"] if "gh-release" in str(s.get("uses"))]
    assert publish["with"]["body_path"] == "release-notes.md"
    assert publish["with"]["generate_release_notes"] is True
