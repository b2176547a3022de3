"""Each step's documentation and its action plugin's argument spec say the same thing."""

from __future__ import annotations

import importlib

import pytest
import yaml

STEPS = ["run_command_line", "run_powershell_script", "set_task_sequence_variable",
         "set_dynamic_variables", "check_readiness", "download_package_content", "install_package",
         "install_application", "connect_to_network_folder", "restart_computer", "install_software_updates"]
FRAGMENTS = importlib.import_module("ansible_collections.tasksequence.windows.plugins.doc_fragments.step").ModuleDocFragment


def documented_options(step):
    module = importlib.import_module(f"ansible_collections.tasksequence.windows.plugins.modules.{step}")
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = dict(doc.get("options") or {})
    for frag in doc.get("extends_documentation_fragment", []):
        part = frag.rsplit(".", 1)[-1]
        text = FRAGMENTS.DOCUMENTATION if part == "step" else getattr(FRAGMENTS, part.upper())
        options.update(yaml.safe_load(text).get("options") or {})
    return options


def compare(spec, docs, where):
    assert set(spec) == set(docs), f"{where}: spec {sorted(spec)} != docs {sorted(docs)}"
    for name, s in spec.items():
        d = docs[name]
        assert s.get("type", "str") == d.get("type", "str"), f"{where}.{name} type"
        assert s.get("default") == d.get("default"), f"{where}.{name} default"
        assert bool(s.get("required")) == bool(d.get("required")), f"{where}.{name} required"
        assert s.get("choices") == d.get("choices"), f"{where}.{name} choices"
        assert s.get("elements") == d.get("elements"), f"{where}.{name} elements"
        if "options" in s:
            compare(s["options"], d.get("suboptions") or {}, f"{where}.{name}")


@pytest.mark.parametrize("step", STEPS)
def test_docs_match_argument_spec(step):
    action = importlib.import_module(f"ansible_collections.tasksequence.windows.plugins.action.{step}").ActionModule
    # Every option the step takes (its own, the common ones, the frame's retry ones if it asks for them).
    compare(action.option_spec(), documented_options(step), step)


@pytest.mark.parametrize("step", STEPS)
def test_docs_have_examples_and_return(step):
    mod = importlib.import_module(f"ansible_collections.tasksequence.windows.plugins.modules.{step}")
    examples = yaml.safe_load(mod.EXAMPLES)
    assert examples and all(f"tasksequence.windows.{step}" in task for task in examples)
    ret = yaml.safe_load(mod.RETURN)
    assert {"rc", "reboot_required", "variables", "ansible_facts"} <= set(ret)
