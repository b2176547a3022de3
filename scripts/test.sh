#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, then runs every check.
# pytest runs last so its summary line closes the output.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export ANSIBLE_CONFIG="$root/ansible.cfg"
export PATH="$root/.venv/bin:$PATH"

step() { printf '\n=== %s ===\n' "$*"; }

step "bootstrap"
./scripts/bootstrap.sh

step "ruff"
ruff check .

step "ansible-lint (production profile)"
ansible-lint playbooks/ roles/ extensions/ tests/integration/playbooks/ tests/winsim/playbooks/

step "changelog fragments"
antsibull-changelog lint

step "collection build holds no test fixtures"
python scripts/check_build.py

step "ansible-test sanity"
./scripts/sanity.sh

step "molecule (default scenario, simulated hosts)"
(cd extensions && molecule test -s default)

step "pytest: unit, simulated host, integration"
python -m pytest -n 2 -p no:randomly tests/
