# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ConfigMgr / MDT task sequence importer: reader, mapping, playbook writer.

Internal to this collection: no compatibility promise. Kept apart from the step runtime: nothing
here runs on a host, and nothing here is imported by the steps.
"""

from __future__ import annotations

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import reader, validate
from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer.errors import SequenceImportError
from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer.inert import definition_yaml
from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer.mapping import Importer
from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer.playbook import playbook_text


def import_sequences(source: bytes | str, name: str = "<input>", *, lenient: bool = False) -> list[dict]:
    """One sequence definition per task sequence in the export, each checked against the schema."""
    out = []
    for doc in reader.documents(source, name, lenient=lenient):
        definition = Importer(doc).run()
        # The importer's own output must conform; a bug here is an error, never a silent bad file.
        validate.validate(definition, str(doc.loc))
        out.append(definition)
    return out


def import_sequence(source: bytes | str, name: str = "<input>", *, lenient: bool = False) -> dict:
    """The sequence definition of an export that holds exactly one task sequence."""
    definitions = import_sequences(source, name, lenient=lenient)
    if len(definitions) != 1:
        names = ", ".join(f"{d['name']} ({d['source'].get('package_id') or d['source'].get('member')})"
                          for d in definitions)
        raise SequenceImportError(f"holds {len(definitions)} task sequences: {names}.", file=name,
                                  fix="Import it with import_sequences (the from_configmgr filter's all_sequences=true, or "
                                      "the import script) to get one definition per task sequence.")
    return definitions[0]


def summary_text(definition: dict) -> str:
    s = definition["import_summary"]
    lines = [f"{definition['name']}: {s['steps']} steps, {s['imported']} imported, {len(s['placeholders'])} placeholders"]
    reasons: dict[str, int] = {}
    for p in s["placeholders"]:
        reasons[p["reason"]] = reasons.get(p["reason"], 0) + 1
    lines += [f"  {n} x placeholder: {r}" for r, n in sorted(reasons.items(), key=lambda x: -x[1])]
    cond, settings = s.get("conditions") or {}, s.get("settings") or {}
    if cond or settings:
        lines.append(f"  conditions: {cond.get('translated', 0)} translated, {cond.get('dropped', 0)} dropped; "
                     f"step settings: {settings.get('kept', 0)} kept, {settings.get('not_applicable', 0)} not "
                     f"applicable, {settings.get('dropped', 0)} dropped")
        lines += [f"  dropped: {d['step']}: {d['setting']} ({d['reason']})" for d in settings.get("dropped_settings", [])]
    if definition["secrets"]:
        lines.append(f"  {len(definition['secrets'])} secret(s) to supply: "
                     + ", ".join(s_["variable"] for s_ in definition["secrets"]))
    return "\n".join(lines)


def summary_row(definition: dict) -> str:
    """One Markdown table row of the import's counts (see ``SUMMARY_HEADER``)."""
    s = definition["import_summary"]
    cond, settings = s["conditions"], s["settings"]
    src = definition["source"]
    return (f"| {src.get('file', '')} | {src.get('package_id') or definition['name']} | {s['steps']} | {s['imported']} | "
            f"{len(s['placeholders'])} | {cond['translated']} / {cond['dropped']} | "
            f"{settings['kept']} / {settings['not_applicable']} / {settings['dropped']} |")


SUMMARY_HEADER = ("| file | sequence | steps | imported | placeholders | conditions translated / dropped | "
                  "step settings kept / not applicable / dropped |\n|---|---|---|---|---|---|---|")

__all__ = ["SUMMARY_HEADER", "SequenceImportError", "definition_yaml", "import_sequence", "import_sequences",
           "playbook_text", "summary_row", "summary_text"]
