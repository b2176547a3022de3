"""Many simulated Windows hosts in one process, each on its own loopback port. Test fixture.

    with Fleet(n=2, state_dir=tmp_path) as fleet:
        fleet.inventory_path       # Ansible YAML inventory for them
        fleet.counters("win01")    # WinRM request and host-side counters
        fleet.faults("win01", drop_connections=1)
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request

import yaml

from tests.winsim import auth, tls
from tests.winsim.machine import DEPLOY_PASSWORD, TEST_PASSWORD, Machine
from tests.winsim.server import HostServer

TRANSPORTS = ("ntlm", "https", "both")


class Fleet:
    def __init__(self, n: int = 1, state_dir=".winsim", *, transport: str = "ntlm", base_port: int = 0,
                 reboot_seconds: float = 3.0, allow_unencrypted: bool = False, seed: dict | None = None,
                 seeds: dict[str, dict] | None = None, operation_timeout: int = 20, latency: float = 0.0):
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}")
        self.state_dir = os.path.abspath(str(state_dir))
        os.makedirs(self.state_dir, exist_ok=True)
        self.names = [f"win{i + 1:02d}" for i in range(n)]
        self.machines = [Machine(name, self.state_dir, index=i, reboot_seconds=reboot_seconds,
                                 seed={**(seed or {}), **((seeds or {}).get(name) or {})})
                         for i, name in enumerate(self.names)]
        accounts = {}
        for m in self.machines:
            accounts.update(m.accounts())
        auth.write_user_file(os.path.join(self.state_dir, "ntlm-users.txt"), accounts,
                             [m.state["hostname"] for m in self.machines])
        ssl_ctx = tls.server_context(self.state_dir) if transport in ("https", "both") else None
        self.cert_path = os.path.join(self.state_dir, "winsim-cert.pem") if ssl_ctx else None
        self.servers: dict[str, HostServer] = {}
        self.operation_timeout = operation_timeout
        for i, m in enumerate(self.machines):
            use_tls = transport == "https" or (transport == "both" and i % 2 == 1)
            port = base_port + i if base_port else 0
            self.servers[m.name] = HostServer(m, ("127.0.0.1", port), ssl_context=ssl_ctx if use_tls else None,
                                              allow_unencrypted=allow_unencrypted, latency=latency)
        self.inventory_path = os.path.join(self.state_dir, "inventory.yml")
        self._threads: list[threading.Thread] = []

    def start(self) -> Fleet:
        for srv in self.servers.values():
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
            t.start()
            self._threads.append(t)
        self.write_inventory(self.inventory_path)
        return self

    def stop(self) -> None:
        for srv in self.servers.values():
            srv.shutdown()
            srv.server_close()

    def __enter__(self) -> Fleet:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def machine(self, name: str) -> Machine:
        return self.servers[name].machine

    def host_vars(self, name: str) -> dict:
        srv = self.servers[name]
        hv = {
            "ansible_host": "127.0.0.1", "ansible_port": srv.port, "ansible_connection": "winrm",
            "ansible_user": "Administrator", "ansible_password": TEST_PASSWORD,
            "ansible_winrm_scheme": srv.scheme, "ansible_winrm_transport": "ntlm",
            "ansible_winrm_operation_timeout_sec": self.operation_timeout,
            "ansible_winrm_read_timeout_sec": self.operation_timeout + 10,
            "ansible_winrm_connection_timeout": self.operation_timeout,
            "winsim_deploy_password": DEPLOY_PASSWORD,
        }
        if srv.scheme == "https":
            hv["ansible_winrm_server_cert_validation"] = "ignore"
        return hv

    def inventory(self) -> dict:
        return {"all": {"children": {"windows": {"hosts": {n: self.host_vars(n) for n in self.names}}}}}

    def write_inventory(self, path: str) -> None:
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("# Simulated Windows hosts (tests/winsim, a test fixture). The passwords are test credentials.\n")
            yaml.safe_dump(self.inventory(), f, sort_keys=False)
        os.replace(tmp, path)   # appears whole, only once every listener is up

    # control API (the same the HTTP control endpoints offer) ----------------------------

    def url(self, name: str, path: str) -> str:
        srv = self.servers[name]
        return f"http://127.0.0.1:{srv.port}{path}" if srv.scheme == "http" else f"https://127.0.0.1:{srv.port}{path}"

    def counters(self, name: str) -> dict:
        return self.servers[name].counters()

    def reset_counters(self, name: str | None = None) -> None:
        for n in [name] if name else self.names:
            self.servers[n].reset_counters()

    def faults(self, name: str, **spec) -> None:
        self.servers[name].faults.arm(spec)


def http_control(url: str, data: dict | None = None) -> dict:
    """Call a running fleet's control endpoint (GET, or POST with JSON)."""
    import ssl

    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    ctx = ssl._create_unverified_context() if url.startswith("https") else None   # the fixture's own cert
    with urllib.request.urlopen(req, timeout=10, context=ctx) as resp:
        return json.loads(resp.read())
