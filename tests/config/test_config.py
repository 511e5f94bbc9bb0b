"""The configuration layer: documented defaults, and one clear error per bad value."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from typing import Any

import pytest

from infra_gen import Config, ConfigError, build_template
from infra_gen.config import (
    FARGATE_TASK_SIZES,
    DiscoveryConfig,
    NetworkConfig,
    Profile,
    ServiceConfig,
    parse_setting,
    parse_toml,
)
from infra_gen.config.profiles import DEFAULT, GOVERNED


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
    assert three.subnets == ("10.20.0.0/27", "10.20.0.32/27", "10.20.0.64/27")


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
    ({"network": {"vpc_cidr": "10.0.0.0/8"}}, "network.vpc_cidr", "allowed /16../26"),
    # A load balancer's subnets are /27 or larger, to scale.
    ({"network": {"vpc_cidr": "10.0.0.0/27"}}, "network.vpc_cidr", "allowed /16../26"),
    (
        {"network": {"subnet_cidrs": ["10.0.0.0/28", "10.0.1.0/24"]}},
        "network.subnet_cidrs",
        "'10.0.0.0/28' has prefix /28; allowed /16../27",
    ),
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
    # Subnets must fit: the carved /27s of a small VPC, one per AZ.
    (
        {"network": {"vpc_cidr": "10.0.0.0/26", "az_count": 3}},
        "network.vpc_cidr",
        "holds 2 subnet(s) of /27, the smallest a load balancer takes; "
        "network.az_count=3 needs 3: allowed /16../25",
    ),
    # Ranges a VPC cannot use.
    ({"network": {"vpc_cidr": "127.0.0.0/16"}}, "network.vpc_cidr", "(loopback)"),
    ({"network": {"vpc_cidr": "224.0.0.0/16"}}, "network.vpc_cidr", "(multicast)"),
    ({"network": {"vpc_cidr": "240.0.0.0/16"}}, "network.vpc_cidr", "(reserved)"),
    ({"network": {"vpc_cidr": "169.254.0.0/16"}}, "network.vpc_cidr", "(link-local)"),
    ({"network": {"vpc_cidr": "0.0.0.0/16"}}, "network.vpc_cidr", "which a VPC cannot use"),
    # A trailing newline is not part of a valid value (fullmatch, not match-with-$).
    ({"service": {"name": "nginx\n"}}, "service.name", "control character U+000A"),
    ({"service": {"image": "nginx:1\n"}}, "service.image", "control character U+000A"),
    ({"discovery": {"namespace": "a.internal\n"}}, "discovery.namespace", "U+000A"),
    ({"service": {"health_check_path": "/\n"}}, "service.health_check_path", "U+000A"),
    ({"probe": {"metric_namespace": "Shop/Probe\n"}}, "probe.metric_namespace", "U+000A"),
    ({"alarms": {"email": "ops@example.com\n"}}, "alarms.email", "U+000A"),
    ({"probe": {"path": "/a\tb"}}, "probe.path", "U+0009"),
    (
        {"network": {"subnet_cidrs": ["10.0.0.0/24", "10.0.1.0/24\x00"]}},
        "network.subnet_cidrs",
        "U+0000",
    ),
    ({"alarms": {"email": "ops@exa\u2028mple.com"}}, "alarms.email", "U+2028"),
    # DNS names: 253 characters at most, for the namespace and the service's full name.
    ({"discovery": {"namespace": ".".join(["a" * 63] * 4)}}, "discovery.namespace", "at most 253"),
    (
        {
            "discovery": {"namespace": ".".join(["a" * 63] * 3) + "." + "b" * 60},
            "service": {"name": "web"},
        },
        "discovery.namespace",
        "with service.name; allowed at most 253",
    ),
    # Alarm windows CloudWatch accepts.
    (
        {"alarms": {"period_seconds": 900, "evaluation_periods": 100}},
        "alarms.evaluation_periods",
        "make a 90000 s window; CloudWatch allows at most 86400 s: allowed 1..96",
    ),
    ({"alarms": {"period_seconds": 10}}, "alarms.period_seconds", "high-resolution"),
    ({"alarms": {"period_seconds": 30}}, "alarms.period_seconds", "allowed: 60, 300, 900, 3600"),
    # Values too large to print are still named, in one short line.
    ({"service": {"cpu": 10**5000}}, "service.cpu", "an integer of 16610 bits is not allowed"),
    ({"service": {"memory": 10**5000}}, "service.memory", "an integer of 16610 bits"),
    (
        {"probe": {"request_timeout_seconds": 10**400}},
        "probe.request_timeout_seconds",
        "000... is out of range; allowed 0.1..30",
    ),
    ({"service": {"image": "x" * 100_000}}, "service.image", "has 100000 characters"),
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
    assert len(str(info.value)) < 400


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


def test_checks_that_span_sections_hold_for_library_callers() -> None:
    # Before build_template: a /26 VPC cannot hold three subnets of the smallest size.
    with pytest.raises(ConfigError, match=r"^network\.vpc_cidr: .*allowed /16\.\./25"):
        NetworkConfig(vpc_cidr="10.0.0.0/26", az_count=3)
    with pytest.raises(ConfigError, match=r"^discovery\.namespace: makes the service's name"):
        Config(
            service=ServiceConfig(name="a" * 63),
            discovery=DiscoveryConfig(namespace=".".join(["n" * 63] * 3) + ".internal"),
        )


def test_smallest_vpcs_that_fit_build() -> None:
    for cidr, azs in (("10.0.0.0/26", 2), ("10.0.0.0/25", 3)):
        cfg = Config.from_mapping({"network": {"vpc_cidr": cidr, "az_count": azs}})
        assert len(cfg.network.subnets) == azs
        assert build_template(cfg).resources["NetworkVpc"].CidrBlock == cidr


def test_a_day_long_alarm_window_is_the_longest_for_short_periods() -> None:
    cfg = Config.from_mapping({"alarms": {"period_seconds": 900, "evaluation_periods": 96}})
    assert cfg.alarms.period_seconds * cfg.alarms.evaluation_periods == 86_400
    hourly = Config.from_mapping({"alarms": {"period_seconds": 3600, "evaluation_periods": 100}})
    assert hourly.alarms.evaluation_periods == 100  # 100 hours: within the seven days allowed


def test_whole_numbers_for_decimal_settings_are_the_same_setting() -> None:
    written_as_int = Config.from_mapping(
        {
            "alarms": {"cpu_percent": 80, "response_time_seconds": 1},
            "probe": {"request_timeout_seconds": 2},
        }
    )
    assert written_as_int == Config()
    assert written_as_int.digest() == Config().digest()
    assert isinstance(written_as_int.alarms.cpu_percent, float)


def test_digest_is_of_the_settings_not_of_how_they_were_written() -> None:
    assert Config().digest() == Config.from_mapping({"service": {"cpu": 256}}).digest()
    assert len(Config().digest()) == 64
    assert Config().digest() != Config.from_mapping({"service": {"desired_count": 3}}).digest()


TOML_CASES = [
    {},
    {
        "network": {"az_count": 3, "subnet_cidrs": ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]},
        "security": {"flow_logs": True},
        "probe": {"request_timeout_seconds": 0.1},
    },
    {
        "alarms": {"email": "o'n/call+ü@example.com", "response_time_seconds": 1e-2},
        "service": {"image": "registry.example.com:5000/team/web:1.2@sha256:" + "a" * 64},
    },
]


@pytest.mark.parametrize("data", TOML_CASES)
def test_toml_form_reads_back_as_the_same_configuration(data: dict[str, object]) -> None:
    cfg = Config.from_mapping(data)
    assert Config.from_mapping(parse_toml(cfg.to_toml(), "test")) == cfg


SETTINGS = [
    ("service.name=123", ("service", "name", "123")),  # a string key keeps the text
    ("service.cpu=512", ("service", "cpu", 512)),
    ("service.cpu = 1_024", ("service", "cpu", 1024)),
    ("alarms.email=", ("alarms", "email", "")),
    ('alarms.email="ops@example.com"', ("alarms", "email", "ops@example.com")),
    ("service.image=nginx:1.27=x", ("service", "image", "nginx:1.27=x")),
    ("security.flow_logs=true", ("security", "flow_logs", True)),
    ("alarms.cpu_percent=75.5", ("alarms", "cpu_percent", 75.5)),
    (
        'network.subnet_cidrs=["10.0.0.0/24", "10.0.1.0/24"]',
        ("network", "subnet_cidrs", ["10.0.0.0/24", "10.0.1.0/24"]),
    ),
]


@pytest.mark.parametrize(("item", "expected"), SETTINGS, ids=[s[0] for s in SETTINGS])
def test_set_values_are_read_as_the_keys_type(item: str, expected: tuple[str, str, object]) -> None:
    assert parse_setting(item) == expected


BAD_SETTINGS = [
    ("security.flow_logs=yes", "security.flow_logs: expected true or false, got 'yes'"),
    ("service.cpu=512\nservice.memory=4", "service.cpu: '512\\nservice.memory=4' contains"),
    ("service.cpu=512, x = 1", "service.cpu: expected an integer"),
    ("service.cpu=" + "9" * 5000, "service.cpu: '999999"),
    ("network.subnet_cidrs=" + "[" * 600, "network.subnet_cidrs: expected a list of strings"),
    ("servce.cpu=1", "servce: unknown key (did you mean 'service'?)"),
    ("service.cpus=1", "service.cpus: unknown key (did you mean 'cpu'?)"),
    ("cpu=512", "--set cpu=512: expected section.key=value"),
]


@pytest.mark.parametrize(("item", "message"), BAD_SETTINGS, ids=[b[1][:24] for b in BAD_SETTINGS])
def test_bad_set_values_name_the_key(item: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_setting(item)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("depth", [33, 600, 100_000])
def test_deep_toml_is_refused_without_exhausting_the_stack(depth: int) -> None:
    for text in ("v = " + "[" * depth + "]" * depth, "[" * depth):
        with pytest.raises(ConfigError, match=r"^stack\.toml: nests arrays or tables deeper"):
            parse_toml(text, "stack.toml")
    nested = "v = " + "[" * 30 + "]" * 30  # within the limit: parsed, then refused by type
    assert parse_toml(nested, "stack.toml")["v"]


def test_sections_take_lists_where_they_hold_sequences() -> None:
    from infra_gen import NetworkConfig

    given = NetworkConfig(az_count=2, subnet_cidrs=["10.0.0.0/24", "10.0.1.0/24"])
    assert given.subnet_cidrs == ("10.0.0.0/24", "10.0.1.0/24")
    assert given == NetworkConfig(az_count=2, subnet_cidrs=("10.0.0.0/24", "10.0.1.0/24"))
    with pytest.raises(
        ConfigError,
        match=r"^network.subnet_cidrs: expected a list of strings, "
        r"got \['10.0.0.0/24', 5\]$",
    ):
        NetworkConfig(subnet_cidrs=["10.0.0.0/24", 5])


def test_with_changes_derives_a_validated_copy() -> None:
    base = Config.from_mapping({"network": {"az_count": 3}})
    changed = base.with_changes({"service": {"cpu": 512, "memory": 1024}})
    assert (changed.service.cpu, changed.service.memory) == (512, 1024)
    assert changed.network.az_count == 3 and changed.service.image == base.service.image
    assert base.service.cpu == 256  # the original is untouched
    assert (
        changed.digest()
        == Config.from_mapping(
            {"network": {"az_count": 3}, "service": {"cpu": 512, "memory": 1024}}
        ).digest()
    )
    # Validated as a whole: a change that contradicts a kept value is refused.
    with pytest.raises(ConfigError, match=r"^service.memory: "):
        base.with_changes({"service": {"cpu": 4096}})
    with pytest.raises(ConfigError, match=r"^service.cpux: unknown key \(did you mean 'cpu'"):
        base.with_changes({"service": {"cpux": 1}})
    with pytest.raises(ConfigError, match=r"^service: expected a table of keys"):
        base.with_changes({"service": 5})  # type: ignore[dict-item]


# What governed = true requires of a user: AZ IDs, an image pinned by digest, a non-root
# user and an unprivileged port.
ZONES = ("use1-az1", "use1-az2")
PINNED = "public.ecr.aws/nginx/nginx-unprivileged@sha256:" + "0" * 64
UNPRIVILEGED: dict[str, Any] = {"image": PINNED, "user": "101", "container_port": 8080}


def governed(network: NetworkConfig | None = None) -> Config:
    return Config(
        governed=True,
        network=network or NetworkConfig(availability_zone_ids=ZONES),
        service=ServiceConfig(**UNPRIVILEGED),
    )


def test_governed_is_expanded_into_ordinary_settings_when_built() -> None:
    given = NetworkConfig(availability_zone_ids=ZONES)
    cfg = governed(given)
    assert (cfg.network.nat_gateways, cfg.security.alb_access_logs) == ("per_az", True)
    assert given.nat_gateways == ""  # a new section: the one given is not changed
    # The explicit settings the template reads, instead of asking "governed?".
    switches = {f.name for f in dataclasses.fields(Profile)} - {"turns_on"}
    assert switches == {
        "private_tasks",
        "zone_ids",
        "pinned_image",
        "non_root",
        "fixed_task_size",
        "https_only",
        "deletion_protection",
        "retained_logs",
    }
    assert cfg.profile == GOVERNED and all(getattr(cfg.profile, s) is True for s in switches)
    assert Config().profile == DEFAULT == Profile()
    assert all(getattr(DEFAULT, s) is False for s in switches)
    # Built from a mapping or from sections: the same settings and the same digest.
    mapping = {
        "governed": True,
        "network": {"availability_zone_ids": list(ZONES)},
        "service": UNPRIVILEGED,
    }
    assert Config.from_mapping(mapping) == cfg
    assert Config.from_mapping(mapping).digest() == cfg.digest()
    assert Config.from_mapping(cfg.to_mapping()) == cfg  # expanding again changes nothing


def test_a_built_config_cannot_be_changed() -> None:
    cfg = governed()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.governed = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.network = NetworkConfig()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.profile = DEFAULT  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.profile.private_tasks = False  # type: ignore[misc]
    # A copy with other settings is a new Config, expanded and checked as one.
    with pytest.raises(ConfigError, match=r"^network.nat_gateways: sets up private subnets"):
        dataclasses.replace(cfg, governed=False)
    assert dataclasses.replace(cfg, governed=True) == cfg


def test_settings_given_with_governed_keep_todays_meaning() -> None:
    # A choice the profile leaves open is kept.
    one = NetworkConfig(availability_zone_ids=ZONES, nat_gateways="one")
    assert governed(one).network.nat_gateways == "one"
    # Access logs are part of the profile: false, the default, cannot turn them off.
    off = Config.from_mapping(
        {
            "governed": True,
            "network": {"availability_zone_ids": list(ZONES)},
            "service": UNPRIVILEGED,
            "security": {"alb_access_logs": False},
        }
    )
    assert off.security.alb_access_logs is True
    # Without the profile, its settings are refused, not ignored.
    with pytest.raises(ConfigError) as e:
        Config(network=NetworkConfig(nat_gateways="one"))
    assert str(e.value) == (
        "network.nat_gateways: sets up private subnets, which only governed = true has; "
        "leave it empty or set governed = true"
    )
    # What the profile requires is refused before anything is built.
    with pytest.raises(ConfigError, match=r"^service.user: empty \(the image user\) breaks"):
        Config(
            governed=True,
            network=NetworkConfig(availability_zone_ids=ZONES),
            service=ServiceConfig(image=PINNED, container_port=8080),
        )


def test_config_takes_each_of_its_settings_by_name() -> None:
    settings = [f.name for f in dataclasses.fields(Config) if f.init]
    assert list(inspect.signature(Config).parameters) == settings
    assert settings == [*Config().to_mapping()][1:] + ["governed"]
    with pytest.raises(ConfigError, match=r"^network: expected a NetworkConfig$"):
        Config(network=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^governed: expected true or false, got 'yes'$"):
        Config(governed="yes")  # type: ignore[arg-type]


def test_the_configuration_layer_loads_no_template_or_aws_library() -> None:
    code = (
        "import sys, infra_gen.config; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'troposphere', 'awacs', 'boto3', 'botocore', 'cfn_flip', 'yaml'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"


def test_governed_writable_paths_default_to_what_nginx_unprivileged_writes() -> None:
    assert governed().service.writable_paths == ("/tmp", "/var/cache/nginx")
    assert governed().service.volumes == {"tmp": "/tmp", "var-cache-nginx": "/var/cache/nginx"}
    given = Config(
        governed=True,
        network=NetworkConfig(availability_zone_ids=ZONES),
        service=ServiceConfig(**UNPRIVILEGED, writable_paths=("/srv/cache",)),
    )
    assert given.service.writable_paths == ("/srv/cache",)  # given: kept as it is
    assert Config().service.writable_paths == () and Config().service.volumes is None


def test_writable_paths_name_their_volumes_in_one_order_whatever_the_given_one() -> None:
    one = ServiceConfig(writable_paths=("/var/cache/nginx", "/a.b", "/a-b", "/tmp"))
    other = ServiceConfig(writable_paths=("/tmp", "/a-b", "/var/cache/nginx", "/a.b"))
    assert (
        one.volumes
        == other.volumes
        == {
            "a-b": "/a-b",
            "a-b-2": "/a.b",
            "tmp": "/tmp",
            "var-cache-nginx": "/var/cache/nginx",
        }
    )


BAD_WRITABLE_PATHS = [
    (["tmp"], "'tmp' is not allowed; allowed: an absolute path"),
    (["/var/../etc"], "'/var/../etc' is not allowed"),
    (["/tmp/"], "'/tmp/' is not allowed"),
    (["/"], "'/' is not allowed"),
    (["//tmp"], "'//tmp' is not allowed"),
    (["/tmp", "/tmp"], "names '/tmp' twice; allowed: each path once"),
    ([f"/p{i}" for i in range(17)], "has 17 paths; allowed at most 16"),
    (["/tmp\n/x"], "'/tmp\\n/x' contains"),
    (["/tmp\x1b[2J"], "'/tmp\\x1b[2J' contains"),
    ("/tmp", "expected a list of strings"),
    ([1], "expected a list of strings"),
]


@pytest.mark.parametrize(
    ("paths", "message"), BAD_WRITABLE_PATHS, ids=[m[:20] for _, m in BAD_WRITABLE_PATHS]
)
def test_bad_writable_paths_are_one_line_naming_the_key(paths: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_mapping({"service": {"writable_paths": paths}})
    assert str(info.value).startswith("service.writable_paths: ")
    assert message in str(info.value) and "\n" not in str(info.value)
