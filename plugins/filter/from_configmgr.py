# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import (
    SequenceImportError,
    import_sequence,
    import_sequences,
)

DOCUMENTATION = r"""
name: from_configmgr
short_description: Import a ConfigMgr or MDT task sequence as a sequence definition
version_added: 0.1.0
description:
  - Reads a ConfigMgr console export C(.zip), an C(object.xml), a bare C(<sequence>) document or an MDT
    C(ts.xml) (UTF-8 or UTF-16), on the controller, and returns the sequence definition of
    the collection's docs/sequence-format.md.
  - Every step is kept; steps this collection cannot run (OS deployment, WinPE-only) are disabled
    placeholders with a reason. Passwords are never copied; they become references to variables
    listed under C(secrets).
  - DTDs and entities are refused; a document that is not well-formed fails with its line and column.
  - The definition is data from the export, and its strings are marked unsafe, so Ansible never templates them.
    Keep it that way wherever you read a definition (see the collection's docs/importer.md).
options:
  _input:
    description: A path to the export on the controller, or the XML text itself.
    type: str
    required: true
  lenient:
    description: Skip anything before the C(<?xml ?>) declaration (seen in some hand-edited exports).
    type: bool
    default: false
  all_sequences:
    description:
      - Return a list with one definition per task sequence (a console export zip of several sequences, a
        zipped MDT deployment share). Without it, an export that holds more than one sequence is an error.
    type: bool
    default: false
author:
  - Task Sequence for Ansible maintainers (@tasksequence)
"""

EXAMPLES = r"""
- name: Import an export
  ansible.builtin.set_fact:
    sequence: "{{ '/exports/Deploy Apps.zip' | tasksequence.windows.from_configmgr }}"
"""

RETURN = r"""
_value:
  description: The sequence definition (see docs/sequence-format.md); with O(all_sequences=true), a list of them.
  type: raw
"""


def _read(source) -> tuple[bytes | str, str]:
    if not isinstance(source, str):
        raise AnsibleFilterError("from_configmgr: give a path to the export on the controller, or its XML text.")
    if isinstance(source, str) and "<" not in source and os.path.isfile(source):
        with open(source, "rb") as f:
            return f.read(), os.path.basename(source)
    if isinstance(source, str) and "<" not in source:
        raise AnsibleFilterError(f"from_configmgr: '{source}' is neither a readable file on the controller nor XML text.")
    return source, "<inline XML>"


def from_configmgr(source, lenient=False, all_sequences=False):
    if not isinstance(lenient, bool) or not isinstance(all_sequences, bool):
        raise AnsibleFilterError("from_configmgr: lenient and all_sequences take true or false.")
    data, name = _read(source)
    try:
        result = import_sequences(data, name, lenient=lenient) if all_sequences else import_sequence(data, name, lenient=lenient)
    except SequenceImportError as e:
        raise AnsibleFilterError(f"from_configmgr: {e}") from None
    # Export data never becomes a template, on any ansible-core version.
    return wrap_var(result)


class FilterModule:
    def filters(self):
        return {"from_configmgr": from_configmgr}
