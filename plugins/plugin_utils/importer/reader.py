# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading ConfigMgr and MDT task sequence exports safely.

Internal to this collection: no compatibility promise.

Accepts a console export ``.zip`` (one ``SMS_TaskSequencePackage/<ID>/object.xml`` per task
sequence), a zipped MDT deployment share (``Control/<ID>/ts.xml`` per task sequence), a CIM-XML
``object.xml`` (the sequence in the ``Sequence`` property), a bare ``<sequence>`` document and
an MDT ``ts.xml``; UTF-8 or UTF-16. No DTD, entity or external reference is ever processed: a
document that declares one is refused. Zip members are read in memory, never extracted.

Every failure is a ``SequenceImportError`` naming the file, the member, the line and column
where known. Nothing here recurses over the document: the sequence is read as a stream of
start/end events, so memory stays proportional to one step plus the output.
"""

from __future__ import annotations

import dataclasses
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from xml.parsers import expat

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer.errors import Location, SequenceImportError

MAX_XML_BYTES = 64 * 1024 * 1024
MAX_ZIP_MEMBERS = 10000
MAX_ZIP_BYTES = 256 * 1024 * 1024
# Elements nested deeper than this are refused: real sequences stay far below it, and it keeps
# every later stage (mapping, YAML, Jinja's parser, JSON Schema) away from Python's recursion limit.
MAX_XML_DEPTH = 100
ITEM_TAGS = ("step", "group", "subtasksequence")
CHUNK = 1 << 20
_OBJECT_XML = re.compile(r"^SMS_TaskSequencePackage/([^/]+)/object\.xml$", re.IGNORECASE)
_MDT_TS_XML = re.compile(r"^(?:.*/)?Control/([^/]+)/ts\.xml$", re.IGNORECASE)
_FIRST_TAG = re.compile(r"<([^\s/>?!]+)")
_KNOWN_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2",
                  zipfile.ZIP_LZMA: "lzma"}


@dataclasses.dataclass
class Document:
    """One ``<sequence>`` document and what its container says about it."""

    text: str
    loc: Location
    info: dict


class _Refuse(Exception):
    pass


# decoding ----------------------------------------------------------------------------------------


def decode(data: bytes, loc: Location) -> str:
    """Bytes -> text: UTF-16 (with a byte order mark, or recognised by its first '<'), else UTF-8."""
    if len(data) > MAX_XML_BYTES:
        raise loc.error(f"{len(data)} bytes is over the {MAX_XML_BYTES}-byte limit for one document.",
                        "Split the task sequence, or export it without unrelated content.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec, label = "utf-16", "UTF-16"
    elif data.startswith(b"<\x00"):
        codec, label = "utf-16-le", "UTF-16"
    elif data.startswith(b"\x00<"):
        codec, label = "utf-16-be", "UTF-16"
    else:
        codec, label = "utf-8-sig", "UTF-8"
    try:
        return data.decode(codec)
    except UnicodeDecodeError as e:
        # Line and column of the bad bytes: decode what precedes them.
        step = 2 if label == "UTF-16" else 1
        before = data[:e.start - e.start % step].decode(codec, "replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        raise loc.error(f"invalid {label} at byte {e.start} ({e.reason}).",
                        f"The file is damaged or in another encoding: save it as {label} (or UTF-8) and import "
                        "it again.", line=line, column=column) from None


# XML ---------------------------------------------------------------------------------------------


def prepare(text: str, loc: Location, lenient: bool) -> str:
    if lenient:
        # Seen in a real export: comments before the declaration, which XML does not allow.
        start = text.find("<?xml")
        text = text[start:] if start > 0 else text
    # An encoding declaration needs no change: expat parses text as UTF-8 whatever it declares.
    return text


def guard(text: str, loc: Location) -> None:
    """Refuse DTDs and entities (what defusedxml does) and report bad XML with line and column."""
    parser = expat.ParserCreate()

    def refuse(*_args):
        raise _Refuse()

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    try:
        # In slices: expat takes text as UTF-8, and one slice at a time is never a whole copy.
        for offset in range(0, len(text), CHUNK):
            parser.Parse(text[offset:offset + CHUNK], False)
        parser.Parse("", True)
    except _Refuse:
        raise loc.error("declares a DTD or entities; task sequence exports never do, and they are refused "
                        "(they could expand or fetch content).", "Remove the <!DOCTYPE ...> declaration.",
                        line=parser.CurrentLineNumber, column=parser.CurrentColumnNumber + 1) from None
    except expat.ExpatError as e:
        message = expat.ErrorString(e.code)
        if e.code == expat.errors.codes[expat.errors.XML_ERROR_MISPLACED_XML_PI]:
            fix = ("Remove what precedes the <?xml ?> declaration, or import with lenient=true to skip it "
                   "(seen in hand-edited exports).")
        else:
            fix = "Fix the XML at that position (the file was edited by hand or truncated), or export it again."
        raise loc.error(f"not well-formed XML: {message}.", fix, line=e.lineno, column=e.offset + 1) from None


def parse_small(text: str, loc: Location) -> ET.Element:
    """A whole small document (CIM wrapper, dynamic variable rules) as a tree, after the guard."""
    guard(text, loc)
    root = ET.fromstring(text)
    depth = _max_depth(root)
    if depth > MAX_XML_DEPTH:
        raise loc.error(f"elements are nested {depth} deep; the limit is {MAX_XML_DEPTH}.",
                        "Such nesting does not occur in real exports: check the file.")
    return root


def _max_depth(root: ET.Element) -> int:
    deepest, todo = 0, [(root, 1)]
    while todo:   # no recursion: a hostile document cannot exhaust the stack
        elem, depth = todo.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_XML_DEPTH:
            todo.extend((child, depth + 1) for child in elem)
    return deepest


def events(text: str, loc: Location) -> Iterator[tuple[str, ET.Element, int]]:
    """(event, element, depth) for a guarded document, start and end, without building it whole.

    The consumer clears elements it has used (``elem.clear()``); children stay attached to their
    parent until then, as in ElementTree's iterparse.
    """
    parser = ET.XMLPullParser(events=("start", "end"))
    depth = 0
    chunk = 1 << 16   # small: parsed elements wait in the event queue until the loop reads them
    try:
        for offset in range(0, len(text) or 1, chunk):
            parser.feed(text[offset:offset + chunk])
            for event, elem in parser.read_events():
                if event == "start":
                    depth += 1
                    if depth > MAX_XML_DEPTH:
                        raise loc.error(f"elements are nested deeper than {MAX_XML_DEPTH} levels (at <{elem.tag}>).",
                                        "Real task sequences nest far less: check the file, or flatten its groups.")
                    yield event, elem, depth
                else:
                    yield event, elem, depth
                    depth -= 1
        parser.close()
        for event, elem in parser.read_events():
            yield event, elem, depth
    except ET.ParseError as e:   # guard() passed, so this is not expected; still one clear error
        line, column = e.position
        raise loc.error(f"not well-formed XML: {e}.", "Fix the file.", line=line, column=column + 1) from None


def locate(text: str, ordinal: int) -> tuple[int | None, int | None]:
    """Line and column of the ``ordinal``-th (from 1) step, group or sub-sequence start tag."""
    parser = expat.ParserCreate()
    seen = [0]
    found: list[tuple[int, int]] = []

    class _Found(Exception):
        pass

    def start(name, _attrs):
        if name in ITEM_TAGS:
            seen[0] += 1
            if seen[0] == ordinal:
                found.append((parser.CurrentLineNumber, parser.CurrentColumnNumber + 1))
                raise _Found()

    parser.StartElementHandler = start
    try:
        parser.Parse(text, True)
    except (_Found, expat.ExpatError):
        pass
    return found[0] if found else (None, None)


# containers --------------------------------------------------------------------------------------


def documents(source: bytes | str, file: str = "<input>", *, lenient: bool = False) -> list[Document]:
    """Every ``<sequence>`` document in an export, with facts about its container."""
    loc = Location(file)
    if isinstance(source, str):
        if len(source) > MAX_XML_BYTES:
            raise loc.error(f"{len(source)} characters is over the {MAX_XML_BYTES}-character limit for one document.",
                            "Split the task sequence.")
        return [_document(source, loc, {"container": "xml"}, lenient)]
    data = source
    if not isinstance(data, bytes | bytearray):
        raise SequenceImportError(f"expected the export's bytes or XML text, got {type(source).__name__}.", file=file)
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return _from_zip(bytes(data), loc, lenient)
    return [_document(decode(bytes(data), loc), loc, {"container": "xml"}, lenient)]


def _document(text: str, loc: Location, info: dict, lenient: bool) -> Document:
    text = prepare(text, loc, lenient)
    guard(text, loc)
    first = _FIRST_TAG.search(text)
    if first and first.group(1) == "INSTANCE":
        seq_text, props = _from_cim(text, loc)
        del text   # the wrapper is done with: one copy of a large sequence at a time
        info = {**info, "container": info["container"] if info["container"] == "zip" else "object.xml", **props}
        loc = loc.inner("Sequence property")
        text = prepare(seq_text, loc, False)
        del seq_text
        guard(text, loc)
    return Document(text, loc, info)


def _from_cim(text: str, loc: Location) -> tuple[str, dict]:
    root = parse_small(text, loc)
    if root.tag != "INSTANCE":
        raise loc.error(f"the document is a <{root.tag}>, not a task sequence (<sequence>, or a CIM INSTANCE "
                        "with a Sequence property).", "Import the task sequence's own export.")
    props: dict = {}
    seq_text = None
    for prop in root.iter("PROPERTY"):
        name, value = prop.get("NAME"), prop.findtext("VALUE")
        if name == "Sequence":
            seq_text = value
        elif name in ("PackageID", "Name", "Description") and value:
            props["package_id" if name == "PackageID" else name.lower()] = value
    if not seq_text or not seq_text.strip():
        raise loc.error("the CIM INSTANCE has no Sequence property with a task sequence in it.",
                        "Export the task sequence again from the console (Export, with its content).")
    return seq_text, props


def _from_zip(data: bytes, loc: Location, lenient: bool) -> list[Document]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except Exception as e:   # zipfile's failures on damaged input are open-ended
        raise loc.error(f"is not a readable zip archive ({_reason(e)}).",
                        "Copy or download the export again; it is damaged or truncated.") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise loc.error(f"{len(members)} members is over the limit of {MAX_ZIP_MEMBERS}.",
                        "Export the task sequences without unrelated content.")
    # Only the exact member paths are read; nothing is extracted, so no name can escape anywhere.
    found = [(m, "zip", _OBJECT_XML.match(m.filename).group(1)) for m in members if _OBJECT_XML.match(m.filename)]
    mdt = [(m, "mdt-share", _MDT_TS_XML.match(m.filename).group(1)) for m in members if _MDT_TS_XML.match(m.filename)]
    if not found and not mdt:
        raise loc.error("holds neither SMS_TaskSequencePackage/<ID>/object.xml (ConfigMgr console export) nor "
                        "Control/<ID>/ts.xml (MDT deployment share).",
                        "Export the task sequence from the ConfigMgr console, or zip the MDT deployment share.")
    if sum(m.file_size for m, _c, _i in found + mdt) > MAX_ZIP_BYTES:
        raise loc.error(f"its task sequences are over {MAX_ZIP_BYTES} bytes uncompressed together; refused.",
                        "Export fewer task sequences at a time.")
    out = []
    for member, container, seq_id in found + mdt:
        mloc = Location(loc.file, member.filename)
        info: dict = {"container": container, "member": member.filename}
        if container == "mdt-share":
            info["sequence_id"] = seq_id
        # No local keeps the bytes or the decoded text: _document can let go of them.
        out.append(_document(decode(_read_member(archive, member, mloc), mloc), mloc, info, lenient))
    return out


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, loc: Location) -> bytes:
    if member.flag_bits & 0x1:
        raise loc.error("is encrypted; the importer reads no passwords.",
                        "Export the task sequence again without encryption.")
    if member.compress_type not in _KNOWN_METHODS:
        raise loc.error(f"uses compression method {member.compress_type}, which is not one of "
                        f"{', '.join(_KNOWN_METHODS.values())}.", "Re-create the zip with ordinary (deflate) compression.")
    if member.file_size > MAX_XML_BYTES:
        raise loc.error(f"{member.file_size} bytes uncompressed is over the {MAX_XML_BYTES}-byte limit.",
                        "Split the task sequence.")
    try:
        with archive.open(member) as f:
            # Never more than the limit, whatever the header claims.
            data = f.read(MAX_XML_BYTES + 1)
    except Exception as e:   # bad CRC, lying sizes, truncated streams: zipfile raises many types
        raise loc.error(f"is damaged ({_reason(e)}).", "Copy or download the export again.") from None
    if len(data) > MAX_XML_BYTES:
        raise loc.error(f"decompresses to more than {MAX_XML_BYTES} bytes.", "Split the task sequence.")
    if len(data) != member.file_size:
        # zipfile checks the CRC only when the sizes agree: a lying header would pass unnoticed.
        raise loc.error(f"is damaged (its header says {member.file_size} bytes, it holds {len(data)}).",
                        "Copy or download the export again.")
    return data


def _reason(e: Exception) -> str:
    text = str(e).strip() or type(e).__name__
    return text[:200]
