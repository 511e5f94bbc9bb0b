"""Template to text: YAML (short-form tags) or JSON, byte-stable for the same input.

The YAML is exactly what troposphere's YAML layer (cfn-flip over PyYAML) writes
with the options below, produced faster: PyYAML's representer and emitter state
machine cost most of a run, so :func:`_fast_yaml` walks the data once and drives
PyYAML's own scalar analysis and writers (the parts that decide quoting, folding
and line breaks) directly. Anything outside the shapes it knows falls back to the
full PyYAML path, and the suite compares both paths byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

import cfn_flip  # troposphere's own YAML layer (a dependency of troposphere)
import yaml
from cfn_flip import config as cfn_flip_config
from cfn_tools.yaml_dumper import CfnEmitter
from troposphere import Template
from yaml.emitter import Emitter, ScalarAnalysis
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

__all__ = [
    "render",
    "check_size",
    "largest_parts",
    "TemplateTooLarge",
    "FORMATS",
    "INLINE_TEMPLATE_LIMIT",
]

FORMATS = ("yaml", "json")

# CloudFormation's limit, in bytes, for a template passed in the request body
# (TemplateBody); a larger one must be uploaded to S3 and passed by URL.
INLINE_TEMPLATE_LIMIT = 51_200

_WIDTH = cfn_flip_config.max_col_width

_TAG_STR = "tag:yaml.org,2002:str"
_TAG_INT = "tag:yaml.org,2002:int"
_TAG_FLOAT = "tag:yaml.org,2002:float"
_TAG_BOOL = "tag:yaml.org,2002:bool"
_TAG_NULL = "tag:yaml.org,2002:null"
# cfn-flip's rules: quote AWS account IDs, and these key names become short-form tags.
_ACCOUNT_ID = re.compile(r"^0[0-9]+$")
_SHORT_FORM_KEYS = ("Ref", "Condition")
_LINES_FOR_LITERAL = 10  # cfn-flip: this many line breaks make a '|' block

# Most scalars of a template are words like `AWS::EC2::VPC`, `arn:aws:iam` or
# `10.0.0.0/16`: no space, break, quote or leading indicator. For those PyYAML's
# character-by-character analysis has a known outcome: every style is allowed,
# except plain style inside [...] when a ':' is present. (The suite checks this
# against the analysis itself.)
_WORD = re.compile(r"[A-Za-z0-9_/](?:[A-Za-z0-9_./:-]*[A-Za-z0-9_./-])?")

# Emitter.analyze_scalar as regular expressions (its character loop costs most of
# the rendering time on the long scalars: the probe's code, the dashboard body).
# The suite compares both on generated strings.
_BREAKS = "\n\x85\u2028\u2029"
_SPACE_OR_BREAK = "\x00 \t\r" + _BREAKS
_FIRST_INDICATORS = "#,[]{}&*!|>'\"%@`"
_INNER_FLOW = re.compile(r"[,?\[\]{}:]")
_INNER_COLON_BLOCK = re.compile(f":(?=[{_SPACE_OR_BREAK}]|\\Z)")
_INNER_COMMENT = re.compile(f"(?<=[{_SPACE_OR_BREAK}])#")
_LINE_BREAK = re.compile(f"[{_BREAKS}]")
# Not printable for PyYAML with allow_unicode (the BOM included), spelled as the
# characters themselves: the negated class compiles ten times slower, on every run.
_SPECIAL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufeff\ufffe\uffff\U0010ffff]"
)
_OTHER_BREAKS = re.compile("[\x85\u2028\u2029]")
_BREAK_SPACE = re.compile(f"[{_BREAKS}] ")
_SPACE_BREAK = re.compile(f" [{_BREAKS}]")


def _analyze(scalar: str) -> ScalarAnalysis:
    if not scalar:  # cfn_tools' CfnEmitter answers for the empty string itself
        return ScalarAnalysis(
            scalar=scalar,
            empty=True,
            multiline=False,
            allow_flow_plain=False,
            allow_block_plain=True,
            allow_single_quoted=True,
            allow_double_quoted=True,
            allow_block=True,
        )
    if _WORD.fullmatch(scalar):
        return ScalarAnalysis(
            scalar=scalar,
            empty=False,
            multiline=False,
            allow_flow_plain=":" not in scalar,
            allow_block_plain=True,
            allow_single_quoted=True,
            allow_double_quoted=True,
            allow_block=True,
        )
    flow = block = scalar.startswith(("---", "..."))
    first = scalar[0]
    first_spaced = len(scalar) == 1 or scalar[1] in _SPACE_OR_BREAK
    if first in _FIRST_INDICATORS or (first == "-" and first_spaced):
        flow = block = True
    elif first in "?:":
        flow = True
        block = block or first_spaced
    if _INNER_FLOW.search(scalar, 1):
        flow = True
    if _INNER_COLON_BLOCK.search(scalar, 1):
        block = True
    if _INNER_COMMENT.search(scalar, 1):
        flow = block = True
    line_breaks = bool(_LINE_BREAK.search(scalar))
    special = bool(_SPECIAL.search(scalar))
    ends = (scalar[0] == " ", scalar[0] in _BREAKS, scalar[-1] == " ", scalar[-1] in _BREAKS)
    break_space = bool(_BREAK_SPACE.search(scalar))
    space_break = bool(_SPACE_BREAK.search(scalar))
    flow_plain = block_plain = single = block_style = True
    if any(ends):
        flow_plain = block_plain = False
    if ends[2]:
        block_style = False
    if break_space:
        flow_plain = block_plain = single = False
    if space_break or special:
        flow_plain = block_plain = single = block_style = False
    if line_breaks:
        flow_plain = block_plain = False
    if flow:
        flow_plain = False
    if block:
        block_plain = False
    return ScalarAnalysis(
        scalar=scalar,
        empty=False,
        multiline=line_breaks,
        allow_flow_plain=flow_plain,
        allow_block_plain=block_plain,
        allow_single_quoted=single,
        allow_double_quoted=True,
        allow_block=block_style,
    )


class TemplateTooLarge(ValueError):
    """A rendered template is over :data:`INLINE_TEMPLATE_LIMIT`. ``str()`` is one line,
    naming the template's largest parts (:func:`largest_parts`), where bytes are won."""

    def __init__(self, size: int, fmt: str, largest: list[tuple[str, int]] | None = None) -> None:
        parts = parts_line(largest or [])
        super().__init__(
            f"the {fmt.upper()} template is {size:,} bytes, over the "
            f"{INLINE_TEMPLATE_LIMIT:,} CloudFormation accepts inline"
            + (f"; largest: {parts}" if parts else "")
        )
        self.size = size
        self.largest = list(largest or [])
        """The largest parts, (name, bytes), largest first."""


def check_size(template: Template | str | bytes, fmt: Literal["yaml", "json"] = "yaml") -> int:
    """The size in bytes of ``template`` rendered as ``fmt`` (or of text already rendered).

    Raises :class:`TemplateTooLarge` when it is over the 51,200 bytes CloudFormation
    accepts in a request, naming its three largest parts; such a template must be
    deployed from S3. Call it after extending a built template.
    """
    if isinstance(template, Template):
        template = render(template, fmt)
    data = template.encode("utf-8") if isinstance(template, str) else template
    if len(data) > INLINE_TEMPLATE_LIMIT:
        raise TemplateTooLarge(len(data), fmt, largest_parts(data.decode("utf-8", "replace"), fmt))
    return len(data)


def largest_parts(
    text: str | Mapping[str, Any], fmt: Literal["yaml", "json"] = "yaml", count: int = 3
) -> list[tuple[str, int]]:
    """The ``count`` largest parts of a rendered template with their bytes in ``text``:
    each resource by its logical ID, each other top-level section by its name
    (``Parameters``, ``Outputs``, ...). Largest first; ``[]`` for text it cannot read.

    JSON parts are measured in compact form (as :func:`render` writes it); YAML parts
    are the lines of each top-level key, and of each resource under ``Resources``. A
    template already read (a mapping) is measured as compact JSON.
    """
    if isinstance(text, Mapping):
        sizes = _data_parts(text)
    elif fmt == "json":
        try:
            data = json.loads(text)
        except ValueError:
            return []
        sizes = _data_parts(data) if isinstance(data, dict) else []
    else:
        sizes = _yaml_parts(text)
    return sorted(sizes, key=lambda part: (-part[1], part[0]))[:count]


def parts_line(parts: list[tuple[str, int]]) -> str:
    """:func:`largest_parts` as an error line writes them: ``ProbeFunction 13,733, ...``."""
    return ", ".join(f"{name} {n:,}" for name, n in parts)


def _data_parts(data: Mapping[str, Any]) -> list[tuple[str, int]]:
    """A template's parts (see :func:`largest_parts`) as data, in bytes of compact JSON."""

    def size(value: Any) -> int:
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())

    resources = data.get("Resources")
    parts = [(key, size(value)) for key, value in data.items() if key != "Resources"]
    if isinstance(resources, dict):
        parts += [(key, size(value)) for key, value in resources.items()]
    return parts


def _yaml_parts(text: str) -> list[tuple[str, int]]:
    """Each top-level key's lines (each resource's, under ``Resources``)."""
    parts: list[tuple[str, int]] = []
    section, child_indent = "", -1
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        key = stripped.split(":", 1)[0].strip("'\"")
        if indent == 0 and stripped.strip() and not stripped.startswith(("#", "- ")):
            section, child_indent = key, -1
            if section == "Resources":
                continue
            parts.append((key, 0))
        elif (
            section == "Resources"
            and stripped.strip()
            and child_indent in (-1, indent)
            and (not stripped.startswith(("#", "- ")))
        ):
            child_indent = indent
            parts.append((key, 0))
        if parts:
            parts[-1] = (parts[-1][0], parts[-1][1] + len(line.encode()))
    return parts


def render_inline(t: Template) -> str:
    """The template as ``infra-gen deploy`` sends it: YAML, readable in the console, when
    it fits in a request; else the compact JSON, which takes fewer bytes (the probe's code
    as one string, no indentation).

    Raises :class:`TemplateTooLarge` (with the JSON size) when neither fits.
    """
    text = render(t, "yaml")
    if len(text.encode("utf-8")) <= INLINE_TEMPLATE_LIMIT:
        return text
    text = render(t, "json")
    check_size(text, "json")
    return text


def render(t: Template, fmt: Literal["yaml", "json"] = "yaml") -> str:
    """Keys sorted, no timestamps: the same template always renders to the same text.

    Both forms are kept well under CloudFormation's 51,200-byte limit for a
    template passed in the request: JSON is compact (it is for machines), and YAML
    writes lists of plain values on one line (``AllowedValues: [1, 3, 5]``), as
    troposphere's block-only style would push the largest configuration past it.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "json":
        return str(t.to_json(indent=None, sort_keys=True, separators=(",", ":"))) + "\n"
    data = t.to_dict()  # once: the reference path serialises it only when needed
    try:
        return _fast_yaml(data)
    except _Unsupported:
        return _pyyaml(json.dumps(data, sort_keys=True, separators=(",", ":")))


def _pyyaml(text: str) -> str:
    """The reference rendering: cfn-flip's dumper over PyYAML, every step."""
    return str(
        yaml.dump(
            cfn_flip.load_json(text),
            Dumper=cfn_flip.get_dumper(clean_up=False, long_form=False),
            default_flow_style=None,  # flow style for collections of scalars only
            allow_unicode=True,
            width=_WIDTH,
        )
    )


class _Unsupported(Exception):
    """A shape the fast path does not handle; the reference path renders it."""


# Nodes as cfn-flip's representer builds them: (kind, tag, payload, style or flow).
_Node = tuple[str, str, Any, Any]


def _scalar(tag: str, value: str, style: str | None) -> _Node:
    # cfn_tools' CfnYamlDumper.represent_scalar, applied to every scalar.
    if _ACCOUNT_ID.match(value):
        style = "'"
    if style is None and ("\n" in value or "\r" in value):
        style = '"'
    return ("s", tag, value, style)


def _string(value: str) -> _Node:
    # cfn_flip.yaml_dumper.string_representer
    style: str | None = None
    if value.count("\n") + value.count("\r") >= _LINES_FOR_LITERAL:
        style = "|"
    elif len(value) >= _WIDTH and "\n" not in value:
        style = ">"
    elif value.startswith("0"):
        style = "'"
    return _scalar(_TAG_STR, value, style)


def _keys(mapping: dict[Any, Any]) -> list[str]:
    # Sorted as json.dumps(sort_keys=True) sorts them for the reference path.
    if not all(type(k) is str for k in mapping):
        raise _Unsupported
    return sorted(mapping)


def _plain_scalar(node: _Node) -> bool:
    return node[0] == "s" and not node[3]


def _sequence(tag: str, items: list[Any]) -> _Node:
    nodes = [_represent(item) for item in items]
    return ("q", tag, nodes, all(_plain_scalar(n) for n in nodes))


def _function(name: str, value: Any) -> _Node:
    # cfn_flip.yaml_dumper.fn_representer
    tag = f"!{name}"
    if tag == "!GetAtt" and type(value) is list:
        value = ".".join(value)
    if type(value) is list:
        return _sequence(tag, value)
    if type(value) is dict:
        pairs = [(_string(k), _represent(value[k])) for k in _keys(value)]
        flow = all(_plain_scalar(k) and _plain_scalar(v) for k, v in pairs)
        return ("m", tag, pairs, flow)
    if type(value) is not str:
        raise _Unsupported
    return _scalar(tag, value, None)


def _represent(value: Any) -> _Node:
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is dict:
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key in _SHORT_FORM_KEYS:
                return _function(key, inner)
            if key.startswith("Fn::"):
                return _function(key[4:], inner)
        pairs = [(_string(k), _represent(value[k])) for k in _keys(value)]
        return ("m", "tag:yaml.org,2002:map", pairs, False)
    if kind is list:
        return _sequence("tag:yaml.org,2002:seq", value)
    if kind is bool:
        return _scalar(_TAG_BOOL, "true" if value else "false", None)
    if kind is int:
        return _scalar(_TAG_INT, str(value), None)
    if kind is float and value == value and value not in (float("inf"), float("-inf")):
        text = repr(value).lower()
        if "." not in text and "e" in text:
            text = text.replace("e", ".0e", 1)
        return _scalar(_TAG_FLOAT, text, None)
    if value is None:
        return _scalar(_TAG_NULL, "null", None)
    raise _Unsupported


class _Writer:
    """PyYAML's emitter states for one document, without events or a state stack.

    Each method mirrors the ``expect_*`` state of ``yaml.emitter.Emitter`` it is
    named after (with cfn-flip's indented block sequences); the characters are
    written by the emitter's own ``write_*`` methods, so column tracking, quoting
    and folding are PyYAML's.
    """

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.em = CfnEmitter(self, allow_unicode=True, width=_WIDTH)
        self.em.tag_prefixes = dict(Emitter.DEFAULT_TAG_PREFIXES)
        self.resolver = Resolver()
        self.analyses: dict[str, tuple[ScalarAnalysis, str]] = {}
        self.tags: dict[str, str] = {}

    def write(self, data: str) -> None:
        self.parts.append(data)

    def document(self, root: _Node) -> str:
        em = self.em
        self.node(root, root=True)
        em.write_indent()  # expect_document_end
        if em.open_ended:  # expect_document_start at the stream's end
            em.write_indicator("...", True)
            em.write_indent()
        return "".join(self.parts)

    def _tag(self, tag: str) -> str:
        prepared = self.tags.get(tag)
        if prepared is None:
            prepared = self.tags[tag] = self.em.prepare_tag(tag)
        return str(prepared)

    def _analysis(self, value: str) -> tuple[ScalarAnalysis, str]:
        """PyYAML's analysis of ``value`` and the tag it would resolve to as a plain scalar."""
        found = self.analyses.get(value)
        if found is None:
            analysis = _analyze(value)
            plain_tag = self.resolver.resolve(ScalarNode, value, (True, False))
            found = self.analyses[value] = (analysis, plain_tag)
        return found

    def node(
        self,
        node: _Node,
        *,
        root: bool = False,
        sequence: bool = False,
        mapping: bool = False,
        simple_key: bool = False,
    ) -> None:
        em = self.em
        em.root_context = root
        em.sequence_context = sequence
        em.mapping_context = mapping
        em.simple_key_context = simple_key
        kind, tag, payload, extra = node
        if kind == "s":
            self.scalar(tag, payload, extra)
            return
        default = "tag:yaml.org,2002:seq" if kind == "q" else "tag:yaml.org,2002:map"
        if tag != default:
            em.write_indicator(self._tag(tag), True)
        if em.flow_level or extra or not payload:
            self.flow_sequence(payload) if kind == "q" else self.flow_mapping(payload)
        else:
            self.block_sequence(payload) if kind == "q" else self.block_mapping(payload)

    def scalar(self, tag: str, value: str, style: str | None) -> None:
        em = self.em
        analysis, plain_tag = self._analysis(value)
        implicit = (tag == plain_tag, tag == _TAG_STR)
        chosen = self._style(analysis, style, implicit)
        # process_tag
        if not ((chosen == "" and implicit[0]) or (chosen != "" and implicit[1])):
            em.write_indicator(self._tag(tag), True)
        # expect_scalar / process_scalar
        em.indents.append(em.indent)
        em.indent = em.best_indent if em.indent is None else em.indent + em.best_indent
        split = not em.simple_key_context
        # A value on one line that ends within the width has no space PyYAML would
        # break at: what write_plain and write_single_quoted write is then the text.
        one_line = not analysis.multiline and (
            " " not in value or em.column + 2 + len(value) <= em.best_width
        )
        if chosen == "" and value and one_line:
            if em.root_context:
                em.open_ended = True
            if not em.whitespace:
                value = " " + value
            self.parts.append(value)
            em.column += len(value)
            em.whitespace = em.indention = False
        elif chosen == "'" and one_line and "'" not in value:
            em.write_indicator("'", True)
            self.parts.append(value)
            em.column += len(value)
            em.write_indicator("'", False)
        elif chosen == '"':
            em.write_double_quoted(analysis.scalar, split)
        elif chosen == "'":
            em.write_single_quoted(analysis.scalar, split)
        elif chosen == ">":
            em.write_folded(analysis.scalar)
        elif chosen == "|" and not _OTHER_BREAKS.search(value):
            self._literal(value)
        elif chosen == "|":
            em.write_literal(analysis.scalar)
        else:
            em.write_plain(analysis.scalar, split)
        em.indent = em.indents.pop()

    def _literal(self, text: str) -> None:
        # Emitter.write_literal for text whose only breaks are "\n": each line
        # indented, empty lines left empty, no column kept for the text itself.
        em = self.em
        hints = em.determine_block_hints(text)
        em.write_indicator("|" + hints, True)
        if hints[-1:] == "+":
            em.open_ended = True
        indent = " " * (em.indent or 0)
        body = text if text.endswith("\n") else text + "\n"
        self.parts.append("\n")
        self.parts.extend(f"{indent}{line}\n" if line else "\n" for line in body[:-1].split("\n"))
        em.line += body.count("\n") + 1
        em.column = 0
        em.whitespace = em.indention = True

    def _style(self, a: ScalarAnalysis, style: str | None, implicit: tuple[bool, bool]) -> str:
        # Emitter.choose_scalar_style
        em = self.em
        if style == '"':
            return '"'
        if not style and implicit[0]:
            if not (em.simple_key_context and (a.empty or a.multiline)) and (
                (em.flow_level and a.allow_flow_plain)
                or (not em.flow_level and a.allow_block_plain)
            ):
                return ""
        if style and style in "|>":
            if not em.flow_level and not em.simple_key_context and a.allow_block:
                return style
        if not style or style == "'":
            if a.allow_single_quoted and not (em.simple_key_context and a.multiline):
                return "'"
        return '"'

    def _simple_key(self, key: _Node) -> None:
        # Emitter.check_simple_key for a scalar key: the tag counts even when not written.
        kind, tag, value, _ = key
        if kind != "s":
            raise _Unsupported
        a = self._analysis(value)[0]
        if not (len(self._tag(tag)) + len(a.scalar) < 128 and not a.empty and not a.multiline):
            raise _Unsupported

    def _indent(self, flow: bool) -> None:
        # CfnYamlDumper.increase_indent: block sequences are never indentless.
        em = self.em
        em.indents.append(em.indent)
        if em.indent is None:
            em.indent = em.best_indent if flow else 0
        else:
            em.indent += em.best_indent

    def flow_sequence(self, items: list[_Node]) -> None:
        em = self.em
        em.write_indicator("[", True, whitespace=True)
        em.flow_level += 1
        self._indent(flow=True)
        for i, item in enumerate(items):
            if i:
                em.write_indicator(",", False)
            if em.column > em.best_width:
                em.write_indent()
            self.node(item, sequence=True)
        em.indent = em.indents.pop()
        em.flow_level -= 1
        em.write_indicator("]", False)

    def flow_mapping(self, pairs: list[tuple[_Node, _Node]]) -> None:
        em = self.em
        em.write_indicator("{", True, whitespace=True)
        em.flow_level += 1
        self._indent(flow=True)
        for i, (key, value) in enumerate(pairs):
            if i:
                em.write_indicator(",", False)
            if em.column > em.best_width:
                em.write_indent()
            self._pair(key, value)
        em.indent = em.indents.pop()
        em.flow_level -= 1
        em.write_indicator("}", False)

    def block_sequence(self, items: list[_Node]) -> None:
        em = self.em
        self._indent(flow=False)
        for item in items:
            em.write_indent()
            em.write_indicator("-", True, indention=True)
            self.node(item, sequence=True)
        em.indent = em.indents.pop()

    def block_mapping(self, pairs: list[tuple[_Node, _Node]]) -> None:
        em = self.em
        self._indent(flow=False)
        for key, value in pairs:
            em.write_indent()
            self._pair(key, value)
        em.indent = em.indents.pop()

    def _pair(self, key: _Node, value: _Node) -> None:
        self._simple_key(key)
        self.node(key, mapping=True, simple_key=True)
        self.em.write_indicator(":", False)
        self.node(value, mapping=True)


def _fast_yaml(data: Any) -> str:
    return _Writer().document(_represent(data))
