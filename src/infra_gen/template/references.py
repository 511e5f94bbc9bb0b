"""CloudFormation references where a container's value goes: its environment and secrets.

A value is text, checked by the config layer as before, or an intrinsic function (``Ref``,
``GetAtt``, ``Sub``, ``Join``, ``ImportValue``, ``If``), checked here as far as it can be
before deployment: the resources, Parameters and Conditions it names are the template's,
and a secret's ``Sub`` or ``Join`` has an ARN's shape. A secret may also be a
``secretsmanager.Secret`` or ``ssm.Parameter`` of the template itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from troposphere import (
    AWSHelperFn,
    GetAtt,
    If,
    ImportValue,
    Join,
    Ref,
    Sub,
    Template,
    encode_to_dict,
    secretsmanager,
    ssm,
)

from ..config import ConfigError, check_environment, check_secrets
from ..config.checks import check_text
from ..errors import shown

__all__ = ["SecretSource", "check_resources", "environment", "secrets"]

INTRINSICS = (Ref, GetAtt, Sub, Join, ImportValue, If)
_ALLOWED = "Ref, GetAtt, Sub, Join, ImportValue or If"
# A Sub variable: ${Name}, ${Name.Attribute}, ${AWS::Region}; ${!Text} is literal text.
_VARIABLE = re.compile(r"\$\{(?!!)([^}]*)\}")
_V = "\x01"  # a variable in an ARN's shape; check_text refuses it in literal text
# A secret's ARN with some parts variables: partition, Region, account, and the name.
_SECRET_SHAPE = re.compile(
    rf"arn:(?:{_V}|aws(?:-cn|-us-gov)?):secretsmanager:(?:{_V}|[a-z0-9-]+):(?:{_V}|[0-9]{{12}})"
    rf":secret:(?P<name>[A-Za-z0-9/_+=.@{_V}-]+)(?::[^:]*:[^:]*:[^:]*)?"
)
_OWN_SECRET = re.compile(rf"{_V}(?::[^:]*:[^:]*:[^:]*)?")
_PARAMETER_SHAPE = re.compile(
    rf"arn:(?:{_V}|aws(?:-cn|-us-gov)?):ssm:(?:{_V}|[a-z0-9-]+):(?:{_V}|[0-9]{{12}})"
    rf":parameter[/{_V}][A-Za-z0-9/_.{_V}-]*"
)
# The six characters Secrets Manager appends to a secret's name in its ARN.
_SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")
# An SSM parameter's ARN from its name (Ref): a name that starts with "/" takes no other.
_PARAMETER_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"


@dataclass(frozen=True, eq=False)
class SecretSource:
    """Where a container's secret comes from, and what the execution role is granted."""

    value_from: object
    """ECS's ``ValueFrom``: the ARN as text, or an expression."""
    grant: str | tuple[str, object]
    """The ARN text (the partial-ARN rule of :func:`iam.read_secrets` applies), or
    (service, expression): ``secretsmanager``, ``ssm``, or ``""`` when only the
    deployed stack knows."""


def environment(t: Template, key: str, variables: object) -> dict[str, object]:
    """``variables`` as a container's environment: name -> text or an intrinsic function.

    Raises:
        ConfigError: naming ``<key>.<NAME>``: a bad name, text, or expression.
    """
    if not isinstance(variables, Mapping):
        check_environment(key, variables)  # refuses what is no mapping
    checked: dict[str, object] = {}
    for name, value in dict(variables).items():  # type: ignore[call-overload]
        if isinstance(value, str):
            checked.update(check_environment(key, {name: value}))
            continue
        check_environment(key, {name: ""})  # a name is always literal
        where = f"{key}.{name}"
        if not isinstance(value, INTRINSICS):
            hint = f"; for its name, Ref({value.title})" if _resource(value) else ""
            raise ConfigError(
                where, f"{shown(value)} is not allowed; allowed: text or {_ALLOWED}{hint}"
            )
        _check_names(t, where, value)
        checked[name] = value
    return checked


def secrets(t: Template, key: str, values: object) -> dict[str, SecretSource]:
    """``values`` as a container's secrets: name -> where ECS reads it, what IAM grants.

    A value is the ARN of a Secrets Manager secret or SSM parameter as text (checked as
    before), a ``secretsmanager.Secret`` or ``ssm.Parameter`` of ``t``, a ``Ref`` or
    ``GetAtt`` of one, a ``Sub`` or ``Join`` with an ARN's shape, an ``ImportValue``, an
    ``If``, or a ``Ref`` of a Parameter.

    Raises:
        ConfigError: naming ``<key>.<NAME>``.
    """
    if not isinstance(values, Mapping):
        check_secrets(key, values)  # refuses what is no mapping
    checked: dict[str, SecretSource] = {}
    for name, value in dict(values).items():  # type: ignore[call-overload]
        if isinstance(value, str):
            arn = check_secrets(key, {name: value})[name]
            checked[name] = SecretSource(arn, arn)
            continue
        check_environment(key, {name: ""})  # a name is always literal
        checked[name] = _secret(t, f"{key}.{name}", value)
    return checked


# Resource types whose Ref is a name, URL or ID, never an ARN: a policy's Resource that
# is one of these matches nothing in IAM.
_REF_IS_NO_ARN = (
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::KMS::Key",
    "AWS::SSM::Parameter",
    "AWS::Lambda::Function",
    "AWS::Logs::LogGroup",
    "AWS::IAM::Role",
    "AWS::ECS::Cluster",
    "AWS::Kinesis::Stream",
)


def check_resources(t: Template, key: str, statements: list[Any]) -> None:
    """Refuse statements whose resources name what ``t`` does not hold, or give a
    resource of ``t`` by its ``Ref`` where that is its name (a bucket's, a table's, ...).

    Raises:
        ConfigError: naming ``<key>[<i>]``.
    """
    for i, statement in enumerate(statements):
        where = f"{key}[{i}]"
        for field in ("Resource", "NotResource"):
            listed = statement.properties.get(field, [])
            for value in listed if isinstance(listed, list) else [listed]:
                if not isinstance(value, AWSHelperFn):
                    continue
                data = _check_names(t, where, value)
                target = data.get("Ref")
                sub = data.get("Fn::Sub")
                if isinstance(sub, str) and _VARIABLE.fullmatch(sub):
                    target = sub[2:-1]
                resource = t.resources.get(target) if isinstance(target, str) else None
                if resource is not None and resource.resource_type in _REF_IS_NO_ARN:
                    raise ConfigError(
                        where,
                        f"{shown(value)} is the name or ID of {target} "
                        f"({resource.resource_type}), not its ARN; allowed: "
                        f"GetAtt({target}, 'Arn'), or infra_gen.grants",
                    )


def _secret(t: Template, where: str, value: object) -> SecretSource:
    if _resource(value):
        if t.resources.get(value.title) is not value:  # type: ignore[attr-defined]
            raise ConfigError(where, f"{shown(value)} is not a resource of this template")
        value = Ref(value)
    if not isinstance(value, INTRINSICS):
        raise ConfigError(
            where,
            f"{shown(value)} is not allowed; allowed: a secret's ARN as text or {_ALLOWED}, "
            "or a secretsmanager.Secret or ssm.Parameter of the template",
        )
    data = _check_names(t, where, value)
    name, args = next(iter(data.items()))
    if name in ("Ref", "Fn::GetAtt"):
        target = args if name == "Ref" else args[0]
        resource = t.resources.get(target)
        if isinstance(resource, secretsmanager.Secret) and (name == "Ref" or args[1] == "Id"):
            return SecretSource(value, ("secretsmanager", value))  # Ref and Id: its ARN
        if isinstance(resource, ssm.Parameter) and name == "Ref":
            arn = _parameter_arn(where, resource)  # Ref: its name
            return SecretSource(arn, ("ssm", arn))
        if resource is not None or target.startswith("AWS::"):
            raise ConfigError(
                where,
                f"{shown(value)} is no secret's ARN; allowed: Ref of a secretsmanager.Secret "
                "or ssm.Parameter, GetAtt(<secret>.Id), or Ref of a Parameter",
            )
        return SecretSource(value, ("", value))  # a Parameter: the ARN it is given
    if name in ("Fn::Sub", "Fn::Join"):
        return _shaped(t, where, value, *_as_sub(where, value, name, args))
    return SecretSource(value, ("", value))  # ImportValue, If: only the stack knows


def _shaped(
    t: Template, where: str, value: object, text: str, variables: dict[str, Any]
) -> SecretSource:
    """A secret given by ``Sub`` (or a ``Join``, as a ``Sub``): its literal text must
    have an ARN's shape; the grant drops a JSON key and completes a partial name."""
    check_text(where, text)
    tokens = _VARIABLE.findall(text)
    shape = _VARIABLE.sub(_V, text)
    # ${Secret}:json-key:version-stage:version-id, a secret of the template and a key.
    owner = tokens[0].removesuffix(".Id") if _OWN_SECRET.fullmatch(shape) else ""
    if owner not in variables and isinstance(t.resources.get(owner), secretsmanager.Secret):
        return SecretSource(value, ("secretsmanager", Ref(owner)))
    secret, parameter = _SECRET_SHAPE.fullmatch(shape), _PARAMETER_SHAPE.fullmatch(shape)
    if parameter:
        return SecretSource(value, ("ssm", value))
    if not secret:
        raise ConfigError(
            where,
            f"{shown(value)} has no secret's ARN shape; allowed: text like "
            "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
            "<name> or arn:${AWS::Partition}:ssm:...:parameter/<name>",
        )
    end = secret.end("name")
    resource = shape[:end]
    if _V not in secret["name"] and not _SECRET_SUFFIX.search(secret["name"]):
        resource += "-??????"  # a partial ARN: IAM matches the full one
    if resource == shape:
        return SecretSource(value, ("secretsmanager", value))
    it = iter(tokens)
    granted = "".join("${" + next(it) + "}" if ch == _V else ch for ch in resource)
    return SecretSource(value, ("secretsmanager", Sub(granted, variables or None)))


def _as_sub(where: str, value: object, name: str, args: Any) -> tuple[str, dict[str, Any]]:
    """A ``Sub``'s text and variables; a ``Join`` of a list as the ``Sub`` it equals."""
    if name == "Fn::Sub":
        return (args, {}) if isinstance(args, str) else (args[0], dict(args[1]))
    delimiter, parts = args
    if not (isinstance(delimiter, str) and isinstance(parts, list)):
        raise ConfigError(where, f"{shown(value)} is not allowed; allowed: a Join of a list")
    text, variables = [], {}
    for i, part in enumerate(parts):
        if isinstance(part, str):
            text.append(part.replace("${", "${!"))
        else:
            variables[f"Part{i}"] = part
            text.append(f"${{Part{i}}}")
    return delimiter.join(text), variables


def _parameter_arn(where: str, parameter: ssm.Parameter) -> Sub:
    """The ARN of an SSM parameter of the template: ``parameter/<name>``, and
    ``parameter<name>`` for a name that starts with "/" (CloudFormation names one it
    makes up without)."""
    name = parameter.properties.get("Name")
    if name is not None and not isinstance(name, str):
        raise ConfigError(
            where,
            f"Ref({parameter.title}) names a parameter whose Name is not text; allowed: "
            "a literal Name, or its ARN with Sub",
        )
    slash = "" if name is not None and name.startswith("/") else "/"
    return Sub(f"{_PARAMETER_ARN}{slash}${{{parameter.title}}}")


def _resource(value: object) -> bool:
    return isinstance(getattr(value, "title", None), str) and isinstance(
        getattr(value, "resource_type", None), str
    )


def _check_names(t: Template, where: str, value: AWSHelperFn) -> dict[str, Any]:
    """``value`` rendered, once each resource, Parameter and Condition it names is
    found in ``t``."""
    try:
        data: dict[str, Any] = encode_to_dict(value)
    except Exception:  # troposphere's own checks, at render time
        raise ConfigError(where, f"{shown(value)} does not render") from None
    names = {*t.resources, *t.parameters}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for inner in node:
                walk(inner)
            return
        if not isinstance(node, dict):
            return
        for fn, args in node.items():
            found: list[str] = []
            if fn == "Ref" and isinstance(args, str):
                found = [args]
            elif fn == "Fn::GetAtt" and isinstance(args, list) and args:
                found = [str(args[0])]
            elif fn == "Fn::Sub":
                text, local = (args, {}) if isinstance(args, str) else (args[0], args[1])
                found = [v.split(".")[0] for v in _VARIABLE.findall(str(text)) if v not in local]
                walk(local)
            elif fn == "Fn::If" and isinstance(args, list) and args:
                if args[0] not in t.conditions:
                    raise ConfigError(
                        where, f"{shown(value)} names Condition {args[0]}, not in this template"
                    )
                walk(args[1:])
            else:
                walk(args)
            for target in found:
                if not target.startswith("AWS::") and target not in names:
                    raise ConfigError(
                        where,
                        f"{shown(value)} names {target}, which is no resource or Parameter "
                        "of this template",
                    )

    walk(data)
    return data
