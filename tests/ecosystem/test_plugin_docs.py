"""ansible-doc lists and documents every plugin and role of the collection, as users read them."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.ecosystem.helpers import BIN, ROOT, checkout_env

# plugins/<folder> -> ansible-doc type; folders that hold no documented plugins of their own.
DOC_TYPES = {"modules": "module"}
UNDOCUMENTED = {"action", "plugin_utils", "module_utils", "doc_fragments"}


def collection_plugins() -> dict[str, set[str]]:
    """What the checkout holds, by ansible-doc type: one plugin per file, one role per folder."""
    found: dict[str, set[str]] = {}
    plugins = os.path.join(ROOT, "plugins")
    for folder in sorted(os.listdir(plugins)):
        if folder in UNDOCUMENTED or not os.path.isdir(os.path.join(plugins, folder)):
            continue
        names = {f[:-3] for f in os.listdir(os.path.join(plugins, folder)) if f.endswith(".py") and f != "__init__.py"}
        found[DOC_TYPES.get(folder, folder)] = names
    roles = os.path.join(ROOT, "roles")
    found["role"] = {d for d in os.listdir(roles) if os.path.isdir(os.path.join(roles, d))}
    return found


def ansible_doc(tmp_path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([os.path.join(BIN, "ansible-doc"), *args], capture_output=True, text=True, timeout=120,
                          check=False, cwd=ROOT, env=checkout_env(tmp_path))


def test_plugin_discovery_is_not_empty():
    found = collection_plugins()
    assert {"module", "filter", "test"} <= set(found) and len(found["module"]) >= 5


@pytest.mark.slow
@pytest.mark.parametrize("doc_type", sorted(collection_plugins()))
def test_ansible_doc_lists_and_documents_each(tmp_path, doc_type):
    expected = collection_plugins()[doc_type]
    listed = ansible_doc(tmp_path, "-t", doc_type, "--list", "--json", "tasksequence.windows")
    assert listed.returncode == 0, listed.stderr
    assert {name.rsplit(".", 1)[-1] for name in json.loads(listed.stdout)} == expected
    if not expected:
        return
    names = [f"tasksequence.windows.{n}" for n in sorted(expected)]
    shown = ansible_doc(tmp_path, "-t", doc_type, "--json", *names)
    assert shown.returncode == 0 and "[WARNING]" not in shown.stderr and "[ERROR]" not in shown.stderr, shown.stderr
    docs = json.loads(shown.stdout)
    assert sorted(docs) == names
    for name, doc in docs.items():
        body = doc["doc"] if "doc" in doc else doc.get("entry_points", {}).get("main", {})
        assert body.get("short_description") and body.get("description"), name
        if doc_type != "role":
            assert doc.get("examples"), f"{name} has no EXAMPLES"
