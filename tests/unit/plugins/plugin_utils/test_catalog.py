"""The content catalog's schema and rules: every error is one CatalogError naming the field."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _catalog
from ansible_collections.tasksequence.windows.plugins.plugin_utils._catalog import CatalogError, load

CODE = "{6F1C2E55-0D43-4B7A-9C1E-0A1B2C3D4E5F}"


def app(name, deps=(), detection=None, **dt):
    return {"name": name, "dependencies": list(deps), "deployment_types": [
        {"name": "Setup", "install_command": "C:\\Setup\\setup.exe",
         "detection": detection or {"registry": {"key": "HKLM:\\SOFTWARE\\X", "value": name}}, **dt}]}


GOOD = {
    "packages": [{"id": "PS100012", "name": "Agent", "source": {"path": "files/agent"},
                  "programs": [{"name": "Install", "command_line": "setup.exe /q"}]},
                 {"id": "PS100013", "name": "Web", "source": {"url": "https://example.invalid/a.msi",
                                                              "checksum": "ab" * 32}}],
    "applications": [app("Runtime"), app("Viewer", ["Runtime"]), app("Suite", ["Viewer", "Runtime"])],
}


def test_a_good_catalog_loads_with_defaults():
    catalog = load(copy.deepcopy(GOOD))
    assert catalog.packages["PS100012"]["programs"][0]["success_codes"] == [0, 3010]
    assert catalog.packages["PS100013"]["source"]["checksum_algorithm"] == "sha256"
    assert catalog.applications["Viewer"]["deployment_types"][0]["return_codes"] == {
        0: "success", 1707: "success", 3010: "soft_reboot", 1641: "hard_reboot", 1618: "fast_retry"}


def test_dependencies_come_first_each_once():
    catalog = load(copy.deepcopy(GOOD))
    assert catalog.install_order(["Suite", "Runtime"], "applications") == [
        ("Runtime", "Viewer"), ("Viewer", "Suite"), ("Suite", None)]


def _error(data) -> str:
    with pytest.raises(CatalogError) as e:
        load(data)
    return e.value.message


def _with(path, value):
    data = copy.deepcopy(GOOD)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize("data,expected", [
    (None, "tasksequence_catalog: is not defined"),
    (_with(["packages", 0, "id"], "ps100012"), "packages[0].id: 'ps100012' is not a ConfigMgr package ID (upper-case)"),
    (_with(["packages", 1, "source"], {"url": "https://x.invalid/a"}), "missing parameter(s) required by 'url': checksum"),
    (_with(["packages", 0, "source"], {"path": "a", "unc": "\\\\s\\x"}), "mutually exclusive: path|url|unc"),
    (_with(["packages", 0, "programs", 0, "success_codes"], ["0"]), "success_codes[0]: is a str; give a int"),
    (_with(["packages", 0, "name"], 5), "packages[0].name: is a int; give a str"),
    (_with(["applications", 0, "deployment_types", 0, "detection"], None), "detection: missing; every deployment type"),
    (_with(["applications", 0, "dependencies"], ["Suite"]), "dependency loop Runtime -> Suite -> Viewer -> Runtime"),
    (_with(["applications", 1, "dependencies"], ["Nope"]), "(Viewer).dependencies: 'Nope' is not in the catalog"),
    (_with(["applications", 0, "deployment_types", 0, "detection"], {"msi": {"product_code": "abc"}}),
     "product_code: 'abc' is not an MSI product code"),
    (_with(["applications", 0, "deployment_types", 0, "detection"], {"all": []}), "detection.all: give a non-empty list"),
    (_with(["applications", 0, "deployment_types", 0, "detection"],
           {"registry": {"key": "HKLM:\\X", "value": "v", "operator": "equals"}}), "operator equals needs the data"),
    (_with(["applications", 0, "deployment_types", 0, "return_codes"], {0: "success", 5: "maybe"}),
     "return_codes.5: 'maybe' is not one of"),
    (_with(["applications", 0, "deployment_types", 0, "colour"], "red"), "unknown key(s) colour"),
])
def test_errors_name_the_field(data, expected):
    message = _error(data)
    assert message.startswith("tasksequence_catalog: ")
    assert expected.replace("|", ", ") in message or expected in message, message


def test_duplicate_ids_and_names():
    data = copy.deepcopy(GOOD)
    data["packages"].append(copy.deepcopy(data["packages"][0]))
    assert "package PS100012 is declared twice" in _error(data)
    data = copy.deepcopy(GOOD)
    data["applications"].append(app("Runtime"))
    assert "application 'Runtime' is declared twice" in _error(data)


def test_lookups_say_what_is_known():
    catalog = load(copy.deepcopy(GOOD))
    with pytest.raises(CatalogError, match=r"packages\[0\]: package 'PS999999' is not in the catalog; known: PS100012"):
        catalog.package("PS999999", "packages[0]")
    with pytest.raises(CatalogError, match="names are case-sensitive: 'Viewer'"):
        catalog.application("viewer", "applications[0]")
    with pytest.raises(CatalogError, match="has no program 'Uninstall'; its programs: Install"):
        catalog.program("PS100012", "Uninstall", "package_id")


def test_versions_compare_as_numbers():
    assert _catalog.version_tuple("10.0.9") < _catalog.version_tuple("10.0.19045")
    assert _catalog.version_tuple("2.1") == (2, 1, 0, 0)


def test_the_example_catalog_under_playbooks_is_valid():
    import os

    import yaml

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    with open(os.path.join(root, "playbooks", "content_catalog_example.yml"), encoding="utf-8") as f:
        catalog = load(yaml.safe_load(f)[0]["vars"]["tasksequence_catalog"])
    assert catalog.install_order(["Contoso Viewer"], "applications") == [
        ("Contoso Runtime", "Contoso Viewer"), ("Contoso Viewer", None)]
