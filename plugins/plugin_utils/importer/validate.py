# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checking a sequence definition against its schema and the nesting limits.

Internal to this collection: no compatibility promise.

The importer checks its own output here (an error rather than a definition that does not
conform), and the playbook writer checks what it is given before it recurses into it.
"""

from __future__ import annotations

import json
import os

from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer.errors import SequenceImportError

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "sequence.schema.json")
MAX_GROUP_DEPTH = 32
MAX_CONDITION_DEPTH = 16
_validator = None


def _schema_validator():
    global _validator
    if _validator is None:
        try:
            import jsonschema
        except ImportError:   # jsonschema is optional on a controller; the structural checks still run
            _validator = False
        else:
            with open(SCHEMA_PATH, encoding="utf-8") as f:
                _validator = jsonschema.Draft202012Validator(json.load(f))
    return _validator


def check_nesting(definition, where: str = "the definition") -> None:
    """Groups at most MAX_GROUP_DEPTH deep, conditions MAX_CONDITION_DEPTH; checked without recursion."""
    if not isinstance(definition, dict) or not isinstance(definition.get("steps"), list):
        raise SequenceImportError("is not a sequence definition (a mapping with a 'steps' list).",
                                  file=where, fix="Give the output of tasksequence.windows.from_configmgr.")
    todo = [(definition["steps"], 1, "steps")]
    while todo:
        items, depth, path = todo.pop()
        if depth > MAX_GROUP_DEPTH:
            raise SequenceImportError(f"groups are nested more than {MAX_GROUP_DEPTH} levels deep (at {path}).",
                                      file=where, fix="Flatten the groups.")
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            if isinstance(item.get("conditions"), dict | list):
                _condition_depth(item["conditions"], where, f"{path}[{i}].conditions")
            if isinstance(item.get("steps"), list):
                todo.append((item["steps"], depth + 1, f"{path}[{i}].steps"))


def _condition_depth(node, where: str, path: str) -> None:
    # Counts and/or/not levels; the importer's own "all" around several top-level tests is one more.
    todo = [(node, 0)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, list):
            todo.extend((v, depth) for v in value)
        elif isinstance(value, dict):
            children = [v for k, v in value.items() if k in ("all", "any", "none")]
            if children and depth + 1 > MAX_CONDITION_DEPTH + 1:
                raise SequenceImportError(f"conditions are nested more than {MAX_CONDITION_DEPTH} levels deep "
                                          f"(at {path}).", file=where, fix="Simplify the condition.")
            todo.extend((v, depth + 1) for v in children)


def validate(definition, where: str = "the definition") -> None:
    """Nesting limits, then the JSON Schema (when jsonschema is installed): one clear error."""
    check_nesting(definition, where)
    validator = _schema_validator()
    if not validator:
        return
    error = next(iter(sorted(validator.iter_errors(definition), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path) or "(top level)"
        message = error.message if len(error.message) < 300 else error.message[:300] + "..."
        raise SequenceImportError(f"does not conform to sequence.schema.json at {path}: {message}", file=where,
                                  fix="See docs/sequence-format.md for what each key takes.")
