"""``infra-gen preflight``, and the preflight before ``deploy``, against moto's emulator.

The emulator serves the role (IAM), the certificate (ACM), the zones (EC2) and the image
(ECR); Service Quotas it knows for VPC only, so the Fargate vCPU quota is answered
through botocore's Stubber (each request checked against the AWS API model). The
offline checks run in a fresh interpreter without boto3 or credentials.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from devtools.emulator import ACCOUNT, REGION, Api
from infra_gen import cli as commands
from infra_gen.deploy import changeset as cf
from infra_gen.deploy import parameters
from infra_gen.deploy import preflight as pf
from tests.support.commands import README, run

pytestmark = [
    pytest.mark.filterwarnings("ignore:Tried to parse .* but it's not supported:UserWarning"),
    pytest.mark.usefixtures("endpoint"),
]
ZONES = '["use1-az1", "use1-az2"]'  # moto's us-east-1 has use1-az1 .. az6
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


def in_docs(out: str) -> bool:
    """Whether the docs show this output; the template's size changes with the template."""
    size = re.compile(r"[0-9,]+ bytes of 51,200")
    return size.sub("N bytes of 51,200", out) in size.sub("N bytes of 51,200", README)


def quota(value: float | None, spot: float | None = None) -> Any:
    """A Service Quotas client answering GetServiceQuota for Fargate On-Demand vCPU with
    ``value``, then for Fargate Spot vCPU with ``spot`` (default: ``value``)."""
    client = boto3.client("service-quotas")
    stub = Stubber(client)
    for code, answer in (("L-3032A538", value), ("L-36FBB829", value if spot is None else spot)):
        expected = {"ServiceCode": "fargate", "QuotaCode": code}
        if answer is None:
            stub.add_client_error(
                "get_service_quota",
                "AccessDeniedException",
                "not allowed",
                expected_params=expected,
            )
        else:
            stub.add_response(
                "get_service_quota",
                {"Quota": {"ServiceCode": "fargate", "QuotaCode": code, "Value": answer}},
                expected,
            )
    stub.activate()
    return client


def clients(quotas: Any) -> Any:
    """boto3's usual chain (pointed at the emulator), Service Quotas stubbed."""
    return lambda service: quotas if service == "service-quotas" else boto3.client(service)


def certificate(emu: Api, domain: str) -> str:
    """A self-signed certificate imported into ACM: ISSUED at once, as imports are."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    imported = emu("acm").import_certificate(
        Certificate=cert.public_bytes(serialization.Encoding.PEM), PrivateKey=pem
    )
    return str(imported["CertificateArn"])


@pytest.fixture(scope="module")
def image(emulator: Api) -> Iterator[str]:
    """A private image in the emulator's ECR, tagged 1.27."""
    ecr = emulator("ecr")
    ecr.create_repository(repositoryName="web/nginx")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"digest": "sha256:" + "0" * 64, "size": 1},
        }
    )
    ecr.put_image(repositoryName="web/nginx", imageManifest=manifest, imageTag="1.27")
    yield f"{REGISTRY}/web/nginx:1.27"


def preflight(*argv: str, quotas: Any) -> tuple[int, str]:
    out = io.StringIO()
    code = commands.main(
        ["preflight", "--stack-name", "ig-preflight", *argv], clients=clients(quotas), stdout=out
    )
    return code, out.getvalue()


def test_everything_in_place_is_ready(emulator: Api, image: str) -> None:
    arn = certificate(emulator, "www.example.com")
    code, out = preflight(
        "--set",
        f"network.availability_zone_ids={ZONES}",
        "--parameter",
        f"CertificateArn={arn}",
        "--parameter",
        f"ServiceImage={image}",
        quotas=quota(100),
    )
    assert code == 0, out
    lines = out.splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [
        ["ok", "template"],
        ["ok", "parameters"],
        ["ok", "ECS"],
        ["ok", "certificate"],
        ["ok", "zones"],
        ["ok", "image"],
        ["ok", "vCPU"],
        ["ok", "Spot"],
    ]
    assert lines[-1] == "Stack ig-preflight: ready"
    assert (
        "ok   Spot quota   100 vCPU covers MaxTasks 5 x 0.25 vCPU on Spot = 1.25 in us-east-1"
        in lines
    )
    assert "ok   vCPU quota   100 vCPU covers MaxTasks 10 x 0.25 vCPU = 2.5 in us-east-1" in lines
    assert "ok   zones        use1-az1, use1-az2 available in us-east-1" in lines
    shown = out.replace(arn, "arn:aws:acm:us-east-1:123456789012:certificate/ID")
    assert in_docs(shown.replace("ig-preflight", "nginx-probe")), out


def test_each_finding_says_what_to_do(emulator: Api, image: str) -> None:
    emulator("iam").delete_role(RoleName=pf.ECS_ROLE)
    try:
        pending = emulator("acm").request_certificate(DomainName="new.example.com")
        code, out = preflight(
            "--set",
            'network.availability_zone_ids=["use1-az1", "use1-az9"]',
            "--parameter",
            f"CertificateArn={pending['CertificateArn']}",
            "--parameter",
            f"ServiceImage={REGISTRY}/web/nginx:1.28",
            "--parameter",
            "MaxTasks=40",
            "--parameter",
            "TaskSize=1024/2048",
            quotas=quota(16),
        )
    finally:
        emulator("iam").create_role(
            RoleName=pf.ECS_ROLE,
            Path="/aws-service-role/ecs.amazonaws.com/",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )
    assert code == 1
    shown = out.replace(
        pending["CertificateArn"], "arn:aws:acm:us-east-1:123456789012:certificate/ID"
    )
    assert in_docs(shown.replace("ig-preflight", "nginx-probe")), out
    failed = {
        line.split("  ")[0].split(" ", 1)[1].strip(): line
        for line in out.splitlines()
        if line.startswith("FAIL")
    }
    assert sorted(failed) == [
        "ECS role",
        "Spot quota",
        "certificate",
        "image",
        "vCPU quota",
        "zones",
    ]
    assert (
        "aws iam create-service-linked-role --aws-service-name ecs.amazonaws.com"
        in (failed["ECS role"])
    )
    assert "is PENDING_VALIDATION, not ISSUED" in failed["certificate"]
    assert "use1-az9 not available in us-east-1" in failed["zones"]
    assert "web/nginx has no image 1.28: push it first" in failed["image"]
    assert "below MaxTasks 40 x 1 vCPU = 40" in failed["vCPU quota"]
    assert out.splitlines()[-1] == (
        "Stack ig-preflight: NOT ready (ECS role, certificate, zones, image, vCPU quota, "
        "Spot quota)"
    )


@pytest.mark.parametrize(
    ("parameters", "check", "expected"),
    [
        (
            ["CertificateArn=arn:aws:acm:eu-west-1:123456789012:certificate/abc"],
            "certificate",
            "arn:aws:acm:eu-west-1:123456789012:certificate/abc is in eu-west-1, the stack in "
            "us-east-1: a load balancer needs a certificate of its own Region; request or import "
            "one in us-east-1",
        ),
        (
            ["CertificateArn=arn:aws:acm:us-east-1:123456789012:certificate/nope"],
            "certificate",
            "arn:aws:acm:us-east-1:123456789012:certificate/nope does not exist in us-east-1: "
            "check CertificateArn (aws acm list-certificates)",
        ),
        (
            [f"ServiceImage={REGISTRY}/missing:1"],
            "image",
            "repository missing does not exist in us-east-1: push the image first, or pass "
            "another ServiceImage",
        ),
        (
            [f"ServiceImage={ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/web/nginx:1.27"],
            "image",
            f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/web/nginx:1.27 is in eu-west-1, the "
            "stack in us-east-1: the tasks may pull from this Region's ECR only; replicate the "
            "image or pass another ServiceImage",
        ),
    ],
)
def test_certificate_and_image_elsewhere_or_missing(
    image: str, parameters: list[str], check: str, expected: str
) -> None:
    argv = [a for p in parameters for a in ("--parameter", p)]
    code, out = preflight(*argv, quotas=quota(100))
    assert code == 1
    (line,) = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert line.startswith(f"FAIL {check} ") and line.endswith(expected), line


def test_a_quota_it_may_not_read_is_a_warning_not_a_failure(image: str) -> None:
    code, out = preflight(quotas=quota(None))
    assert code == 0
    assert (
        "warn vCPU quota   cannot read quota L-3032A538 (AccessDeniedException): make sure "
        "Fargate On-Demand vCPU in us-east-1 is at least 2.5"
    ) in out.splitlines()
    assert (
        "warn Spot quota   cannot read quota L-36FBB829 (AccessDeniedException): make sure "
        "Fargate Spot vCPU in us-east-1 is at least 1.25"
    ) in out.splitlines()
    assert out.splitlines()[-1] == "Stack ig-preflight: ready, 2 warnings"


def test_deploy_stops_at_a_failing_preflight_unless_skipped(
    emulator: Api,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emulator("iam").delete_role(RoleName=pf.ECS_ROLE)
    try:
        code, out = run("deploy", "--stack-name", "ig-preflight-deploy", "--yes")
        err = capsys.readouterr().err
        assert (code, out) == (1, "")
        assert err.splitlines()[0].startswith("infra-gen: preflight: FAIL ECS role  ")
        assert err.splitlines()[-1] == (
            "infra-gen: error: preflight found 1 problems, nothing was deployed: fix them, or "
            "pass --skip-preflight"
        )
        summaries = emulator("cloudformation").list_stacks()["StackSummaries"]
        assert "ig-preflight-deploy" not in {s["StackName"] for s in summaries}
        code, out = run(
            "deploy", "--stack-name", "ig-preflight-deploy", "--yes", "--skip-preflight"
        )
        assert code == 0, capsys.readouterr().err
        assert "Stack ig-preflight-deploy: CREATE_COMPLETE" in out
    finally:
        emulator("iam").create_role(
            RoleName=pf.ECS_ROLE,
            Path="/aws-service-role/ecs.amazonaws.com/",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )


def test_offline_checks_need_neither_boto3_nor_credentials(tmp_path: Path) -> None:
    # A fresh interpreter in which importing boto3 fails, with no AWS configuration at all.
    code = (
        "import sys; sys.modules['boto3'] = None; sys.modules['botocore'] = None\n"
        "from infra_gen.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    argv = [
        "preflight",
        "--stack-name",
        "nginx-probe",
        "--offline",
        "--parameter",
        "MinTasks=0",
        "--parameter",
        "TaskSize=300/512",
        "--parameter",
        "ProbeSchedule=rate(1 hour)",
    ]
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    assert in_docs(done.stdout), done.stdout
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ok   template    ")
    assert lines[1:4] == [
        "FAIL parameters  MinTasks='0' is less than MinValue 1: pass --parameter "
        "MinTasks=VALUE with a valid value",
        "FAIL parameters  ProbeSchedule='rate(1 hour)' is not one of rate(1 minute), "
        "rate(2 minutes), rate(5 minutes): pass --parameter ProbeSchedule=VALUE with a valid "
        "value",
        "FAIL parameters  TaskSize='300/512' must be a Fargate size cpu/memory, e.g. 512/1024: "
        "pass --parameter TaskSize=VALUE with a valid value",
    ]
    assert lines[-1] == "Stack nginx-probe: NOT ready (parameters)"


def test_template_over_the_request_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real template fits (test_lint guards that); a lower limit stands for a larger one.
    monkeypatch.setattr(cf, "INLINE_LIMIT", 1000)
    template = {
        "Parameters": {},
        "Resources": {
            "Big": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "x" * 900}},
            "Small": {"Type": "AWS::SNS::Topic"},
        },
    }
    findings = pf.offline(template, 1001, {}, from_s3=False)
    assert findings[0] == pf.Finding(
        "template",
        "FAIL",
        "1,001 bytes, over the 1,000 a request may carry (largest, as "
        "compact JSON: Big 958, Small 26, Parameters 2): pass --s3-bucket",
    )
    assert pf.offline({"Parameters": {}}, 1001, {}, from_s3=True)[0].status == "ok"


def test_a_pattern_python_cannot_read_is_left_to_cloudformation() -> None:
    # \p{L} is Java's (CloudFormation's) and not Python's: no finding, and no traceback.
    spec = {"Type": "String", "AllowedPattern": r"\p{L}+"}
    assert parameters.problems(spec, "any") == []
    found = parameters.problems({"Type": "String", "AllowedPattern": "[a-z]+"}, "A")
    assert [p.finding for p in found] == ["does not match [a-z]+"]


def test_one_checker_words_a_value_for_the_refusal_and_for_the_finding() -> None:
    spec = {"Type": "String", "MinLength": 3, "MaxLength": 5, "AllowedPattern": "[a-z]*"}
    assert [(p.constraint, p.refusal, p.finding) for p in parameters.problems(spec, "ab")] == [
        ("MinLength", "at least 3 characters", "is shorter than MinLength 3")
    ]
    assert [p.constraint for p in parameters.problems(spec, "ABCDEF")] == [
        "AllowedPattern",
        "MaxLength",
    ]
    number = {"Type": "Number", "MinValue": 1, "MaxValue": 9, "ConstraintDescription": "1-9"}
    assert [(p.refusal, p.finding) for p in parameters.problems(number, "x")] == [
        ("expected a number", "is not a number")
    ]
    assert [(p.refusal, p.finding) for p in parameters.problems(number, "10")] == [
        ("1-9", "is greater than MaxValue 9")
    ]
    assert parameters.problems(number, "9") == []


def test_the_vcpu_quota_counts_every_service_of_a_composed_stack() -> None:
    from infra_gen import build_stack, render

    stack = build_stack()
    stack.add_service(
        "Api",
        {"name": "api", "desired_count": 1},
        path_pattern="/api/*",
        priority=1,
        scaling={"max_tasks": 4},
    )
    stack.add_service(
        "Web",
        {"name": "web", "desired_count": 3, "cpu": 512, "memory": 1024},
        path_pattern="/web/*",
        priority=2,
    )
    template = json.loads(render(stack.template, "json"))
    values = {"MaxTasks": "10", "TaskSize": "256/512"}
    # The first service's from its Parameters; each added one's, its size and its most tasks
    # (the scalable target's MaxCapacity, else DesiredCount), written out.
    what = "MaxTasks 10 x 0.25 vCPU + ApiEcsService 4 x 0.25 vCPU + WebEcsService 3 x 0.5 vCPU"
    assert pf._vcpu_quota(quota(4.5), values, "us-east-1", template) == pf.Finding(
        "vCPU quota",
        "FAIL",
        f"Fargate On-Demand vCPU quota 4.5 in us-east-1 is below {what} "
        "= 5: lower MaxTasks or TaskSize, or request more (Service Quotas, fargate L-3032A538)",
    )
    assert pf._vcpu_quota(quota(5), values, "us-east-1", template) == pf.Finding(
        "vCPU quota", "ok", f"5 vCPU covers {what} = 5 in us-east-1"
    )


def test_the_image_check_reads_each_private_image_of_a_composed_stack(
    emulator: Api,
    image: str,
) -> None:
    from infra_gen import build_stack, render

    stack = build_stack()
    stack.add_service(
        "Api",
        {"name": "api", "image": f"{REGISTRY}/web/nginx:9.9"},
        path_pattern="/api/*",
        priority=1,
    )
    stack.add_service("Pub", {"name": "pub"}, path_pattern="/pub/*", priority=2)
    more = pf._more_images(json.loads(render(stack.template, "json")))
    assert more == {
        "ApiEcsTaskDefinition": f"{REGISTRY}/web/nginx:9.9",
        "PubEcsTaskDefinition": "public.ecr.aws/docker/library/nginx:stable-alpine",
    }
    ecr = emulator("ecr")
    # The added service's tag is not in the repository: named, with what to do.
    assert pf._images(ecr, image, more, REGION) == pf.Finding(
        "image",
        "FAIL",
        "web/nginx has no image 9.9: push it first "
        "(aws ecr list-images --repository-name web/nginx)",
    )
    more["ApiEcsTaskDefinition"] = image
    assert pf._images(ecr, image, more, REGION) == pf.Finding(
        "image", "ok", "web/nginx has 1.27; ApiEcsTaskDefinition: web/nginx has 1.27"
    )
    # Without a private image of its own, the check is the first service's alone.
    assert pf._images(ecr, image, {}, REGION) == pf.Finding("image", "ok", "web/nginx has 1.27")
