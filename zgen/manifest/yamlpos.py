"""Safe YAML loading that remembers where every value and key came from.

PyYAML's safe loader drops positions once it builds Python objects; composing
the node graph first keeps each node's mark, so errors can name line and column.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from zgen.errors import Problem, ZgenError

Path = tuple  # a path into the document: keys and list indexes


@dataclass
class Located:
    """A loaded document and the 1-based (line, col) of each value and key."""

    data: object
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path, key: bool = False) -> tuple[int, int]:
        """The position of `path`, or of its nearest ancestor that has one."""
        table = self.keys if key else self.values
        path = tuple(path)
        while path:
            if path in table:
                return table[path]
            if key and path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), (1, 1))


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


# A manifest is a page of YAML. Aliases may repeat a block, but a few hundred bytes of nested
# aliases ("billion laughs") expand to billions of values: refuse past these.
MAX_BYTES = 1 << 20
MAX_VALUES = 100_000

_NAMES = {0: "NUL", 7: "BEL", 8: "BS", 11: "VT", 12: "FF", 27: "ESC", 127: "DEL"}


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _control_character(text: str) -> tuple[int, int, str] | None:
    """(line, col, name) of the first character YAML does not allow, if any."""
    m = _CONTROL.search(text)
    if m is None:
        return None
    i, o = m.start(), ord(m.group())
    line = text.count("\n", 0, i) + 1
    col = i - (text.rfind("\n", 0, i) + 1) + 1
    return line, col, f"U+{o:04X}" + (f" ({_NAMES[o]})" if o in _NAMES else "")


def load(text: str, filename: str) -> Located:
    if len(text) > MAX_BYTES:
        raise ZgenError.at(filename, None, None, f"the manifest is {len(text)} characters long (at most {MAX_BYTES})",
                           "keep recordings and tables in their own files and name them in the manifest")
    bad = _control_character(text)
    if bad is not None:
        line, col, what = bad
        raise ZgenError.at(filename, line, col, f"control character {what} in the manifest",
                           "delete it: a manifest is plain UTF-8 text")
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as e:
        raise ZgenError.at(filename, None, None, f"unreadable manifest: {e}", "delete the character") from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise ZgenError.at(filename, 1, 1, "the manifest is empty",
                               "start from samples/anomaly/anomaly.yaml or `zgen schema`")
        out = Located(None)
        out.data = _build(loader, node, (), out, filename, [0])
        return out
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        what = " ".join(s for s in (e.context, e.problem) if s)
        if e.context and e.context_mark and e.problem_mark and e.context_mark.line != e.problem_mark.line:
            what += f" (it started at line {e.context_mark.line + 1}, column {e.context_mark.column + 1})"
        if isinstance(e, yaml.constructor.ConstructorError):
            raise ZgenError.at(filename, line, col, f"unsupported YAML tag: {what}",
                               "remove the tag: manifests hold plain values only") from None
        raise ZgenError.at(filename, line, col, f"YAML syntax error: {what}",
                           "fix the indentation or quoting at this position") from None
    finally:
        loader.dispose()


_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path, out: Located, filename: str,
           count: list[int]):
    count[0] += 1
    if count[0] > MAX_VALUES:
        line, col = _mark(node)
        raise ZgenError.at(filename, line, col,
                           f"the manifest expands to more than {MAX_VALUES} values (nested YAML aliases?)",
                           "write the values out, or use aliases that do not nest")
    out.values[path] = _mark(node)
    if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
        line, col = _mark(node)
        raise ZgenError.at(filename, line, col, f"unsupported YAML tag {node.tag}",
                           "remove the tag: manifests hold plain values only")
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, bool) and isinstance(key_node, yaml.ScalarNode) and key_node.style is None:
                # YAML 1.1 reads a plain `off:`/`on:`/`yes:` as a boolean; as a key it is a name
                # (labels: {off: normal, on: anomaly}).
                key = key_node.value
            if not isinstance(key, (str, int, float, bool)) or key is None:
                line, col = _mark(key_node)
                raise ZgenError.at(filename, line, col, "a mapping key must be a plain value",
                                   "write the key as a word, e.g. `rate_hz:`")
            if key in result:
                line, col = _mark(key_node)
                first = out.keys[path + (key,)]
                raise ZgenError(Problem(filename, line, col,
                                        f"duplicate key '{key}' (first at line {first[0]})",
                                        "keep one of the two entries"))
            out.keys[path + (key,)] = _mark(key_node)
            result[key] = _build(loader, value_node, path + (key,), out, filename, count)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, path + (i,), out, filename, count) for i, item in enumerate(node.value)]
    value = loader.construct_object(node, deep=True)
    if isinstance(value, bool) and node.style is None and node.value.lower() not in ("true", "false"):
        # YAML 1.1 reads plain yes/no/on/off/y/n as booleans; a manifest means the word
        # (classify: {labels: [silence, unknown, yes, no]}). true and false stay booleans.
        return node.value
    return value
