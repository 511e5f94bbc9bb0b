"""A domain (``[domain]``): the certificate, the alias record, HTTPS by Ref, and what a
certificate given at deploy time does to a running stack's listeners and Outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra_gen import Config, build_template, render
from tests.support import checkov
from tests.support.stack import (
    CERTIFICATE,
    DOMAIN,
    GOVERNED_DOMAIN,
    hook_view,
    lint_findings,
    props,
    refs,
    template,
)

NAME = DOMAIN["domain"]["name"]
ZONE = DOMAIN["domain"]["hosted_zone_id"]
ELSEWHERE = {"domain": {**DOMAIN["domain"], "certificate_arn": CERTIFICATE}}
CONFIGS = {"domain": DOMAIN, "governed-domain": GOVERNED_DOMAIN, "certificate-arn": ELSEWHERE}
REDIRECT = {
    "Type": "redirect",
    "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
}


def domain_template(name: str) -> dict[str, Any]:
    return template(Config.from_mapping(CONFIGS[name]))


@pytest.mark.parametrize("name", ["domain", "governed-domain"])
def test_the_stack_requests_the_certificate_of_its_name_validated_in_the_zone(name: str) -> None:
    t = domain_template(name)
    certificate = t["Resources"]["DomainCertificate"]
    assert certificate["Type"] == "AWS::CertificateManager::Certificate"
    # With the zone, CloudFormation writes the validation record and waits for the issue.
    assert certificate["Properties"] == {
        "DomainName": NAME,
        "ValidationMethod": "DNS",
        "DomainValidationOptions": [{"DomainName": NAME, "HostedZoneId": ZONE}],
    }


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_the_alias_points_the_name_at_the_load_balancer(name: str) -> None:
    t = domain_template(name)
    records = {k: v for k, v in t["Resources"].items() if v["Type"] == "AWS::Route53::RecordSet"}
    assert list(records) == ["DomainAliasRecord"]
    assert records["DomainAliasRecord"]["Properties"] == {
        "HostedZoneId": ZONE,
        "Name": NAME,
        "Type": "A",
        "AliasTarget": {
            "DNSName": {"Fn::GetAtt": ["LoadBalancer", "DNSName"]},
            "HostedZoneId": {"Fn::GetAtt": ["LoadBalancer", "CanonicalHostedZoneID"]},
        },
    }
    # An IPv4 load balancer: an AAAA alias would answer nothing.
    assert "IpAddressType" not in props(t, "LoadBalancer")


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_https_always_with_the_domains_certificate_and_http_only_redirects(name: str) -> None:
    t = domain_template(name)
    served = {"Ref": "DomainCertificate"} if name != "certificate-arn" else CERTIFICATE
    https = t["Resources"]["LoadBalancerHttpsListener"]
    assert "Condition" not in https
    assert https["Properties"]["Certificates"] == [{"CertificateArn": served}]
    assert (https["Properties"]["Protocol"], https["Properties"]["Port"]) == ("HTTPS", 443)
    assert "Condition" not in t["Resources"]["LoadBalancerHttpsIngress"]
    assert props(t, "LoadBalancerHttpListener")["DefaultActions"] == [REDIRECT]
    # No certificate to give at deploy time, nor a condition on one.
    assert "CertificateArn" not in t["Parameters"]
    assert "HasCertificate" not in t.get("Conditions", {})
    assert ("DomainCertificate" in t["Resources"]) == (name != "certificate-arn")


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_the_service_url_is_the_names_and_exported(name: str) -> None:
    outputs = domain_template(name)["Outputs"]
    assert outputs["ServiceUrl"]["Value"] == f"https://{NAME}"
    assert outputs["ServiceUrl"]["Export"] == {"Name": {"Fn::Sub": "${AWS::StackName}-ServiceUrl"}}
    assert outputs["LoadBalancerDnsName"]["Value"] == {"Fn::GetAtt": ["LoadBalancer", "DNSName"]}


def test_an_added_service_is_on_the_name_too() -> None:
    from infra_gen import build_stack

    stack = build_stack(DOMAIN)
    stack.add_service("Api", {"name": "api"}, path_pattern="/api/*", priority=10)
    outputs = json.loads(render(stack.template, "json"))["Outputs"]
    assert outputs["ApiServiceUrl"]["Value"] == f"https://{NAME}/api/"
    rule = json.loads(render(stack.template, "json"))["Resources"]["ApiLoadBalancerRule"]
    assert rule["Properties"]["ListenerArn"] == {"Ref": "LoadBalancerHttpsListener"}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_lints_clean(name: str) -> None:
    for fmt in ("yaml", "json"):
        assert lint_findings(render(build_template(Config.from_mapping(CONFIGS[name])), fmt)) == []


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    texts = {
        name: render(build_template(Config.from_mapping(CONFIGS[name])), "yaml")
        for name in ("domain", "governed-domain")
    }
    return checkov.scan(texts, tmp_path_factory.mktemp("checkov"))


@pytest.mark.parametrize("name", ["domain", "governed-domain"])
def test_checkov_finds_no_failed_check(reports: dict[str, dict[str, Any]], name: str) -> None:
    results = reports[name]["results"]
    failed = [f"{c['check_id']} {c['resource']}" for c in results["failed_checks"]]
    assert failed == [] and results["parsing_errors"] == []
    passed = {(c["check_id"], c["resource"]) for c in results["passed_checks"]}
    # The redirect and the TLS policy pass as checks, not as skips.
    assert ("CKV_AWS_2", "AWS::ElasticLoadBalancingV2::Listener.LoadBalancerHttpListener") in passed
    skipped = {c["resource"].rsplit(".", 1)[1] for c in results["skipped_checks"]}
    assert "LoadBalancerHttpListener" not in skipped


# --- A certificate given to a running stack -----------------------------------------------


def test_http_becomes_a_redirect_only_after_https_listens_and_is_open() -> None:
    """The update that sets CertificateArn changes port 80's default action and creates the
    HTTPS listener and its ingress rule. CloudFormation updates a resource after those it
    refers to; a DependsOn cannot name a resource whose Condition may be false, so the
    HTTP listener refers to both in its Metadata, under the same Condition."""
    t = template()
    http = t["Resources"]["LoadBalancerHttpListener"]
    assert http["Metadata"]["RedirectAfter"] == {
        "Fn::If": [
            "HasCertificate",
            [{"Ref": "LoadBalancerHttpsListener"}, {"Ref": "LoadBalancerHttpsIngress"}],
            "",
        ]
    }
    # As CloudFormation resolves it: with a certificate, the redirect waits for both ...
    certified = hook_view(t, {"CertificateArn": CERTIFICATE})["LoadBalancerHttpListener"]
    assert certified["Properties"]["DefaultActions"] == [REDIRECT]
    assert refs(certified) >= {"LoadBalancerHttpsListener", "LoadBalancerHttpsIngress"}
    # ... and without one, port 80 forwards and waits for nothing of HTTPS.
    plain = hook_view(t)["LoadBalancerHttpListener"]
    assert plain["Properties"]["DefaultActions"][0]["Type"] == "forward"
    assert not refs(plain) & {"LoadBalancerHttpsListener", "LoadBalancerHttpsIngress"}
    # The HTTPS listener forwards to the target group port 80 forwarded to: its targets are
    # the ones already registered and healthy.
    https = props(t, "LoadBalancerHttpsListener")["DefaultActions"]
    assert https == [{"Type": "forward", "TargetGroupArn": {"Ref": "LoadBalancerTargetGroup"}}]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_with_https_always_the_redirect_waits_for_https_too(name: str) -> None:
    # An update from a template without HTTPS (a domain added to a running stack) creates
    # the HTTPS listener once the certificate is issued: port 80 redirects only after it.
    http = domain_template(name)["Resources"]["LoadBalancerHttpListener"]
    assert http["DependsOn"] == ["LoadBalancerHttpsListener", "LoadBalancerHttpsIngress"]
    assert "Metadata" not in http
