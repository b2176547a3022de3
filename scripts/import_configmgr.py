"""Import a ConfigMgr/MDT task sequence export: print the summary, write the definition and/or playbook.

    .venv/bin/python scripts/import_configmgr.py EXPORT [--lenient] [--definition FILE] [--playbook FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".cache", "collections"))

from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsimport import (  # noqa: E402
    SequenceImportError,
    import_sequence,
    summary_text,
)
from ansible_collections.tasksequence.windows.plugins.plugin_utils._tsplaybook import playbook_text  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("export", help=".zip console export, object.xml, <sequence> XML or MDT ts.xml")
    p.add_argument("--lenient", action="store_true", help="skip anything before the <?xml ?> declaration")
    p.add_argument("--definition", help="write the sequence definition (JSON if it ends in .json, else YAML)")
    p.add_argument("--playbook", help="write the standalone playbook")
    args = p.parse_args(argv)
    try:
        with open(args.export, "rb") as f:
            definition = import_sequence(f.read(), os.path.basename(args.export), lenient=args.lenient)
    except (OSError, SequenceImportError) as e:
        print(f"import failed: {e}", file=sys.stderr)
        return 1
    if args.definition:
        with open(args.definition, "w", encoding="utf-8") as f:
            if args.definition.endswith(".json"):
                json.dump(definition, f, indent=1)
            else:
                import yaml

                yaml.safe_dump(definition, f, sort_keys=False, allow_unicode=True, width=120)
    if args.playbook:
        with open(args.playbook, "w", encoding="utf-8") as f:
            f.write(playbook_text(definition))
    print(summary_text(definition))
    return 0


if __name__ == "__main__":
    sys.exit(main())
