#!/usr/bin/env bash
# The docs site: every module, filter, test plugin and role of the collection, as antsibull-docs
# renders them, built with Sphinx into build/docs/html/. Fails on any warning.
#   1. antsibull-docs lint-collection-docs: the plugins' documentation and its cross-references
#   2. antsibull-docs collection: RST pages from the collection as Ansible sees it (.cache/collections)
#   3. sphinx-build -W -n: HTML. Links to Ansible's own docs (ansible-core pages, ansible.windows
#      modules) resolve through a local intersphinx inventory written here, since this machine
#      cannot download docs.ansible.com's.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$root/.cache/collections"
out=$root/build/docs
rm -rf "$out"
mkdir -p "$out"
chmod 700 "$out"   # antsibull-docs refuses a destination others can write to

echo "docs: linting the plugins' documentation"
antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck --validate-collection-refs all \
    "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/tasksequence/windows"

echo "docs: writing RST pages"
mkdir -m 700 "$out/rst"
antsibull-docs --config-file docs/site/antsibull-docs.cfg collection --use-current --squash-hierarchy \
    --fail-on-error --dest-dir "$out/rst" tasksequence.windows >/dev/null

export TASKSEQUENCE_DOCS_INVENTORY="$out/ansible_devel.inv"
python - "$TASKSEQUENCE_DOCS_INVENTORY" "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/ansible/windows" <<'PY'
"""Intersphinx inventory (Sphinx's objects.inv format) for the pages of Ansible's docs we link to."""
import os
import sys
import zlib

dest, windows = sys.argv[1:]
# Labels antsibull-docs' page templates use, and where Ansible's docs define them.
core = {
    "action_plugins": "plugins/action.html#action-plugins",
    "callback_plugins": "plugins/callback.html#callback-plugins",
    "list_of_callback_plugins": "collections/callback_index.html#list-of-callback-plugins",
    "list_of_collections": "collections/index.html#list-of-collections",
    "collections_keyword": "collections_guide/collections_using_playbooks.html#collections-keyword",
    "common_return_values": "reference_appendices/common_return_values.html#common-return-values",
    "ansible_configuration_settings": "reference_appendices/config.html#ansible-configuration-settings",
}
lines = [f"{label} std:label -1 {uri} -" for label, uri in core.items()]
# ansible.windows' plugins, as antsibull-docs labels them on docs.ansible.com.
for folder, kind in (("modules", "module"), ("filter", "filter"), ("test", "test"), ("lookup", "lookup"),
                     ("become", "become"), ("connection", "connection"), ("inventory", "inventory")):
    path = os.path.join(windows, "plugins", folder)
    for name in sorted(os.listdir(path)) if os.path.isdir(path) else []:
        if name.endswith(".py") and name != "__init__.py":
            plugin = name[:-3]
            anchor = f"ansible-collections-ansible-windows-{plugin}-{kind}".replace("_", "-")
            lines.append(f"ansible_collections.ansible.windows.{plugin}_{kind} std:label -1 "
                         f"collections/ansible/windows/{plugin}_{kind}.html#{anchor} -")
with open(dest, "wb") as fh:
    fh.write(b"# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
             b"# The remainder of this file is compressed using zlib.\n")
    fh.write(zlib.compress(("\n".join(lines) + "\n").encode()))
PY

echo "docs: building HTML into build/docs/html (warnings are errors)"
sphinx-build -q -b html -c docs/site -W --keep-going -n "$out/rst" "$out/html"
echo "docs: $(find "$out/rst" -name '*.rst' | wc -l) pages, open build/docs/html/index.html"
