"""Fuzzing the reader and the importer: whatever the bytes, the only exception is SequenceImportError.

Bounded: 200 examples per test, 2 s per example; the three tests take well under a minute together.
"""

from __future__ import annotations

import datetime
import os
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import (
    SequenceImportError,
    import_sequences,
    playbook_text,
)
from tests.unit.plugins.plugin_utils.importer_support import SMALL, cim, console_zip, hostile_sequence, payloads

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
FUZZ = settings(max_examples=200, deadline=datetime.timedelta(seconds=2), database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SEEDS = [
    SMALL.encode(),
    cim(SMALL).encode("utf-16"),
    console_zip({"PS100001": SMALL, "PS100002": SMALL}),
    open(os.path.join(ROOT, "tests", "unit", "fixtures", "configmgr", "all-steps.xml"), "rb").read(),
    hostile_sequence(payloads("/nonexistent")).encode(),
]
RESULTS = {"imported": 0, "refused": 0}


def attempt(data) -> None:
    """Import, and write the playbook of whatever imports: SequenceImportError is the only way to fail."""
    try:
        definitions = import_sequences(data, "fuzz.zip")
    except SequenceImportError as e:
        assert str(e).startswith("fuzz.zip")
        RESULTS["refused"] += 1
        return
    RESULTS["imported"] += 1
    for definition in definitions:
        try:
            playbook_text(definition)
        except SequenceImportError:
            pass


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes(data):
    attempt(data)


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _round in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 64))]
    return bytes(data)


@FUZZ
@given(mutated())
def test_damaged_real_exports(data):
    attempt(data)


TAGS = ["group", "step", "subtasksequence", "condition", "operator", "expression", "osConditionGroup",
        "osExpressionGroup", "platformKey", "variable", "defaultVarList", "globalVarList", "referenceList",
        "reference", "action"]
ATTRS = ["name", "type", "timeout", "retryCount", "successCodeList", "disable", "continueOnError", "runIn",
         "description", "property", "hidden", "arch", "minVer", "maxVer", "ignoreQueryFailure", "package"]
VALUES = st.one_of(
    st.sampled_from(["true", "false", "0", "3010", "-1", "99999999999", "1.5", "", "WinPE", "and", "or", "not", "xor",
                     "SMS_TaskSequence_RunCommandLineAction", "SMS_TaskSequence_SetVariableAction",
                     "SMS_TaskSequence_PrestartCheckAction", "SMS_TaskSequence_SetDynamicVariablesAction",
                     "SMS_TaskSequence_VariableConditionExpression", "SMS_TaskSequence_RegistryConditionExpression",
                     "SMS_TaskSequence_FileConditionExpression", "SMS_TaskSequence_WMIConditionExpression",
                     "BDD_InstallApplication", "OSDMemory", "OSDCheckMemory", "Operator", "Variable", "Value",
                     "CommandLine", "VariableName", "OSDSetDynamicVariablesRules", "{{ 1 }}", "%X%"]),
    st.text(max_size=20))


def element(children):
    return st.builds(lambda tag, attrs, text, kids: (tag, attrs, text, kids), st.sampled_from(TAGS),
                     st.dictionaries(st.sampled_from(ATTRS), VALUES, max_size=4), VALUES, children)


def render(node) -> str:
    tag, attrs, text, kids = node
    attributes = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    return f"<{tag}{attributes}>{escape(text)}{''.join(render(k) for k in kids)}</{tag}>"


@FUZZ
@given(st.lists(st.recursive(element(st.just([])), lambda kids: element(st.lists(kids, max_size=4)), max_leaves=25), max_size=5),
       st.sampled_from(["3.10", "3.00"]), st.booleans())
def test_structured_sequences(items, version, wrap):
    body = f'<sequence version="{version}" name="n">' + "".join(render(i) for i in items) + "</sequence>"
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:   # lone surrogates from st.text: bytes cannot hold them
        return
    attempt((cim(body) if wrap else body).encode("utf-8"))
