"""The fast YAML path writes exactly what the reference path (cfn-flip over PyYAML) writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from troposphere import Template

from infra_gen import Config, build_template, render
from infra_gen.template.render import _WORD, _analyze, _fast_yaml, _pyyaml, _Unsupported, _Writer

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


def _json(t: Template) -> str:
    return str(t.to_json(indent=None, sort_keys=True, separators=(",", ":")))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_fast_path_gives_the_reference_bytes(name: str) -> None:
    text = _json(build_template(Config.from_mapping(CONFIGS[name])))
    fast = _fast_yaml(json.loads(text))
    assert fast == _pyyaml(text)
    assert render(build_template(Config.from_mapping(CONFIGS[name])), "yaml") == fast


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
_KEYS = st.one_of(
    st.sampled_from(["Ref", "Condition", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Fn::Join", "Type"]),
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


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCUMENTS)
def test_fast_path_matches_the_reference_on_any_document(doc: dict[str, Any]) -> None:
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    try:
        expected = _pyyaml(text)
    except Exception:
        return
    try:
        assert _fast_yaml(json.loads(text)) == expected
    except _Unsupported:
        pass  # rendered by the reference path instead


def test_shapes_outside_the_fast_path_fall_back_to_the_reference() -> None:
    long_key = {"k" * 130: "v", "": "empty key"}
    with pytest.raises(_Unsupported):
        _fast_yaml(long_key)
    t = build_template()  # a caller's own addition with a key too long for the fast path
    t.set_metadata({**t.metadata, "k" * 130: "v"})
    text = render(t, "yaml")
    assert text == _pyyaml(_json(t))
    assert "? " in text  # PyYAML's complex-key form, written by the reference path


# Breaks, spaces, the characters PyYAML treats specially, indicators, a surrogate.
_ANALYSIS_ALPHABET = (
    " \t\r\n\x00\x85\u2028\u2029\ufeff\U0010ffff\x7f\xa0\udc80" + "#,[]{}&*!|>'\"%@`?:-.a0é"
)
_ANALYSIS_TEXT = st.one_of(
    st.from_regex(_WORD, fullmatch=True),
    st.text(alphabet=st.sampled_from(list(_ANALYSIS_ALPHABET)), max_size=12),
    st.text(max_size=12),
    st.sampled_from(["---", "...", "--- x", "- x", "-x", "?", ": a", "a:", "a: b", "a #b", "a#b"]),
)


@settings(max_examples=1000, deadline=None)
@given(_ANALYSIS_TEXT)
def test_the_regular_expressions_give_pyyamls_analysis(text: str) -> None:
    assert vars(_analyze(text)) == vars(_Writer().em.analyze_scalar(text))
