"""Template generation, the command line's default: configuration -> template -> standard
output, an ``-o`` file, or a comparison with a file (``--check``).

Exit status: 0 done; 1 ``--check`` found the file stale; 2 bad arguments, bad
configuration, a template over the inline size limit, or a file or stream that
cannot be read or written.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..config import Config
from ..config.load import load_config
from ..errors import TemplateTooLarge, UsageError
from ..template.budget import INLINE_TEMPLATE_LIMIT
from .files import STDIO, read_input, stderr, write_output, write_stdout

if TYPE_CHECKING:
    from troposphere import Template

__all__ = ["EXIT_STALE", "config_of", "generate"]

EXIT_OK = 0
EXIT_STALE = 1  # --check: the file differs from what would be generated


def config_of(config_file: Path | None, overrides: list[str]) -> Config:
    """The configuration of ``--config`` (``-``: standard input) and ``--set``.

    Raises:
        ConfigError: a file that cannot be read, or any bad key or value, in one line.
    """
    where = f"--config {config_file}"
    toml = None if config_file is None else read_input(config_file, where)
    return load_config(toml, overrides, where)


def generate(args: argparse.Namespace) -> int:
    """Write, print or check the template that ``args`` configure; the exit status.

    Raises:
        UsageError: a file or stream that cannot be used, or a template over the
            inline limit (without ``--allow-large-template``).
        ConfigError: a bad configuration.
    """
    from ..template.builder import build_template
    from ..template.render import render

    if str(args.config) == str(args.check) == STDIO:
        raise UsageError(
            "--config - and --check - both read standard input; give one of them a file"
        )
    output: str | None = args.output
    to_stdout = output is None or output == STDIO
    fmt: Literal["yaml", "json"] = args.format or _format_for(
        args.check or (Path(output) if output else None)
    )
    cfg = config_of(args.config, args.overrides)
    if args.print_config:
        write_stdout(cfg.to_toml().encode("utf-8"))
        return EXIT_OK
    template = build_template(cfg)
    data = render(template, fmt).encode("utf-8")
    if not args.allow_large_template:
        _check_size(data, fmt, cfg, template)
    if args.check is not None:
        return _check(args.check, data, fmt)
    if to_stdout:
        write_stdout(data)
    else:
        assert output is not None
        write_output(output, data)
    return EXIT_OK


def _format_for(path: Path | None) -> Literal["yaml", "json"]:
    return "json" if path is not None and path.suffix == ".json" else "yaml"


def _size_hint(cfg: Config) -> str:
    """The settings that make this template larger than the default one."""
    defaults = Config()
    longer: list[tuple[int, str]] = []
    switched: list[str] = []
    if cfg.governed:
        switched.append("governed")
    for name in cfg.to_mapping():
        if name == "governed":
            continue
        section, default = getattr(cfg, name), getattr(defaults, name)
        for f in dataclasses.fields(section):
            value, was = getattr(section, f.name), getattr(default, f.name)
            key = f"{name}.{f.name}"
            if isinstance(value, str) and len(value) > len(was):
                longer.append((len(value), key))
            elif value is True and was is False:
                switched.append(key)
    if cfg.network.az_count > defaults.network.az_count:
        switched.append(f"network.az_count={cfg.network.az_count}")
    hints = []
    if longer:
        top = sorted(longer, reverse=True)[:3]
        longest = ", ".join(f"{key} ({n} characters)" for n, key in top)
        hints.append(f"shorten {longest}")
    if switched:
        hints.append(f"turn off or lower {', '.join(switched)}")
    hints.append("or pass --allow-large-template and deploy it from S3")
    return "; ".join(hints)


def _check_size(data: bytes, fmt: Literal["yaml", "json"], cfg: Config, t: Template) -> None:
    from ..template.render import check_size, render

    try:
        check_size(data, fmt)
    except TemplateTooLarge as e:
        if fmt == "yaml" and len(render(t, "json").encode("utf-8")) <= INLINE_TEMPLATE_LIMIT:
            # The probe's code costs more in YAML (indented lines) than in compact JSON.
            raise UsageError(
                f"{e}; its compact JSON fits: write it with --format json (or a .json "
                "file), the form infra-gen deploy sends"
            ) from None
        raise UsageError(f"{e}; to shrink it: {_size_hint(cfg)}") from None


def _diff_lines(text: str, fmt: str) -> list[str]:
    if fmt == "json":
        # Compact JSON is one line; indented, a diff shows which values changed.
        try:
            return json.dumps(
                json.loads(text), indent=1, sort_keys=True, ensure_ascii=False
            ).splitlines(keepends=True)
        except ValueError:
            pass
    return text.splitlines(keepends=True)


def _check(path: Path, data: bytes, fmt: str) -> int:
    current = read_input(path, f"--check {path}")
    if current == data:
        return EXIT_OK
    import difflib  # only for a stale file

    was, now = current.decode("utf-8", errors="replace"), data.decode("utf-8")
    old, new = _diff_lines(was, fmt), _diff_lines(now, fmt)
    if old == new:  # the difference is outside the JSON values (spacing, line ends)
        old, new = was.splitlines(keepends=True), now.splitlines(keepends=True)
    diff = difflib.unified_diff(old, new, fromfile=str(path), tofile="generated")
    stderr(
        "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            for line in diff
        )
    )
    stderr(f"infra-gen: {path} is stale: it differs from what this configuration generates\n")
    return EXIT_STALE
