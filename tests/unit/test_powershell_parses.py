"""Every .ps1 in the repository parses with the tree-sitter-pwsh grammar.

No PowerShell runs on this machine; this catches syntax errors, not behaviour. Known grammar
false positives go in tests/sanity/pwsh-parse-allowlist.txt with a reason each.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import tree_sitter
import tree_sitter_pwsh

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ALLOWLIST = os.path.join(ROOT, "tests", "sanity", "pwsh-parse-allowlist.txt")
PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))


def repo_ps1_files():
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.ps1", "*.psm1"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return sorted(p for p in out.splitlines() if os.path.exists(os.path.join(ROOT, p)))


def allowlist():
    entries = {}
    with open(ALLOWLIST, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                path, _sep, reason = line.partition(" ")
                assert reason.strip(), f"allowlist entry {path} needs a reason"
                entries[path] = reason
    return entries


def syntax_errors(source: bytes):
    errors = []

    def walk(node):
        if node.is_error or node.is_missing:
            errors.append(f"line {node.start_point[0] + 1} col {node.start_point[1] + 1}: {node.type}")
        for child in node.children:
            walk(child)

    walk(PARSER.parse(source).root_node)
    return errors


def test_project_scripts_exist():
    files = repo_ps1_files()
    assert {"plugins/plugin_utils/powershell/host_query.ps1", "plugins/plugin_utils/powershell/run_script.ps1"} <= set(files)
    assert all(open(os.path.join(ROOT, p), encoding="utf-8").readline().startswith("# tasksequence.windows script: ")
               for p in files if p.startswith("plugins/plugin_utils/powershell/"))


@pytest.mark.parametrize("path", repo_ps1_files())
def test_ps1_parses(path):
    allowed = allowlist()
    with open(os.path.join(ROOT, path), "rb") as f:
        errors = syntax_errors(f.read())
    if path in allowed:
        assert errors, f"{path} parses now: remove it from the allowlist"
        return
    assert not errors, f"{path}: {errors[:5]}"


def test_grammar_catches_real_errors():
    assert syntax_errors(b"if ($a -eq 1 { Write-Output 'x' }")
    assert not syntax_errors(b"if ($a -eq 1) { Write-Output 'x' }")
