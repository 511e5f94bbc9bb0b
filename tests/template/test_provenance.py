"""The template records what made it: generator, version, digest of the configuration."""

from __future__ import annotations

import json

from infra_gen import Config, __version__
from infra_gen.template.builder import PROVENANCE
from tests.support.stack import template


def test_metadata_names_the_generator_version_and_configuration() -> None:
    cfg = Config.from_mapping({"service": {"desired_count": 3}})
    assert template(cfg)["Metadata"][PROVENANCE] == {
        "Generator": "infra-gen",
        "Version": __version__,
        "ConfigSha256": cfg.digest(),
    }


def test_the_digest_follows_the_configuration_only() -> None:
    default = template()["Metadata"][PROVENANCE]["ConfigSha256"]
    same = template(Config.from_mapping({"alarms": {"cpu_percent": 80}}), fresh=True)
    other = template(Config.from_mapping({"alarms": {"cpu_percent": 81}}), fresh=True)
    assert same["Metadata"][PROVENANCE]["ConfigSha256"] == default
    assert other["Metadata"][PROVENANCE]["ConfigSha256"] != default


def test_the_record_stays_small() -> None:
    # The template is near the 51,200-byte inline limit; provenance must not crowd it.
    record = template()["Metadata"][PROVENANCE]
    assert len(json.dumps(record, separators=(",", ":"))) < 160
