"""The configuration layer: documented defaults, and one clear error per bad value."""

from __future__ import annotations

import dataclasses

import pytest

from infra_gen import Config, ConfigError
from infra_gen.config import FARGATE_TASK_SIZES, NetworkConfig, ServiceConfig


def test_defaults_are_the_documented_stack() -> None:
    cfg = Config()
    assert cfg.network.vpc_cidr == "10.0.0.0/16"
    assert cfg.network.az_count == 2
    assert cfg.cluster.fargate_weight == cfg.cluster.fargate_spot_weight == 1
    assert cfg.service.image == "public.ecr.aws/docker/library/nginx:stable-alpine"
    assert cfg.service.memory in FARGATE_TASK_SIZES[cfg.service.cpu]


def test_subnets_are_carved_from_the_vpc_in_az_order() -> None:
    assert Config().network.subnets == ("10.0.0.0/20", "10.0.16.0/20")
    three = NetworkConfig(vpc_cidr="10.20.0.0/24", az_count=3)
    assert three.subnets == ("10.20.0.0/28", "10.20.0.16/28", "10.20.0.32/28")


def test_explicit_subnets_win() -> None:
    net = NetworkConfig(subnet_cidrs=("10.0.100.0/24", "10.0.101.0/24"))
    assert net.subnets == ("10.0.100.0/24", "10.0.101.0/24")


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().service.cpu = 512  # type: ignore[misc]


def test_mapping_round_trip() -> None:
    cfg = Config.from_mapping(
        {"service": {"cpu": 1024, "memory": 4096}, "network": {"az_count": 3}}
    )
    assert Config.from_mapping(cfg.to_mapping()) == cfg
    assert cfg.service.cpu == 1024 and cfg.network.az_count == 3


def test_lists_become_tuples() -> None:
    cfg = Config.from_mapping({"network": {"subnet_cidrs": ["10.0.0.0/24", "10.0.1.0/24"]}})
    assert cfg.network.subnet_cidrs == ("10.0.0.0/24", "10.0.1.0/24")


BAD = [
    ({"servce": {}}, "servce", "did you mean 'service'"),
    ({"service": {"imge": "nginx"}}, "service.imge", "did you mean 'image'"),
    ({"service": {"cpu": "512"}}, "service.cpu", "expected an integer, got '512'"),
    ({"service": {"desired_count": True}}, "service.desired_count", "expected an integer"),
    ({"security": {"flow_logs": "yes"}}, "security.flow_logs", "expected true or false"),
    ({"network": {"subnet_cidrs": "10.0.0.0/24"}}, "network.subnet_cidrs", "a list of strings"),
    ({"network": {"vpc_cidr": "10.0.0.0/33"}}, "network.vpc_cidr", "not an IPv4 CIDR"),
    ({"network": {"vpc_cidr": "10.0.0.1/16"}}, "network.vpc_cidr", "not an IPv4 CIDR"),
    ({"network": {"vpc_cidr": "10.0.0.0/8"}}, "network.vpc_cidr", "allowed /16../28"),
    (
        {"network": {"subnet_cidrs": ["10.1.0.0/24", "10.0.1.0/24"]}},
        "network.subnet_cidrs",
        "10.1.0.0/24 does not fit inside network.vpc_cidr 10.0.0.0/16",
    ),
    (
        {"network": {"subnet_cidrs": ["10.0.0.0/24", "10.0.0.128/25"]}},
        "network.subnet_cidrs",
        "overlaps",
    ),
    ({"network": {"subnet_cidrs": ["10.0.0.0/24"]}}, "network.subnet_cidrs", "needs exactly 2"),
    ({"network": {"az_count": 4}}, "network.az_count", "allowed 2..3"),
    ({"network": {"az_count": 1}}, "network.az_count", "allowed 2..3"),
    (
        {"service": {"cpu": 256, "memory": 4096}},
        "service.memory",
        "not offered by Fargate with service.cpu=256; allowed: 512, 1024, 2048",
    ),
    ({"service": {"cpu": 300}}, "service.cpu", "allowed: 256, 512"),
    ({"service": {"image": "NGINX:latest"}}, "service.image", "not an image reference"),
    ({"service": {"image": "nginx:"}}, "service.image", "not an image reference"),
    ({"service": {"image": "nginx latest"}}, "service.image", "not an image reference"),
    (
        {"cluster": {"fargate_weight": 0, "fargate_spot_weight": 0}},
        "cluster.fargate_weight",
        "both 0",
    ),
    ({"cluster": {"fargate_weight": -1}}, "cluster.fargate_weight", "allowed 0..1000"),
    ({"service": {"name": "Nginx_1"}}, "service.name", "DNS label"),
    ({"discovery": {"namespace": "local"}}, "discovery.namespace", "DNS name"),
    ({"service": {"log_retention_days": 10}}, "service.log_retention_days", "allowed: 1, 3"),
    ({"probe": {"schedule": "rate(1 minutes)"}}, "probe.schedule", "allowed: rate(1 minute)"),
    ({"probe": {"schedule": "every minute"}}, "probe.schedule", "is not allowed"),
    ({"probe": {"schedule": "cron(0/5 * * * ? *)"}}, "probe.schedule", "is not allowed"),
    ({"probe": {"metric_namespace": "AWS/Probe"}}, "probe.metric_namespace", "reserved"),
    ({"probe": {"request_timeout_seconds": 0}}, "probe.request_timeout_seconds", "0.1..30"),
    (
        {"probe": {"schedule": "rate(15 minutes)"}},
        "alarms.probe_missing_minutes",
        "shorter than probe.schedule",
    ),
    ({"alarms": {"email": "ops"}}, "alarms.email", "not an e-mail address"),
    (
        {"alarms": {"evaluation_periods": 2, "datapoints_to_alarm": 3}},
        "alarms.datapoints_to_alarm",
        "allowed 1..2",
    ),
    ({"service": 5}, "service", "expected a table"),
]


@pytest.mark.parametrize(("data", "key", "message"), BAD, ids=[b[1] for b in BAD])
def test_bad_values_name_the_key_and_what_is_allowed(
    data: dict[str, object], key: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_mapping(data)
    assert info.value.key == key
    assert str(info.value).startswith(f"{key}: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(ConfigError, match=r"^service\.memory: "):
        ServiceConfig(cpu=512, memory=512)


@pytest.mark.parametrize(
    "schedule", ["rate(1 minute)", "rate(5 minutes)", "rate(30 minutes)", "rate(1 hour)"]
)
def test_valid_schedules(schedule: str) -> None:
    cfg = Config.from_mapping(
        {"probe": {"schedule": schedule}, "alarms": {"probe_missing_minutes": 60}}
    )
    assert cfg.probe.schedule == schedule


def test_function_timeout_covers_resolution_and_one_request() -> None:
    cfg = Config.from_mapping({"probe": {"request_timeout_seconds": 3}})
    assert cfg.probe.function_timeout_seconds >= 2 * 3
