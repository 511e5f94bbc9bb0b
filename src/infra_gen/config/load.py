"""The effective configuration: defaults, then a TOML text, then ``--set`` overrides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import Config, ConfigError, parse_setting, parse_toml

__all__ = ["load_config"]


def load_config(toml: bytes | None, overrides: Sequence[str], where: str = "--config") -> Config:
    """Defaults, then the TOML document ``toml``, then ``section.key=value`` overrides.

    Args:
        toml: the bytes of a TOML file (UTF-8); None for none. Default: required.
        overrides: ``--set`` items, each beating the file. Default: required.
        where: what an error line names the document by. Default: ``--config``.

    Returns:
        The frozen, checked configuration.

    Raises:
        ConfigError: a document that is not UTF-8 or not TOML, an unknown key or a
            value not allowed, in one line naming the key.
    """
    data: dict[str, Any] = {}
    if toml is not None:
        try:
            text = toml.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ConfigError(where, f"not valid TOML: not UTF-8 at byte {e.start}") from None
        data = parse_toml(text, where)
    for item in overrides:
        section, name, value = parse_setting(item)
        if not section:  # a top-level setting: governed=true
            data[name] = value
            continue
        table = data.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(section, "expected a table of keys in --config")
        table[name] = value
    return Config.from_mapping(data)
