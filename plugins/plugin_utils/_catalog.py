# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The content catalog: the packages and applications a ConfigMgr site would know, as data.

Internal to this collection: no compatibility promise.

Declared in inventory or group vars as ``tasksequence_catalog`` (see docs/content-catalog.md).
``load`` checks the whole catalog against ``PACKAGE_SPEC`` / ``APPLICATION_SPEC`` (argument
specs, the same checker the steps use for their options) plus the rules a spec cannot say:
ConfigMgr package IDs, unique names, a detection method on every deployment type, known
dependencies without a loop. Any error is one ``CatalogError`` naming the field, raised
before a step sends anything to the host.
"""

from __future__ import annotations

import re
import typing as t

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import _without_accept, check_raw_types

VARIABLE = "tasksequence_catalog"
# ConfigMgr package IDs: the three-character site code and five hex digits, upper-case (PS100012).
PACKAGE_ID_RE = re.compile(r"^[A-Z0-9]{3}[0-9A-F]{5}$")
OPERATORS = ("exists", "not_exists", "equals", "not_equals", "less", "less_equal", "greater", "greater_equal")
VERSION_OPERATORS = OPERATORS[2:]
CHECKSUM_ALGORITHMS = ["md5", "sha1", "sha256", "sha384", "sha512"]
# ConfigMgr's deployment type return code kinds, and the defaults a new deployment type gets.
RETURN_CODE_KINDS = ("success", "soft_reboot", "hard_reboot", "fast_retry", "failure")
DEFAULT_RETURN_CODES = {0: "success", 1707: "success", 3010: "soft_reboot", 1641: "hard_reboot", 1618: "fast_retry"}
UINT32 = 2 ** 32

SOURCE_SPEC: dict[str, dict] = {
    "path": {"type": "str"},        # on the controller (file or folder), as win_copy's src
    "url": {"type": "str"},         # HTTP(S); the host downloads it itself
    "checksum": {"type": "str"},
    "checksum_algorithm": {"type": "str", "default": "sha256", "choices": CHECKSUM_ALGORITHMS},
    "file_name": {"type": "str"},   # name of the downloaded file (default: the URL's last segment)
    "unc": {"type": "str"},         # \\server\share\folder, copied on the host
}
SOURCE_CHECKS = {"mutually_exclusive": [("path", "url", "unc")], "required_one_of": [("path", "url", "unc")],
                 "required_by": {"url": ["checksum"]}}

PROGRAM_SPEC: dict[str, dict] = {
    "name": {"type": "str", "required": True},
    "command_line": {"type": "str", "required": True},
    "success_codes": {"type": "list", "elements": "int", "default": [0, 3010]},
    "may_restart": {"type": "bool", "default": True},
    "detection": {"type": "dict"},   # optional: checked by check_detection (recursive)
}

PACKAGE_SPEC: dict[str, dict] = {
    "id": {"type": "str", "required": True},
    "name": {"type": "str", "required": True},
    "version": {"type": "str"},
    "source": {"type": "dict", "required": True, "options": SOURCE_SPEC},
    "programs": {"type": "list", "elements": "dict", "default": [], "options": PROGRAM_SPEC},
}

REQUIREMENTS_SPEC: dict[str, dict] = {
    "os_min_version": {"type": "str"},
    "os_max_version": {"type": "str"},
    "architecture": {"type": "str", "choices": ["32", "64"]},
    "memory_mb": {"type": "int"},
    "free_disk_mb": {"type": "int"},
}

DEPLOYMENT_TYPE_SPEC: dict[str, dict] = {
    "name": {"type": "str", "required": True},
    "content": {"type": "dict", "options": SOURCE_SPEC},
    "install_command": {"type": "str", "required": True},
    "uninstall_command": {"type": "str"},
    "detection": {"type": "dict"},
    "requirements": {"type": "dict", "options": REQUIREMENTS_SPEC},
    "return_codes": {"type": "dict", "accept": (dict,)},
}

APPLICATION_SPEC: dict[str, dict] = {
    "name": {"type": "str", "required": True},
    "description": {"type": "str"},
    "deployment_types": {"type": "list", "elements": "dict", "required": True, "options": DEPLOYMENT_TYPE_SPEC},
    "dependencies": {"type": "list", "elements": "str", "default": []},
}

CATALOG_SPEC: dict[str, dict] = {
    "packages": {"type": "list", "elements": "dict", "default": [], "options": PACKAGE_SPEC},
    "applications": {"type": "list", "elements": "dict", "default": [], "options": APPLICATION_SPEC},
}


class CatalogError(AnsibleActionFail):
    """The catalog breaks its schema or its rules; nothing has run."""

    def __init__(self, message: str):
        super().__init__(f"{VARIABLE}: {message}")


def _validate(value: t.Any, spec: dict, where: str, checks: dict | None = None) -> dict:
    """One item against its spec: raw types first (no silent conversion), then Ansible's checker."""
    if not isinstance(value, dict):
        raise CatalogError(f"{where}: is a {type(value).__name__}; give a dictionary.")
    _only(value, spec, where)
    try:
        check_raw_types(value, spec, f"{where}.")
    except AnsibleActionFail as e:
        raise CatalogError(e.message) from None
    validator = ArgumentSpecValidator(_without_accept(spec), **(checks or {}))
    result = validator.validate(value)
    if result.error_messages:
        raise CatalogError(f"{where}: {result.error_messages[0]}")
    return result.validated_parameters


def _source(value: dict | None, where: str) -> dict | None:
    if value is None:
        return None
    source = _validate(value, SOURCE_SPEC, where, SOURCE_CHECKS)
    if source["url"] and not re.match(r"(?i)^https?://[^/]+", source["url"]):
        raise CatalogError(f"{where}.url: '{source['url']}' is not an http:// or https:// URL.")
    if source["unc"] and not re.match(r"^\\\\[^\\]+\\[^\\]+", source["unc"]):
        raise CatalogError(f"{where}.unc: '{source['unc']}' is not a UNC path (\\\\server\\share\\folder).")
    if source["checksum"] and not re.match(r"^[0-9A-Fa-f]+$", source["checksum"]):
        raise CatalogError(f"{where}.checksum: give the hex digest of the file ({source['checksum_algorithm']}).")
    if source["file_name"] and re.search(r"[\\/:*?\"<>|]", source["file_name"]):
        raise CatalogError(f"{where}.file_name: '{source['file_name']}' is not a plain file name.")
    return source


def _version(text: t.Any, where: str) -> str:
    if not isinstance(text, str) or not re.match(r"^\d+(\.\d+){0,3}$", text.strip()):
        raise CatalogError(f"{where}: '{text}' is not a version (1 to 4 numbers separated by dots, e.g. 10.0.19045).")
    return text.strip()


def version_tuple(text: str) -> tuple[int, ...]:
    parts = [int(p) for p in str(text).strip().split(".") if p.isdigit()]
    return tuple(parts + [0] * (4 - len(parts)))


def _only(value: dict, allowed: dict, where: str) -> None:
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {', '.join(unknown)}; supported: {', '.join(sorted(allowed))}.")


def check_detection(value: t.Any, where: str, depth: int = 0) -> dict:
    """A detection method: one clause, or all / any of several (nestable), as ConfigMgr's and / or."""
    if depth > 8:
        raise CatalogError(f"{where}: nested more than 8 levels deep.")
    if not isinstance(value, dict) or len(value) != 1:
        raise CatalogError(f"{where}: give exactly one of msi, file, registry, all, any "
                           f"(got {sorted(value) if isinstance(value, dict) else type(value).__name__}).")
    kind, body = next(iter(value.items()))
    here = f"{where}.{kind}"
    if kind in ("all", "any"):
        if not isinstance(body, list) or not body:
            raise CatalogError(f"{here}: give a non-empty list of detection clauses.")
        return {kind: [check_detection(item, f"{here}[{i}]", depth + 1) for i, item in enumerate(body)]}
    if not isinstance(body, dict):
        raise CatalogError(f"{here}: is a {type(body).__name__}; give a dictionary.")
    if kind == "msi":
        _only(body, {"product_code": 1, "version": 1, "version_operator": 1}, here)
        code = body.get("product_code")
        if not isinstance(code, str) or not re.match(r"^\{[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}$", code):
            raise CatalogError(f"{here}.product_code: '{code}' is not an MSI product code ({{GUID}} in braces).")
        out = {"product_code": code.upper(), "version": None, "version_operator": "equals"}
        if body.get("version") is not None:
            out["version"] = _version(body["version"], f"{here}.version")
            out["version_operator"] = _operator(body.get("version_operator", "equals"), f"{here}.version_operator",
                                                VERSION_OPERATORS)
        return {"msi": out}
    if kind == "file":
        _only(body, {"path": 1, "version": 1}, here)
        path = body.get("path")
        if not isinstance(path, str) or not re.match(r"^([A-Za-z]:\\|\\\\|%)", path):
            raise CatalogError(f"{here}.path: '{path}' is not an absolute Windows path.")
        version = _version(body["version"], f"{here}.version") if body.get("version") is not None else None
        return {"file": {"path": path, "version": version}}
    if kind == "registry":
        _only(body, {"key": 1, "value": 1, "operator": 1, "data": 1, "data_type": 1}, here)
        key = body.get("key")
        if not isinstance(key, str) or not re.match(r"^HK(LM|CU|CR|U|CC):\\", key):
            raise CatalogError(f"{here}.key: '{key}' is not a registry key path (HKLM:\\SOFTWARE\\...).")
        name = body.get("value")
        if not isinstance(name, str):
            raise CatalogError(f"{here}.value: give the name of the registry value (a string).")
        operator = _operator(body.get("operator", "exists"), f"{here}.operator", OPERATORS)
        data_type = body.get("data_type", "string")
        if data_type not in ("string", "integer", "version"):
            raise CatalogError(f"{here}.data_type: '{data_type}' is not one of string, integer, version.")
        data = body.get("data")
        if operator not in ("exists", "not_exists"):
            if data is None or isinstance(data, (bool, dict, list)):
                raise CatalogError(f"{here}.data: operator {operator} needs the data to compare with.")
            data = str(data)
            if data_type == "version":
                _version(data, f"{here}.data")
            if data_type == "integer" and not re.match(r"^-?\d+$", data):
                raise CatalogError(f"{here}.data: '{data}' is not an integer.")
        return {"registry": {"key": key, "value": name, "operator": operator, "data": data, "data_type": data_type}}
    raise CatalogError(f"{where}: unknown detection clause '{kind}'; use msi, file, registry, all or any.")


def _operator(value: t.Any, where: str, allowed: tuple) -> str:
    if value not in allowed:
        raise CatalogError(f"{where}: '{value}' is not one of {', '.join(allowed)}.")
    return value


def _return_codes(value: dict | None, where: str) -> dict[int, str]:
    if value is None:
        return dict(DEFAULT_RETURN_CODES)
    codes: dict[int, str] = {}
    for key, kind in value.items():
        try:
            code = int(key)
        except (TypeError, ValueError):
            code = None
        if code is None or isinstance(key, bool) or not -(2 ** 31) <= code < UINT32:
            raise CatalogError(f"{where}: '{key}' is not a Windows exit code.")
        if kind not in RETURN_CODE_KINDS:
            raise CatalogError(f"{where}.{key}: '{kind}' is not one of {', '.join(RETURN_CODE_KINDS)}.")
        codes[code % UINT32] = kind
    if not any(kind == "success" for kind in codes.values()):
        raise CatalogError(f"{where}: no code means success; map at least one (usually 0: success).")
    return codes


class Catalog:
    """The checked catalog: packages by ID, applications by name (case-sensitive, as ConfigMgr)."""

    def __init__(self, packages: dict[str, dict], applications: dict[str, dict]):
        self.packages, self.applications = packages, applications

    def package(self, package_id: str, field: str) -> dict:
        if package_id not in self.packages:
            hint = ""
            if package_id.upper() in self.packages:
                hint = f" (package IDs are upper-case: {package_id.upper()})"
            raise CatalogError(f"{field}: package '{package_id}' is not in the catalog{hint}; "
                               f"known: {', '.join(sorted(self.packages)) or 'none'}.")
        return self.packages[package_id]

    def program(self, package_id: str, program: str, field: str) -> dict:
        package = self.package(package_id, field)
        for item in package["programs"]:
            if item["name"] == program:
                return item
        raise CatalogError(f"{field}: package {package_id} has no program '{program}'; "
                           f"its programs: {', '.join(p['name'] for p in package['programs']) or 'none'}.")

    def application(self, name: str, field: str) -> dict:
        if name not in self.applications:
            near = [n for n in self.applications if n.lower() == name.lower()]
            hint = f" (names are case-sensitive: '{near[0]}')" if near else ""
            raise CatalogError(f"{field}: application '{name}' is not in the catalog{hint}.")
        return self.applications[name]

    def install_order(self, names: list[str], field: str) -> list[tuple[str, str | None]]:
        """Each application after its dependencies, each once: [(name, the app that needed it or None)]."""
        order: list[tuple[str, str | None]] = []
        seen: set[str] = set()

        def visit(name: str, needed_by: str | None) -> None:
            if name in seen:
                return
            for dependency in self.application(name, field)["dependencies"]:
                visit(dependency, name)
            seen.add(name)
            order.append((name, needed_by))

        for name in names:
            visit(name, None)
        return order


def _check_loops(applications: dict[str, dict]) -> None:
    state: dict[str, int] = {}   # 1 visiting, 2 done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            loop = path[path.index(name):] + [name]
            raise CatalogError(f"applications: dependency loop {' -> '.join(loop)}.")
        state[name] = 1
        for dependency in applications[name]["dependencies"]:
            visit(dependency, [*path, name])
        state[name] = 2

    for name in applications:
        visit(name, [])


def load(raw: t.Any) -> Catalog:
    """Check the whole catalog (``tasksequence_catalog``) and return it; CatalogError otherwise."""
    if raw is None:
        raise CatalogError("is not defined; declare the packages and applications in inventory or group vars "
                           "(see docs/content-catalog.md).")
    top = _validate(raw, {k: {**v, "options": None} for k, v in CATALOG_SPEC.items()}, "catalog")
    packages: dict[str, dict] = {}
    for index, item in enumerate(top["packages"] or []):
        where = f"packages[{index}]"
        spec = {**PACKAGE_SPEC, "source": {"type": "dict", "required": True}, "programs": {
            "type": "list", "elements": "dict", "default": []}}
        package = _validate(item, spec, where)
        package_id = package["id"]
        if not PACKAGE_ID_RE.match(package_id):
            hint = " (upper-case)" if PACKAGE_ID_RE.match(package_id.upper()) else ""
            raise CatalogError(f"{where}.id: '{package_id}' is not a ConfigMgr package ID{hint}: a three-character "
                               "site code and five hexadecimal digits, e.g. PS100012.")
        where = f"packages[{index}] ({package_id})"
        if package_id in packages:
            raise CatalogError(f"{where}.id: package {package_id} is declared twice.")
        package["source"] = _source(package["source"], f"{where}.source")
        programs = []
        for p_index, program in enumerate(package["programs"] or []):
            p_where = f"{where}.programs[{p_index}]"
            program = _validate(program, {**PROGRAM_SPEC}, p_where)
            if not program["command_line"].strip():
                raise CatalogError(f"{p_where}.command_line: is empty.")
            if any(p["name"] == program["name"] for p in programs):
                raise CatalogError(f"{p_where}.name: program '{program['name']}' is declared twice.")
            if not program["success_codes"]:
                raise CatalogError(f"{p_where}.success_codes: is empty; give at least one exit code.")
            if program["detection"] is not None:
                program["detection"] = check_detection(program["detection"], f"{p_where}.detection")
            programs.append(program)
        package["programs"] = programs
        packages[package_id] = package
    applications: dict[str, dict] = {}
    for index, item in enumerate(top["applications"] or []):
        where = f"applications[{index}]"
        spec = {**APPLICATION_SPEC, "deployment_types": {"type": "list", "elements": "dict", "required": True}}
        app = _validate(item, spec, where)
        name = app["name"]
        where = f"applications[{index}] ({name})"
        if name in applications:
            raise CatalogError(f"{where}.name: application '{name}' is declared twice.")
        if not app["deployment_types"]:
            raise CatalogError(f"{where}.deployment_types: is empty; give at least one deployment type.")
        types = []
        for d_index, dt in enumerate(app["deployment_types"]):
            d_where = f"{where}.deployment_types[{d_index}]"
            spec = {**DEPLOYMENT_TYPE_SPEC, "content": {"type": "dict"}, "requirements": {"type": "dict"}}
            dt = _validate(dt, spec, d_where)
            if dt["detection"] is None:
                raise CatalogError(f"{d_where}.detection: missing; every deployment type needs a detection method "
                                   "(msi, file, registry, or all / any of them) so that an installed application "
                                   "is skipped and an install is verified.")
            dt["detection"] = check_detection(dt["detection"], f"{d_where}.detection")
            dt["content"] = _source(dt["content"], f"{d_where}.content")
            if dt["requirements"] is not None:
                dt["requirements"] = _validate(dt["requirements"], REQUIREMENTS_SPEC, f"{d_where}.requirements")
                for key in ("os_min_version", "os_max_version"):
                    if dt["requirements"][key]:
                        _version(dt["requirements"][key], f"{d_where}.requirements.{key}")
            dt["return_codes"] = _return_codes(dt["return_codes"], f"{d_where}.return_codes")
            if not dt["install_command"].strip():
                raise CatalogError(f"{d_where}.install_command: is empty.")
            types.append(dt)
        app["deployment_types"] = types
        applications[name] = app
    for name, app in applications.items():
        for dependency in app["dependencies"]:
            if dependency not in applications:
                raise CatalogError(f"applications ({name}).dependencies: '{dependency}' is not in the catalog.")
    _check_loops(applications)
    return Catalog(packages, applications)
