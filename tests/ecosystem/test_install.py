"""The built tarball installs as the README's "Install" section says, and runs from where it was installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.ecosystem.helpers import ANSIBLE_WINDOWS, BIN, ROOT, clean_env

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def run(cmd: list[str], env: dict, cwd, check: bool = True, timeout: int = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}")
    return proc


def galaxy_install(tmp_path, dest, *tarballs, offline=True, **extra_env) -> subprocess.CompletedProcess:
    cmd = [os.path.join(BIN, "ansible-galaxy"), "collection", "install", "-p", str(dest), *tarballs]
    if offline:
        cmd.append("--offline")
    return run(cmd, clean_env(tmp_path, str(dest), **extra_env), cwd=tmp_path, check=False)


def test_offline_install_with_dependency_tarball_then_doc_and_demo(tmp_path, fleet, built_tarball,
                                                                   ansible_windows_tarball):
    dest = tmp_path / "collections"
    proc = galaxy_install(tmp_path, dest, built_tarball, ansible_windows_tarball)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = dest / "ansible_collections" / "tasksequence" / "windows"
    assert (installed / "MANIFEST.json").is_file()
    assert (dest / "ansible_collections" / "ansible" / "windows" / "MANIFEST.json").is_file()
    assert not (installed / "tests").exists() and not (installed / "scripts").exists()

    env = clean_env(tmp_path, str(dest))
    doc = run([os.path.join(BIN, "ansible-doc"), "-t", "module", "tasksequence.windows.check_readiness"], env, tmp_path)
    assert "memory_mb" in doc.stdout and str(installed) in doc.stdout   # documented from the installed copy

    # The demo as a collection playbook (ns.coll.playbook), from the install path only.
    play = run([os.path.join(BIN, "ansible-playbook"), "-i", fleet.inventory_path, "tasksequence.windows.demo",
                "-e", "demo_hosts=all"], env, tmp_path)
    assert "failed=0" in play.stdout and "unreachable=0" in play.stdout
    for host in fleet.names:
        assert f"{host} " in play.stdout.split("PLAY RECAP")[1]
    assert "PowerShell step for site LAB" in play.stdout


def test_offline_install_without_dependency_names_it(tmp_path, built_tarball):
    proc = galaxy_install(tmp_path, tmp_path / "collections", built_tarball)
    assert proc.returncode != 0
    assert "ansible.windows" in proc.stdout + proc.stderr


def test_install_next_to_the_ansible_package_uses_its_ansible_windows(tmp_path, built_tarball):
    # `pip install ansible` puts ansible_collections/ on sys.path; a PYTHONPATH entry holding
    # ansible.windows is the same thing to ansible-galaxy, without the 500 MB bundle.
    site = tmp_path / "site-packages" / "ansible_collections" / "ansible"
    site.mkdir(parents=True)
    shutil.copytree(ANSIBLE_WINDOWS, site / "windows")
    dest = tmp_path / "collections"
    proc = galaxy_install(tmp_path, dest, built_tarball, offline=False, PYTHONPATH=str(tmp_path / "site-packages"),
                          ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="true")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"'ansible\.windows:[\d.]+' is already installed", proc.stdout), proc.stdout
    assert not (dest / "ansible_collections" / "ansible").exists()


def test_execution_environment_requirements_come_from_the_installed_collection(tmp_path, built_tarball,
                                                                               ansible_windows_tarball):
    dest = tmp_path / "collections"
    assert galaxy_install(tmp_path, dest, built_tarball, ansible_windows_tarball).returncode == 0
    proc = run([os.path.join(BIN, "ansible-builder"), "introspect", "--sanitize", str(dest)],
               clean_env(tmp_path, str(dest)), tmp_path)
    ours = [line for line in proc.stdout.splitlines() if "from collection tasksequence.windows" in line]
    with open(os.path.join(ROOT, "requirements.txt")) as fh:
        wanted = [line.split()[0] for line in fh if line.strip() and not line.startswith("#")]
    assert wanted and all(any(w in line for line in ours) for w in wanted), proc.stdout
