"""The WS-Management (WinRM) endpoint of one simulated Windows host.

Real clients (pywinrm, pypsrp, Ansible's winrm plugin) talk to it over HTTP with NTLM and
message encryption, or over HTTPS. Commands run through ``Machine.execute`` (emulated in
Python: no PowerShell runs here). Test fixture: never shipped.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.winsim import wsman
from tests.winsim.auth import ENCRYPTED_CONTENT_TYPE, AuthError, ConnectionAuth

MAX_BODY = 64 * 1024 * 1024
MAX_WAIT = 60.0   # longest a Receive waits for output before answering "poll again"


class StdinReader:
    """stdin of one command, filled by Send requests."""

    def __init__(self):
        self._chunks: list[bytes] = []
        self._ended = threading.Event()
        self._lock = threading.Lock()

    def feed(self, data: bytes, end: bool) -> None:
        with self._lock:
            self._chunks.append(data)
        if end:
            self._ended.set()

    def close(self) -> None:
        self._ended.set()

    def read_all(self, timeout: float | None = None) -> bytes:
        self._ended.wait(timeout)
        with self._lock:
            return b"".join(self._chunks)


@dataclasses.dataclass
class Command:
    command_id: str
    stdin: StdinReader
    cancel: threading.Event
    done: threading.Event
    result: object = None


@dataclasses.dataclass
class Shell:
    shell_id: str
    boot_id: int
    user: str
    commands: dict = dataclasses.field(default_factory=dict)


class Faults:
    """Fault injection switches, armed through POST /winsim/faults.

    Restart switches (issue 11; test fixture): ``never_return`` makes the host refuse every
    connection from its next boot on (a host that never comes back from a restart; arm it
    with false to bring it back); ``hang_while_down`` makes connections made while it is down
    hang until it is up again (at most ``HANG_LIMIT`` s) instead of being refused, so clients
    run into their own connect / read timeouts.
    """

    HANG_LIMIT = 60.0

    def __init__(self, boot_id=lambda: 0):
        self.lock = threading.Lock()
        self.drop_connections = 0
        self.wsman_fault_500 = 0
        self.delay_seconds = 0.0
        self.crash_during_next_command = False
        self._boot_id = boot_id
        self.never_return_from: int | None = None   # the first boot that never answers
        self.hang_while_down = False

    def arm(self, spec: dict) -> None:
        with self.lock:
            if "never_return" in spec:
                self.never_return_from = self._boot_id() + 1 if spec["never_return"] else None
            self.hang_while_down = bool(spec.get("hang_while_down", self.hang_while_down))
            self.drop_connections = int(spec.get("drop_connections", self.drop_connections))
            self.wsman_fault_500 = int(spec.get("wsman_fault_500", self.wsman_fault_500))
            self.delay_seconds = float(spec.get("delay_seconds", self.delay_seconds))
            self.crash_during_next_command = bool(spec.get("crash_during_next_command", self.crash_during_next_command))

    def take(self, name: str) -> bool:
        with self.lock:
            value = getattr(self, name)
            if isinstance(value, bool):
                setattr(self, name, False)
                return value
            if value > 0:
                setattr(self, name, value - 1)
                return True
            return False


def new_counters() -> dict:
    return {"requests": 0, "by_action": collections.Counter(), "auth_failures": 0, "refused_while_down": 0,
            "dropped": 0, "faults_injected": 0, "encrypted": 0, "handler_errors": 0}


class HostServer(ThreadingHTTPServer):
    """One simulated host's endpoint on one loopback port."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, machine, address=("127.0.0.1", 0), *, ssl_context: ssl.SSLContext | None = None,
                 allow_unencrypted: bool = False, latency: float = 0.0):
        super().__init__(address, Handler)
        self.machine = machine
        # Seconds added to every WS-Man request (a host's network and service time): loopback has
        # none, so benchmarks that compare ways of calling a host set one (tests/bench/run_bench.py).
        self.latency = latency
        self.ssl_context = ssl_context
        self.allow_unencrypted = allow_unencrypted
        self.shells: dict[str, Shell] = {}
        self.lock = threading.Lock()
        self.faults = Faults(machine.boot_id)
        self.http = new_counters()

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_context else "http"

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.ssl_context is not None:
            # The handshake happens in the handler thread (see Handler.setup).
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address) -> None:
        # Count instead of printing: clients dropping connections mid-request is normal in restarts.
        with self.lock:
            self.http["handler_errors"] += 1
        if os.environ.get("WINSIM_DEBUG"):
            super().handle_error(request, client_address)

    def away(self) -> bool:
        """Down for a restart, or (never_return) booted into a boot that never answers."""
        first = self.faults.never_return_from
        return not self.machine.is_up() or (first is not None and self.machine.boot_id() >= first)

    def verify_request(self, request, client_address) -> bool:
        # guess: while Windows restarts its network stack is down; a refused/reset connection
        # is what clients see. Closing the accepted socket at once gives them that.
        if self.away():
            with self.lock:
                self.http["refused_while_down"] += 1
            # guess: a host that is powered off or still in firmware does not answer at all;
            # with hang_while_down the handler holds the connection (Handler.handle_one_request).
            return self.faults.hang_while_down
        if self.faults.take("drop_connections"):
            with self.lock:
                self.http["dropped"] += 1
            return False
        return True

    def counters(self) -> dict:
        with self.lock:
            http = {k: (dict(v) if isinstance(v, collections.Counter) else v) for k, v in self.http.items()}
        return {"host": self.machine.name, "http": http, "host_side": self.machine.counters_snapshot()}

    def reset_counters(self) -> None:
        with self.lock:
            self.http = new_counters()
        self.machine.reset_counters()

    # Shell operations ------------------------------------------------------------

    def _shell(self, req: wsman.Request) -> Shell:
        with self.lock:
            shell = self.shells.get(req.shell_id or "")
        if shell is None or shell.boot_id != self.machine.boot_id():
            raise wsman.WSManFault(
                wsman.SHELL_NOT_FOUND,
                f"The request for the Windows Remote Shell with ShellId {req.shell_id} failed because the shell "
                "was not found on the server. Possible causes are: the specified ShellId is incorrect or the "
                "shell no longer exists on the server.",
                "w:InvalidSelectors")
        return shell

    def dispatch(self, req: wsman.Request, user: str, endpoint: str) -> bytes:
        if req.resource_uri and req.resource_uri != wsman.SHELL_URI:
            raise wsman.WSManFault(2150858811, f"simulated host: the resource URI '{req.resource_uri}' is not supported",
                                   "w:DestinationUnreachable")
        if req.action == "Create":
            shell_id = str(uuid.uuid4()).upper()
            with self.lock:
                self.shells[shell_id] = Shell(shell_id, self.machine.boot_id(), user)
            return wsman.create_response(req, shell_id, endpoint)
        shell = self._shell(req)
        if req.action == "Delete":
            with self.lock:
                self.shells.pop(shell.shell_id, None)
            for cmd in shell.commands.values():
                cmd.cancel.set()
                cmd.stdin.close()
            return wsman.empty_response(req)
        if req.action == "Command":
            return self._command(req, shell)
        if req.action == "Send":
            for command_id, data, end in wsman.send_streams(req):
                cmd = shell.commands.get(command_id)
                if cmd is None:
                    raise wsman.WSManFault(wsman.INVALID_SELECTORS, f"The command {command_id} was not found.",
                                           "w:InvalidSelectors")
                cmd.stdin.feed(data, end)
            return wsman.empty_response(req)
        if req.action == "Receive":
            command_id = wsman.receive_command_id(req)
            cmd = shell.commands.get(command_id)
            if cmd is None:
                raise wsman.WSManFault(wsman.INVALID_SELECTORS, f"The command {command_id} was not found.",
                                       "w:InvalidSelectors")
            if not cmd.done.wait(min(max(req.operation_timeout - 0.5, 0.5), MAX_WAIT)):
                raise wsman.WSManFault(
                    wsman.OPERATION_TIMEOUT,
                    "The WS-Management service cannot complete the operation within the time specified in "
                    "OperationTimeout.", "w:TimedOut")
            res = cmd.result
            return wsman.receive_response(req, command_id, res.stdout, res.stderr, res.rc)
        # Signal: terminate (or ctrl_c) ends the command.
        command_id, _code = wsman.signal_command_id(req)
        cmd = shell.commands.pop(command_id, None)
        if cmd is not None:
            cmd.cancel.set()
            cmd.stdin.close()
        return wsman.empty_response(req)

    def _command(self, req: wsman.Request, shell: Shell) -> bytes:
        line = wsman.command_line(req)
        cmd = Command(str(uuid.uuid4()).upper(), StdinReader(), threading.Event(), threading.Event())
        shell.commands[cmd.command_id] = cmd

        def run():
            try:
                cmd.result = self.machine.execute(line, cmd.stdin, user=shell.user, cancel=cmd.cancel)
            except Exception as e:  # the emulation itself broke: say so as the process's error
                from tests.winsim.machine import ExecResult
                cmd.result = ExecResult(b"", f"simulated host internal error: {type(e).__name__}: {e}".encode(), 1)
            finally:
                cmd.done.set()

        threading.Thread(target=run, name=f"cmd-{cmd.command_id[:8]}", daemon=True).start()
        if self.faults.take("crash_during_next_command"):
            threading.Timer(0.2, self.machine.crash).start()
        return wsman.command_response(req, cmd.command_id)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HostServer
    # A response goes out as two writes (headers, then body): with Nagle's algorithm on, the body
    # waits for the client's delayed ACK of the headers, ~40 ms on every request.
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.settimeout(10)
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError):
                self.close_connection = True
            self.connection.settimeout(None)
        self.auth = ConnectionAuth(self.server.machine.accounts, secure=self.server.ssl_context is not None,
                                   allow_unencrypted=self.server.allow_unencrypted)

    def log_message(self, format, *args):  # noqa: A002 - keep the access log quiet (and free of headers)
        pass

    def handle_one_request(self):
        if self.server.away():
            if self.server.faults.hang_while_down:
                end = time.monotonic() + Faults.HANG_LIMIT
                while self.server.away() and time.monotonic() < end:
                    time.sleep(0.1)
            self.close_connection = True
            return
        try:
            super().handle_one_request()
        except (TimeoutError, ConnectionError, ssl.SSLError):
            self.close_connection = True

    def _send(self, status: int, body: bytes = b"", content_type: str = "application/soap+xml;charset=UTF-8",
              headers: list[tuple[str, str]] | None = None):
        self.send_response(status)
        for k, v in headers or []:
            self.send_header(k, v)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        if self.path == "/winsim/counters":
            return self._json(self.server.counters())
        if self.path == "/winsim/state":
            return self._json(self.server.machine.state_snapshot())
        return self._send(404, b"not found", "text/plain")

    def _json(self, data, status=200):
        self._send(status, json.dumps(data, indent=1, sort_keys=True).encode(), "application/json")

    def do_POST(self):
        body = self._read_body()
        if self.path.startswith("/winsim/"):
            return self._control(body)
        if self.path.rstrip("/").lower() != "/wsman":
            return self._send(404, b"", "text/plain")
        srv = self.server
        with srv.lock:
            srv.http["requests"] += 1
        delay = srv.latency + srv.faults.delay_seconds
        if delay:
            time.sleep(delay)
        try:
            self.auth.authenticate(self.headers.get("Authorization"))
        except AuthError as e:
            if e.challenge is None:
                if e.rejected:
                    with srv.lock:
                        srv.http["auth_failures"] += 1
                # What Windows offers: Negotiate, and Basic where it may be used.
                headers = [("WWW-Authenticate", "Negotiate")]
                if srv.ssl_context or srv.allow_unencrypted:
                    headers.append(("WWW-Authenticate", 'Basic realm="WSMAN"'))
                return self._send(401, b"", "text/plain", headers)
            return self._send(401, b"", "text/plain", [("WWW-Authenticate", e.challenge)])
        try:
            plain, encrypted = self.auth.unwrap(body, self.headers.get("Content-Type") or "")
        except AuthError:
            with srv.lock:
                srv.http["auth_failures"] += 1
            return self._send(401, b"", "text/plain")
        if not plain:
            return self._send(200, b"", "text/plain")   # the empty request that sets up encryption
        if encrypted:
            with srv.lock:
                srv.http["encrypted"] += 1
        relates_to = ""
        try:
            req = wsman.parse_request(plain)
            relates_to = req.message_id
            with srv.lock:
                srv.http["by_action"][req.action] += 1
            if srv.faults.take("wsman_fault_500"):
                with srv.lock:
                    srv.http["faults_injected"] += 1
                raise wsman.WSManFault(wsman.INTERNAL_ERROR, "simulated host: injected fault (WSManFault 500)")
            endpoint = f"{srv.scheme}://127.0.0.1:{srv.port}/wsman"
            response, status = srv.dispatch(req, self.auth.user, endpoint), 200
        except wsman.WSManFault as fault:
            response, status = wsman.fault_response(fault, relates_to, srv.machine.name), fault.status
        if encrypted:
            return self._send(status, self.auth.wrap(response), ENCRYPTED_CONTENT_TYPE)
        return self._send(status, response)

    def _control(self, body: bytes):
        srv = self.server
        if self.path == "/winsim/counters/reset":
            srv.reset_counters()
            return self._json({"reset": True})
        if self.path == "/winsim/faults":
            try:
                srv.faults.arm(json.loads(body or b"{}"))
            except (ValueError, TypeError) as e:
                return self._json({"error": f"bad fault spec: {e}"}, 400)
            return self._json({"armed": True})
        return self._send(404, b"not found", "text/plain")
