"""win_updates on the simulated host: the start/poll/cancel protocol of ansible.windows' action plugin.

``start`` launches a background update task (a thread that outlives the command, as the real
module's scheduled task does) and returns ``poll_options`` (its pipe name) and
``cancel_options``; ``poll`` hands over the progress records the task wrote since the last
poll (``started``, ``search_result``, ``download_result``, ``install_result``, ``exit``), and
``cancel`` stops it. The updates come from the state: ``updates.available`` entries with
``id``, ``title``, ``kb``, ``categories``, ``mandatory``, ``reboot_required`` and optionally
``seconds`` (install time), ``hidden``, ``browse_only``, ``requires`` (ids that must be
installed first), ``download_fails``/``install_fails`` (an HRESULT) and ``rolls_back`` (the
install reports success but is undone by the next restart).
"""

from __future__ import annotations

import random
import re
import threading
import time
import uuid

from tests.winsim.modules._base import Emulated

SPEC = Emulated("win_updates", not_emulated=("log_path",))   # _operation* are in the public $spec too
CATEGORY_NAMES = {"CriticalUpdates": "Critical Updates", "DefinitionUpdates": "Definition Updates",
                  "DeveloperKits": "Developer Kits", "FeaturePacks": "Feature Packs", "SecurityUpdates": "Security Updates",
                  "ServicePacks": "Service Packs", "UpdateRollups": "Update Rollups"}
POLL_IDLE = 0.3   # guess: the real poll waits up to 1 s for more records; shorter keeps tests quick


class UpdateTask:
    """The background update run, writing progress records for polls to collect."""

    def __init__(self, machine, options: dict, check_mode: bool):
        self.machine, self.options, self.check_mode = machine, options, check_mode
        self.records: list[dict] = []
        self.cond = threading.Condition()
        self.cancel = threading.Event()
        self.boot_id = machine.boot_id()
        self.thread = threading.Thread(target=self._run, name="win_updates-task", daemon=True)

    def write(self, task: str, result: dict) -> None:
        with self.cond:
            self.records.append({"task": task, "result": result})
            self.cond.notify_all()

    def take(self) -> list[dict] | None:
        """Receive-ProgressOutput: wait for the first record, then whatever follows shortly after."""
        with self.cond:
            while not self.records:
                if not self.thread.is_alive() or not self._alive():
                    return None
                self.cond.wait(0.2)
            end = time.time() + POLL_IDLE
            while self.records[-1]["task"] != "exit" and time.time() < end:
                self.cond.wait(max(end - time.time(), 0.01))
            out, self.records = self.records, []
            return out

    def _alive(self) -> bool:
        return not self.cancel.is_set() and self.machine.is_up() and self.machine.boot_id() == self.boot_id

    def _run(self) -> None:
        exit_result = {"changed": False, "failed": False, "reboot_required": False}
        try:
            self._install(exit_result)
        except _Failure as e:
            exit_result["failed"] = True
            exit_result["exception"] = {"message": str(e), "exception": f"{e}\r\n\r\nat Install-WindowsUpdate"}
            if e.hresult is not None:
                exit_result["exception"]["hresult"] = e.hresult
        except _Stopped:
            return
        self.write("exit", exit_result)

    def _sleep(self, seconds: float) -> None:
        end = time.time() + seconds
        while time.time() < end:
            if not self._alive():
                raise _Stopped()
            time.sleep(min(0.05, max(end - time.time(), 0)))
        if not self._alive():
            raise _Stopped()

    def _install(self, exit_result: dict) -> None:
        m, o = self.machine, self.options
        self.write("started", {})
        reboot_required = m.pending_reboot()
        exit_result["reboot_required"] = reboot_required
        with m.lock:
            installed_ids = {u["id"] for u in m.state["updates"]["installed"]}
            available = [u for u in m.state["updates"]["available"]
                         if all(r in installed_ids for r in u.get("requires") or [])]
        categories = [CATEGORY_NAMES.get(c, c) for c in o["category_names"] or []]
        found, filtered, selected = [], [], []
        for u in available:
            info = _update_info(u)
            found.append(info)
            reasons = []
            names = [info["title"], *info["kb"]]
            if o["accept_list"] and not any(re.search(pat, n, re.IGNORECASE) for pat in o["accept_list"] for n in names):
                reasons.append("accept_list")
            if o["reject_list"] and any(re.search(pat, n, re.IGNORECASE) for pat in o["reject_list"] for n in names):
                reasons.append("reject_list")
            if info["is_hidden"]:
                reasons.append("hidden")
            if categories and not any(c == "*" or c.lower() in [x.lower() for x in info["categories"]]
                                      for c in categories):
                reasons.append("category_names")
            if o["skip_optional"] and info["browse_only"]:
                reasons.append("skip_optional")
            if reasons:
                filtered.append({"id": info["id"], "reasons": reasons})
            else:
                selected.append(u)
        self.write("search_result", {"updates": found, "filtered": filtered})
        if self.check_mode or o["state"] == "searched" or not selected:
            exit_result["changed"] = bool(selected) and o["state"] != "searched"
            return
        if reboot_required:
            raise _Failure("A reboot is required before more updates can be installed")
        to_download = [u for u in selected if not u.get("_downloaded")]
        if to_download:
            exit_result["changed"] = True
            info, failed = [], False
            for u in to_download:
                self._sleep(float(u.get("download_seconds", 0)))
                fails = u.get("download_fails")
                info.append({"id": u["id"], "result_code": 4 if fails else 2, "hresult": int(fails or 0)})
                failed = failed or bool(fails)
                if not fails:
                    with m.lock:
                        u["_downloaded"] = True
                        m.save()
            self.write("download_result", {"info": info})
            if failed:
                raise _Failure("Failed to download all updates - see updates for more information")
        if o["state"] == "downloaded":
            return
        exit_result["changed"] = True
        info, failed = [], False
        for u in selected:
            self._sleep(float(u.get("seconds", 0)))
            fails = u.get("install_fails")
            info.append({"id": u["id"], "result_code": 4 if fails else 2, "hresult": int(fails or 0),
                         "reboot_required": bool(u.get("reboot_required")) and not fails})
            failed = failed or bool(fails)
            if not fails:
                with m.lock:
                    m.state["updates"]["available"] = [a for a in m.state["updates"]["available"] if a["id"] != u["id"]]
                    m.state["updates"]["installed"].append({k: v for k, v in u.items() if not k.startswith("_")})
                    if u.get("reboot_required"):
                        m.state["boot"]["pending_reboot"] = True
                    m.save()
        self.write("install_result", {"info": info})
        if failed:
            raise _Failure("Failed to install all updates - see updates for more information")
        exit_result["reboot_required"] = m.pending_reboot()


class _Failure(Exception):
    def __init__(self, message: str, hresult: int | None = None):
        super().__init__(message)
        self.hresult = hresult


class _Stopped(Exception):
    """Cancelled, or the machine went down: the task writes nothing more."""


def _update_info(u: dict) -> dict:
    """Format-UpdateInfo of the module's update task."""
    return {
        "id": u["id"], "title": u["title"], "description": u.get("description", u["title"]),
        "kb": [f"KB{k}" for k in u.get("kb", [])], "type": "Software", "deployment_action": "Installation",
        "auto_select_on_websites": bool(u.get("mandatory")), "browse_only": bool(u.get("browse_only")),
        "revision_number": int(u.get("revision", 200)), "categories": list(u.get("categories", [])),
        "is_installed": False, "is_hidden": bool(u.get("hidden")), "is_present": False,
        "reboot_required": False, "impact": "Normal",
        "reboot_behaviour": "CanRequestReboot" if u.get("reboot_required") else "NeverReboots",
        "is_beta": False, "is_downloaded": bool(u.get("_downloaded")), "is_mandatory": bool(u.get("mandatory")),
        "is_uninstallable": True, "auto_selection": "LetWindowsUpdateDecide", "auto_download": "LetWindowsUpdateDecide",
    }


def run(mod) -> None:
    p, m = mod.params, mod.machine
    operation, options = p["_operation"], p["_operation_options"] or {}
    if operation == "cancel":
        task = m.tasks.pop(str(options.get("cancel_id", "")).replace("Global\\", ""), None)
        if task is not None:
            task.cancel.set()
        return
    if operation == "poll":
        task = m.tasks.get(str(options.get("pipe_name", "")))
        output = task.take() if task is not None else None
        if output is None:
            mod.fail_json("Timed out waiting for server pipe to be available")
        mod.result["output"] = output
        return
    if options.get("wait"):
        mod.fail_json("simulated host: win_updates with async (the module waiting for its task) is not emulated")
    task_id = str(uuid.uuid4())
    pipe = f"Ansible.Windows.WinUpdates-{task_id}"
    task = UpdateTask(m, p, mod.check_mode)
    m.tasks[pipe] = task
    task.thread.start()
    mod.result.update(cancel_options={"cancel_id": f"Global\\{pipe}", "task_pid": random.randint(1000, 65000)},
                      poll_options={"pipe_name": pipe})
