"""The catalog steps with a recorded host: what each sends to ansible.windows, and what it makes of the answers."""

from __future__ import annotations

import importlib
import json
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _secrets

CODE = "{6F1C2E55-0D43-4B7A-9C1E-0A1B2C3D4E5F}"
REG = {"key": "HKLM:\\SOFTWARE\\Contoso\\Viewer", "value": "Version"}


def _app(name, deps=(), detection=None, content=True, command="setup.exe /S", **extra):
    dt = {"name": "Setup", "install_command": command, "detection": detection or {"registry": {**REG, "value": name}}}
    if content:
        dt["content"] = {"unc": f"\\\\fs01\\apps\\{name}"}
    dt.update(extra)
    return {"name": name, "dependencies": list(deps), "deployment_types": [dt]}


CATALOG = {
    "packages": [
        {"id": "PS100001", "name": "Agent", "source": {"path": "/ctl/PS100001"},
         "programs": [{"name": "Install", "command_line": "install.bat"},
                      {"name": "Quiet", "command_line": "install.bat /q", "may_restart": False}]},
        {"id": "PS100002", "name": "Web", "source": {"url": "https://example.invalid/tool.zip", "checksum": "AB" * 32}},
    ],
    "applications": [
        _app("Runtime", detection={"msi": {"product_code": CODE}}, command="msiexec /i runtime.msi /qn ALLUSERS=1"),
        _app("Viewer", ["Runtime"]),
        _app("Broken"), _app("Notes"),
    ],
}


class Host:
    """A recorded host: installed things, and each call with its check mode and no_log."""

    def __init__(self, installed=(), rc=None, fail_urls=()):
        self.installed = set(installed)
        self.rc = dict(rc or {})          # installer path -> rc
        self.fail_urls = set(fail_urls)
        self.calls: list[dict] = []
        self.action = None

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        args = json.loads(json.dumps(module_args))
        env = {}
        for item in self.action._task.environment or []:
            env.update(item)
        self.calls.append({"module": module_name, "args": args, "check": self.action._task.check_mode,
                           "no_log": self.action._task.no_log, "environment": env})
        short = module_name.rsplit(".", 1)[-1]
        if short == "win_package" and args["state"] == "absent":
            key = args.get("creates_path") or args["product_id"]
            return {"changed": key in self.installed, "rc": 0}
        if short == "win_package":
            rc = self.rc.get(args["path"], 0)
            if rc not in args["expected_return_code"]:
                return {"failed": True, "rc": rc, "msg": f"unexpected rc from '{args['path']}'"}
            self.installed.add(args["path"].split("\\")[-3])   # ...\Applications\<app>\<deployment type>\x
            if args.get("product_id"):
                self.installed.add(args["product_id"])
            return {"changed": True, "rc": rc, "reboot_required": rc == 3010}
        if short == "win_reg_stat":
            found = args["name"] in self.installed
            return {"exists": found, "value": "3.0" if found else None}
        if short == "win_get_url":
            if args["url"] in self.fail_urls:
                return {"failed": True, "msg": f"The checksum for {args['url']} did not match"}
            return {"changed": True, "checksum_dest": args["checksum"]}
        if short == "win_command":
            return {"changed": True, "rc": self.rc.get(args.get("cmd"), 0), "stdout": "", "stderr": ""}
        return {"changed": False}

    def modules(self, check=None):
        return [c["module"].rsplit(".", 1)[-1] for c in self.calls if check is None or c["check"] == check]


_DEFAULT_CATALOG = object()   # None means: no catalog at all


@pytest.fixture
def step():
    def run(module, args, host=None, task_vars=None, check_mode=False, catalog=_DEFAULT_CATALOG):
        if catalog is _DEFAULT_CATALOG:
            catalog = CATALOG
        mod = importlib.import_module(f"ansible_collections.tasksequence.windows.plugins.action.{module}")
        task = MagicMock()
        task.args, task.async_val, task.check_mode, task.diff, task.no_log = dict(args), 0, check_mode, False, False
        task.environment = []
        task.get_name.return_value = "Step"
        connection = MagicMock()
        connection.become = None
        connection.set_become_plugin.side_effect = lambda p: setattr(connection, "become", p)
        templar = MagicMock()
        templar.template.side_effect = lambda value: value
        action = mod.ActionModule(task, connection, MagicMock(), loader=MagicMock(), templar=templar,
                                  shared_loader_obj=None)
        host = host or Host()
        host.action = action
        action._execute_module = host
        copies = []

        def upstream(name, action_args, tv):
            copies.append({"name": name, "args": action_args, "become": connection.become})
            return {"changed": True}

        action.upstream_action = upstream
        action._find_needle = lambda kind, path: path
        variables = dict(task_vars or {})
        if catalog is not None:
            variables["tasksequence_catalog"] = json.loads(json.dumps(catalog))
        result = action.run(task_vars=variables)
        result["_copies"], result["_host"] = copies, host
        return result

    return run


# catalog errors: one clear error, nothing sent ------------------------------------------------

@pytest.mark.parametrize("module,args,catalog,expected", [
    ("download_package_content", {"packages": ["PS999999"]}, CATALOG, "packages[0]: package 'PS999999' is not in"),
    ("install_package", {"package_id": "PS100001", "program_name": "Nope"}, CATALOG, "has no program 'Nope'"),
    ("install_application", {"applications": ["Viewer"]},
     {"applications": [_app("A", ["B"]), _app("B", ["A"]), _app("Viewer")]}, "dependency loop A -> B -> A"),
    ("install_application", {"applications": ["Viewer"]}, None, "tasksequence_catalog: is not defined"),
    ("install_package", {"package_id": "ps100001", "program_name": "Install"}, CATALOG, "must be upper-case"),
])
def test_catalog_errors_fail_before_the_host(step, module, args, catalog, expected):
    host = Host()
    with pytest.raises(AnsibleActionFail, match=None) as e:
        step(module, {**args, "continue_on_error": True}, host=host, catalog=catalog)
    assert expected in e.value.message
    assert host.calls == []


# Download Package Content --------------------------------------------------------------------

def test_download_paths_variables_and_facts(step):
    res = step("download_package_content", {"packages": ["PS100001", "PS100002"], "destination_variable": "Content"})
    assert not res["failed"] and res["changed"]
    tsenv = res["ansible_facts"]["tsenv"]
    assert tsenv["Content01"] == "C:\\_SMSTaskSequence\\Packages\\PS100001"
    assert tsenv["Content02"] == "C:\\_SMSTaskSequence\\Packages\\PS100002"
    assert tsenv["_SMSTSLastContentDownloadLocation"] == tsenv["Content02"]
    assert res["ansible_facts"]["tsenv_packages"] == {"PS100001": tsenv["Content01"], "PS100002": tsenv["Content02"]}
    # The controller folder goes through the upstream win_copy action, its content into the package folder.
    assert res["_copies"] == [{"name": "ansible.windows.win_copy", "become": None,
                               "args": {"src": "/ctl/PS100001", "dest": tsenv["Content01"] + "\\"}}]
    get_url = [c for c in res["_host"].calls if c["module"].endswith("win_get_url")][0]["args"]
    assert get_url == {"url": "https://example.invalid/tool.zip", "dest": tsenv["Content02"] + "\\tool.zip",
                       "checksum": "ab" * 32, "checksum_algorithm": "sha256", "force": False}


def test_download_custom_destination_and_working_directory_variable(step):
    res = step("download_package_content", {"packages": ["PS100002"], "destination": "custom",
                                            "destination_path": "D:\\%Site%"},
               task_vars={"tsenv": {"Site": "Berlin"}})
    assert res["ansible_facts"]["tsenv_packages"] == {"PS100002": "D:\\Berlin\\PS100002"}
    res = step("download_package_content", {"packages": ["PS100002"]},
               task_vars={"tsenv": {"_SMSTSMDataPath": "E:\\TS"}})
    assert res["ansible_facts"]["tsenv_packages"] == {"PS100002": "E:\\TS\\Packages\\PS100002"}


@pytest.mark.parametrize("go_on,tried", [(False, ["PS100002"]), (True, ["PS100002", "PS100001"])])
def test_a_checksum_mismatch_fails_and_stops_unless_told_to_go_on(step, go_on, tried):
    host = Host(fail_urls={"https://example.invalid/tool.zip"})
    res = step("download_package_content", {"packages": ["PS100002", "PS100001"], "continue_on_error": True,
                                            "continue_on_download_error": go_on}, host=host)
    assert res["step_failed"] and "did not match" in res["msg"]
    assert [p["package_id"] for p in res["packages"]] == tried
    assert len([c for c in host.calls if c["module"].endswith("win_get_url")]) == 1   # a mismatch is not retried
    assert res["ansible_facts"]["tsenv"]["_SMSTSLastActionSucceeded"] == "false"


# Install Package -----------------------------------------------------------------------------

def test_install_package_base_variables_stop_at_the_first_gap(step):
    tsenv = {"Pkg001": "PS100001:Install", "Pkg002": "PS100001:Quiet", "Pkg004": "PS100001:Nope"}
    known = {"PS100001": "C:\\Content\\PS100001"}
    res = step("install_package", {"base_variable_name": "Pkg"}, task_vars={"tsenv": tsenv, "tsenv_packages": known})
    assert [i["variable"] for i in res["installs"]] == ["Pkg001", "Pkg002"]
    commands = [c["args"] for c in res["_host"].calls if c["module"].endswith("win_command")]
    assert commands == [{"cmd": "install.bat", "chdir": "C:\\Content\\PS100001"},
                        {"cmd": "install.bat /q", "chdir": "C:\\Content\\PS100001"}]
    assert res["_copies"] == []   # content already known: no download


def test_install_package_without_001_installs_nothing(step):
    res = step("install_package", {"base_variable_name": "Pkg"}, task_vars={"tsenv": {"Pkg002": "PS100001:Install"}})
    assert not res["failed"] and not res["changed"] and res["_host"].calls == []


def test_install_package_malformed_list_value_names_the_variable(step):
    with pytest.raises(AnsibleActionFail, match="Pkg001: 'PS100001' is not PACKAGEID:Program name"):
        step("install_package", {"base_variable_name": "Pkg"}, task_vars={"tsenv": {"Pkg001": "PS100001"}})


def test_install_package_downloads_first_and_3010_asks_for_a_restart(step):
    host = Host(rc={"install.bat": 3010})
    res = step("install_package", {"package_id": "PS100001", "program_name": "Install"}, host=host)
    assert res["_copies"][0]["args"]["dest"] == "C:\\_SMSTaskSequence\\Packages\\PS100001\\"
    assert res["reboot_required"] and res["rc"] == 3010 and not res["failed"]
    # may_restart: false makes a restart code a failure
    res = step("install_package", {"package_id": "PS100001", "program_name": "Quiet", "continue_on_error": True},
               host=Host(rc={"install.bat /q": 3010}))
    assert res["step_failed"] and "may not restart" in res["msg"]


# Install Application -------------------------------------------------------------------------

def test_dependencies_first_and_msiexec_goes_to_win_package(step):
    host = Host()
    res = step("install_application", {"applications": ["Viewer"]}, host=host)
    assert [(a["name"], a["status"]) for a in res["applications"]] == [("Runtime", "installed"), ("Viewer", "installed")]
    installs = [c["args"] for c in host.calls if c["module"].endswith("win_package") and c["args"]["state"] == "present"]
    assert installs[0] == {"path": "C:\\_SMSTaskSequence\\Applications\\Runtime\\Setup\\runtime.msi", "state": "present",
                           "expected_return_code": [0, 1618, 1641, 1707, 3010], "arguments": "ALLUSERS=1",
                           "chdir": "C:\\_SMSTaskSequence\\Applications\\Runtime\\Setup", "product_id": CODE}
    assert installs[1]["path"].endswith("\\Viewer\\Setup\\setup.exe") and installs[1]["arguments"] == "/S"
    assert res["ansible_facts"]["tsenv"]["_TSAppInstallStatus"] == "Success"


def test_present_application_is_skipped_without_an_install_call(step):
    host = Host(installed={CODE, "Viewer"})
    res = step("install_application", {"applications": ["Viewer"]}, host=host)
    assert not res["changed"]
    assert [a["status"] for a in res["applications"]] == ["already_installed", "already_installed"]
    assert all(c["check"] for c in host.calls if c["module"].endswith("win_package"))
    assert res["_copies"] == []


@pytest.mark.parametrize("go_on,statuses", [(False, ["failed"]), (True, ["failed", "installed"])])
def test_a_failing_application_stops_or_goes_on(step, go_on, statuses):
    host = Host(rc={"C:\\_SMSTaskSequence\\Applications\\Broken\\Setup\\setup.exe": 1603,
                    "C:\\_SMSTaskSequence\\Applications\\Notes\\Setup\\setup.exe": 3010})
    res = step("install_application", {"applications": ["Broken", "Notes"], "continue_on_install_error": go_on,
                                       "continue_on_error": True}, host=host)
    assert [a["status"] for a in res["applications"]] == statuses
    assert res["step_failed"] and res["rc"] == 1603
    assert res["ansible_facts"]["tsenv"]["_TSAppInstallStatus"] == "Error"
    assert res["reboot_required"] == go_on


def test_a_failed_dependency_blocks_its_dependent(step):
    catalog = {"applications": [_app("Base"), _app("Top", ["Base"])]}
    host = Host(rc={"C:\\_SMSTaskSequence\\Applications\\Base\\Setup\\setup.exe": 1603})
    res = step("install_application", {"applications": ["Top"], "continue_on_install_error": True,
                                       "continue_on_error": True}, host=host, catalog=catalog)
    assert res["applications"][1]["msg"] == "dependency Base is not installed"
    assert len([c for c in host.calls if c["module"].endswith("win_package") and not c["check"]]) == 1


def test_check_mode_installs_nothing(step):
    host = Host()
    res = step("install_application", {"applications": ["Viewer"]}, host=host, check_mode=True)
    assert res["changed"] and all(c["check"] for c in host.calls)


# Connect To Network Folder ---------------------------------------------------------------------

@pytest.mark.parametrize("letter,expected", [("X", "X: is reserved"), ("C:", "not a drive letter from D: to Z:"),
                                             ("ZZ", "not a drive letter")])
def test_drive_letters(step, letter, expected):
    with pytest.raises(AnsibleActionFail, match=expected):
        step("connect_to_network_folder", {"path": "\\\\fs\\share", "drive_letter": letter}, catalog=None)


def test_connection_is_recorded_sealed_and_used_by_run_command_line(step):
    secret = "S3cret-share-pw"
    res = step("connect_to_network_folder", {"path": "\\\\fs02\\secure", "drive_letter": "z", "account": "svc",
                                             "password": secret}, catalog=None)
    mapped = res["_host"].calls[0]
    assert mapped["module"] == "ansible.windows.win_mapped_drive" and mapped["no_log"]
    assert mapped["args"] == {"letter": "Z", "path": "\\\\fs02\\secure", "username": "svc", "password": secret}
    facts = res.pop("ansible_facts")
    assert secret not in json.dumps(res, default=str)
    record = facts["tsenv_network_folders"][0]
    assert record["drive_letter"] == "Z:" and _secrets.unseal("x", record["password"]) == secret
    later = step("run_command_line", {"command_line": "Z:\\tools\\inv.exe /q", "start_in": "Z:\\tools"},
                 task_vars={"tsenv_network_folders": facts["tsenv_network_folders"]}, catalog=None)
    call = later["_host"].calls[0]
    assert call["args"] == {"cmd": 'cmd.exe /d /s /c "net use Z: "\\\\fs02\\secure" "%TSNetworkFolderPassword1%" '
                                   '"/user:svc" /persistent:no >nul && cd /d "Z:\\tools" && Z:\\tools\\inv.exe /q"'}
    assert call["environment"]["TSNetworkFolderPassword1"] == secret and call["no_log"]
    assert later["cmd"] == "Z:\\tools\\inv.exe /q" and secret not in json.dumps(later, default=str)
    # A command that does not use the folder is left alone.
    other = step("run_command_line", {"command_line": "C:\\x.exe"},
                 task_vars={"tsenv_network_folders": facts["tsenv_network_folders"]}, catalog=None)
    assert other["_host"].calls[0]["args"] == {"cmd": "C:\\x.exe"}


def test_content_on_a_recorded_share_is_copied_with_new_credentials(step):
    folders = [{"path": "\\\\fs01\\apps", "drive_letter": "", "account": "CONTOSO\\svc", "password": _secrets.seal("pw")}]
    res = step("install_application", {"applications": ["Notes"]}, task_vars={"tsenv_network_folders": folders})
    copy = res["_copies"][0]
    assert copy["args"] == {"src": "\\\\fs01\\apps\\Notes\\", "dest": "C:\\_SMSTaskSequence\\Applications\\Notes\\Setup\\",
                            "remote_src": True}
    become = copy["become"]
    assert become.get_option("become_user") == "CONTOSO\\svc" and become.get_option("become_pass") == "pw"
    assert become.get_option("become_flags") == "logon_type=new_credentials logon_flags=netcredentials_only"
    assert res["_host"].action._connection.become is None   # restored after the copy
