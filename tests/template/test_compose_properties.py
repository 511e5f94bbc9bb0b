"""Whatever a caller passes to the composition API, a refusal is one ConfigError line that
names the offending key, and the template stays byte for byte as it was.

Each property draws bad values for one parameter of ``Stack.add_service`` (or of a
service handle's ``grant``, ``add_environment`` and ``add_secrets``) while every other
argument is valid, so the parameter named is the one at fault. One default stack serves
the examples while refusals leave it as it was (the check after each example says so);
it is built again after one that changed it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import pytest
from awacs import sqs
from awacs.aws import Action, Allow, PolicyDocument, Principal, Statement
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from troposphere import Sub, Template

from infra_gen import Config, ConfigError, Stack, build_stack, render
from tests.support.stack import lint_findings

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
VALID: dict[str, Any] = {"path_pattern": "/api/*", "priority": 10}
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
PARAMETER = "arn:aws:ssm:us-east-1:123456789012:parameter/app/token"

# Values of every type a caller might pass by mistake.
NOT_TEXT = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
# Text that breaks parsers and renderers: controls, line breaks, surrogates, emoji, size.
NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\n",
        "a\n",
        "a\x00b",
        "\x1b[31m",
        "\u2028",
        "\udc80",
        "😀",
        "ü",
        "a b",
        "x" * 10_000,
    ]
)
TEXT = st.one_of(NASTY_TEXT, st.text(max_size=40))


_STACK: list[Stack] = []
_PRISTINE = render(build_stack().template, "json")


def _clean_stack() -> Stack:
    """The default stack, shared while refusals leave it as it was; built again after an
    example that changed it, so that one failure does not make every later one fail."""
    if not _STACK or render(_STACK[0].template, "json") != _PRISTINE:
        _STACK[:] = [build_stack()]
    return _STACK[0]


def _refused(key: str, call: Callable[[Stack], object], stack: Stack | None = None) -> str:
    """``call``'s ConfigError: one line, naming ``key`` first; the template unchanged."""
    stack = stack or _clean_stack()
    before = render(stack.template, "json")
    with pytest.raises(ConfigError) as raised:
        call(stack)
    message = str(raised.value)
    assert "\n" not in message and "\r" not in message, message
    # How ConfigError shows a key: as it is, or its bounded repr when long or unprintable.
    assert message.startswith(str(ConfigError(key, "")).rstrip()), (key, message)
    assert render(stack.template, "json") == before, message
    return message


def _add(scope: Any = "Api", service: Any = None, **options: Any) -> Callable[[Stack], object]:
    args = {**VALID, **options}
    service = {"name": "api"} if service is None else service
    return lambda stack: stack.add_service(scope, service, **args)


FIELDS = {f.name: f.type for f in dataclasses.fields(Config().service)}
INT_FIELDS = sorted(k for k, v in FIELDS.items() if v == "int")
STR_FIELDS = sorted(k for k, v in FIELDS.items() if v == "str")


@st.composite
def bad_service(draw: st.DrawFn) -> tuple[str, Any]:
    """(the key a refusal names, a ``service`` argument with exactly one fault)."""
    kind = draw(st.sampled_from(["not a mapping", "unknown", "not text key", "int", "str"]))
    if kind == "not a mapping":
        return "service", draw(
            st.one_of(
                st.text(max_size=5),
                st.lists(st.integers(), max_size=2),
                st.integers(),
                st.booleans(),
            )
        )
    if kind == "unknown":
        key = draw(TEXT.filter(lambda k: k not in FIELDS))
        return f"service.{key}", {"name": "api", key: draw(st.integers())}
    if kind == "not text key":
        key = draw(st.one_of(st.integers(), st.binary(min_size=1, max_size=4), st.booleans()))
        return f"service.{key!r}", {"name": "api", key: 1, "cpu": 256}
    if kind == "int":
        key = draw(st.sampled_from(INT_FIELDS))
        value = draw(
            st.one_of(
                st.none(), st.booleans(), st.floats(), TEXT, st.lists(st.integers(), max_size=2)
            )
        )
        return f"service.{key}", {"name": "api", key: value}
    key = draw(st.sampled_from(STR_FIELDS))
    value = draw(
        st.one_of(
            NOT_TEXT.filter(lambda v: not isinstance(v, str)),
            st.sampled_from(["a\x00b", "\udc80", "a\n", "\x7f"]),
        )
    )
    return f"service.{key}", {"name": "api", key: value} if key != "name" else {key: value}


@PROPERTY
@given(case=bad_service())
def test_a_bad_service_mapping_is_refused_naming_its_key(case: tuple[str, Any]) -> None:
    key, service = case
    _refused(key, _add(service=service))


SCALING = {f.name: f.type for f in dataclasses.fields(Config().scaling)}
# Out of each key's range, and of its type: what scaling may never take.
OUT_OF_RANGE = {
    "max_tasks": st.one_of(st.integers(max_value=0), st.integers(min_value=101)),
    "cpu_percent": st.one_of(
        st.floats(max_value=9.99), st.floats(min_value=90.01), st.just(float("nan"))
    ),
    "requests_per_target": st.one_of(st.integers(max_value=0), st.integers(min_value=1000001)),
    "scale_out_cooldown_seconds": st.one_of(st.integers(max_value=-1), st.integers(min_value=3601)),
    "scale_in_cooldown_seconds": st.one_of(st.integers(max_value=-1), st.integers(min_value=3601)),
}


@st.composite
def bad_scaling(draw: st.DrawFn) -> tuple[str, Any]:
    kind = draw(st.sampled_from(["not a mapping", "unknown", "not text key", "type", "range"]))
    if kind == "not a mapping":
        return "scaling", draw(
            st.one_of(
                st.booleans(),
                st.integers(),
                st.text(max_size=5),
                st.lists(st.integers(), max_size=2),
            )
        )
    if kind == "unknown":
        key = draw(TEXT.filter(lambda k: k not in SCALING))
        return f"scaling.{key}", {key: 1}
    if kind == "not text key":
        key = draw(st.one_of(st.integers(), st.binary(min_size=1, max_size=4)))
        return f"scaling.{key!r}", {key: 1, "max_tasks": 4}
    key = draw(st.sampled_from(sorted(SCALING)))
    if kind == "type":
        value = draw(st.one_of(st.none(), st.booleans(), TEXT, st.lists(st.integers(), max_size=2)))
        return f"scaling.{key}", {key: value}
    return f"scaling.{key}", {key: draw(OUT_OF_RANGE[key])}


@PROPERTY
@given(case=bad_scaling())
def test_bad_scaling_is_refused_naming_its_key(case: tuple[str, Any]) -> None:
    key, scaling = case
    _refused(key, _add(scaling=scaling))


@PROPERTY
@given(value=st.one_of(NOT_TEXT, TEXT).filter(lambda v: not isinstance(v, bool)))
def test_all_alarms_takes_a_bool_only(value: Any) -> None:
    _refused("all_alarms", _add(all_alarms=value))


@pytest.mark.parametrize("key", ["all_alarms", "scaling"])
def test_a_refused_value_is_shown_bounded(key: str) -> None:
    # Their errors wrote the value's repr whole: an integer of over 4300 digits made it
    # raise ValueError, a long list made the line as long.
    for value, shown in ((10**5000, "an integer of 16610 bits"), ([0] * 10_000, "[0, 0, 0, ")):
        message = _refused(key, _add(**{key: value}))
        assert message.startswith(f"{key}: {shown}") and len(message) < 120


def test_keys_that_are_not_text_are_unknown_keys() -> None:
    # Sorting keys of mixed types raised TypeError before any check named them.
    assert _refused("service.1", _add(service={1: 2, "name": "api"})).startswith(
        "service.1: unknown key; allowed: name, image, "
    )
    assert _refused("service.b'name'", _add(service={b"name": "api", "cpu": 256})).startswith(
        "service.b'name': unknown key (did you mean 'name'?)"
    )
    _refused("scaling.2", _add(scaling={2: 1, "max_tasks": 4}))
    with pytest.raises(ConfigError, match=r"^3: unknown key; allowed: governed, network"):
        Config.from_mapping({3: {}, "service": {}})
    with pytest.raises(ConfigError, match=r"^None: unknown key"):
        Config().with_changes({None: {}, "service": {"cpu": 512, "memory": 1024}})


NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)
BAD_NAME = st.one_of(
    st.sampled_from(["", "1X", "A=B", "A B", "A-B", "A\n", "Ä", "😀", "A\x00", "\udc80"]),
    st.just("A" * 256),  # one over the longest name taken
    st.text(max_size=10).filter(
        lambda n: not n.isascii() or not n.replace("_", "a").isalnum() or n[:1].isdigit()
    ),
    st.integers(),
    st.binary(min_size=1, max_size=4),
)


@st.composite
def bad_environment(draw: st.DrawFn) -> tuple[str, Any]:
    kind = draw(st.sampled_from(["not a mapping", "name", "value"]))
    if kind == "not a mapping":
        return "environment", draw(
            st.one_of(
                st.text(max_size=5),
                st.integers(),
                st.booleans(),
                st.lists(st.tuples(NAME, NAME), max_size=2),
            )
        )
    if kind == "name":
        name = draw(BAD_NAME)
        return f"environment.{name}", {"OK": "1", name: "x"}
    name = draw(NAME)
    value = draw(
        st.one_of(
            NOT_TEXT.filter(lambda v: not isinstance(v, str)),
            st.sampled_from(["a\x00b", "\udc80", "a\nb", "\x85", "\u2029"]),
        )
    )
    return f"environment.{name}", {name: value}


@PROPERTY
@given(case=bad_environment())
def test_bad_environment_is_refused_naming_the_variable(case: tuple[str, Any]) -> None:
    key, environment = case
    _refused(key, _add(environment=environment))


@pytest.mark.parametrize("empty", ["", [], (), 0, False])
def test_an_empty_value_of_another_type_is_not_taken_for_none(empty: object) -> None:
    # `environment or {}` read these as "no variables" and added the service.
    _refused("environment", _add(environment=empty))
    _refused("secrets", _add(secrets=empty))


BAD_ARN = st.one_of(
    NOT_TEXT.filter(lambda v: v is not None and not isinstance(v, str)),
    TEXT.filter(lambda v: not v.startswith("arn:")),
    st.sampled_from(
        [
            "arn:aws:s3:::bucket/key",
            "arn:aws:secretsmanager:us-east-1:12345:secret:db",
            "arn:aws:secretsmanager:us-east-1:123456789012:db",
            "arn:aws:ssm:us-east-1:123456789012:parameter",
            "arn:aws:ssm:us-east-1:123456789012:parameter/a b",
            "arn:aws:kms:us-east-1:123456789012:key/1",
            "arn:aws:secretsmanager:US-EAST-1:123456789012:secret:db",
            SECRET + "\n",
            " " + PARAMETER,
            SECRET + ":\n::",
            SECRET + ":key:\x00:",
            SECRET + ":key::\u2028",
            "arn:aws:ssm:us-east-1:123456789012:parameter/" + "a" * 967,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + "a" * 1996,
        ]
    ),
)


@st.composite
def bad_secrets(draw: st.DrawFn) -> tuple[str, dict[str, str], Any]:
    """(the key a refusal names, ``environment``, ``secrets`` with exactly one fault)."""
    kind = draw(st.sampled_from(["not a mapping", "name", "value", "in environment"]))
    if kind == "not a mapping":
        return (
            "secrets",
            {},
            draw(
                st.one_of(
                    st.text(max_size=5),
                    st.integers(),
                    st.booleans(),
                    st.lists(st.just(SECRET), max_size=2),
                )
            ),
        )
    if kind == "name":
        name = draw(BAD_NAME)
        return f"secrets.{name}", {}, {"OK": SECRET, name: PARAMETER}
    name = draw(NAME)
    if kind == "in environment":
        return f"secrets.{name}", {name: "x", "OTHER_": "y"}, {name: SECRET}
    return f"secrets.{name}", {}, {name: draw(BAD_ARN)}


@PROPERTY
@given(case=bad_secrets())
def test_bad_secrets_are_refused_naming_the_variable(
    case: tuple[str, dict[str, str], Any],
) -> None:
    key, environment, secrets = case
    _refused(key, _add(environment=environment, secrets=secrets))


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        (
            SECRET + ":\n::",
            "contains the control character U+000A; allowed: printable characters only",
        ),
        (
            "arn:aws:ssm:us-east-1:123456789012:parameter/" + "a" * 967,
            "is an ARN of 1012 characters; allowed at most 1011",
        ),
    ],
)
def test_a_secret_arn_is_printable_and_not_over_its_services_length(arn: str, message: str) -> None:
    # Both were accepted: a JSON key took any character but ":", a line break included, and
    # a parameter's ARN had no limit, where SSM takes at most 1011 characters.
    assert _refused("secrets.DB", _add(secrets={"DB": arn})).endswith(message)


@settings(PROPERTY, max_examples=50)  # a stack of its own per example
@given(
    names=st.lists(NAME, min_size=1, max_size=3, unique=True),
    first=st.booleans(),
    second=st.booleans(),
)
def test_a_variable_set_twice_is_refused_naming_it(
    names: list[str], first: bool, second: bool
) -> None:
    stack = build_stack()
    t, service = stack.template, stack.service
    if first:
        service.add_environment(t, {n: "x" for n in names})
    else:
        service.add_secrets(t, {n: PARAMETER for n in names})
    if second:
        _refused(
            f"environment.{names[0]}",
            lambda _: service.add_environment(t, {"NEW_": "y", names[0]: "y"}),
            stack,
        )
    else:
        _refused(
            f"secrets.{names[0]}",
            lambda _: service.add_secrets(t, {"NEW_": SECRET, names[0]: SECRET}),
            stack,
        )


SCOPE = r"[A-Z][A-Za-z0-9]{0,15}"
BAD_SCOPE = st.one_of(
    NOT_TEXT,
    st.sampled_from(
        [
            "",
            "api",
            "1Api",
            "Api\n",
            "Api ",
            "A-pi",
            "Äpi",
            "Api😀",
            "A\udc80",
            "A" * 17,
            "A" * 300,
            "Api\x00",
        ]
    ),
    TEXT.filter(lambda s: not re.fullmatch(SCOPE, s)),
)


@PROPERTY
@given(scope=BAD_SCOPE)
def test_a_bad_scope_is_refused(scope: Any) -> None:
    _refused("scope", _add(scope))


@settings(PROPERTY, max_examples=40)  # a stack of its own per example
@given(
    taken=st.sampled_from(["scope", "service.name", "path_pattern", "priority"]),
    other=st.from_regex(SCOPE, fullmatch=True).filter(lambda o: o.lower() not in ("web", "nginx")),
    priority=st.integers(2, 50000),
)
def test_what_an_added_service_took_is_refused_to_the_next(
    taken: str, other: str, priority: int
) -> None:
    stack = build_stack()
    stack.add_service("Web", {"name": "web"}, path_pattern="/web/*", priority=1)
    new: dict[str, Any] = {
        "scope": other,
        "service.name": other.lower(),
        "path_pattern": f"/{other}/*",
        "priority": priority,
    }
    new[taken] = {"scope": "Web", "service.name": "web", "path_pattern": "/web/*", "priority": 1}[
        taken
    ]
    message = _refused(
        taken,
        _add(
            new["scope"],
            {"name": new["service.name"]},
            path_pattern=new["path_pattern"],
            priority=new["priority"],
        ),
        stack,
    )
    assert message.startswith(f"{taken}: add_service({new['scope']!r}, ...): ")


@pytest.mark.parametrize("scope", [None, True, "Api\n"])
def test_a_scope_is_text_matched_whole(scope: object) -> None:
    # str(None) and str(True) passed as PascalCase and raised TypeError later; "Api\n"
    # passed a $-anchored match and troposphere refused the title with a bare ValueError.
    assert _refused("scope", _add(scope)) == (
        f"scope: {scope!r} is not allowed; a PascalCase name like Api (a capital letter, then "
        "up to 15 letters and digits)"
    )


def test_a_long_scope_is_shown_bounded() -> None:
    message = _refused("scope", _add("A" * 100_000))
    assert len(message) < 200 and "..." in message


@PROPERTY
@given(
    priority=st.one_of(
        NOT_TEXT.filter(lambda v: type(v) is not int),
        TEXT,
        st.integers(max_value=0),
        st.integers(min_value=50001),
        st.sampled_from([10**5000, -(10**5000), 10.0, "10"]),
    )
)
def test_a_priority_is_an_integer_of_1_to_50000(priority: Any) -> None:
    _refused("priority", _add(priority=priority))


@pytest.mark.parametrize("priority", [True, False, 10**5000], ids=["True", "False", "huge"])
def test_a_priority_that_python_takes_for_an_int_is_refused(priority: object) -> None:
    # True was accepted as priority 1 and rendered as `true`, which cfn-lint refuses
    # (E3012); an integer of over 4300 digits made the error's repr raise ValueError.
    message = _refused("priority", _add(priority=priority))
    assert message.endswith("is not allowed; allowed: 1-50000") and len(message) < 120


PATH_CHARS = "A-Za-z0-9_\\-.$/~\"'@:+&*?"


@PROPERTY
@given(
    path=st.one_of(
        # None is a worker's: no route.
        NOT_TEXT.filter(lambda v: not isinstance(v, str) and v is not None),
        TEXT.filter(lambda p: not re.fullmatch(f"/[{PATH_CHARS}]{{0,127}}", p)),
        st.sampled_from(
            [
                "",
                "api/*",
                "/api\n",
                "/a b",
                "/a#b",
                "/a%20",
                "/ä",
                "/😀",
                "/\udc80",
                "/" + "a" * 128,
                "/*/*/*/*/*/*",
                "/??????",
                "/a*b?c*d?e*f?",
            ]
        ),
    )
)
def test_a_bad_path_pattern_is_refused(path: Any) -> None:
    _refused("path_pattern", _add(path_pattern=path))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api\n", "'/api\\n' is not allowed; a path like /api/*"),
        (
            "/*/*/*/*/*/*",
            "'/*/*/*/*/*/*' has 6 wildcards; the load balancer takes at most 5 (* and ?) in a rule",
        ),
    ],
)
def test_a_path_pattern_is_matched_whole_and_its_wildcards_counted(path: str, message: str) -> None:
    # Both were accepted: a final newline passed the $ anchor into the listener rule, and
    # a sixth wildcard fails only at deploy time, against the load balancer's quota.
    assert _refused("path_pattern", _add(path_pattern=path)) == f"path_pattern: {message}"


VOLUME = st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True)
BAD_VOLUME = st.one_of(
    st.sampled_from(["", "a b", "a/b", "a.b", "a\n", "ä", "😀", "\udc80", "a" * 256]),
    st.integers(),
    st.binary(min_size=1, max_size=4),
    st.none(),
)
BAD_PATH = st.one_of(
    NOT_TEXT.filter(lambda v: not isinstance(v, str)),
    st.sampled_from(
        [
            "",
            "tmp",
            "./tmp",
            "/",
            "//tmp",
            "/tmp/",
            "/a/../b",
            "/a/./b",
            "/a//b",
            "/..",
            "/tmp\n",
            "/tmp\x00",
            "/\udc80",
            "/" + "a" * 4095,
        ]
    ),
    TEXT.filter(lambda p: not p.startswith("/")),
)


@st.composite
def bad_writable_paths(draw: st.DrawFn) -> tuple[str, Any]:
    kind = draw(st.sampled_from(["not a mapping", "name", "path", "twice"]))
    if kind == "not a mapping":
        return "writable_paths", draw(
            st.one_of(
                st.text(max_size=5),
                st.integers(),
                st.booleans(),
                st.lists(st.just("/tmp"), max_size=2),
            )
        )
    if kind == "name":
        name = draw(BAD_VOLUME)
        return f"writable_paths.{name}", {"ok": "/ok", name: "/tmp"}
    name = draw(VOLUME.filter(lambda n: n != "first"))
    if kind == "twice":
        return f"writable_paths.{name}", {"first": "/tmp", name: "/tmp"}
    return f"writable_paths.{name}", {name: draw(BAD_PATH)}


@PROPERTY
@given(case=bad_writable_paths())
def test_bad_writable_paths_are_refused_before_anything_is_added(case: tuple[str, Any]) -> None:
    key, writable_paths = case
    _refused(key, _add(writable_paths=writable_paths))


@pytest.mark.parametrize(
    ("writable_paths", "message"),
    [
        (["/tmp"], "writable_paths: expected a mapping of volume name to container path, got list"),
        (
            {"tmp": 1},
            "writable_paths.tmp: 1 is not allowed; allowed: an absolute path in normal "
            "form (no . or .. parts, no trailing /), not /, at most 4095 characters, e.g. "
            "/var/cache/nginx",
        ),
        (
            {1: "/a", "b": "/b"},
            "writable_paths.1: is not a volume name; allowed: 1-255 letters, digits, _ and -",
        ),
        (
            {"a": "/tmp", "b": "/tmp"},
            "writable_paths.b: '/tmp' is the path of writable_paths.a "
            "too; allowed: one volume a path",
        ),
    ],
)
def test_writable_paths_are_checked_before_anything_is_added(
    writable_paths: object, message: str
) -> None:
    # These raised AttributeError or TypeError once the Cloud Map service, the route, the
    # log group and the task role were added, with the shared execution role's log policy
    # widened: the same call again was refused for its own half-added IDs.
    stack = build_stack()
    assert _refused(message.split(":")[0], _add(writable_paths=writable_paths), stack) == message
    stack.add_service(
        "Api",
        {"name": "api"},
        path_pattern="/api/*",
        priority=10,
        writable_paths={"tmp": "/tmp", "run-dir": "/var/run/app"},
    )
    task = stack.template.resources["ApiEcsTaskDefinition"].to_dict()["Properties"]
    assert [v["Name"] for v in task["Volumes"]] == ["run-dir", "tmp"]


QUEUE = Sub("arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:jobs")


def _statement(**leave_out: bool) -> Statement:
    props: dict[str, Any] = {"Effect": Allow, "Action": [sqs.SendMessage], "Resource": [QUEUE]}
    return Statement(**{k: v for k, v in props.items() if not leave_out.get(k)})


BAD_STATEMENT = st.one_of(
    NOT_TEXT,
    TEXT,
    st.builds(dict),
    st.just(PolicyDocument(Statement=[_statement()])),
    st.sampled_from(["Effect", "Action", "Resource"]).map(lambda k: _statement(**{k: True})),
    st.just(
        Statement(
            Effect=Allow,
            Action=[sqs.SendMessage],
            Resource=[QUEUE],
            Principal=Principal("AWS", ["arn:aws:iam::123456789012:root"]),
        )
    ),
    st.just([_statement()]),
)


@st.composite
def bad_statements(draw: st.DrawFn) -> tuple[str, Any]:
    kind = draw(st.sampled_from(["not a list", "empty", "item"]))
    if kind == "not a list":
        value = draw(
            st.one_of(
                NOT_TEXT.filter(lambda v: not isinstance(v, list)),
                TEXT,
                st.just(_statement()),
                st.just(iter([_statement()])),
                st.just({1, 2}),
            )
        )
        return "statements", value
    if kind == "empty":
        return "statements", draw(st.sampled_from([[], ()]))
    good = draw(st.lists(st.just(_statement()), max_size=3))
    at = draw(st.integers(0, len(good)))
    return f"statements[{at}]", [*good[:at], draw(BAD_STATEMENT), *good[at:]]


@PROPERTY
@given(case=bad_statements())
def test_grant_refuses_what_is_not_a_list_of_whole_statements(case: tuple[str, Any]) -> None:
    key, statements = case
    _refused(key, lambda stack: stack.service.grant(stack.template, statements))


@pytest.mark.parametrize(
    ("statements", "message"),
    [
        (
            [_statement(Effect=True)],
            "statements[0]: has no Effect; a role's policy needs it in every statement",
        ),
        (
            [_statement(), _statement(Resource=True)],
            "statements[1]: has no Resource or "
            "NotResource; a role's policy needs it in every statement",
        ),
        (_statement(), "statements: expected a non-empty list of awacs Statements, got Statement"),
        (
            (s for s in [_statement()]),
            "statements: expected a non-empty list of awacs Statements, got generator",
        ),
    ],
    ids=["no Effect", "no Resource", "a Statement", "a generator"],
)
def test_grant_refuses_a_statement_iam_or_the_renderer_would(
    statements: object, message: str
) -> None:
    # A statement without Effect was put on the role, and rendering the template then
    # raised ValueError; without Action or Resource it failed cfn-lint (E3510); a single
    # Statement raised TypeError; a generator was consumed by the check and granted nothing.
    key = message.split(":")[0]
    grant = lambda stack: stack.service.grant(stack.template, statements)  # noqa: E731
    assert _refused(key, grant) == message


def test_a_template_without_the_service_is_refused_naming_it() -> None:
    service = _clean_stack().service
    with pytest.raises(ConfigError, match=r"^t: grant: the service's task role is not in this"):
        service.grant(Template(), [_statement()])
    for add, value in ((service.add_environment, "x"), (service.add_secrets, SECRET)):
        with pytest.raises(ConfigError, match=r"^t: the service's task definition is not in "):
            add(Template(), {"A": value})


HELPERS: dict[str, Callable[[Stack], Callable[..., object]]] = {
    "service.metric": lambda s: s.service.metric,
    "service.insights_metric": lambda s: s.service.insights_metric,
    "service.target_metric": lambda s: s.service.target_metric,
    "load_balancer.metric": lambda s: s.load_balancer.metric,
    "load_balancer.target_metric": lambda s: s.load_balancer.target_metric,
    "probe.metric": lambda s: s.probe.metric,
    "probe.function_metric": lambda s: s.probe.function_metric,
}
BAD_METRIC_NAME = st.one_of(
    NOT_TEXT.filter(lambda v: not isinstance(v, str)),
    st.sampled_from(["", "CPU\n", "a\x00", "\udc80", "a" * 256]),
)
BAD_STATISTIC = st.one_of(
    NOT_TEXT.filter(lambda v: not isinstance(v, str)),
    st.sampled_from(["", "avg", "average", "SUM", "max", "90", "P90", "p90\n", "Sum "]),
    TEXT.filter(
        lambda s: (
            s not in ("Sum", "Average", "Minimum", "Maximum", "SampleCount")
            and not re.fullmatch(r"(p|tm|wm|tc|ts|pr)[0-9(][A-Za-z0-9.:%()]*", s)
        )
    ),
)


@PROPERTY
@given(helper=st.sampled_from(sorted(HELPERS)), name=BAD_METRIC_NAME)
def test_a_metric_helper_refuses_a_bad_name(helper: str, name: Any) -> None:
    _refused("name", lambda stack: HELPERS[helper](stack)(name))


@PROPERTY
@given(helper=st.sampled_from(sorted(HELPERS)), statistic=BAD_STATISTIC)
def test_a_metric_helper_refuses_a_statistic_cloudwatch_lacks(helper: str, statistic: Any) -> None:
    _refused("statistic", lambda stack: HELPERS[helper](stack)("Requests", statistic))


def test_a_metric_is_checked_where_the_helper_is_called() -> None:
    # metric("CPUUtilization", "avg") went into an alarm that cfn-lint refused (E3030), and
    # metric(None) raised TypeError from troposphere only once the alarm was added.
    service = _clean_stack().service
    with pytest.raises(
        ConfigError,
        match=r"^statistic: 'avg' is not allowed; allowed: Sum, "
        r"Average, Minimum, Maximum, SampleCount or a percentile such as p90$",
    ):
        service.metric("CPUUtilization", "avg")
    with pytest.raises(ConfigError, match=r"^name: None is not a metric name"):
        service.metric(None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^statistic: "):
        service.metric("CPUUtilization").with_statistic("Avg")
    assert service.target_metric("TargetResponseTime", "tm99").statistic == "tm99"


def test_what_is_at_each_limit_is_taken_and_lint_clean() -> None:
    """The other side of the refusals: the longest path pattern, five wildcards, writable
    paths of the image's choosing, secret ARNs at their services' limits and a grant on
    "*" (the only resource of actions such as cloudwatch:PutMetricData) lint clean."""
    stack = build_stack()
    t = stack.template
    stack.add_service(
        "Long",
        {"name": "long"},
        path_pattern="/" + "a" * 127,
        priority=1,
        secrets={
            "P": "arn:aws:ssm:us-east-1:123456789012:parameter/" + "a" * 966,
            "S": SECRET + ":json-key:AWSCURRENT:",
            "U": SECRET + ":clé::",
        },
    )
    wild = stack.add_service(
        "Wild",
        {"name": "wild"},
        path_pattern="/a*b?c*d?e*",
        priority=2,
        writable_paths={"tmp": "/tmp", "run-dir": "/var/run/app"},
    )
    wild.grant(
        t,
        (Statement(Effect=Allow, Action=[Action("cloudwatch", "PutMetricData")], Resource=["*"]),),
    )
    assert lint_findings(render(t, "yaml")) == []
