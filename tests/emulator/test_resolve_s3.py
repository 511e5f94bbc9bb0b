"""``--resolve-s3`` against moto's emulator: the managed artifact bucket, made on first use,
and a template over 51,200 bytes in both forms previewed and deployed from it.

What the emulator cannot check of the bucket: that S3 enforces its policy, public access
block and lifecycle (moto stores them and answers them back, as the assertions read).
Bridged (devtools/emulator.py): the bucket's properties reach moto's S3 through the
API calls that set them, and the bucket policy, which moto's CloudFormation skips.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from devtools.emulator import ACCOUNT, Api
from infra_gen import Stack, build_stack, render
from infra_gen.deploy import artifacts
from infra_gen.deploy import changeset as cf
from infra_gen.template.artifacts import EXPIRY_DAYS, KEY_PREFIX
from infra_gen.template.ids import ArtifactStack
from tests.support.commands import run, stack_names, stack_resources
from tests.support.stack import full_service

pytestmark = [
    pytest.mark.filterwarnings("ignore:Tried to parse .* but it's not supported:UserWarning"),
    pytest.mark.usefixtures("endpoint"),
]


def two_fully_alarmed_services() -> Stack:
    """README's "default + 2 fully alarmed services": over the limit as YAML and as JSON."""
    stack = build_stack()
    for n in (1, 2):
        full_service(stack, n)
    return stack


def artifact_bucket(emulator: Api) -> str:
    cfn = emulator("cloudformation")
    (stack,) = cfn.describe_stacks(StackName=ArtifactStack.STACK_NAME)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    (output,) = stack["Outputs"]
    assert output["OutputKey"] == ArtifactStack.BUCKET_NAME
    return str(output["OutputValue"])


def test_a_template_over_the_limit_in_both_forms_deploys_from_the_managed_bucket(
    emulator: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    template = two_fully_alarmed_services().template
    text = render(template, "json")
    assert not cf.fits_inline(text) and not cf.fits_inline(render(template, "yaml"))
    path = tmp_path / "composed.json"
    path.write_text(text, encoding="utf-8")
    name = "ig-resolve-s3"
    assert ArtifactStack.STACK_NAME not in stack_names(emulator)

    # The preview makes the bucket (once), uploads the template under its SHA-256.
    code, out = run("diff", "--stack-name", name, "--template-file", str(path), "--resolve-s3")
    err = capsys.readouterr().err
    assert code == 1, err
    assert err == (
        f"infra-gen: creating the artifact bucket: stack {ArtifactStack.STACK_NAME} "
        "(once per account and Region)\n"
    )
    assert out.startswith(f"Stack {name}: {len(template.resources)} changes to create")
    bucket = artifact_bucket(emulator)
    s3 = emulator("s3")
    key = f"{KEY_PREFIX}{hashlib.sha256(text.encode()).hexdigest()}.template"
    (listed,) = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert listed["Key"] == key
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == text.encode()

    # The deploy finds the bucket, uploads to the same key, and creates the stack from it.
    argv = ["--template-file", str(path), "--resolve-s3", "--yes", "--skip-preflight"]
    code, out = run("deploy", "--stack-name", name, *argv)
    err = capsys.readouterr().err
    assert code == 0, err
    assert err == ""  # not created again
    assert f"Stack {name}: CREATE_COMPLETE" in out
    assert {"Svc1EcsService", "Svc2EcsService", "Svc2ScalingTarget"} <= set(
        stack_resources(emulator, name)
    )
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]


def test_the_managed_bucket_is_private_tls_only_encrypted_owned_and_expiring(
    emulator: Api,
) -> None:
    if ArtifactStack.STACK_NAME not in stack_names(emulator):
        assert run("diff", "--stack-name", "ig-resolve-first", "--resolve-s3")[0] == 1
    bucket = artifact_bucket(emulator)
    s3 = emulator("s3")
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"),
        True,
    )
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (owned,) = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert owned == {"ObjectOwnership": "BucketOwnerEnforced"}
    (expiry,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert (expiry["Status"], expiry["Filter"], expiry["Expiration"]) == (
        "Enabled",
        {"Prefix": KEY_PREFIX},
        {"Days": EXPIRY_DAYS},
    )
    (deny,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sorted(deny["Resource"]) == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
    # The account the bucket must belong to for an upload: the stack's own.
    assert artifacts.artifact_bucket(emulator("cloudformation"), "unused") == (bucket, ACCOUNT)


def test_the_template_url_is_on_the_s3_clients_own_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3

    monkeypatch.delenv("AWS_ENDPOINT_URL")  # AWS's own endpoints, not the emulator's

    for region, host in (
        ("cn-north-1", "https://s3.cn-north-1.amazonaws.com.cn"),
        ("eu-west-1", "https://s3.eu-west-1.amazonaws.com"),
    ):
        s3 = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        ).client("s3")
        assert cf.object_url(s3, "b", "templates/a b#c.template") == (
            f"{host}/b/templates/a%20b%23c.template"
        )


def test_the_default_still_deploys_inline_without_a_bucket(
    emulator: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    stacks_before = stack_names(emulator)
    buckets_before = emulator("s3").list_buckets()["Buckets"]
    code, _ = run("diff", "--stack-name", "ig-inline")
    assert code == 1, capsys.readouterr().err
    assert stack_names(emulator) - stacks_before <= {"ig-inline"}
    assert emulator("s3").list_buckets()["Buckets"] == buckets_before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["deploy", "--resolve-s3", "--s3-bucket", "my-bucket", "--yes"],
            "--resolve-s3 does not apply with --s3-bucket: choose the managed bucket "
            "(--resolve-s3) or your own (--s3-bucket)",
        ),
        (
            ["diff", "--resolve-s3", "--s3-prefix", "x/"],
            "--s3-prefix needs --s3-bucket: it is a key prefix in that bucket",
        ),
        (
            ["preflight", "--resolve-s3", "--s3-bucket", "my-bucket", "--offline"],
            "--resolve-s3 does not apply with --s3-bucket",
        ),
        (
            ["deploy", "--resolve-s3", "--plan", "plan.json", "--yes"],
            "--resolve-s3 does not apply with --plan, which runs the plan's change set as it "
            "is: make a new plan with it",
        ),
    ],
    ids=["with-s3-bucket", "with-s3-prefix", "preflight-with-s3-bucket", "with-plan"],
)
def test_resolve_s3_with_another_source_is_one_line_before_any_call(
    emulator: Api, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    stacks_before = stack_names(emulator)
    code, out = run(argv[0], "--stack-name", "ig-resolve-bad", *argv[1:])
    err = capsys.readouterr().err
    assert (code, out) == (2, "")
    assert err.startswith(f"infra-gen: error: {message}") and err.count("\n") == 1, err
    assert stack_names(emulator) == stacks_before
