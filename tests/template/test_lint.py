"""cfn-lint over the default stack and a spread of others; size and determinism."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra_gen import Config, TemplateTooLarge, build_template, render, render_inline
from infra_gen.config import FARGATE_TASK_SIZES, LOG_RETENTION_DAYS
from tests.support.stack import GOVERNED, LARGEST, lint_findings

# CloudFormation's limit for a template passed in the request body (no S3 bucket).
INLINE_TEMPLATE_LIMIT = 51_200

MATRIX = {
    "default": {},
    "three-azs-custom-cidrs": {
        "network": {
            "az_count": 3,
            "vpc_cidr": "172.16.0.0/20",
            "subnet_cidrs": ["172.16.0.0/24", "172.16.1.0/24", "172.16.2.0/24"],
        },
    },
    "all-security-options": LARGEST,
    "spot-only-large-tasks": {
        "service": {"cpu": 4096, "memory": 30720, "desired_count": 10},
        "cluster": {"fargate_weight": 0, "fargate_spot_weight": 1, "fargate_base": 0},
        "scaling": {"max_tasks": 40, "cpu_percent": 70, "requests_per_target": 500},
    },
    "zone-ids-private-image": {
        "network": {"availability_zone_ids": ["apne1-az1", "apne1-az4"]},
        "service": {"image": "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/web:1.0"},
    },
    "on-demand-base-custom-port": {
        "cluster": {"fargate_base": 2, "fargate_spot_weight": 3},
        "service": {
            "container_port": 8080,
            "name": "web",
            "health_check_path": "/healthz",
            "image": "docker.io/library/nginx:1.27-alpine",
        },
        "discovery": {"namespace": "shop.example.internal", "dns_ttl": 60},
    },
    "governed": GOVERNED,
    "governed-one-nat-three-azs-kms": {
        **GOVERNED,
        "security": {"kms_logs": True},
        "network": {
            "az_count": 3,
            "nat_gateways": "one",
            "availability_zone_ids": ["use1-az1", "use1-az2", "use1-az4"],
        },
    },
    # ECS shifts traffic: the alternate target group, the rule, the role, the math on both.
    "canary": {"service": {"deployment": "canary"}},
    "linear-governed": {
        **GOVERNED,
        "service": {**GOVERNED.get("service", {}), "deployment": "linear"},
    },
    "slow-probe": {
        "probe": {
            "schedule": "rate(15 minutes)",
            "request_timeout_seconds": 10,
            "metric_namespace": "Shop/Probe",
            "memory_mb": 256,
        },
        "alarms": {"period_seconds": 300, "probe_missing_minutes": 30},
    },
}


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_matrix_is_lint_clean(name: str) -> None:
    text = render(build_template(Config.from_mapping(MATRIX[name])), "yaml")
    assert lint_findings(text) == []


configs = st.fixed_dictionaries(
    {
        "network": st.fixed_dictionaries(
            {
                "az_count": st.sampled_from([2, 3]),
                "vpc_cidr": st.sampled_from(["10.0.0.0/16", "192.168.0.0/22", "10.9.8.0/24"]),
            }
        ),
        "cluster": st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 3))
        .filter(lambda w: w[0] + w[1] > 0)
        .map(lambda w: {"fargate_weight": w[0], "fargate_spot_weight": w[1], "fargate_base": w[2]}),
        "service": st.sampled_from(
            [(c, m) for c, sizes in FARGATE_TASK_SIZES.items() for m in sizes]
        ).flatmap(
            lambda size: st.fixed_dictionaries(
                {
                    "cpu": st.just(size[0]),
                    "memory": st.just(size[1]),
                    "desired_count": st.integers(1, 10),
                    "container_port": st.sampled_from([80, 8080, 3000]),
                    "log_retention_days": st.sampled_from(LOG_RETENTION_DAYS),
                }
            )
        ),
        "probe": st.fixed_dictionaries(
            {
                "schedule": st.sampled_from(
                    ["rate(1 minute)", "rate(2 minutes)", "rate(5 minutes)"]
                ),
                "request_timeout_seconds": st.sampled_from([0.5, 1.0, 2.0, 5.0]),
            }
        ),
        "security": st.fixed_dictionaries(
            {
                "flow_logs": st.booleans(),
                "kms_logs": st.booleans(),
                "alb_access_logs": st.booleans(),
            }
        ),
    }
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_generated_configs_are_lint_clean(data: dict) -> None:
    text = render(build_template(Config.from_mapping(data)), "yaml")
    assert lint_findings(text) == []


def test_lint_catches_a_broken_template() -> None:
    text = render(build_template(), "yaml").replace(
        "RoutingPolicy: MULTIVALUE", "RoutingPolicy: MANY"
    )
    assert lint_findings(text)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize("name", ["default", "zone-ids-private-image"])
def test_template_fits_a_request_body(fmt: str, name: str) -> None:
    text = render(build_template(Config.from_mapping(MATRIX[name])), fmt)  # type: ignore[arg-type]
    assert len(text.encode()) <= INLINE_TEMPLATE_LIMIT


@pytest.mark.parametrize("name", ["governed", "governed-one-nat-three-azs-kms"])
def test_larger_templates_fit_in_the_form_deploy_sends(name: str) -> None:
    # Their YAML (the probe's code as indented lines) is over the limit; deploy sends the
    # compact JSON, which fits.
    template = build_template(Config.from_mapping(MATRIX[name]))
    assert len(render(template, "yaml").encode()) > INLINE_TEMPLATE_LIMIT
    assert render_inline(template) == render(template, "json")
    assert len(render_inline(template).encode()) <= INLINE_TEMPLATE_LIMIT


def test_every_security_option_with_an_hourly_heartbeat_deploys_from_s3() -> None:
    # Flow logs, KMS, access logs, three AZs, an alarm email and every probe schedule's
    # alarm period: over the limit in both forms since the 5xx alarms measure rates; it
    # deploys from S3 (--resolve-s3 or --s3-bucket, docs/deploy.md), never inline.
    template = build_template(Config.from_mapping(MATRIX["all-security-options"]))
    assert len(render(template, "json").encode()) > INLINE_TEMPLATE_LIMIT
    with pytest.raises(TemplateTooLarge):
        render_inline(template)


def test_same_config_same_bytes() -> None:
    cfg = Config.from_mapping(LARGEST)
    for fmt in ("yaml", "json"):
        assert render(build_template(cfg), fmt) == render(build_template(cfg), fmt)  # type: ignore[arg-type]
