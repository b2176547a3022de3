"""Install Software Updates: the real ansible.windows.win_updates action, replaying its
start / poll / cancel protocol from a recorded host, in rounds with restarts between."""

from __future__ import annotations

import importlib

import pytest
from ansible.errors import AnsibleActionFail

from tests.unit.plugins.action.test_restart import HostDown, RestartingHost, install_clock, make_action

WIN_UPDATES = importlib.import_module("ansible_collections.ansible.windows.plugins.action.win_updates").ActionModule
REBOOT_FIRST = "A reboot is required before more updates can be installed"


@pytest.fixture
def clock(monkeypatch):
    return install_clock(monkeypatch)


def uid(n):
    return f"00000000-0000-4000-8000-{n:012d}"


def update(n, *, reboot=True, requires=(), browse_only=False, rolls_back=False, fails=None, category="Security Updates"):
    return {"id": uid(n), "title": f"Update {n} (KB50{n:05d})", "kb": [f"50{n:05d}"], "categories": [category],
            "reboot_required": reboot, "requires": [uid(r) for r in requires], "browse_only": browse_only,
            "rolls_back": rolls_back, "install_fails": fails}


class UpdatesHost(RestartingHost):
    """win_updates as the module answers: search what is applicable, install, report; a
    restart clears the pending flag and undoes updates that roll back."""

    def __init__(self, clock, updates, *, crash_in_round=(), **kw):
        super().__init__(clock, handler=self._updates, **kw)
        self.available, self.installed = list(updates), []
        self.pending = False
        self.rounds = 0
        self.crash_in_round = set(crash_in_round)
        self.options: list[dict] = []

    def _tick(self):
        was = self.boots
        super()._tick()
        if self.boots != was:
            self.pending = False
            back = [u for u in self.installed if u["rolls_back"]]
            self.installed = [u for u in self.installed if not u["rolls_back"]]
            self.available += back

    def _updates(self, host, name, args):
        assert name == "ansible.windows.win_updates"
        op = args["_operation"]
        if op == "cancel":
            return {"changed": False}
        if op == "start":
            self.rounds += 1
            self.options.append({k: v for k, v in args.items() if not k.startswith("_")})
            return {"changed": False, "poll_options": {"pipe_name": "p"}, "cancel_options": {"cancel_id": "c"}}
        if self.rounds in self.crash_in_round:
            self.crash_in_round.discard(self.rounds)
            self.crash()
            raise HostDown("('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))")
        return {"changed": False, "output": self._round(self.options[-1])}   # poll carries no options

    def _round(self, o):
        done = {u["id"] for u in self.installed}
        applicable = [u for u in self.available if all(r in done for r in u["requires"])]
        infos, filtered, selected = [], [], []
        for u in applicable:
            infos.append({"id": u["id"], "title": u["title"], "kb": [f"KB{k}" for k in u["kb"]], "categories": u["categories"],
                          "browse_only": u["browse_only"], "is_hidden": False})
            reasons = ["skip_optional"] if o["skip_optional"] and u["browse_only"] else []
            if o["category_names"] != ["*"] and not set(u["categories"]) & set(o["category_names"]):
                reasons.append("category_names")
            if reasons:
                filtered.append({"id": u["id"], "reasons": reasons})
            else:
                selected.append(u)
        out = [{"task": "started", "result": {}}, {"task": "search_result", "result": {"updates": infos, "filtered": filtered}}]
        if self.pending and selected:
            return out + [{"task": "exit", "result": {"changed": False, "failed": True, "reboot_required": True,
                                                      "exception": {"message": REBOOT_FIRST}}}]
        if not selected:
            return out + [{"task": "exit", "result": {"changed": False, "failed": False, "reboot_required": self.pending}}]
        info = []
        for u in selected:
            info.append({"id": u["id"], "result_code": 4 if u["install_fails"] else 2, "hresult": u["install_fails"] or 0,
                         "reboot_required": u["reboot_required"]})
            if not u["install_fails"]:
                self.available.remove(u)
                self.installed.append(u)
                self.pending = self.pending or u["reboot_required"]
        failed = any(u["install_fails"] for u in selected)
        downloaded = [{"id": u["id"], "result_code": 2, "hresult": 0} for u in selected]
        out += [{"task": "download_result", "result": {"info": downloaded}},
                {"task": "install_result", "result": {"info": info}},
                {"task": "exit", "result": {"changed": True, "failed": failed, "reboot_required": self.pending,
                                            **({"exception": {"message": "Failed to install all updates"}} if failed else {})}}]
        return out


def run_updates(host, args, **kw):
    def loader_get(name, **kwargs):
        assert name == "ansible.windows.win_updates"
        child = WIN_UPDATES(kwargs["task"], kwargs["connection"], kwargs["play_context"], loader=kwargs["loader"],
                            templar=kwargs["templar"], shared_loader_obj=kwargs["shared_loader_obj"])
        child._execute_module = host
        return child

    action = make_action("install_software_updates", args, host, loader_get=loader_get, **kw)
    return action.run(task_vars=dict(kw.pop("task_vars", None) or {}))


def test_three_rounds_with_restarts_between(clock):
    host = UpdatesHost(clock, [update(1), update(2, requires=[1]), update(3, requires=[2], reboot=False)])
    res = run_updates(host, {"target": "All"})
    assert not res.get("failed"), res.get("msg")
    assert [r["installed"] for r in res["rounds"]] == [["Update 1 (KB5000001)"], ["Update 2 (KB5000002)"],
                                                       ["Update 3 (KB5000003)"], []]
    assert host.boots == 2 and [r["when"] for r in res["restarts"]] == ["between_rounds"] * 2
    assert res["installed_update_count"] == 3 and res["reboot_required"] is False and res["rc"] == 0
    assert all(o["reboot"] is False for o in host.options)   # restarts are ours, not win_updates' own


def test_an_update_that_rolls_back_is_a_loop_with_a_clear_result(clock):
    host = UpdatesHost(clock, [update(7, rolls_back=True)])
    res = run_updates(host, {"target": "All"})
    assert res["failed"] is True and host.rounds == 2
    assert "update loop: Update 7 (KB5000007) (installed in round 1) rolled back" in res["msg"]
    assert [u["id"] for u in res["rolled_back_updates"]] == [update(7)["id"]]


def test_mandatory_leaves_optional_updates(clock):
    host = UpdatesHost(clock, [update(1, reboot=False), update(2, reboot=False, browse_only=True)])
    res = run_updates(host, {"target": "Mandatory"})
    assert res["installed_update_count"] == 1 and res["filtered_update_count"] == 1
    assert host.options[0]["skip_optional"] is True


def test_target_from_the_variable_and_its_absence(clock):
    host = UpdatesHost(clock, [update(1, reboot=False)])
    res = run_updates(host, {}, task_vars={"tsenv": {"SMSInstallUpdateTarget": "all"}})
    assert res["target"] == "All" and host.options[0]["skip_optional"] is False
    with pytest.raises(AnsibleActionFail, match="target: give Mandatory"):
        run_updates(UpdatesHost(clock, []), {})


def test_a_failed_update_fails_the_step_with_its_hresult(clock):
    host = UpdatesHost(clock, [update(1, reboot=False, fails=-2145124329)])
    res = run_updates(host, {"target": "All"})
    assert res["failed"] is True and res["rc"] == -2145124329 % 2**32   # win_updates reports it unsigned (0x80240017)
    assert res["failed_updates"][0]["id"] == update(1)["id"]


def test_an_unexpected_restart_during_a_round_is_retried(clock):
    host = UpdatesHost(clock, [update(1, reboot=False)], crash_in_round={1})
    res = run_updates(host, {"target": "All"})
    assert not res.get("failed"), res
    assert [r["kind"] for r in res["restarts"]] == ["unexpected"] and res["installed_update_count"] == 1


def test_a_restart_owed_before_the_round_is_taken_once(clock):
    host = UpdatesHost(clock, [update(1, reboot=False)])
    host.pending = True
    res = run_updates(host, {"target": "All"})
    assert not res.get("failed") and host.boots == 1 and res["installed_update_count"] == 1


@pytest.mark.parametrize("args,error", [
    ({"target": "All", "accept_list": ["(unclosed"]}, r"accept_list\[0\]: '\(unclosed' is not a regular expression"),
    ({"target": "All", "category_names": []}, "category_names: is empty"),
    ({"target": "Some"}, "target"),
    ({"target": "All", "retry_count": 9}, "retry_count: 9 is out of range"),
])
def test_bad_input_never_reaches_the_host(clock, args, error):
    host = UpdatesHost(clock, [update(1)])
    with pytest.raises(AnsibleActionFail, match=error):
        run_updates(host, args)
    assert host.calls == []
