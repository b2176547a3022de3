#!/usr/bin/env bash
# Set everything up, start two simulated Windows hosts (one over NTLM-encrypted HTTP, one over
# HTTPS), run playbooks/demo.yml against both, stop the hosts.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
./scripts/bootstrap.sh
export ANSIBLE_CONFIG="$root/ansible.cfg"
export PATH="$root/.venv/bin:$PATH"

run=$(mktemp -d "${TMPDIR:-/tmp}/tasksequence-demo.XXXXXX")
cleanup() {
    python -m tests.winsim stop --pid-file "$run/winsim.pid" >/dev/null 2>&1 || true
    rm -rf "$run"
}
trap cleanup EXIT

python -m tests.winsim serve --hosts 2 --transport both --state-dir "$run/state" \
    --inventory-out "$run/inventory.yml" --pid-file "$run/winsim.pid" > "$run/winsim.log" 2>&1 &
for _ in $(seq 1 100); do
    [ -s "$run/inventory.yml" ] && break
    sleep 0.1
done
[ -s "$run/inventory.yml" ] || { cat "$run/winsim.log"; echo "simulated hosts did not start" >&2; exit 1; }
echo "Simulated Windows hosts (test fixture) are up; inventory:"
cat "$run/inventory.yml"
ansible-playbook -i "$run/inventory.yml" playbooks/demo.yml -e demo_hosts=all "$@"

# The same kind of work as data: a sequence run by the task_sequence role, with a restart in the
# middle, its CMTrace logs (smsts.log per host) and an HTML report kept under build/demo-logs.
logs=${DEMO_LOG_DIR:-$root/build/demo-logs}
mkdir -p "$logs"
echo
echo "=== A task sequence run by the tasksequence.windows.task_sequence role (playbooks/demo_sequence.yml) ==="
ANSIBLE_CALLBACKS_ENABLED=tasksequence.windows.task_sequence_report TASKSEQUENCE_WINDOWS_LOG_DIR="$logs" \
    ansible-playbook -i "$run/inventory.yml" playbooks/demo_sequence.yml -e demo_hosts=all "$@"
echo
echo "CMTrace logs (open them in CMTrace or OneTrace): $logs/<host>/smsts.log"
report=
for f in "$logs"/runs/*.html; do [ -e "$f" ] && report=$f; done   # names sort by time: the last is this run's
echo "HTML report of the run: ${report:-none was written}"
