# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading ConfigMgr and MDT task sequence exports safely.

Internal to this collection: no compatibility promise.

Accepts a console export ``.zip`` (``SMS_TaskSequencePackage/<ID>/object.xml``), a CIM-XML
``object.xml`` (the sequence in the ``Sequence`` property), a bare ``<sequence>`` document
and an MDT ``ts.xml``; UTF-8 or UTF-16 with a BOM. No DTD, entity or external reference is
ever processed: a document that declares one is refused. Zip members are read in memory,
never extracted. Limits: ``MAX_XML_BYTES`` per document, ``MAX_ZIP_MEMBERS`` and
``MAX_ZIP_BYTES`` (uncompressed) per archive.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from xml.parsers import expat

MAX_XML_BYTES = 20 * 1024 * 1024
MAX_ZIP_MEMBERS = 500
MAX_ZIP_BYTES = 100 * 1024 * 1024
_OBJECT_XML = re.compile(r"^SMS_TaskSequencePackage/[^/]+/object\.xml$", re.IGNORECASE)


class SequenceImportError(ValueError):
    """The export cannot be read; the message says why and what to do."""


class _Refuse(Exception):
    pass


def _safe_parse(text: str, where: str) -> ET.Element:
    """Parse with DTDs and entities refused (what defusedxml does), errors with line and column."""
    guard = expat.ParserCreate()

    def refuse(*_args):
        raise _Refuse()

    guard.StartDoctypeDeclHandler = refuse
    guard.EntityDeclHandler = refuse
    guard.ExternalEntityRefHandler = refuse
    try:
        guard.Parse(text, True)
    except _Refuse:
        raise SequenceImportError(f"{where}: declares a DTD or entities; task sequence exports never do, and they are "
                                  "refused (they could expand or fetch content).") from None
    except expat.ExpatError as e:
        raise SequenceImportError(
            f"{where}: not well-formed XML at line {e.lineno}, column {e.offset + 1}: {expat.ErrorString(e.code)}. "
            "Fix the file (for example remove anything before the <?xml ?> declaration), or import with "
            "lenient=true to skip what precedes the declaration.") from None
    # Checked above: no DTD, no entity can reach ElementTree.
    return ET.fromstring(text)


def decode(data: bytes, where: str) -> str:
    if len(data) > MAX_XML_BYTES:
        raise SequenceImportError(f"{where}: {len(data)} bytes is over the {MAX_XML_BYTES}-byte limit for one document.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SequenceImportError(f"{where}: is neither UTF-8 nor UTF-16 with a byte order mark.") from None


def _lenient(text: str) -> str:
    """Drop whatever precedes the XML declaration (seen in a real export: comments)."""
    start = text.find("<?xml")
    return text[start:] if start > 0 else text


def _drop_declaration(text: str) -> str:
    # ElementTree refuses an encoding declaration on already-decoded text; it says nothing we need.
    return re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)


def read_sequence(source: bytes | str, where: str = "<input>", *, lenient: bool = False) -> tuple[ET.Element, dict]:
    """(the <sequence> element, facts about the container) from any accepted form."""
    if isinstance(source, str):
        data = source.encode("utf-8")
    else:
        data = source
    info: dict = {"container": "xml"}
    if data[:4] == b"PK\x03\x04":
        data, member = _from_zip(data, where)
        info.update(container="zip", member=member)
        where = f"{where}:{member}"
    text = decode(data, where)
    if lenient:
        text = _lenient(text)
    root = _safe_parse(_drop_declaration(text), where)
    if root.tag == "INSTANCE" or root.find(".//PROPERTY") is not None and root.tag != "sequence":
        seq_text, props = _from_cim(root, where)
        info.update(container=info["container"] if info["container"] == "zip" else "object.xml", **props)
        root = _safe_parse(_drop_declaration(seq_text), f"{where} (Sequence property)")
    if root.tag != "sequence":
        raise SequenceImportError(
            f"{where}: the document is a <{root.tag}>, not a task sequence (<sequence> or a CIM INSTANCE with a "
            "Sequence property).")
    info["format"] = "mdt" if root.get("version", "").startswith("3.0") and root.get("name") is not None else "configmgr"
    return root, info


def _from_zip(data: bytes, where: str) -> tuple[bytes, str]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SequenceImportError(f"{where}: is not a readable zip archive.") from None
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise SequenceImportError(f"{where}: {len(members)} members is over the limit of {MAX_ZIP_MEMBERS}.")
    if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
        raise SequenceImportError(f"{where}: over {MAX_ZIP_BYTES} bytes uncompressed; refused.")
    # Only the exact member path is read; nothing is extracted, so no name can escape anywhere.
    found = [m for m in members if _OBJECT_XML.match(m.filename)]
    if not found:
        raise SequenceImportError(
            f"{where}: no SMS_TaskSequencePackage/<ID>/object.xml in the archive; is it a ConfigMgr console export "
            "of a task sequence?")
    if len(found) > 1:
        names = ", ".join(m.filename for m in found)
        raise SequenceImportError(f"{where}: holds {len(found)} task sequences ({names}); export them one by one.")
    member = found[0]
    if member.file_size > MAX_XML_BYTES:
        raise SequenceImportError(f"{where}:{member.filename}: over the {MAX_XML_BYTES}-byte limit.")
    return archive.read(member), member.filename


def _from_cim(root: ET.Element, where: str) -> tuple[str, dict]:
    props = {}
    seq_text = None
    for prop in root.iter("PROPERTY"):
        name, value = prop.get("NAME"), prop.findtext("VALUE")
        if name == "Sequence":
            seq_text = value
        elif name in ("PackageID", "Name", "Description") and value:
            props[name.lower() if name != "PackageID" else "package_id"] = value
    if not seq_text:
        raise SequenceImportError(f"{where}: the CIM INSTANCE has no Sequence property with a task sequence in it.")
    return seq_text, props
