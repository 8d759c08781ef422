"""JSON Schema validation of a located manifest, with errors a person can act on."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import TYPE_CHECKING

from zgen.errors import Problem
from zgen.manifest.yamlpos import Located
from zgen.resources import schema_path

if TYPE_CHECKING:  # imported where a manifest has problems to word: see validate()
    import jsonschema

_YAML_TYPES = {dict: "a mapping", list: "a list", str: "a string", bool: "true/false",
               int: "an integer", float: "a number", type(None): "empty"}


@lru_cache(maxsize=1)
def schema() -> dict:
    """The manifest's schema: schema.json, with each feature step's parameters from its
    description (zgen.steps)."""
    from zgen.steps import registry

    s = json.loads(schema_path().read_text())
    steps = registry()
    items = s["properties"]["features"]["items"]
    items["properties"] = {name: step.schema() for name, step in steps.items()}
    items["description"] = "each feature step is a mapping with exactly one key: " + ", ".join(steps)
    return s


def _dotted(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "the manifest"


def _fix_from(error: jsonschema.ValidationError, default: str) -> str:
    desc = error.schema.get("description") if isinstance(error.schema, dict) else None
    return desc or default


def _problem(error: jsonschema.ValidationError, doc: Located, filename: str) -> Problem:
    import difflib

    path = tuple(error.absolute_path)
    what = _dotted(path)
    v = error.validator
    line, col = doc.where(path)
    if v == "required":
        missing = [k for k in error.validator_value if k not in (error.instance or {})]
        key = missing[0] if missing else "?"
        sub = error.schema.get("properties", {}).get(key, {})
        hint = sub.get("description", "see `zgen schema`")
        return Problem(filename, line, col, f"{what} is missing '{key}'", f"add `{key}:` ({hint})")
    if v == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        key = extra[0] if extra else "?"
        line, col = doc.where(path + (key,), key=True)
        close = difflib.get_close_matches(str(key), allowed, n=1)
        fix = f"did you mean '{close[0]}'?" if close else (
            f"allowed here: {', '.join(allowed)}" if allowed else "remove it")
        return Problem(filename, line, col, f"unknown key '{key}' in {what}", fix)
    if v == "type":
        got = _YAML_TYPES.get(type(error.instance), type(error.instance).__name__)
        want = error.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        return Problem(filename, line, col, f"{what} must be {want}, not {got} ({error.instance!r})",
                       _fix_from(error, f"write {want} here"))
    if v in ("enum", "const"):
        choices = error.validator_value if v == "enum" else [error.validator_value]
        close = difflib.get_close_matches(str(error.instance), [str(c) for c in choices], n=1)
        fix = f"did you mean '{close[0]}'?" if close else "use one of: " + ", ".join(map(str, choices))
        return Problem(filename, line, col,
                       f"{what} is {error.instance!r}; it must be one of: {', '.join(map(str, choices))}", fix)
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        rel = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[v]
        return Problem(filename, line, col, f"{what} is {error.instance}; it must be {rel} {error.validator_value}",
                       _fix_from(error, "change the value"))
    if v == "pattern" and "propertyNames" in error.schema_path:
        key = error.instance  # the offending name; point at the key itself
        line, col = doc.where(path + (key,), key=True)
        return Problem(filename, line, col, f"name '{key}' in {what} is not valid",
                       _fix_from(error, "rename it"))
    if v == "pattern":
        return Problem(filename, line, col, f"{what} {error.instance!r} is not valid",
                       _fix_from(error, f"it must match {error.validator_value}"))
    if v in ("minItems", "maxItems", "minProperties", "maxProperties", "minLength"):
        return Problem(filename, line, col, f"{what}: {error.message}", _fix_from(error, "see `zgen schema`"))
    if v in ("anyOf", "oneOf"):
        return Problem(filename, line, col, f"{what} is not valid ({error.instance!r})",
                       _fix_from(error, "see `zgen schema` for the allowed forms"))
    return Problem(filename, line, col, f"{what}: {error.message}", "see `zgen schema`")


# A quick verdict on a manifest, without jsonschema (whose import is most of a small command's
# start-up): Draft 2020-12's semantics, as jsonschema implements them, for the keywords the schema
# uses. VALID and INVALID are certain; a keyword, value or type it does not know gives UNSURE. Only
# a VALID manifest skips jsonschema: every other takes the jsonschema path below, which finds and
# words the problems, so messages are the same whatever this says.
VALID, INVALID, UNSURE = True, False, None
_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "examples", "default", "$comment"})
_KNOWN = frozenset({"type", "properties", "additionalProperties", "required", "enum", "const", "pattern",
                    "minLength", "maxLength", "minProperties", "maxProperties", "propertyNames", "minimum",
                    "maximum", "exclusiveMinimum", "exclusiveMaximum", "items", "minItems", "maxItems",
                    "oneOf", "anyOf", "not"}) | _ANNOTATIONS
_PLAIN = (dict, list, str, int, float, bool, type(None))  # what a manifest's YAML holds


def _is_type(x, name: str):
    """jsonschema's Draft 2020-12 type checker; UNSURE for a name it would not know."""
    if name == "object":
        return isinstance(x, dict)
    if name == "array":
        return isinstance(x, list)
    if name == "string":
        return isinstance(x, str)
    if name == "boolean":
        return isinstance(x, bool)
    if name == "null":
        return x is None
    if name == "number":
        return isinstance(x, (int, float)) and not isinstance(x, bool)
    if name == "integer":
        return not isinstance(x, bool) and (isinstance(x, int) or isinstance(x, float) and x.is_integer())
    return UNSURE


def _equal(a, b):
    """jsonschema's equality (enum, const) for plain values: True is not 1; UNSURE otherwise."""
    if not isinstance(a, (str, int, float, bool, type(None))) or not isinstance(b, (str, int, float, bool, type(None))):
        return UNSURE
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def _all(verdicts) -> bool | None:
    """Every verdict VALID: VALID; any INVALID: INVALID; else UNSURE."""
    out = VALID
    for v in verdicts:
        if v is INVALID:
            return INVALID
        if v is UNSURE:
            out = UNSURE
    return out


def quick_verdict(s, x):
    """Whether `x` is valid under schema `s` (VALID, INVALID or UNSURE: see above)."""
    if s is True:
        return VALID
    if s is False:
        return INVALID
    if not isinstance(s, dict) or not _KNOWN.issuperset(s) or not isinstance(x, _PLAIN):
        return UNSURE
    verdicts = []
    for k, v in s.items():
        if k in _ANNOTATIONS:
            continue
        if k == "type":
            found = [_is_type(x, t) for t in (v if isinstance(v, list) else [v])]
            verdicts.append(VALID if VALID in found else (UNSURE if UNSURE in found else INVALID))
        elif k in ("enum", "const"):
            found = [_equal(c, x) for c in v] if k == "enum" and isinstance(v, list) else [_equal(v, x)]
            verdicts.append(VALID if VALID in found else (UNSURE if UNSURE in found else INVALID))
        elif k in ("not", "anyOf", "oneOf"):
            if k == "not":
                sub = quick_verdict(v, x)
                verdicts.append(UNSURE if sub is UNSURE else not sub)
                continue
            found = [quick_verdict(sub, x) for sub in v] if isinstance(v, list) and v else [UNSURE]
            if k == "anyOf":
                verdicts.append(VALID if VALID in found else (UNSURE if UNSURE in found else INVALID))
            elif found.count(VALID) > 1:
                verdicts.append(INVALID)
            else:
                verdicts.append(UNSURE if UNSURE in found else (VALID if found.count(VALID) == 1 else INVALID))
        elif isinstance(x, dict):
            verdicts.append(_object_keyword(k, v, s, x))
        elif isinstance(x, list):
            verdicts.append(_array_keyword(k, v, x))
        elif isinstance(x, str):
            verdicts.append(_string_keyword(k, v, x))
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            verdicts.append(_number_keyword(k, v, x))
        if verdicts and verdicts[-1] is INVALID:
            return INVALID
    return _all(verdicts)


def _length_bound(k, v, x):
    """minProperties / minItems / minLength and their max: each type's keyword bounds len(x).
    (A string's length counts code points, as JSON Schema's does: Python's len.)"""
    return VALID if (len(x) >= v if k.startswith("min") else len(x) <= v) else INVALID


def _object_keyword(k, v, s, x):
    if any(not isinstance(key, str) for key in x):
        return UNSURE  # YAML's 1: or 2.5: keys: leave them to jsonschema
    if k == "properties":
        return _all(quick_verdict(sub, x[name]) for name, sub in v.items() if name in x)
    if k == "additionalProperties":
        known = s.get("properties", {})
        return _all(quick_verdict(v, x[key]) for key in x if key not in known)
    if k == "required":
        return VALID if all(name in x for name in v) else INVALID
    if k in ("minProperties", "maxProperties"):
        return _length_bound(k, v, x)
    if k == "propertyNames":
        return _all(quick_verdict(v, key) for key in x)
    return VALID if k in _KNOWN else UNSURE  # a keyword of another type's


def _array_keyword(k, v, x):
    if k == "items":
        return _all(quick_verdict(v, item) for item in x)
    if k in ("minItems", "maxItems"):
        return _length_bound(k, v, x)
    return VALID


def _string_keyword(k, v, x):
    if k == "pattern":
        return VALID if re.search(v, x) else INVALID
    if k in ("minLength", "maxLength"):
        return _length_bound(k, v, x)
    return VALID


def _number_keyword(k, v, x):
    if k == "minimum":
        return INVALID if x < v else VALID
    if k == "maximum":
        return INVALID if x > v else VALID
    if k == "exclusiveMinimum":
        return INVALID if x <= v else VALID
    if k == "exclusiveMaximum":
        return INVALID if x >= v else VALID
    return VALID


def validate(doc: Located, filename: str) -> list[Problem]:
    if quick_verdict(schema(), doc.data) is VALID:
        return []
    import difflib

    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = list(validator.iter_errors(doc.data))
    # A misspelt key also makes its correct spelling "missing": report the typo only.
    typos = set()
    for e in errors:
        if e.validator == "additionalProperties":
            allowed = list(e.schema.get("properties", {}))
            for key in e.instance:
                if key not in allowed:
                    typos.update((tuple(e.absolute_path), c) for c in difflib.get_close_matches(str(key), allowed, n=1))
    errors = [e for e in errors if not (e.validator == "required" and any(
        (tuple(e.absolute_path), k) in typos for k in e.validator_value if k not in (e.instance or {})))]
    problems = [_problem(e, doc, filename) for e in errors]
    problems.sort(key=lambda p: (p.line or 0, p.col or 0))
    return problems
