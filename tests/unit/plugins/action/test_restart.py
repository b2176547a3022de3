"""Restarts: Restart Computer, the frame's restart rules (3010, 1641, SMSTSRebootRequested,
SMSTSRetryRequested, unexpected restarts and their retries) against a recorded host whose
restarts run on a virtual clock."""

from __future__ import annotations

import importlib
import json
from unittest.mock import MagicMock

import pytest
import yaml
from ansible.errors import AnsibleActionFail

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _restart
from ansible_collections.tasksequence.windows.plugins.plugin_utils._step import StepAction, StepOutcome

SHUTDOWN = r"C:\Windows\System32\shutdown.exe"


class Clock:
    """Virtual time: sleeping advances it, so the restart loop runs instantly and measurably."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def install_clock(monkeypatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(_restart, "clock", c)
    monkeypatch.setattr(_restart, "sleep", c.sleep)
    return c


@pytest.fixture
def clock(monkeypatch):
    return install_clock(monkeypatch)


class HostDown(ConnectionError):
    """What the winrm plugin lets through when the host is not there (a requests ConnectionError)."""


class RestartingHost:
    """A recorded Windows host that restarts: shutdown.exe schedules a restart, crash() is an
    unexpected one, and while it is down every call fails as a lost connection does."""

    def __init__(self, clock: Clock, *, reboot_seconds=20.0, never_returns=False, handler=None):
        self.clock, self.reboot_seconds, self.never_returns = clock, reboot_seconds, never_returns
        self.booted = clock.now - 3600     # up for an hour
        self.down_from: float | None = None
        self.boots = 0
        self.calls: list[tuple[str, dict]] = []
        self.handler = handler or (lambda host, name, args: {"changed": True, "rc": 0, "stdout": "", "stderr": ""})

    def _tick(self):
        if self.down_from is not None and not self.never_returns and self.clock.now >= self.down_from + self.reboot_seconds:
            self.booted = self.down_from + self.reboot_seconds
            self.down_from = None
            self.boots += 1

    def up(self) -> bool:
        self._tick()
        return self.down_from is None or self.clock.now < self.down_from

    def crash(self):
        self.down_from = self.clock.now

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        args = json.loads(json.dumps(module_args))
        self.calls.append((module_name, args))
        if not self.up():
            raise HostDown("('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))")
        if module_name == "ansible.windows.setup":
            assert args == {"gather_subset": ["!all", "!min", "uptime"]}
            return {"ansible_facts": {"ansible_lastboot": f"boot-{self.booted:.0f}",
                                      "ansible_uptime_seconds": round(self.clock.now - self.booted)}}
        if module_name == "ansible.windows.win_reg_stat":
            assert args["path"].endswith("Winlogon\\AutoLogonChecked")
            return {"changed": False, "exists": True}
        if module_name == "ansible.windows.win_command" and (args.get("argv") or [""])[0] == SHUTDOWN:
            argv = args["argv"]
            if "/a" in argv:
                return {"changed": True, "rc": 0}
            self.down_from = self.clock.now + int(argv[argv.index("/t") + 1])
            return {"changed": True, "rc": 0, "stdout": "", "stderr": ""}
        return self.handler(self, module_name, args)

    def step_calls(self):
        """Calls that are not the restart's own."""
        own = {"ansible.windows.setup", "ansible.windows.win_reg_stat"}
        return [(n, a) for n, a in self.calls
                if n not in own and not (n == "ansible.windows.win_command" and a.get("argv", [""])[0] == SHUTDOWN)]

    def shutdowns(self):
        return [a["argv"] for n, a in self.calls if n == "ansible.windows.win_command" and a.get("argv", [""])[0] == SHUTDOWN]


def make_action(module_or_class, args, host, task_vars=None, check_mode=False, name="Step", loader_get=None):
    if isinstance(module_or_class, str):
        cls = importlib.import_module(f"ansible_collections.tasksequence.windows.plugins.action.{module_or_class}").ActionModule
    else:
        cls = module_or_class
    task = MagicMock()
    task.args = dict(args)
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = False
    task.no_log = False
    task.environment = []
    task.get_name.return_value = name
    connection = MagicMock()
    connection.become = None
    connection.get_option.return_value = 20
    shared = MagicMock()
    if loader_get:
        shared.action_loader.get.side_effect = loader_get
    action = cls(task, connection, MagicMock(check_mode=check_mode), loader=MagicMock(), templar=MagicMock(),
                 shared_loader_obj=shared)
    action._execute_module = host
    if loader_get:
        action._shared_loader_obj = shared   # ansible-core 2.19 always sets the real plugin loaders
    return action


def run(module_or_class, args, host, task_vars=None, **kw):
    action = make_action(module_or_class, args, host, **kw)
    return action.run(task_vars=dict(task_vars or {}))


# Restart Computer ----------------------------------------------------------------------


def test_restart_computer_with_message_waits_and_keeps_variables(clock):
    host = RestartingHost(clock, reboot_seconds=30)
    res = run("restart_computer", {"message": "Restarting for %App%", "message_timeout": 15}, host,
              task_vars={"tsenv": {"App": "Agent"}, "tsenv_hardware": {"boot_time": "old"}})
    assert not res.get("failed"), res
    assert host.shutdowns() == [[SHUTDOWN, "/r", "/t", "15", "/c", "Restarting for Agent"]]
    assert host.boots == 1 and res["restarted"] is True
    (record,) = res["restarts"]
    assert record["kind"] == "restart_computer" and record["boot_time"] == f"boot-{host.booted:.0f}"
    # From the shutdown command: 15 s of notice and 30 s of restart, noticed within the backoff (0.5 s).
    assert 45 <= record["waited_seconds"] + 15 <= 45.6
    facts = res["ansible_facts"]
    assert facts["tsenv"]["App"] == "Agent"
    assert facts["tsenv_hardware"] == {} and facts["ansible_lastboot"] == record["boot_time"]
    assert "restarted" in res["msg"]


def test_restart_computer_without_message(clock):
    host = RestartingHost(clock, reboot_seconds=5)
    res = run("restart_computer", {"notify_user": False}, host)
    assert host.shutdowns() == [[SHUTDOWN, "/r", "/t", "2"]]
    assert res["restarted"] and res["message"] is None and res["message_timeout"] == 0


def test_restart_computer_takes_message_and_timeout_from_variables(clock):
    host = RestartingHost(clock, reboot_seconds=5)
    run("restart_computer", {}, host, task_vars={"tsenv": {"SMSRebootMessage": "From var", "SMSRebootTimeout": "7"}})
    assert host.shutdowns() == [[SHUTDOWN, "/r", "/t", "7", "/c", "From var"]]


@pytest.mark.parametrize("args,error", [
    ({"target": "WinPE"}, "target: 'WinPE' restarts into the boot image"),
    ({"target": "USB"}, "target: 'USB' is not a restart target"),
    ({"message": "x" * 513}, "message: has 513 characters"),
    ({"message_timeout": -1}, "message_timeout: -1 is out of range"),
    ({"restart_timeout": 0}, "restart_timeout: 0 is out of range"),
    ({"message": ["a"]}, "message: is a list"),
])
def test_restart_computer_bad_input_never_reaches_the_host(clock, args, error):
    host = RestartingHost(clock)
    with pytest.raises(AnsibleActionFail, match=error.replace("(", r"\(")):
        run("restart_computer", args, host)
    assert host.calls == []


def test_restart_computer_check_mode_restarts_nothing(clock):
    host = RestartingHost(clock)
    res = run("restart_computer", {}, host, check_mode=True)
    assert host.calls == [] and res["changed"] and res["restarted"] is False


def test_a_host_that_never_returns_fails_alone_with_the_time_waited(clock):
    host = RestartingHost(clock, never_returns=True)
    res = run("restart_computer", {"notify_user": False, "restart_timeout": 120}, host)
    assert res["unreachable"] is True and not res.get("failed")
    assert "did not come back" in res["msg"] and "restart_timeout 120 s" in res["msg"]
    assert 117 <= res["waited_seconds"] <= 120
    # Backoff from 0.25 s, never more than 0.5 s between polls: noticed soon after returning.
    assert clock.sleeps[1:4] == [0.25, 0.5, 0.5] and max(clock.sleeps[1:]) == 0.5


def test_a_restart_slower_than_the_poll_is_followed(clock):
    host = RestartingHost(clock, reboot_seconds=300)
    res = run("restart_computer", {"notify_user": False}, host)
    assert res["restarted"] and res["restarts"][0]["failed_polls"] >= 290


# 3010, SMSTSRebootRequested, 1641 -----------------------------------------------------------


def command_host(clock, rcs, **kw):
    """Each run_command_line call returns the next exit code."""
    codes = list(rcs)

    def handler(host, name, args):
        assert name == "ansible.windows.win_command"
        rc = codes.pop(0)
        return {"changed": True, "rc": rc, "stdout": "", "stderr": "", **({"failed": True} if rc else {})}

    return RestartingHost(clock, handler=handler, **kw)


def test_3010_leaves_a_restart_owed_and_the_next_step_restarts_first(clock):
    host = command_host(clock, [3010, 0])
    first = run("run_command_line", {"command_line": "setup.exe"}, host, task_vars={"tsenv": {"Keep": "me"}},
                name="Install agent")
    assert first["reboot_required"] is True and first["restarted"] is False and host.shutdowns() == []
    owed = first["ansible_facts"]["tsenv_restart"]
    assert owed["pending"] is True and "'Install agent' returned 3010" in owed["reason"]

    second = run("run_command_line", {"command_line": "next.exe"}, host, task_vars=first["ansible_facts"])
    assert not second.get("failed") and second["restarted"] is True
    assert second["restarts"][0]["when"] == "before_step" and "returned 3010" in second["restarts"][0]["reason"]
    # The restart came first, then the step's own command, on the new boot.
    names = [n for n, a in host.calls]
    assert names.index("ansible.windows.win_reg_stat") < len(names) - 1
    assert host.step_calls()[-1][1]["cmd"] == "next.exe" and host.boots == 1
    assert second["ansible_facts"]["tsenv_restart"] == {"pending": False}
    assert second["ansible_facts"]["tsenv"]["Keep"] == "me"


def test_reboot_requested_variable_restarts_before_the_next_step(clock):
    host = command_host(clock, [0])
    res = run("run_command_line", {"command_line": "next.exe"}, host,
              task_vars={"tsenv": {"SMSTSRebootRequested": "HD", "SMSTSRebootMessage": "Engine says"}})
    assert host.shutdowns() == [[SHUTDOWN, "/r", "/t", "2", "/c", "Engine says"]]
    assert res["restarted"] and "SMSTSRebootRequested" not in res["ansible_facts"]["tsenv"]


def test_reboot_requested_winpe_is_refused(clock):
    host = command_host(clock, [0])
    with pytest.raises(AnsibleActionFail, match="SMSTSRebootRequested: 'WinPE'"):
        run("run_command_line", {"command_line": "x.exe"}, host, task_vars={"tsenv": {"SMSTSRebootRequested": "WinPE"}})
    assert host.calls == []


def test_1641_waits_for_the_installer_restart_and_does_not_fail(clock):
    def handler(host, name, args):
        host.down_from = host.clock.now + 3   # the installer restarts the host itself
        return {"changed": True, "rc": 1641, "stdout": "", "stderr": "", "failed": True}

    host = RestartingHost(clock, handler=handler, reboot_seconds=10)
    res = run("run_command_line", {"command_line": "setup.exe"}, host)
    assert not res.get("failed") and res["rc"] == 1641
    assert host.shutdowns() == [] and host.boots == 1
    assert res["restarts"][0]["kind"] == "installer" and res["reboot_required"] is False
    assert "tsenv_restart" not in res["ansible_facts"]


def test_1641_fails_where_3010_is_not_a_success_code(clock):
    host = command_host(clock, [1641])
    res = run("run_command_line", {"command_line": "setup.exe", "success_codes": [0]}, host)
    assert res["failed"] is True and host.shutdowns() == []


# SMSTSRetryRequested and unexpected restarts -----------------------------------------------


class RetryStep(StepAction):
    """Test-only step: one win_ping per run; switches on the unexpected-restart retries."""

    ARGUMENT_SPEC: dict = {}
    RETRY_ON_UNEXPECTED_RESTART = True
    runs = 0

    def run_step(self, args, env, task_vars):
        type(self).runs += 1
        res = self.run_module("ansible.windows.win_ping", {}, task_vars)
        if res.get("set"):
            env.set(*res["set"])
        return StepOutcome(succeeded=True, changed=True, msg="", fields={"run": type(self).runs})


class PlainStep(RetryStep):
    RETRY_ON_UNEXPECTED_RESTART = False


@pytest.fixture
def retry_step():
    RetryStep.runs = PlainStep.runs = 0
    return RetryStep


def crashing_host(clock, crashes: int, *, answers=None, **kw):
    """The first ``crashes`` runs of the step lose the host in the middle."""
    left = [crashes]

    def handler(host, name, args):
        assert name == "ansible.windows.win_ping"
        if left[0]:
            left[0] -= 1
            host.crash()
            raise HostDown("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))")
        return (answers.pop(0) if answers else {"ping": "pong"})

    return RestartingHost(clock, handler=handler, **kw)


def test_retry_requested_runs_the_same_step_again_after_a_restart(clock, retry_step):
    host = crashing_host(clock, 0, answers=[{"set": ("SMSTSRetryRequested", "true")}, {"ping": "pong"}])
    res = run(retry_step, {}, host, task_vars={"tsenv": {"Before": "1"}})
    assert not res.get("failed") and retry_step.runs == 2
    assert len(host.shutdowns()) == 1 and host.boots == 1
    assert [r["kind"] for r in res["restarts"]] == ["retry_requested"]
    tsenv = res["ansible_facts"]["tsenv"]
    assert "SMSTSRetryRequested" not in tsenv and tsenv["Before"] == "1"


def test_retry_requested_for_ever_stops(clock, retry_step):
    answers = [{"set": ("SMSTSRetryRequested", "true")}] * 20
    host = crashing_host(clock, 0, answers=answers)
    res = run(retry_step, {}, host)
    assert res["failed"] is True and "SMSTSRetryRequested was set 11 times" in res["msg"]
    assert retry_step.runs == 11 and len(host.shutdowns()) == 10


def test_unexpected_restart_is_retried_and_completes(clock, retry_step):
    host = crashing_host(clock, 1)
    res = run(retry_step, {}, host)
    assert not res.get("failed") and retry_step.runs == 2 and res["run"] == 2
    (record,) = res["restarts"]
    assert record["kind"] == "unexpected" and record["when"] == "during_step" and record["retry"] == 1
    assert host.shutdowns() == []   # nothing of ours restarted it


def test_two_unplanned_restarts_in_a_row_are_followed(clock, retry_step):
    host = crashing_host(clock, 2)
    res = run(retry_step, {}, host)
    assert not res.get("failed") and retry_step.runs == 3 and host.boots == 2
    assert [r["retry"] for r in res["restarts"]] == [1, 2]


def test_restarts_beyond_retry_count_fail_instead_of_looping(clock, retry_step):
    host = crashing_host(clock, 5)
    res = run(retry_step, {"retry_count": 1}, host)
    assert res["failed"] is True and retry_step.runs == 2
    assert "restarted unexpectedly during the step 2 times; retry_count (1) is used up" in res["msg"]
    assert res["restarted_during_step"] is True


def test_retries_can_be_switched_off(clock, retry_step):
    host = crashing_host(clock, 1)
    res = run(retry_step, {"retry_on_unexpected_restart": False}, host)
    assert res["failed"] is True and retry_step.runs == 1


def test_a_step_without_retries_says_the_host_restarted(clock, retry_step):
    host = crashing_host(clock, 1)
    res = run(PlainStep, {"continue_on_error": True}, host)
    assert res["step_failed"] is True and PlainStep.runs == 1
    assert "the host restarted unexpectedly during the step" in res["msg"] and res["restarted"] is True


def test_a_dropped_connection_without_a_restart_stays_a_connection_failure(clock, retry_step):
    def handler(host, name, args):
        raise HostDown("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))")

    host = RestartingHost(clock, handler=handler)
    with pytest.raises(HostDown):
        run(retry_step, {}, host)
    assert retry_step.runs == 1


@pytest.mark.parametrize("count", [0, 6])
def test_retry_count_range(clock, retry_step, count):
    host = crashing_host(clock, 0)
    with pytest.raises(AnsibleActionFail, match=f"retry_count: {count} is out of range"):
        run(retry_step, {"retry_count": count}, host)
    assert host.calls == []


def test_steps_without_the_hook_do_not_take_retry_options(clock):
    host = command_host(clock, [0])
    with pytest.raises(AnsibleActionFail, match="retry_count"):
        run("run_command_line", {"command_line": "x", "retry_count": 2}, host)


# Documentation ---------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["restart_computer", "install_software_updates"])
def test_docs_match_the_full_option_spec(step):
    from tests.unit.plugins.test_module_docs import compare, documented_options

    action = importlib.import_module(f"ansible_collections.tasksequence.windows.plugins.action.{step}").ActionModule
    compare(action.option_spec(), documented_options(step), step)
    mod = importlib.import_module(f"ansible_collections.tasksequence.windows.plugins.modules.{step}")
    assert all(f"tasksequence.windows.{step}" in task for task in yaml.safe_load(mod.EXAMPLES))
    assert {"rc", "reboot_required", "restarted", "restarts", "ansible_facts"} <= set(yaml.safe_load(mod.RETURN))
