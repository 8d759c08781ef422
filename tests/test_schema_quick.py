"""The quick schema verdict (zgen.manifest.schema_check.quick_verdict, which lets a valid manifest
skip importing jsonschema) never contradicts jsonschema: on every sample manifest and on thousands
of mutations of them (values of every YAML type, keys removed, added or misspelt), VALID and
INVALID are jsonschema's verdict; UNSURE hands over to jsonschema."""
from __future__ import annotations

import copy
import datetime
from pathlib import Path

import jsonschema
import pytest

from zgen.manifest import schema_check, yamlpos

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = sorted([*ROOT.glob("samples/*/*.yaml"), *ROOT.glob("tests/manifests/*.yaml")])
DOCS = [yamlpos.load(p.read_text(), str(p)).data for p in MANIFESTS]
VALIDATOR = jsonschema.Draft202012Validator(schema_check.schema())

VALUES = [None, True, False, 0, -1, 1, 3, 1.0, 0.5, -2.5, 255, 256, 300, 1e9, float("inf"), float("nan"), "", "x",
          "auto", "log", "callback", "led0", "Bad Name", "accelerometer", "int8", "st,lis2dh", "a" * 40, [], [1],
          ["a"], ["a", "b"], [1.5, 2], {}, {"a": 1}, {"above": 0.5}, {"below": 0.2}, {"above": 1, "below": 0},
          {"length": 3}, {"frames": 2}, {"on": 1, "off": 0}, {1: "x"}, datetime.date(2024, 1, 1)]
KEYS = ["name", "board", "zgen", "sensors", "window", "features", "model", "postprocess", "outputs", "test", "kind",
        "rate_hz", "length", "stride", "file", "arena", "above", "below", "count", "led", "gpio", "data", "columns",
        "nmae", "windw", "Bad-Key", "x" * 40, 7]


def _paths(x, path=()):
    yield path
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _paths(v, path + (k,))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _paths(v, path + (i,))


def _mutate(doc, op: int, where: int, pick: int):
    paths = list(_paths(doc))
    path = paths[where % len(paths)]
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    target = parent[path[-1]] if path else doc
    if op == 0 and path:  # replace a value
        parent[path[-1]] = copy.deepcopy(VALUES[pick % len(VALUES)])
    elif op == 1 and path:  # remove it
        del parent[path[-1]]
    elif op == 2 and isinstance(target, dict):  # add a key
        target[KEYS[pick % len(KEYS)]] = copy.deepcopy(VALUES[pick // len(KEYS) % len(VALUES)])
    elif op == 3 and isinstance(target, list) and target:  # repeat an item
        target.append(copy.deepcopy(target[pick % len(target)]))
    elif op == 4 and path and isinstance(parent, dict) and isinstance(path[-1], str):  # misspell a key
        parent[path[-1][:-1] or "_"] = parent.pop(path[-1])
    return doc


def test_samples_are_valid_without_jsonschema():
    assert MANIFESTS
    for doc in DOCS:
        assert schema_check.quick_verdict(schema_check.schema(), doc) is schema_check.VALID


@settings(max_examples=1500, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(0, len(DOCS) - 1),
       st.lists(st.tuples(st.integers(0, 4), st.integers(0, 10_000), st.integers(0, 10_000)), min_size=1, max_size=3))
def test_quick_verdict_never_contradicts_jsonschema(which, mutations):
    doc = copy.deepcopy(DOCS[which])
    for op, where, pick in mutations:
        doc = _mutate(doc, op, where, pick)
    quick = schema_check.quick_verdict(schema_check.schema(), doc)
    assert quick is schema_check.UNSURE or quick == VALIDATOR.is_valid(doc)


def test_unknown_keywords_and_types_are_unsure():
    assert schema_check.quick_verdict({"type": "string", "format": "date"}, "x") is schema_check.UNSURE
    assert schema_check.quick_verdict({"type": "string"}, datetime.date(2024, 1, 1)) is schema_check.UNSURE
    assert schema_check.quick_verdict({"propertyNames": {"pattern": "^a"}}, {1: 2}) is schema_check.UNSURE
    assert schema_check.quick_verdict({"not": {"format": "date"}}, "x") is schema_check.UNSURE
