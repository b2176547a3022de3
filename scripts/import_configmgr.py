"""Import a ConfigMgr/MDT task sequence export: print the summary, write the definition(s) and/or playbook(s).

    .venv/bin/python scripts/import_configmgr.py EXPORT... [--lenient] [--definition FILE] [--playbook FILE] [--table]

An export holding several task sequences (a console export of several, a zipped MDT deployment
share) gives one definition and playbook per sequence: FILE gets the sequence's package ID (or
MDT task sequence ID) before its extension. Exits 1 with one message if the export cannot be
imported.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".cache", "collections"))

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import (  # noqa: E402
    SUMMARY_HEADER,
    SequenceImportError,
    definition_yaml,
    import_sequences,
    playbook_text,
    summary_row,
    summary_text,
)


def _path(template: str, definition: dict, several: bool) -> str:
    if not several:
        return template
    src = definition["source"]
    tag = re.sub(r"[^A-Za-z0-9_-]+", "_", src.get("package_id") or src.get("member") or definition["name"])
    base, ext = os.path.splitext(template)
    return f"{base}.{tag}{ext}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("export", nargs="+", help=".zip console export or MDT share, object.xml, <sequence> XML or MDT "
                                             "ts.xml (several only with --table)")
    p.add_argument("--lenient", action="store_true", help="skip anything before the <?xml ?> declaration")
    p.add_argument("--definition", help="write the sequence definition (JSON if it ends in .json, else YAML with "
                                        "export strings tagged !unsafe)")
    p.add_argument("--playbook", help="write the standalone playbook")
    p.add_argument("--table", action="store_true", help="print only one Markdown row of counts per sequence "
                                                        "(steps, placeholders, conditions and step settings)")
    args = p.parse_args(argv)
    if args.table:
        return _table(args.export, args.lenient)
    if len(args.export) > 1:
        p.error("give one export (several only with --table)")
    args.export = args.export[0]
    try:
        with open(args.export, "rb") as f:
            definitions = import_sequences(f.read(), os.path.basename(args.export), lenient=args.lenient)
        several = len(definitions) > 1
        for definition in definitions:
            if args.definition:
                with open(_path(args.definition, definition, several), "w", encoding="utf-8") as f:
                    if args.definition.endswith(".json"):
                        # JSON has no tags: whatever reads it must keep its strings inert (docs/importer.md).
                        json.dump(definition, f, indent=1)
                    else:
                        f.write(definition_yaml(definition))
            if args.playbook:
                with open(_path(args.playbook, definition, several), "w", encoding="utf-8") as f:
                    f.write(playbook_text(definition))
    except (OSError, SequenceImportError) as e:
        print(f"import failed: {e}", file=sys.stderr)
        return 1
    for definition in definitions:
        print(summary_text(definition))
    return 0


def _table(exports: list[str], lenient: bool) -> int:
    print(SUMMARY_HEADER)
    failed = 0
    for export in exports:
        try:
            with open(export, "rb") as f:
                for definition in import_sequences(f.read(), os.path.basename(export), lenient=lenient):
                    print(summary_row(definition))
        except (OSError, SequenceImportError) as e:
            print(f"import failed: {e}", file=sys.stderr)
            failed = 1
    return failed


if __name__ == "__main__":
    sys.exit(main())
