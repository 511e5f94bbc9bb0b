"""A stack with a domain, deployed to moto's AWS emulator through ``infra-gen deploy``.

The hosted zone is the account's, made first as a user has it. The certificate is
requested through moto's ACM and its validation record written in the zone, as
CloudFormation does; moto does not validate it (devtools/emulator.py says what it
does instead), so what is checked is the request, the validation record, the alias
record, the listeners serving the certificate and the Outputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devtools.emulator import Api
from tests.support.commands import run, stack_resources
from tests.support.stack import GOVERNED

pytestmark = [
    pytest.mark.filterwarnings("ignore:Tried to parse .* but it's not supported:UserWarning"),
    pytest.mark.usefixtures("endpoint"),
]

NAME = "www.example.com"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml, value)) + "]"
    return f'"{value}"' if isinstance(value, str) else str(value)


def _config(tmp_path: Path, mapping: dict[str, Any]) -> str:
    lines = [f"{k} = {_toml(v)}" for k, v in mapping.items() if not isinstance(v, dict)]
    for section, keys in mapping.items():
        if isinstance(keys, dict):
            lines += [f"[{section}]", *(f"{k} = {_toml(v)}" for k, v in keys.items())]
    path = tmp_path / "stack.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _zone(emulator: Api, name: str) -> str:
    created = emulator("route53").create_hosted_zone(Name="example.com", CallerReference=name)
    return str(created["HostedZone"]["Id"].removeprefix("/hostedzone/"))


def _records(emulator: Api, zone: str) -> dict[tuple[str, str], dict[str, Any]]:
    sets = emulator("route53").list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return {(r["Name"].rstrip("."), r["Type"]): r for r in sets}


@pytest.mark.parametrize("profile", ["default", "governed"])
def test_a_domain_deploys_its_certificate_alias_and_https(
    emulator: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path, profile: str
) -> None:
    stack = f"ig-domain-{profile}"
    zone = _zone(emulator, stack)
    mapping = {**(GOVERNED if profile == "governed" else {})}
    mapping["domain"] = {"name": NAME, "hosted_zone_id": zone}
    # Governed names an image of the account's ECR, which the emulator's ECR does not hold.
    skip = ["--skip-preflight"] if profile == "governed" else []
    code, out = run(
        "deploy", "--stack-name", stack, "--config", _config(tmp_path, mapping), "--yes", *skip
    )
    assert code == 0, capsys.readouterr().err
    assert f"Stack {stack}: CREATE_COMPLETE" in out
    physical = stack_resources(emulator, stack)

    # The certificate of the name, validated in DNS: its record is in the zone.
    arn = physical["DomainCertificate"]
    certificate = emulator("acm").describe_certificate(CertificateArn=arn)["Certificate"]
    assert certificate["DomainName"] == NAME
    (validation,) = certificate["DomainValidationOptions"]
    assert validation["ValidationMethod"] == "DNS"
    records = _records(emulator, zone)
    cname = records[(validation["ResourceRecord"]["Name"].rstrip("."), "CNAME")]
    assert cname["ResourceRecords"] == [{"Value": validation["ResourceRecord"]["Value"]}]

    # The alias A record points the name at the load balancer; no AAAA (IPv4 only).
    (lb,) = emulator("elbv2").describe_load_balancers(LoadBalancerArns=[physical["LoadBalancer"]])[
        "LoadBalancers"
    ]
    alias = records[(NAME, "A")]["AliasTarget"]
    assert alias["DNSName"].rstrip(".") == lb["DNSName"]
    assert alias["HostedZoneId"] == lb["CanonicalHostedZoneId"]
    assert (NAME, "AAAA") not in records
    assert lb.get("IpAddressType", "ipv4") == "ipv4"

    # HTTPS serves that certificate; HTTP only redirects to it.
    listeners = emulator("elbv2").describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])
    by_port = {item["Port"]: item for item in listeners["Listeners"]}
    assert set(by_port) == {80, 443}
    assert by_port[443]["Certificates"] == [{"CertificateArn": arn}]
    assert [a["Type"] for a in by_port[80]["DefaultActions"]] == ["redirect"]
    assert by_port[80]["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"

    outputs = emulator("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    by_key = {o["OutputKey"]: o for o in outputs}
    assert by_key["ServiceUrl"]["OutputValue"] == f"https://{NAME}"
    # Fixed at generation: exported, as the load balancer's DNS name is.
    assert by_key["ServiceUrl"]["ExportName"] == f"{stack}-ServiceUrl"
    assert by_key["LoadBalancerDnsName"]["OutputValue"] == lb["DNSName"]


def _listeners(emulator: Api, physical: dict[str, str]) -> dict[int, dict[str, Any]]:
    listeners = emulator("elbv2").describe_listeners(LoadBalancerArn=physical["LoadBalancer"])
    return {item["Port"]: item for item in listeners["Listeners"]}


def test_a_domain_added_to_a_running_stack(
    emulator: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = "ig-domain-later"
    assert run("deploy", "--stack-name", stack, "--yes")[0] == 0, capsys.readouterr().err
    physical = stack_resources(emulator, stack)
    assert set(_listeners(emulator, physical)) == {80}

    zone = _zone(emulator, stack)
    domain = ["--set", f"domain.name={NAME}", "--set", f"domain.hosted_zone_id={zone}"]
    code, _ = run("deploy", "--stack-name", stack, "--yes", *domain)
    assert code == 0, capsys.readouterr().err
    after = stack_resources(emulator, stack)
    assert after["LoadBalancer"] == physical["LoadBalancer"]  # the same load balancer
    by_port = _listeners(emulator, after)
    assert by_port[443]["Certificates"] == [{"CertificateArn": after["DomainCertificate"]}]
    assert [a["Type"] for a in by_port[80]["DefaultActions"]] == ["redirect"]
    assert (NAME, "A") in _records(emulator, zone)
