"""Benchmarks of issue 12: the task_sequence role vs a static playbook vs raw ansible.windows tasks.

    python tests/bench/run_bench.py            # full version, writes docs/performance.md
    python tests/bench/run_bench.py --quick    # a smaller run, prints the table only

Against simulated Windows hosts (tests/winsim) on loopback, started in THIS process: the
harness only waits on ansible-playbook, so this process's CPU time (time.process_time) is the
simulated hosts' own CPU, reported apart from the controller's (the ansible-playbook children,
from getrusage(RUSAGE_CHILDREN)).

One host, the same generated sequence three ways, in the same run:
  role    the definition as data, run by tasksequence.windows.task_sequence
  static  the definition written as a playbook with the step modules, by the collection's own
          playbook writer (the importer's, plugin_utils/importer/playbook.py)
  raw     the same work with ansible.windows alone: win_command, set_fact, a block per group,
          win_stat / win_powershell for each host condition
The sequence has conditions at the corpus's density; the same steps without conditions show the
role's cost per task; the first comparison again with no latency added shows how the ratios
depend on the host's cost per request. Then a fleet: 1 / 10 / 50 hosts x 10 steps through the
role, forks = hosts.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
for _p in (COLLECTIONS, ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from ansible_collections.tasksequence.windows.plugins.plugin_utils import _engine  # noqa: E402
from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer.playbook import (  # noqa: E402
    playbook_text,
)
from tests.winsim.fleet import Fleet  # noqa: E402

BIN = os.path.dirname(sys.executable)
# A real host's time per WinRM request (network, HTTP.sys, the WinRM service), which loopback does
# not have. 35 ms puts a module task on the simulated host at about 0.35 s: the "low hundreds of
# milliseconds" per task of a well-tuned real host (ansible/ansible#58259; untuned, seconds).
# The report also gives the goal comparison with no latency at all (the controller's worst case).
REQUEST_LATENCY = 0.035
PERFORMANCE_MD = os.path.join(ROOT, "docs", "performance.md")
WAYS = ("role", "static", "raw")
PROCESS_MODULE = "run_command_line"


# The sequence --------------------------------------------------------------------------------
#
# A task sequence is more than its commands: its groups and its conditions are part of "the same
# work" (issue 12). The benchmark sequence carries them at about the density of the real exports
# in ../shared/corpus; `sequence_profile` measures both, and docs/performance.md shows them side by
# side. Every condition holds on the simulated hosts, so every step does its work in all three ways.

TOP_SHARE = 10            # a tenth of the steps at the top, the rest in groups
OUTER_GROUP_STEPS = 9     # an outer group: 3 steps of its own, then two nested groups of 3 steps
HOST_STEP_EVERY = 12      # step i with i % 12 == 6 has a host condition
VARIABLE_STEP_EVERY = 10  # step i with i % 10 == 3 has a variable condition
HOST_GROUP_EVERY = 12     # group g (in order of appearance) with g % 12 == 5 has a host condition
VARIABLE_GROUP_EVERY = 3  # other groups with g % 3 == 0 have a variable condition
# Host condition leaves, in turn, one or two per condition (the corpus is mostly WMI, some paths).
HOST_LEAVES = (
    {"wmi": {"namespace": "root\\cimv2", "query": "SELECT * FROM Win32_OperatingSystem WHERE Version LIKE '10.%'"}},
    {"wmi": {"namespace": "root\\cimv2", "query": "SELECT * FROM Win32_ComputerSystem WHERE Manufacturer LIKE '%'"}},
    {"wmi": {"namespace": "root\\cimv2", "query": "SELECT * FROM Win32_OperatingSystem WHERE OSArchitecture LIKE '64%'"}},
    {"folder": {"path": "C:\\Windows\\System32"}},
    {"wmi": {"namespace": "root\\cimv2", "query": "SELECT * FROM Win32_BIOS"}},
    {"wmi": {"namespace": "root\\cimv2", "query": "SELECT * FROM Win32_ComputerSystem WHERE TotalPhysicalMemory > 0"}},
    {"wmi": {"namespace": "root\\cimv2", "query": "SELECT * FROM Win32_OperatingSystem WHERE Caption LIKE '%Windows%'"}},
    {"file": {"path": "C:\\Windows\\System32\\drivers\\etc\\hosts"}},
)
VARIABLE_CONDITION = {"variable": {"name": "BenchVar0", "operator": "exists"}}


class _Conditions:
    """Hands out one sequence's conditions in order (deterministic: the same sequence every run)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.host_conditions = 0
        self.leaves = 0

    def _host(self) -> dict:
        n = 1 + self.host_conditions % 2   # one leaf, then two
        self.host_conditions += 1
        picked = [HOST_LEAVES[(self.leaves + k) % len(HOST_LEAVES)] for k in range(n)]
        self.leaves += n
        return picked[0] if n == 1 else {"all": picked}

    def for_step(self, i: int) -> dict | None:
        if self.enabled and i % HOST_STEP_EVERY == HOST_STEP_EVERY // 2:
            return self._host()
        if self.enabled and i % VARIABLE_STEP_EVERY == 3:
            return VARIABLE_CONDITION
        return None

    def for_group(self, g: int) -> dict | None:
        if self.enabled and g % HOST_GROUP_EVERY == 5:
            return self._host()
        if self.enabled and g % VARIABLE_GROUP_EVERY == 0:
            return VARIABLE_CONDITION
        return None


def make_definition(n_steps: int, with_conditions: bool = True) -> dict:
    """n_steps steps: a tenth at the top, the rest in outer groups of 9 (3 steps of their own, then
    two nested groups of 3). Set Task Sequence Variable and Run Command Line alternate (even steps
    set BenchVar<i>, odd ones echo it), so half the steps (rounded down) are process steps.
    ``with_conditions=False``: no condition at all (what the role costs per task, alone)."""
    conditions = _Conditions(with_conditions)
    steps = []
    for i in range(n_steps):
        if i % 2 == 0:
            step = {"name": f"Set BenchVar{i}", "module": "set_task_sequence_variable",
                    "options": {"name": f"BenchVar{i}", "value": f"value {i}"}}
        else:
            step = {"name": f"Echo step {i}", "module": PROCESS_MODULE,
                    "options": {"command_line": f"cmd.exe /c echo step {i} %BenchVar{i - 1}%"}}
        condition = conditions.for_step(i)
        if condition:
            step["conditions"] = condition
        steps.append(step)
    groups = 0

    def group(name: str) -> dict:
        nonlocal groups
        g: dict = {"group": name, "steps": []}
        condition = conditions.for_group(groups)
        groups += 1
        if condition:
            g["conditions"] = condition
        return g

    top = max(1, n_steps // TOP_SHARE)
    items: list[dict] = steps[:top]
    rest = steps[top:]
    for o, first in enumerate(range(0, len(rest), OUTER_GROUP_STEPS)):
        chunk = rest[first:first + OUTER_GROUP_STEPS]
        outer = group(f"Phase {o + 1}")   # numbered before its nested groups, as it appears
        outer["steps"].extend(chunk[:3])
        for k, at in enumerate(range(3, len(chunk), 3)):
            nested = group(f"Phase {o + 1} part {k + 1}")
            nested["steps"].extend(chunk[at:at + 3])
            outer["steps"].append(nested)
        items.append(outer)
    return {"format_version": 1, "name": f"Benchmark {n_steps} steps", "steps": items}


def flat_steps(items: list[dict]) -> list[dict]:
    out = []
    for it in items:
        out.extend(flat_steps(it["steps"]) if "group" in it else [it])
    return out


def process_steps(definition: dict) -> int:
    return sum(1 for s in flat_steps(definition["steps"]) if s["module"] == PROCESS_MODULE)


def _leaves(node: dict | None) -> list[str]:
    if not node:
        return []
    (kind, value), = node.items()
    if kind in ("all", "any", "none"):
        return [leaf for child in value for leaf in _leaves(child)]
    return [kind]


def sequence_profile(definitions: list[dict]) -> dict:
    """How much structure and how many conditions sequences carry: steps, groups, items with a
    condition and with a host condition, host condition leaves by kind, and `host_decisions` (the
    steps that need the host to decide: their own host condition or one of a group they enter)."""
    c = {"sequences": len(definitions), "steps": 0, "groups": 0, "steps_with_condition": 0, "steps_with_host": 0,
         "groups_with_condition": 0, "groups_with_host": 0, "host_leaves": 0, "host_decisions": 0, "kinds": {}}

    def walk(items: list[dict], pending: bool) -> bool:
        for it in items:
            kinds = _leaves(it.get("conditions"))
            host = [k for k in kinds if k in _engine.HOST_KINDS]   # the engine's own: what needs the host
            what = "groups" if "group" in it else "steps"
            c[what] += 1
            c[f"{what}_with_condition"] += bool(kinds)
            c[f"{what}_with_host"] += bool(host)
            c["host_leaves"] += len(host)
            for k in host:
                c["kinds"][k] = c["kinds"].get(k, 0) + 1
            if "group" in it:
                pending = walk(it["steps"], pending or bool(host))
            else:
                c["host_decisions"] += pending or bool(host)
                pending = False
        return pending

    for d in definitions:
        walk(d["steps"], False)
    return c


def corpus_profile() -> dict | None:
    """sequence_profile of every export in the corpus (``../shared/corpus`` or ``TASKSEQUENCE_CORPUS``,
    as the importer's tests read it); None when there is none."""
    from ansible_collections.tasksequence.windows.plugins.plugin_utils.importer import import_sequences

    folder = os.environ.get("TASKSEQUENCE_CORPUS") or os.path.join(os.path.dirname(ROOT), "shared", "corpus")
    files = sorted(os.path.join(d, f) for d, _s, fs in os.walk(folder) for f in fs if not f.endswith(".md"))
    if not files:
        return None
    definitions = []
    for path in files:
        with open(path, "rb") as f:
            # One export has bytes before its <?xml ?> declaration: imported leniently, as the docs say.
            definitions.extend(import_sequences(f.read(), os.path.basename(path), lenient=True))
    return sequence_profile(definitions)


# The three playbooks ---------------------------------------------------------------------------

def role_playbook(definition_file: str, state_dir: str) -> list[dict]:
    return [{
        "name": "Benchmark: the role",
        "hosts": "{{ bench_hosts }}",
        "gather_facts": False,
        "tasks": [{
            "name": "Run the sequence",
            "ansible.builtin.include_role": {"name": "tasksequence.windows.task_sequence"},
            "vars": {"task_sequence_definition_file": definition_file, "task_sequence_resume": False,
                     "task_sequence_state_dir": state_dir},
        }],
    }]


def static_playbook_text(definition: dict) -> str:
    """The collection's own playbook writer (what the importer produces for this definition), with
    ``gather_facts: false`` as the role's play and the raw play: the writer always gathers facts
    (one more remote execution per run), which is not part of running the steps."""
    text = playbook_text(definition, "bench_hosts")
    fixed = text.replace("\n  gather_facts: true\n", "\n  gather_facts: false\n", 1)
    if fixed == text:
        raise RuntimeError("the playbook writer's output changed: no 'gather_facts: true' to turn off")
    return fixed


def baseline_playbook() -> list[dict]:
    """ansible-playbook's own start-up and one connection: what every way pays once per run."""
    return [{"name": "Benchmark: start-up only", "hosts": "{{ bench_hosts }}", "gather_facts": False,
             "tasks": [{"name": "One ping", "ansible.windows.win_ping": {}}]}]


# What an admin writes by hand to ask the host about a WMI query: ansible.windows has no WMI
# module, so win_powershell; a file or folder is ansible.windows.win_stat.
RAW_WMI_SCRIPT = """param ([string]$Namespace, [string]$Query)
$Ansible.Changed = $false
[bool]@(Get-CimInstance -Namespace $Namespace -Query $Query -ErrorAction Stop).Count
"""


class _RawWriter:
    """The same work as plain ansible.windows tasks: win_command for the commands, set_fact for the
    variables, a block per group, and for each host condition leaf the module that looks at it
    (registered, read by `when`)."""

    def __init__(self):
        self.checks = 0

    def condition(self, node: dict, checks: list[dict]) -> str:
        (kind, value), = node.items()
        if kind == "all":
            return " and ".join(f"({self.condition(child, checks)})" for child in value)
        if kind == "variable" and value["operator"] == "exists":
            return f"{value['name']} is defined"
        self.checks += 1
        reg = f"bench_check_{self.checks}"
        if kind == "wmi":
            checks.append({"name": f"Check WMI: {value['query']}", "register": reg, "ansible.windows.win_powershell": {
                "script": RAW_WMI_SCRIPT, "parameters": {"Namespace": value["namespace"], "Query": value["query"]}}})
            return f"{reg}.output[0] | bool"
        if kind in ("file", "folder"):
            checks.append({"name": f"Check {kind} {value['path']}", "register": reg,
                           "ansible.windows.win_stat": {"path": value["path"], "get_checksum": False}})
            return f"{reg}.stat.exists and {reg}.stat.{'isdir' if kind == 'folder' else 'isreg'}"
        raise ValueError(f"the raw playbook has no translation for a {kind} condition")

    def tasks(self, items: list[dict]) -> list[dict]:
        out = []
        for it in items:
            checks: list[dict] = []
            when = self.condition(it["conditions"], checks) if it.get("conditions") else None
            out.extend(checks)
            if "group" in it:
                task = {"name": f"Group {it['group']}", "block": self.tasks(it["steps"])}
            elif it["module"] == PROCESS_MODULE:
                # %BenchVarN% -> the fact set_fact made: the expansion the step module does itself.
                cmd = re.sub(r"%(BenchVar\d+)%", r"{{ \1 }}", it["options"]["command_line"])
                task = {"name": it["name"], "ansible.windows.win_command": {"cmd": cmd}}
            else:
                task = {"name": it["name"], "ansible.builtin.set_fact": {it["options"]["name"]: it["options"]["value"]}}
            if when:
                task["when"] = when
            out.append(task)
        return out


def raw_playbook(definition: dict) -> list[dict]:
    return [{"name": "Benchmark: raw ansible.windows tasks", "hosts": "{{ bench_hosts }}",
             "gather_facts": False, "tasks": _RawWriter().tasks(definition["steps"])}]


def write_playbooks(definition: dict, workdir: str) -> dict[str, str]:
    os.makedirs(workdir, exist_ok=True)
    definition_file = os.path.join(workdir, "sequence.yml")
    with open(definition_file, "w", encoding="utf-8") as f:
        yaml.safe_dump(definition, f, sort_keys=False)
    paths = {w: os.path.join(workdir, f"{w}.yml") for w in WAYS}
    with open(paths["role"], "w", encoding="utf-8") as f:
        yaml.safe_dump(role_playbook(definition_file, os.path.join(workdir, "state")), f, sort_keys=False)
    with open(paths["static"], "w", encoding="utf-8") as f:
        f.write(static_playbook_text(definition))
    with open(paths["raw"], "w", encoding="utf-8") as f:
        yaml.safe_dump(raw_playbook(definition), f, sort_keys=False)
    paths["baseline"] = os.path.join(workdir, "baseline.yml")
    with open(paths["baseline"], "w", encoding="utf-8") as f:
        yaml.safe_dump(baseline_playbook(), f, sort_keys=False)
    return paths


# Running -----------------------------------------------------------------------------------------

def ansible_env(workdir: str) -> dict:
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_LOCAL_TEMP": os.path.join(workdir, "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "TASKSEQUENCE_WINDOWS_KEY_FILE": os.path.join(workdir, "controller.key"),
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
    })
    return env


def write_inventory(fleet: Fleet, names: list[str], path: str) -> str:
    inv = {"all": {"children": {"windows": {"hosts": {n: fleet.host_vars(n) for n in names}}}}}
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(inv, f, sort_keys=False)
    return path


def run_playbook(fleet: Fleet, names: list[str], playbook: str, inventory: str, workdir: str,
                 forks: int = 5, timeout: int = 600) -> dict:
    """One ansible-playbook run: wall time, controller CPU, simulated hosts' CPU, counters summed."""
    fleet.reset_counters()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    sim0 = time.process_time()
    t0 = time.perf_counter()
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", inventory, playbook, "-f", str(forks),
                           "-e", f"bench_hosts={','.join(names)}"],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False,
                          env=ansible_env(workdir))
    wall = time.perf_counter() - t0
    sim_cpu = time.process_time() - sim0
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"ansible-playbook {os.path.basename(playbook)} failed ({proc.returncode}):\n"
                           f"{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    requests = executions = 0
    for n in names:
        c = fleet.counters(n)
        requests += c["http"]["requests"]
        executions += c["host_side"]["executions"]
    return {"wall": wall, "sim_cpu": sim_cpu,
            "controller_cpu": (children1.ru_utime - children0.ru_utime) + (children1.ru_stime - children0.ru_stime),
            "requests": requests, "executions": executions}


def compare_ways(fleet: Fleet, n_steps: int, workdir: str, repeats: int = 1, with_conditions: bool = True) -> dict:
    """The three ways against win01, interleaved (role, static, raw, role, ...) so that load from
    others on the machine hits them alike; each way's run with the lowest wall time is kept. The
    start-up playbook runs first: it also warms the simulated host (its first module run reads the
    installed ansible.windows argument specs), which would otherwise be charged to the first way."""
    definition = make_definition(n_steps, with_conditions)
    paths = write_playbooks(definition, workdir)
    inventory = write_inventory(fleet, ["win01"], os.path.join(workdir, "inventory-1.yml"))
    baselines = [run_playbook(fleet, ["win01"], paths["baseline"], inventory, workdir)]
    runs: dict[str, list[dict]] = {w: [] for w in WAYS}
    for _round in range(repeats):
        for w in WAYS:
            runs[w].append(run_playbook(fleet, ["win01"], paths[w], inventory, workdir))
    baselines.append(run_playbook(fleet, ["win01"], paths["baseline"], inventory, workdir))
    baseline = min(baselines, key=lambda r: r["wall"])
    best = {w: min(runs[w], key=lambda r: r["wall"]) for w in WAYS}
    for w in WAYS:
        best[w]["walls"] = [r["wall"] for r in runs[w]]
        best[w]["per_step"] = max(0.0, best[w]["wall"] - baseline["wall"]) / n_steps
        best[w]["requests_per_step"] = best[w]["requests"] / n_steps
    return {"steps": n_steps, "process_steps": process_steps(definition), "repeats": repeats,
            "with_conditions": with_conditions, "profile": sequence_profile([definition]),
            "ways": best, "baseline": baseline,
            "role/static": best["role"]["wall"] / best["static"]["wall"],
            "role/raw": best["role"]["wall"] / best["raw"]["wall"],
            "role/static per step": best["role"]["per_step"] / best["static"]["per_step"],
            "role/raw per step": best["role"]["per_step"] / best["raw"]["per_step"]}


def fleet_throughput(fleet: Fleet, sizes: list[int], n_steps: int, workdir: str) -> list[dict]:
    definition = make_definition(n_steps)
    paths = write_playbooks(definition, workdir)
    out = []
    for size in sizes:
        names = fleet.names[:size]
        inventory = write_inventory(fleet, names, os.path.join(workdir, f"inventory-{size}.yml"))
        r = run_playbook(fleet, names, paths["role"], inventory, workdir, forks=size)
        r.update({"hosts": size, "steps": n_steps, "forks": size,
                  "steps_per_s": size * n_steps / r["wall"]})
        out.append(r)
    return out


# Report -------------------------------------------------------------------------------------------

def ansible_core_version() -> str:
    try:
        from ansible.release import __version__
        return __version__
    except ImportError:
        return "unknown"


def machine_facts() -> dict:
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "ansible_core": ansible_core_version(), "os": f"{platform.system()} {platform.release()}",
            "load": " / ".join(f"{x:.2f}" for x in os.getloadavg())}


GOALS = {"role/static": 1.10, "role/raw": 1.00}
LABELS = {"role": "role (`task_sequence`, definition as data)",
          "static": "static playbook (step modules, the collection's playbook writer)",
          "raw": "raw ansible.windows tasks (`win_command`, `set_fact`, `win_stat`, `win_powershell`)"}


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def profile_rows(bench: dict, corpus: dict | None) -> list[str]:
    def rows_of(p: dict) -> list[str]:
        leaves = p["host_leaves"]
        return [_pct(p["steps_with_condition"], p["steps"]), _pct(p["steps_with_host"], p["steps"]),
                f"{p['groups'] / p['steps']:.2f}" if p["steps"] else "-",
                _pct(p["groups_with_condition"], p["groups"]), _pct(p["groups_with_host"], p["groups"]),
                f"{100 * leaves / p['steps']:.1f}" if p["steps"] else "-",
                ", ".join(f"{k} {_pct(n, leaves)}" for k, n in sorted(p["kinds"].items(), key=lambda kv: -kv[1])),
                f"{100 * p['host_decisions'] / p['steps']:.1f}" if p["steps"] else "-"]
    names = ["steps with a condition", "steps with a host condition", "groups per step", "groups with a condition",
             "groups with a host condition", "host condition leaves per 100 steps", "host leaves by kind",
             "steps that need the host to decide, per 100 steps"]
    b = rows_of(bench)
    c = rows_of(corpus) if corpus else ["(corpus not beside the checkout)"] * len(names)
    head = f"| | benchmark sequence ({bench['steps']} steps) | corpus ({corpus['sequences']} sequences, " \
           f"{corpus['steps']} steps) |" if corpus else f"| | benchmark sequence ({bench['steps']} steps) | corpus |"
    return [head, "|---|---:|---:|"] + [f"| {n} | {x} | {y} |" for n, x, y in zip(names, b, c, strict=True)]


def ways_table(cmp_: dict) -> list[str]:
    lines = ["| way | wall (s) | all runs (s) | per step, start-up taken off (ms) | controller CPU (s) "
             "| simulated host CPU (s) | WinRM HTTP requests / step | remote executions |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    for w in WAYS:
        r = cmp_["ways"][w]
        lines.append(f"| {LABELS[w]} | {r['wall']:.1f} | {', '.join(f'{x:.1f}' for x in r['walls'])} "
                     f"| {r['per_step'] * 1000:.0f} | {r['controller_cpu']:.1f} | {r['sim_cpu']:.1f} "
                     f"| {r['requests_per_step']:.2f} | {r['executions']} |")
    return lines


def ratio_table(cmp_: dict, goals: bool) -> list[str]:
    lines = ["| ratio | measured (wall) | per step, start-up taken off |" + (" goal | met (wall) |" if goals else ""),
             "|---|---:|---:|" + ("---:|---|" if goals else "")]
    for key in ("role/static", "role/raw"):
        row = f"| {key.replace('/', ' / ')} | {cmp_[key]:.2f} | {cmp_[key + ' per step']:.2f} |"
        if goals:
            row += f" ≤ {GOALS[key]:.2f} | {'yes' if cmp_[key] <= GOALS[key] else 'no'} |"
        lines.append(row)
    return lines


def markdown(result: dict, facts: dict, elapsed: float, notes: list[str]) -> str:
    cmp_, plain, bare = result["compare"], result["plain"], result["loopback"]
    p = cmp_["profile"]
    lines = [
        "# Performance",
        "",
        "Written by `tests/bench/run_bench.py` (issue 12, part 6); do not edit by hand, run it again.",
        "",
        f"- Date: {result['date']}",
        f"- Machine: {facts['cores']} cores ({facts['cpu'] or 'unknown CPU'}), {facts['os']}, "
        f"load average before the run {facts['load']}",
        f"- Python {facts['python']}, ansible-core {facts['ansible_core']}",
        f"- Whole harness run: {elapsed:.0f} s",
        "",
        "**Times are from simulated Windows hosts (`tests/winsim`) on loopback, in the harness's own "
        "process, on a machine shared with other work: absolute seconds say little about real hosts "
        "and are noisy; only the ratios, measured in the same run, are meant to be compared.**",
        "",
        f"## One host: a {cmp_['steps']}-step sequence three ways (the goals)",
        "",
        f"{cmp_['steps']} steps ({cmp_['process_steps']} Run Command Line `cmd.exe /c echo ...`, the rest Set "
        f"Task Sequence Variable) in {p['groups']} groups, with variable and host conditions (WMI queries, "
        "files, folders) at about the density of the real exports in `../shared/corpus`, measured in this run "
        "by the same count. Every condition holds, so every step runs. The three ways do the same work: the "
        "role runs the definition; the static playbook is what the collection's playbook writer makes of it; "
        "the raw playbook is what an admin writes with ansible.windows alone: `win_command` and `set_fact` "
        "for the steps, a block per group, and one `win_stat` (file, folder) or `win_powershell` "
        "(`Get-CimInstance -Query`) per host condition leaf, registered and read by `when`. Each way ran "
        f"{cmp_['repeats']} time(s) interleaved; the fastest run is kept (all runs listed). Each WinRM request "
        f"to the simulated host takes {1000 * result['latency']:.0f} ms more than on loopback (a real host's "
        "network and service time, see the notes).",
        "",
        *profile_rows(p, result.get("corpus")),
        "",
        *ways_table(cmp_),
        "",
        f"Start-up (`ansible-playbook` with one `win_ping`, fastest run): {cmp_['baseline']['wall']:.1f} s, "
        "in every way's wall time.",
        "",
        *ratio_table(cmp_, goals=True),
        "",
        "## The same comparison with no latency added",
        "",
        "Loopback only: a WinRM request costs what the simulator's own work costs, far less than any real "
        "host; the controller's own work weighs most here. What the ratios become:",
        "",
        *ways_table(bare),
        "",
        *ratio_table(bare, goals=False),
        "",
        f"## The role's cost per task: the same {plain['steps']} steps without any condition",
        "",
        "No goal: with nothing to decide on the host, each way makes the same remote calls and the role's "
        "task per step is a raw task plus the engine's bookkeeping on the controller (deciding, ConfigMgr's "
        "rules, the checkpoint). What that costs, measured the same way:",
        "",
        *ways_table(plain),
        "",
        *ratio_table(plain, goals=False),
        "",
        f"## Fleet: hosts x {result['fleet'][0]['steps']} steps through the role, forks = hosts",
        "",
        "| hosts | forks | steps | wall (s) | steps / s | controller CPU (s) | simulated hosts' CPU (s) "
        "| WinRM HTTP requests | remote executions |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["fleet"]:
        lines.append(f"| {r['hosts']} | {r['forks']} | {r['hosts'] * r['steps']} | {r['wall']:.1f} "
                     f"| {r['steps_per_s']:.1f} | {r['controller_cpu']:.1f} | {r['sim_cpu']:.1f} "
                     f"| {r['requests']} | {r['executions']} |")
    lines += ["", "## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)


def notes_for(result: dict) -> list[str]:
    cmp_, plain, bare = result["compare"], result["plain"], result["loopback"]
    p = cmp_["profile"]
    ways = cmp_["ways"]
    notes = [
        "Wall time is the whole `ansible-playbook` process, its start-up (about the same for the three "
        "ways) included. Controller CPU is that process and its workers (`getrusage(RUSAGE_CHILDREN)`); "
        "simulated host CPU is the harness process's own `time.process_time()`, where the simulated "
        "hosts run as threads (the harness itself only waits).",
        f"Remote executions are the simulated host's `host_side.executions` (one module or raw script run). "
        f"Raw and static: {ways['raw']['executions']} and {ways['static']['executions']} = one per process step "
        f"({cmp_['process_steps']}) and one per host condition leaf ({p['host_leaves']}); the role: "
        f"{ways['role']['executions']} = one per process step and one `host_query` per step that needs the "
        f"host to decide ({p['host_decisions']}: the leaves of the step and of the groups it enters, together). "
        "Set Task Sequence Variable steps run on the controller only, in all three ways.",
        "Where the role gains: every task is a new worker process and a new WinRM connection (NTLM, shell "
        "created and deleted), so a host check as a task of its own costs about as much as a step; the role "
        "asks the host inside the step's own task, all the step's host leaves in one execution. Conditions "
        "are still evaluated when the step or group is reached (an earlier step may change what they "
        "see), never ahead.",
        f"Latency: {1000 * result['latency']:.0f} ms per WinRM request puts a module task on the simulated "
        "host at about a third of a second, the low hundreds of milliseconds a well-tuned real host takes per "
        "task (ansible/ansible#58259; an untuned one takes seconds). The more a host costs per request, the "
        f"more the role's saved executions count: with none added, role / raw is {bare['role/raw']:.2f} and "
        f"role / static {bare['role/static']:.2f} (third table).",
        "The static playbook is the collection's playbook writer's output with `gather_facts` turned off "
        "(the writer always writes `gather_facts: true`: one more remote execution per run that the role "
        "and the raw play do not make).",
        "The fleet runs use the role (the benchmark sequence, with its conditions); the simulated hosts are "
        "threads in one Python process (one GIL), so at 50 hosts they and the 50 forks share the 2 cores: "
        "throughput there is bounded by this machine, not by the role.",
        "2 cores shared with other engineers' work: repeated runs differ by several percent; the fastest "
        "of interleaved runs is kept for that reason.",
    ]
    for key, goal in GOALS.items():
        if cmp_[key] > goal:
            notes.append(f"{key.replace('/', ' / ')} = {cmp_[key]:.2f} misses its goal of {goal:.2f} in this run.")
    notes.append(
        f"Without conditions (second table) the role costs {100 * (plain['role/raw'] - 1):+.0f} % against raw "
        f"tasks and {100 * (plain['role/static'] - 1):+.0f} % against the static playbook: the engine's work "
        "per step on the controller (it loads the plan and the journal, decides, applies ConfigMgr's rules and "
        "writes the checkpoint atomically). A task per step, as the issue asks, cannot cost less than a raw "
        "task: the same worker process and the same connection.")
    return notes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=100, help="steps of the three-way comparisons (default 100)")
    ap.add_argument("--repeats", type=int, default=2, help="runs of each way, interleaved (default 2)")
    ap.add_argument("--fleet", default="1,10,50", help="fleet sizes (default 1,10,50)")
    ap.add_argument("--fleet-steps", type=int, default=10, help="steps per host in the fleet runs (default 10)")
    ap.add_argument("--quick", action="store_true", help="20 steps, 1 repeat, fleet 1,5; print, do not write")
    ap.add_argument("--output", default=PERFORMANCE_MD, help="markdown file to write ('-': print only)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (playbooks, inventories)")
    ap.add_argument("--latency", type=float, default=REQUEST_LATENCY,
                    help=f"seconds added to every WinRM request (default {REQUEST_LATENCY})")
    args = ap.parse_args(argv)
    if args.quick:
        args.steps, args.repeats, args.fleet, args.output = 20, 1, "1,5", "-"
    sizes = [int(x) for x in args.fleet.split(",") if x.strip()]

    facts = machine_facts()
    start = time.perf_counter()
    workdir = tempfile.mkdtemp(prefix="tsbench-")
    try:
        with Fleet(max(sizes + [1]), os.path.join(workdir, "winsim"), transport="ntlm", latency=args.latency) as fleet:
            print(f"three ways, {args.steps} steps with conditions x {args.repeats} ...", flush=True)
            compare = compare_ways(fleet, args.steps, os.path.join(workdir, "compare"), args.repeats)
            print(f"three ways, {args.steps} steps without conditions x {args.repeats} ...", flush=True)
            plain = compare_ways(fleet, args.steps, os.path.join(workdir, "plain"), args.repeats,
                                 with_conditions=False)
            print(f"fleet {sizes} x {args.fleet_steps} steps ...", flush=True)
            fleet_runs = fleet_throughput(fleet, sizes, args.fleet_steps, os.path.join(workdir, "fleet"))
        with Fleet(1, os.path.join(workdir, "winsim-loopback"), transport="ntlm") as bare:
            print(f"three ways, {args.steps} steps with conditions, no latency x {args.repeats} ...", flush=True)
            loopback = compare_ways(bare, args.steps, os.path.join(workdir, "loopback"), args.repeats)
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - start
    result = {"date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
              "compare": compare, "plain": plain, "loopback": loopback, "fleet": fleet_runs,
              "corpus": corpus_profile(), "latency": args.latency}
    text = markdown(result, facts, elapsed, notes_for(result))
    if args.output == "-":
        print(text)
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
        print(text)
        print(f"written: {args.output}")
    print("median wall of all runs: "
          + ", ".join(f"{w} {statistics.median(compare['ways'][w]['walls']):.1f}s" for w in WAYS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
