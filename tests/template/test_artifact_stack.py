"""The managed artifact bucket's stack (``--resolve-s3``): lint clean in every partition,
checkov clean, and the settings docs/deploy.md promises. Its deploy into the emulator,
with the bucket's settings read back through S3: tests/emulator/test_resolve_s3.py."""

from __future__ import annotations

import json
from pathlib import Path

from cfnlint.api import ManualArgs, lint

from infra_gen import render
from infra_gen.template.artifacts import EXPIRY_DAYS, KEY_PREFIX, artifact_template
from infra_gen.template.ids import ArtifactStack
from tests.support import checkov


def doc() -> dict:
    return dict(json.loads(render(artifact_template(), "json")))


def test_the_same_bytes_every_time_and_no_capability_needed() -> None:
    assert render(artifact_template(), "yaml") == render(artifact_template(), "yaml")
    types = {r["Type"] for r in doc()["Resources"].values()}
    assert types == {"AWS::S3::Bucket", "AWS::S3::BucketPolicy"}  # no IAM: no capability
    assert "BucketName" not in doc()["Resources"][ArtifactStack.BUCKET]["Properties"]


def test_lint_clean_in_the_commercial_china_and_govcloud_partitions() -> None:
    text = render(artifact_template(), "yaml")
    regions = ["us-east-1", "cn-north-1", "us-gov-west-1"]
    found = lint(text, config=ManualArgs(regions=regions, include_checks=["I"]))
    assert [str(m) for m in found] == []


def test_private_encrypted_owner_enforced_tls_only_expiring() -> None:
    p = doc()["Resources"][ArtifactStack.BUCKET]["Properties"]
    assert p["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"),
        True,
    )
    (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert p["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (expire,) = p["LifecycleConfiguration"]["Rules"]
    assert (expire["Status"], expire["Prefix"], expire["ExpirationInDays"]) == (
        "Enabled",
        KEY_PREFIX,
        EXPIRY_DAYS,
    )
    policy = doc()["Resources"][ArtifactStack.BUCKET_POLICY]["Properties"]["PolicyDocument"]
    (deny,) = policy["Statement"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", ["s3:*"])
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert doc()["Outputs"][ArtifactStack.BUCKET_NAME]["Value"] == {"Ref": ArtifactStack.BUCKET}


def test_checkov_finds_no_failed_check(tmp_path: Path) -> None:
    (report,) = checkov.scan({"artifacts": render(artifact_template(), "yaml")}, tmp_path).values()
    results = report["results"]
    assert [c["check_id"] for c in results["failed_checks"]] == []
    assert results["parsing_errors"] == []
    assert len(results["passed_checks"]) >= 5
    assert {c["check_id"] for c in results["skipped_checks"]} == {"CKV_AWS_18", "CKV_AWS_21"}
