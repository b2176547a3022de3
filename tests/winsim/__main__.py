"""python -m tests.winsim serve|stop|counters|faults: run simulated Windows hosts (a test fixture)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time

from tests.winsim.fleet import TRANSPORTS, Fleet, http_control


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.winsim", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="start N simulated hosts and print their inventory")
    s.add_argument("--hosts", type=int, default=1)
    s.add_argument("--state-dir", default=".winsim")
    s.add_argument("--base-port", type=int, default=0, help="first port (0: any free ports)")
    s.add_argument("--transport", choices=TRANSPORTS, default="ntlm",
                   help="ntlm: HTTP with NTLM message encryption; https; both: alternate")
    s.add_argument("--reboot-seconds", type=float, default=3.0)
    s.add_argument("--allow-unencrypted", action="store_true", help="accept Basic over plain HTTP")
    s.add_argument("--seed", help="JSON file deep-merged over every host's state")
    s.add_argument("--inventory-out", help="where to write the inventory (default: STATE_DIR/inventory.yml)")
    s.add_argument("--pid-file")
    st = sub.add_parser("stop", help="stop a fleet started with --pid-file")
    st.add_argument("--pid-file", required=True)
    c = sub.add_parser("counters", help="print a host's counters")
    c.add_argument("url", help="http(s)://127.0.0.1:PORT")
    f = sub.add_parser("faults", help="arm fault injection on a host")
    f.add_argument("url")
    f.add_argument("spec", help='JSON, e.g. {"drop_connections": 1}')
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
