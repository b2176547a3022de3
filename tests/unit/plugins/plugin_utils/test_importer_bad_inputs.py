"""The importer's bad-input corpus: each malformed export gets one SequenceImportError that names the file
(and member, line, column where known), says what was wrong and what to do; never a traceback."""

from __future__ import annotations

import re
import struct
import zipfile

import pytest

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import (
    SequenceImportError,
    import_sequences,
)
from tests.unit.plugins.plugin_utils.importer_support import SMALL, cim, console_zip, expr, step, var, zip_bytes

MEMBER = "SMS_TaskSequencePackage/PS100001/object.xml"


def seq(body: str, attrs: str = "") -> bytes:
    return f'<sequence version="3.10" {attrs}>{body}</sequence>'.encode()


def setvar(attrs: str = "", condition: str = "") -> str:
    return step("SetVariableAction", "Set it", var("VariableName", "A") + var("VariableValue", "1"),
                condition=condition, attrs=attrs)


def patch_central(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    """Overwrite a field of the first central directory entry (and the local header's twin)."""
    buf = bytearray(data)
    central = buf.find(b"PK\x01\x02")
    struct.pack_into(fmt, buf, central + offset, value)
    if offset in (8, 10):   # flags, method: the local header has them at 6, 8
        struct.pack_into(fmt, buf, offset - 2, value)
    return bytes(buf)


def stored_zip() -> bytes:
    return zip_bytes({MEMBER: cim(SMALL).encode("utf-16")}, method=zipfile.ZIP_STORED)


def flip_data_byte(data: bytes) -> bytes:
    buf = bytearray(data)
    start = 30 + len(MEMBER) + 40   # inside the stored member's data
    buf[start] ^= 0x20
    return bytes(buf)


def deflate_damaged() -> bytes:
    data = bytearray(zip_bytes({MEMBER: cim(SMALL) * 20}))
    for i in range(30 + len(MEMBER) + 5, 30 + len(MEMBER) + 60):
        data[i] = 0xFF
    return bytes(data)


def nested_groups(depth: int) -> bytes:
    return seq('<group name="g">' * depth + setvar() + "</group>" * depth)


def nested_operators(depth: int) -> bytes:
    cond = '<operator type="and">' * depth + expr("Variable", Variable="A", Operator="exists") + "</operator>" * depth
    return seq(setvar(condition=cond))


def rules(text: str) -> bytes:
    return seq(step("SetDynamicVariablesAction", "Dyn", var("OSDSetDynamicVariablesRules", text)))


def check(**values: str) -> bytes:
    return seq(step("PrestartCheckAction", "Ready", "".join(var(k, v) for k, v in values.items())))


# (id, input, file name, [fragments the message must hold])
CASES = [
    # containers
    ("zip-garbage", b"PK\x03\x04" + b"\x00" * 60, "x.zip", ["x.zip: is not a readable zip archive", "again"]),
    ("zip-truncated", console_zip({"PS100001": SMALL})[:120], "x.zip", ["x.zip: is not a readable zip archive"]),
    ("zip-bad-crc", flip_data_byte(stored_zip()), "x.zip", [f"x.zip:{MEMBER}: is damaged", "CRC"]),
    ("zip-size-lies", patch_central(stored_zip(), 24, "<I", 40), "x.zip", [f"x.zip:{MEMBER}: is damaged"]),
    ("zip-size-lies-big", patch_central(stored_zip(), 24, "<I", 10 ** 6), "x.zip", [f"{MEMBER}", "damaged"]),
    ("zip-encrypted", patch_central(stored_zip(), 8, "<H", 1), "x.zip", [f"x.zip:{MEMBER}: is encrypted"]),
    ("zip-unknown-method", patch_central(stored_zip(), 10, "<H", 99), "x.zip",
     [f"{MEMBER}: uses compression method 99", "deflate"]),
    ("zip-deflate-damaged", deflate_damaged(), "x.zip", [f"x.zip:{MEMBER}: is damaged"]),
    ("zip-no-sequence", zip_bytes({"readme.txt": "hi"}), "x.zip", ["holds neither SMS_TaskSequencePackage"]),
    ("zip-empty", zip_bytes({}), "x.zip", ["x.zip: holds neither"]),
    ("zip-member-too-big", patch_central(zip_bytes({MEMBER: "x"}, method=zipfile.ZIP_STORED), 24, "<I", 70_000_000),
     "x.zip", [MEMBER, "over the", "limit"]),
    ("zip-member-bad-utf16", zip_bytes({MEMBER: b"\xff\xfe<\x00a\x00\x00\xd8"}), "x.zip",
     [f"x.zip:{MEMBER}, line 1, column 3: invalid UTF-16"]),
    ("zip-member-not-xml", zip_bytes({MEMBER: "just text"}), "x.zip", [MEMBER, "not well-formed XML"]),
    # encodings
    ("utf8-invalid", b"<sequence>\n<step name='\xc3'/></sequence>", "s.xml", ["s.xml, line 2, column 13: invalid UTF-8"]),
    ("utf16-odd-length", b"\xff\xfe<\x00s\x00e", "s.xml", ["s.xml", "invalid UTF-16", "truncated data"]),
    ("utf16-lone-surrogate", "\ufeff<sequence/>".encode("utf-16-le") + b"\x00\xdc", "s.xml", ["invalid UTF-16"]),
    ("too-large", b" " * (64 * 1024 * 1024 + 1), "s.xml", ["byte limit for one document"]),
    ("not-bytes", 12345, "s.xml", ["s.xml: expected the export's bytes or XML text, got int"]),
    # XML
    ("dtd-entity", b'<!DOCTYPE sequence [<!ENTITY x "y">]><sequence>&x;</sequence>', "s.xml",
     ["s.xml, line 1, column", "declares a DTD", "Remove the <!DOCTYPE"]),
    ("dtd-external", b'<!DOCTYPE sequence SYSTEM "http://example.invalid/x.dtd"><sequence/>', "s.xml", ["declares a DTD"]),
    ("mismatched-tag", b"<sequence>\n  <step>\n</sequence>", "s.xml", ["line 3, column 3: not well-formed XML: mismatched tag"]),
    ("empty-document", b"", "s.xml", ["s.xml, line 1, column 1: not well-formed XML: no element found"]),
    ("text-before-declaration", b'<!-- c -->\n<?xml version="1.0"?><sequence/>', "s.xml",
     ["line 2", "lenient=true"]),
    ("wrong-root", b"<policy/>", "s.xml", ["s.xml: the document is a <policy>, not a task sequence"]),
    ("cim-no-sequence", b'<INSTANCE><PROPERTY NAME="Name"><VALUE>x</VALUE></PROPERTY></INSTANCE>', "object.xml",
     ["object.xml: the CIM INSTANCE has no Sequence property"]),
    ("cim-sequence-not-xml", cim("<sequence><step></sequence>").encode(), "object.xml",
     ["object.xml (Sequence property), line 1, column", "mismatched tag"]),
    ("cim-sequence-dtd", cim('<!DOCTYPE s [<!ENTITY a "b">]><sequence/>').encode(), "object.xml",
     ["(Sequence property)", "declares a DTD"]),
    ("xml-too-deep", seq("<x>" * 100 + "</x>" * 100), "s.xml", ["nested deeper than 100 levels"]),
    ("groups-too-deep", nested_groups(33), "s.xml", ["groups are nested more than 32 levels deep", "line 1, column"]),
    ("conditions-too-deep", nested_operators(17), "s.xml", ["conditions are nested more than 16 levels deep"]),
    # step attributes
    ("timeout-text", seq(setvar('timeout="abc"')), "s.xml",
     ["s.xml (item 1 of the sequence), line 1, column 27: timeout is 'abc'", "digits only"]),
    ("timeout-negative", seq(setvar('timeout="-5"')), "s.xml", ["timeout is '-5', not a whole number from 1"]),
    ("timeout-zero", seq(setvar('timeout="0"')), "s.xml", ["timeout is '0', not a whole number from 1 to 4294967295"]),
    ("timeout-huge", seq(setvar('timeout="99999999999"')), "s.xml", ["timeout is '99999999999'"]),
    ("retry-text", seq(setvar('retryCount="twice"')), "s.xml", ["retryCount is 'twice'"]),
    ("retry-decimal", seq("\n" + setvar('retryCount="1.5"')), "s.xml", ["line 2, column 1: retryCount is '1.5'"]),
    ("success-codes-text", seq(setvar('successCodeList="0 abc"')), "s.xml", ["successCodeList holds 'abc'", "0 3010"]),
    ("success-codes-huge", seq(setvar('successCodeList="99999999999"')), "s.xml", ["successCodeList holds '99999999999'"]),
    # step options
    ("readiness-memory", check(OSDCheckMemory="true", OSDMemory="lots"), "s.xml", ["OSDMemory is 'lots'"]),
    ("readiness-disk", check(OSDCheckFreeDiskSpace="true", OSDFreeDiskSpace="-1"), "s.xml", ["OSDFreeDiskSpace is '-1'"]),
    ("app-count", seq(step("InstallApplicationAction", "Apps", var("OSDAppCount", "two"))), "s.xml",
     ["OSDAppCount is 'two'"]),
    ("app-retry", seq(step("InstallApplicationAction", "Apps", var("RetryCount", "9"))), "s.xml",
     ["RetryCount is '9', not a whole number from 1 to 5"]),
    ("reboot-timeout", seq(step("RebootAction", "Restart", var("SMSRebootTarget", "HD") + var("SMSRebootTimeout", "soon"))),
     "s.xml", ["SMSRebootTimeout is 'soon'"]),
    # conditions
    ("variable-operator", seq(setvar(condition=expr("Variable", Variable="A", Operator="bogus", Value="1"))), "s.xml",
     ["variable condition on 'A' has operator 'bogus'", "greaterequal"]),
    ("operator-type", seq(setvar(condition='<operator type="xor"/>')), "s.xml", ["operator type 'xor' is not and, or or not"]),
    ("registry-operator", seq(setvar(condition=expr("Registry", KeyPath="HKLM\\X", Operator="sometimes"))), "s.xml",
     ["Operator is 'sometimes'", "nonexists"]),
    ("file-version-operator", seq(setvar(condition=expr("File", Path="C:\\x", Version="1", VersionOperator="around"))),
     "s.xml", ["VersionOperator is 'around'"]),
    ("group-condition-operator", seq('<group name="G"><condition>' + expr("Variable", Variable="A", Operator="nope")
                                     + "</condition></group>"), "s.xml", ["item 1 of the sequence", "operator 'nope'"]),
    # dynamic variable rules
    ("rules-not-xml", rules("<Rules><Rule></Rules>"), "s.xml", ["(rules of step 'Dyn')", "mismatched tag"]),
    ("rules-dtd", rules('<!DOCTYPE R [<!ENTITY a "b">]><Rules/>'), "s.xml", ["(rules of step 'Dyn')", "declares a DTD"]),
    ("rules-no-expression", rules("<Rules><Rule><condition><x/></condition></Rule></Rules>"), "s.xml",
     ["condition holds no <expression>"]),
    ("rules-operator", rules("<Rules><Rule><condition>" + expr("Variable", Variable="A", Operator="maybe")
                             + "</condition></Rule></Rules>"), "s.xml", ["rule Operator is 'maybe'"]),
]


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 40 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("data,file,fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clear_error(data, file, fragments):
    with pytest.raises(SequenceImportError) as info:
        import_sequences(data, file)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    # One error, not a chain of tracebacks.
    assert info.value.__cause__ is None and (info.value.__context__ is None or info.value.__suppress_context__)
    assert "Traceback" not in message and len(message) < 1200
    # A sentence that says what to do: every message ends with a fix.
    assert re.search(r"\.\s*$", message)
