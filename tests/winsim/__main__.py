"""python -m tests.winsim serve|stop|counters|faults: run simulated Windows hosts (a test fixture).

Run it from the repository root with the project's venv (./scripts/bootstrap.sh makes it):
    .venv/bin/python -m tests.winsim serve --hosts 2
or from any folder through the wrapper, which does both for you:
    /path/to/checkout/scripts/winsim serve --hosts 2
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time

try:
    from tests.winsim.fleet import TRANSPORTS, Fleet, http_control
except ModuleNotFoundError as exc:   # started without the venv: say how to run it instead of a traceback
    sys.exit(f"python -m tests.winsim: {exc}.\n"
             "The simulated hosts need the project's venv: run ./scripts/bootstrap.sh once, then\n"
             "  .venv/bin/python -m tests.winsim ...   (from the repository root)\n"
             "  scripts/winsim ...                     (from any folder)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.winsim", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="start N simulated hosts and print their inventory",
                       description="Start simulated Windows hosts (WinRM on 127.0.0.1), write and print an Ansible "
                                   "inventory for them, and serve until SIGTERM or Ctrl-C.")
    s.add_argument("--hosts", type=int, default=1, metavar="N",
                   help="how many hosts, named win01, win02, ... (default: 1)")
    s.add_argument("--state-dir", default=".winsim", metavar="DIR",
                   help="where each host keeps its machine state (DIR/<host>/state.json), the TLS certificate and "
                        "the NTLM user file; state there survives restarts (default: .winsim)")
    s.add_argument("--base-port", type=int, default=0, metavar="PORT",
                   help="host i listens on PORT+i on 127.0.0.1 (default: 0, any free ports; the inventory says which)")
    s.add_argument("--transport", choices=TRANSPORTS, default="ntlm",
                   help="ntlm: HTTP with NTLM message encryption; https: TLS with a self-signed certificate; "
                        "both: alternate, win01 ntlm, win02 https, ... (default: ntlm)")
    s.add_argument("--reboot-seconds", type=float, default=3.0, metavar="S",
                   help="how long a simulated restart keeps a host down (default: 3.0)")
    s.add_argument("--allow-unencrypted", action="store_true",
                   help="also accept Basic authentication over plain HTTP (refused by default, as on Windows)")
    s.add_argument("--seed", metavar="FILE",
                   help="JSON file deep-merged over every host's state: files, declared programs, registry, "
                        "products, hardware (see tests/winsim/machine.py and CONTRACT.md)")
    s.add_argument("--inventory-out", metavar="FILE",
                   help="where to write the inventory (default: STATE_DIR/inventory.yml); it appears once every "
                        "host listens, so a script can wait for it")
    s.add_argument("--pid-file", metavar="FILE", help="write this process's id here, for 'stop --pid-file FILE'")
    st = sub.add_parser("stop", help="stop a fleet started with --pid-file")
    st.add_argument("--pid-file", required=True, metavar="FILE", help="the file 'serve --pid-file' wrote")
    c = sub.add_parser("counters", help="print a host's counters")
    c.add_argument("url", help="the host's address as in the inventory: http(s)://127.0.0.1:PORT")
    f = sub.add_parser("faults", help="arm fault injection on a host")
    f.add_argument("url", help="the host's address as in the inventory: http(s)://127.0.0.1:PORT")
    f.add_argument("spec", help='JSON: drop_connections, wsman_fault_500 (counts), delay_seconds, '
                                'crash_during_next_command, e.g. {"drop_connections": 1}')
    args = p.parse_args(argv)

    if args.cmd == "stop":
        try:
            with open(args.pid_file) as fh:
                pid = int(fh.read().strip())
        except (OSError, ValueError):
            print(f"no fleet: {args.pid_file} is missing", file=sys.stderr)
            return 1
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        for _attempt in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        os.unlink(args.pid_file)
        return 0
    if args.cmd == "counters":
        print(json.dumps(http_control(args.url.rstrip("/") + "/winsim/counters"), indent=1))
        return 0
    if args.cmd == "faults":
        print(json.dumps(http_control(args.url.rstrip("/") + "/winsim/faults", json.loads(args.spec))))
        return 0

    seed = None
    if args.seed:
        with open(args.seed) as fh:
            seed = json.load(fh)
    fleet = Fleet(args.hosts, args.state_dir, transport=args.transport, base_port=args.base_port,
                  reboot_seconds=args.reboot_seconds, allow_unencrypted=args.allow_unencrypted, seed=seed)
    if args.inventory_out:
        fleet.inventory_path = os.path.abspath(args.inventory_out)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    if args.pid_file:
        with open(args.pid_file, "w") as fh:
            fh.write(str(os.getpid()))
    fleet.start()
    with open(fleet.inventory_path) as fh:
        print(fh.read(), flush=True)
    print(f"# inventory: {fleet.inventory_path}", flush=True)
    stop.wait()
    fleet.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
