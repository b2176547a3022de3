# Copyright: (c) 2026, Task Sequence for Ansible maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restarts of the host: the one helper every step shares.

Internal to this collection: no compatibility promise.

Every kind of restart ends in the same wait (``Restarter.wait_for_restart``):

* planned (Restart Computer, a step that returned 3010, ``SMSTSRebootRequested``,
  ``SMSTSRetryRequested``, updates between rounds): ``shutdown.exe /r`` through
  ``ansible.windows.win_command``, then the wait;
* done by an installer (exit code 1641) or unexpected (the connection dropped during a step):
  only the wait.

The wait polls ``ansible.windows.setup`` with ``gather_subset: uptime``: one module execution
that proves WinRM really runs modules again, and whose ``ansible_uptime_seconds`` (the host's
own tick count, so no clock skew) says whether the host booted after a given moment. Failed
polls reconnect and back off from 0.25 s to at most 0.5 s, so the host is noticed within about
a second of accepting connections again (``ansible.windows.win_reboot`` backs off up to 12 s,
which measured 5 to 11 s late on the simulated host). Then LogonUI's ``AutoLogonChecked`` key
(``ansible.windows.win_reg_stat``) tells that Windows finished starting, the test
``win_reboot`` uses. Everything is bounded by ``restart_timeout``.
"""

from __future__ import annotations

import contextlib
import time
import typing as t

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure

REBOOT_REQUESTED = "SMSTSRebootRequested"
RETRY_REQUESTED = "SMSTSRetryRequested"
ENGINE_MESSAGE = "SMSTSRebootMessage"
ENGINE_DELAY = "SMSTSRebootDelay"
PENDING_FACT = "tsenv_restart"          # {"pending": bool, "reason": str, "step": str}
LASTBOOT_FACT = "ansible_lastboot"

RESTART_RC = 3010                      # ERROR_SUCCESS_REBOOT_REQUIRED: restart before the next step
INSTALLER_RESTARTED_RC = 1641          # ERROR_SUCCESS_REBOOT_INITIATED: the installer restarts the host
ALREADY_SCHEDULED_RC = 1190            # shutdown.exe: a shutdown is already scheduled
SHUTDOWN = r"C:\Windows\System32\shutdown.exe"
# win_reboot's floor: with less notice the shutdown can end the WinRM command before it answers.
MIN_NOTICE = 2
MAX_NOTICE = 315360000                 # shutdown.exe /t: at most ten years
MAX_MESSAGE = 512                      # ConfigMgr's Restart Computer message
LOGON_UI_KEY = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\AutoLogonChecked"
UPTIME_SUBSET = ["!all", "!min", "uptime"]

DEFAULT_TIMEOUT = 1200                 # win_updates' reboot_timeout
MAX_TIMEOUT = 86400
CONNECT_TIMEOUT = 5                    # win_reboot's connect_timeout while polling
BACKOFF_FIRST, BACKOFF_MAX = 0.25, 0.5
# The uptime is whole seconds: a boot counts as "after t0" only below (now - t0) - this margin.
UPTIME_MARGIN = 1.0
MAX_REQUESTED_RETRIES = 10             # SMSTSRetryRequested set again and again stops here

RETRY_SPEC: dict[str, dict] = {
    "retry_on_unexpected_restart": {"type": "bool", "default": True},
    "retry_count": {"type": "int", "default": 2},
}
RETRY_RANGE = (1, 5)                    # ConfigMgr's UI

_TRUE = {"true", "1", "yes", "hd"}
_FALSE = {"false", "0", "no"}

# Replaced in unit tests by a virtual clock.
clock = time.monotonic
sleep = time.sleep


class HostDidNotReturn(AnsibleActionFail):
    """The host did not answer again within restart_timeout."""

    def __init__(self, message: str, waited: float):
        super().__init__(message)
        self.waited = waited


def check_options(args: dict) -> None:
    """The frame's restart options, checked with the rest before anything reaches the host."""
    timeout = args.get("restart_timeout")
    if timeout is not None and not 1 <= timeout <= MAX_TIMEOUT:
        raise AnsibleActionFail(f"restart_timeout: {timeout} is out of range; give seconds from 1 to {MAX_TIMEOUT}.")
    count = args.get("retry_count")
    if count is not None and not RETRY_RANGE[0] <= count <= RETRY_RANGE[1]:
        raise AnsibleActionFail(
            f"retry_count: {count} is out of range; ConfigMgr allows {RETRY_RANGE[0]} to {RETRY_RANGE[1]} "
            "retries (turn retries off with retry_on_unexpected_restart: false)."
        )


def reboot_request(env, field: str = REBOOT_REQUESTED) -> str | None:
    """'HD' when SMSTSRebootRequested asks for a restart into the installed OS, else None."""
    value = env.get(REBOOT_REQUESTED)
    if value is None or value.strip() == "" or value.strip().lower() in _FALSE:
        return None
    if value.strip().lower() == "winpe":
        raise AnsibleActionFail(
            f"{field}: 'WinPE' asks for a restart into the boot image, which is OS deployment; this collection "
            "runs non-OS sequences only. Set it to 'HD' (or true) to restart into the installed Windows."
        )
    if value.strip().lower() not in _TRUE:
        raise AnsibleActionFail(f"{field}: '{value}' is not a restart request; use 'HD' or 'true' (or delete it).")
    return "HD"


def retry_requested(env) -> bool:
    value = env.get(RETRY_REQUESTED)
    return value is not None and value.strip().lower() in _TRUE


def is_connection_error(exc: BaseException) -> bool:
    """A lost connection, as the winrm / psrp plugins and their libraries raise it."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (AnsibleConnectionFailure, OSError)):
            return True
        root = type(exc).__module__.split(".")[0]
        if root in ("requests", "urllib3", "winrm", "pypsrp", "psrp", "spnego", "http"):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class Restarter:
    """Restarts one host and waits for it, for one step (an action plugin of ours)."""

    def __init__(self, action, task_vars: dict, timeout: int | None = None):
        self.action = action
        self.task_vars = task_vars
        self.timeout = timeout or DEFAULT_TIMEOUT
        self.records: list[dict] = []

    # host calls ---------------------------------------------------------------------

    def _probe(self) -> tuple[str, float]:
        """(ansible_lastboot, uptime seconds): one execution of ansible.windows.setup."""
        res = self.action.run_module("ansible.windows.setup", {"gather_subset": UPTIME_SUBSET}, self.task_vars)
        facts = res.get("ansible_facts") or {}
        if res.get("failed") or "ansible_uptime_seconds" not in facts:
            raise _NotReady(f"setup did not answer: {res.get('msg') or 'no uptime'}")
        return str(facts.get(LASTBOOT_FACT) or ""), float(facts["ansible_uptime_seconds"])

    def _ready(self) -> bool:
        res = self.action.run_module("ansible.windows.win_reg_stat", {"path": LOGON_UI_KEY}, self.task_vars)
        return bool(res.get("exists")) and not res.get("failed")

    def _reconnect(self) -> None:
        # A new session and shell, with the current connection_timeout; raises while the host
        # is down. (Closing the old shell first would wait on a host that may not answer: the
        # shells of an earlier boot are gone anyway.)
        self.action._connection.reset()

    @contextlib.contextmanager
    def _short_connect_timeout(self):
        """Poll with win_reboot's short connection timeout; give the task's back after."""
        connection = self.action._connection
        try:
            original = connection.get_option("connection_timeout")
        except Exception:   # not every connection plugin has it
            yield
            return
        if original is not None and original <= CONNECT_TIMEOUT:
            yield
            return
        with contextlib.suppress(Exception):
            connection.set_option("connection_timeout", CONNECT_TIMEOUT)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                connection.set_option("connection_timeout", original)
                self._reconnect()

    # restarts -----------------------------------------------------------------------

    def restart(self, *, kind: str, reason: str, when: str, message: str | None = None, notice: int = MIN_NOTICE,
                sensitive: bool = False) -> dict:
        """A planned restart: shutdown.exe /r through win_command, then the wait."""
        notice = max(int(notice), MIN_NOTICE)
        argv = [SHUTDOWN, "/r", "/t", str(notice)]
        if message:
            argv += ["/c", message]
        issued = clock()
        for attempt in range(2):
            try:
                res = self.action.run_module("ansible.windows.win_command", {"argv": argv}, self.task_vars,
                                             sensitive=sensitive)
            except Exception as e:
                if not is_connection_error(e):
                    raise
                break   # the host went down under the command: the restart began
            rc = res.get("rc")
            if rc == ALREADY_SCHEDULED_RC and attempt == 0:
                # Someone else's shutdown is pending: take it over, as win_reboot does.
                self.action.run_module("ansible.windows.win_command", {"argv": [SHUTDOWN, "/a"]}, self.task_vars)
                continue
            if rc != 0:
                raise AnsibleActionFail(
                    f"the restart could not be started: shutdown.exe returned {rc}: "
                    f"{(res.get('stderr') or res.get('msg') or '').strip()}"
                )
            break
        sleep(min(notice, self.timeout))   # the host cannot be down before the notice has run out
        return self.wait_for_restart(issued, kind=kind, reason=reason, when=when)

    def wait_for_restart(self, since: float, *, kind: str, reason: str, when: str,
                         only_if_restarted: bool = False) -> dict | None:
        """Wait until the host booted after ``since`` (a ``clock()`` value) and runs modules.

        ``only_if_restarted``: the first answer that shows no restart since then ends the wait
        with None (a connection that dropped for another reason).
        """
        start = clock()
        deadline = start + self.timeout
        polls = failed = 0
        delay = BACKOFF_FIRST
        connected = False   # the session of the step (or of the old boot) may be dead
        last_error = ""
        with self._short_connect_timeout():
            while True:
                polls += 1
                try:
                    if not connected:
                        self._reconnect()
                        connected = True
                    lastboot, uptime = self._probe()
                    if uptime < (clock() - since) - UPTIME_MARGIN:
                        if self._ready():
                            record = {"kind": kind, "reason": reason, "when": when, "boot_time": lastboot,
                                      "waited_seconds": round(clock() - start, 1), "polls": polls,
                                      "failed_polls": failed}
                            self.records.append(record)
                            return record
                        last_error = "Windows is still starting (LogonUI is not up yet)"
                    elif only_if_restarted:
                        return None
                    else:
                        last_error = "the host has not restarted yet"
                except Exception as e:
                    if not (is_connection_error(e) or isinstance(e, (_NotReady, AnsibleActionFail))):
                        raise
                    failed += 1
                    connected = False
                    last_error = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
                if clock() + delay > deadline:
                    waited = clock() - start
                    raise HostDidNotReturn(
                        f"the host did not come back after the restart ({reason}): waited {waited:.0f} s of "
                        f"restart_timeout {self.timeout} s, {polls} polls; last: {last_error}", waited)
                sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)


class _NotReady(Exception):
    """The host answered, but not yet as a started Windows does."""


def describe(records: list[dict]) -> str:
    """One line a person reads in the task result."""
    parts = []
    for r in records:
        if r.get("check_mode"):
            parts.append(f"would restart the host {r['when'].replace('_', ' ')} ({r['reason']})")
        else:
            parts.append(f"the host restarted {r['when'].replace('_', ' ')} ({r['reason']}); "
                         f"back after {r['waited_seconds']} s")
    return "; ".join(parts)


def facts_after(records: list[dict]) -> dict[str, t.Any]:
    """Facts that a restart makes stale: the boot time (and with it the inventory cache)."""
    done = [r for r in records if not r.get("check_mode")]
    if not done:
        return {}
    # An empty inventory is not current (see _inventory.is_current): the next step asks again.
    return {LASTBOOT_FACT: done[-1]["boot_time"], "tsenv_hardware": {}}


def restart_host(action, task_vars: dict, *, reason: str, timeout: int | None = None, message: str | None = None,
                 notice: int = MIN_NOTICE) -> dict:
    """A planned restart for callers outside the step frame (the sequence engine): the record plus 'msg'."""
    record = Restarter(action, task_vars, timeout).restart(kind="requested", reason=reason, when="after_step",
                                                           message=message, notice=notice)
    return {**record, "msg": describe([record])}
