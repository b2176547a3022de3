"""Import a ConfigMgr/MDT task sequence export: print the summary, write the definition(s) and/or playbook(s).

    .venv/bin/python scripts/import_configmgr.py EXPORT [--lenient] [--definition FILE] [--playbook FILE]

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
    SequenceImportError,
    definition_yaml,
    import_sequences,
    playbook_text,
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
    p.add_argument("export", help=".zip console export or MDT share, object.xml, <sequence> XML or MDT ts.xml")
    p.add_argument("--lenient", action="store_true", help="skip anything before the <?xml ?> declaration")
    p.add_argument("--definition", help="write the sequence definition (JSON if it ends in .json, else YAML with "
                                        "export strings tagged !unsafe)")
    p.add_argument("--playbook", help="write the standalone playbook")
    args = p.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
