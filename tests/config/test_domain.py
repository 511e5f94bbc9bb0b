"""[domain] in the library: each bad value is one ConfigError line naming its key."""

from __future__ import annotations

import pytest

from infra_gen import Config, ConfigError, DomainConfig, build_stack, render
from tests.support.stack import BAD_DOMAIN, CERTIFICATE, DOMAIN


@pytest.mark.parametrize(("key", "value", "others", "says"), BAD_DOMAIN)
def test_a_bad_domain_value_is_one_line_naming_its_key(
    key: str, value: object, others: dict[str, str], says: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        Config.from_mapping({"domain": {**others, key: value}})
    line = str(raised.value)
    assert line.startswith(f"domain.{key}: ") and says in line, line
    assert "\n" not in line
    # The same through the section's own constructor.
    with pytest.raises(ConfigError, match=f"^domain.{key}: "):
        DomainConfig(**{**others, key: value})  # type: ignore[arg-type]


def test_nothing_is_added_to_a_host_template_before_the_domain_is_refused() -> None:
    host = build_stack().template
    before = render(host, "json")
    with pytest.raises(ConfigError, match="^domain.hosted_zone_id: "):
        build_stack({"domain": {"name": "www.example.com"}}, template=host)
    assert render(host, "json") == before


def test_the_apex_and_a_certificate_made_elsewhere_are_accepted() -> None:
    apex = Config.from_mapping({"domain": {**DOMAIN["domain"], "name": "example.com"}})
    assert apex.domain.name == "example.com"
    # A name past ACM's 64 characters is fine when the certificate is made elsewhere.
    long_name = "a" * 60 + ".example.com"
    given = {**DOMAIN["domain"], "name": long_name, "certificate_arn": CERTIFICATE}
    assert Config.from_mapping({"domain": given}).domain.certificate_arn == CERTIFICATE
    # Every default leaves the domain out, and --print-config writes it back.
    assert Config().domain == DomainConfig()
    cfg = Config.from_mapping(DOMAIN)
    assert Config.from_mapping(cfg.to_mapping()) == cfg
