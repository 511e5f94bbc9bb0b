"""YAML and JSON renderings carry the same template, in a stable and readable form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cfn_flip import load as load_yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from troposphere import Template

from infra_gen import Config, build_template, render
from infra_gen.errors import ConfigError

# Every option on and every string long: the configurations that stress quoting,
# folding at the width limit and the literal block of the probe's code.
CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "largest": {
        "network": {"az_count": 3},
        "security": {"flow_logs": True, "kms_logs": True, "alb_access_logs": True},
        "alarms": {"email": "on-call@example.com"},
    },
    "long-values": {
        "service": {
            "name": "a" * 63,
            "image": "registry.example.com:5000/" + "x" * 120 + ":v1",
            "health_check_path": "/" + "p" * 300,
        },
        "discovery": {"namespace": ".".join(["n" * 60] * 3)},
        "probe": {"metric_namespace": "Shop/" + "M" * 200, "path": "/" + "q" * 250},
        "alarms": {"email": "ünïcode@xn--exmple-cua.com"},
    },
    "numbers-that-look-like-strings": {
        "service": {"name": "0123", "health_check_path": "/0", "container_port": 8080},
        "discovery": {"namespace": "0.0-1.internal", "dns_ttl": 60},
        "probe": {"request_timeout_seconds": 0.1, "path": "/true"},
        "alarms": {"response_time_seconds": 1e-2, "cpu_percent": 99.5},
    },
}


def _as_data(text: str) -> Any:
    data, fmt = load_yaml(text)  # reads the short-form tags back into Fn:: keys
    assert fmt == "yaml"
    return json.loads(json.dumps(data))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_yaml_and_json_carry_the_same_template(name: str) -> None:
    t = build_template(Config.from_mapping(CONFIGS[name]))
    yaml_text, json_text = render(t, "yaml"), render(t, "json")
    assert _as_data(yaml_text) == json.loads(json_text) == t.to_dict()
    assert render(build_template(Config.from_mapping(CONFIGS[name])), "yaml") == yaml_text


def test_yaml_is_short_form_with_plain_lists_on_one_line() -> None:
    text = render(build_template(), "yaml")
    assert "!Ref " in text and "!GetAtt " in text and "Fn::" not in text
    assert "Architectures: [arm64]" in text
    assert "ZipFile: |" in text  # the probe's code stays a block a reviewer reads


def test_json_is_compact_and_ends_in_a_newline() -> None:
    text = render(build_template(), "json")
    assert text.endswith("}\n") and text.count("\n") == 1
    assert json.dumps(json.loads(text), sort_keys=True, separators=(",", ":")) + "\n" == text


@pytest.mark.parametrize("fmt", ["yml", "JSON", "", None])
def test_an_unknown_format_is_one_config_error(fmt: Any) -> None:
    with pytest.raises(ConfigError, match=r"^fmt: .* is not allowed; allowed: yaml, json$"):
        render(build_template(), fmt)


# Any JSON-like document, with the scalars that make YAML quote, escape or fold.
_TRICKY = st.sampled_from(
    [
        "",
        "0",
        "007",
        "0123\n",
        "true",
        "null",
        "1.5",
        "~",
        "yes",
        "- x",
        "a: b",
        "#c",
        "  lead",
        "trail ",
        "x" * 250,
        "w " * 130,
        "\n".join("l" * i for i in range(12)),
        "a\n\n",
        "é\t\"'\\",
        "${AWS::Region}",
        "a\rb",
        "\u2028",
        "[x]",
        "{y}",
        "!Ref",
        "&a",
        "*b",
        "%c",
        "@d",
        "`e",
    ]
)
_TEXT = st.one_of(
    _TRICKY,
    st.text(max_size=20),
    st.text(alphabet=st.sampled_from(list("ab 0:#-'\"\n\r\t!&*{}[],.?|>%@`~\\é")), max_size=230),
)
# Plain keys: the intrinsic functions' shapes come from the templates above.
_KEYS = st.one_of(
    st.sampled_from(["Type", "Properties", "Description"]),
    st.text(alphabet="abZ0 -:.'é", min_size=1, max_size=10),
)
_LEAVES = st.one_of(
    _TEXT, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False, allow_infinity=False)
)
_DOCUMENTS = st.dictionaries(
    _KEYS,
    st.recursive(
        _LEAVES,
        lambda inner: st.one_of(
            st.lists(inner, max_size=6), st.dictionaries(_KEYS, inner, max_size=4)
        ),
        max_leaves=30,
    ),
    max_size=5,
)


# PyYAML writes NEL and the Unicode line separators unescaped and reads them back as
# line breaks; the configuration refuses control characters in every value.
_BREAKS = str.maketrans("", "", "\x85\u2028\u2029")


def _without_breaks(value: Any) -> Any:
    if isinstance(value, str):
        return value.translate(_BREAKS)
    if isinstance(value, list):
        return [_without_breaks(v) for v in value]
    if isinstance(value, dict):
        return {_without_breaks(k): _without_breaks(v) for k, v in value.items()}
    return value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCUMENTS)
def test_yaml_reads_back_as_the_document_it_was_given(doc: dict[str, Any]) -> None:
    doc = _without_breaks(doc)
    t = Template()
    t.set_metadata(doc)
    text = render(t, "yaml")
    assert _as_data(text) == json.loads(render(t, "json"))
    assert render(t, "yaml") == text
