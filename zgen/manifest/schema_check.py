"""JSON Schema validation of a located manifest, with errors a person can act on."""
from __future__ import annotations

import difflib
import json
from functools import lru_cache

import jsonschema

from zgen.errors import Problem
from zgen.manifest.yamlpos import Located
from zgen.resources import schema_path

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


def validate(doc: Located, filename: str) -> list[Problem]:
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
