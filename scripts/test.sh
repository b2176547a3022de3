#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, then runs every check, and
# ends with a table of each stage's wall time. pytest runs last; its summary line is repeated
# after the table so that it still closes the output.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export ANSIBLE_CONFIG="$root/ansible.cfg"
export PATH="$root/.venv/bin:$PATH"
mkdir -p build

names=()
times=()
results=()
began=$EPOCHREALTIME

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

table() {
    printf '\n=== stage times (wall) ===\n'
    local i
    for i in "${!names[@]}"; do
        printf '  %-54s %7.1f s  %s\n' "${names[$i]}" "${times[$i]}" "${results[$i]}"
    done
    printf '  %-54s %7.1f s\n' "total" "$(elapsed "$began")"
}

stage() {
    local name=$1 start=$EPOCHREALTIME rc=0
    shift
    printf '\n=== %s ===\n' "$name"
    "$@" || rc=$?
    names+=("$name")
    times+=("$(elapsed "$start")")
    results+=("$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (exit $rc)")")
    if [ "$rc" -ne 0 ]; then
        table
        exit "$rc"
    fi
}

lint() {
    ansible-lint playbooks/ roles/ extensions/ tests/integration/playbooks/ tests/winsim/playbooks/ \
        execution-environment.yml meta/
}

pytest_all() {
    # tee keeps the output live; pipefail keeps pytest's exit status.
    python -m pytest -n 2 -p no:randomly -m "not bench" tests/ 2>&1 | tee build/pytest.log
}

stage "bootstrap" ./scripts/bootstrap.sh
stage "ruff" ruff check .
stage "ansible-lint (production profile)" lint
stage "changelog fragments" antsibull-changelog lint
stage "collection build: exactly what ships" python scripts/check_build.py --output-path build/dist
stage "execution environment (ansible-builder create)" ./scripts/ee.sh
stage "docs site (antsibull-docs + Sphinx, -W)" ./scripts/docs.sh
stage "ansible-core 2.20 venv (matrix)" ./scripts/core_venv.sh
stage "ansible-test sanity" ./scripts/sanity.sh
stage "molecule (default + task_sequence, simulated hosts)" bash -c 'cd extensions && molecule test -s default && molecule test -s task_sequence'
stage "pytest: unit, simulated host, integration, ecosystem" pytest_all
# Alone, after the rest: timing ratios measured while other tests load the 2 cores are noise.
stage "benchmark gate (issue 12 goals, alone)" python -m pytest -p no:randomly -rA -m bench tests/bench
table
tail -n 1 build/pytest.log
