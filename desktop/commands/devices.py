"""`loupe devices [--json]`: the devices models can run on here, best first (what the app's device
menu offers). The app asks this of a child process, so that importing torch never holds up its
window (docs/decisions/0121-device-probe-in-a-child-process.md)."""

from __future__ import annotations

import json


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON line: [[id, label], ...] best first")


def run(args) -> int:
    from models.devices import available_devices

    devices = available_devices()
    if args.json:
        print(json.dumps([list(d) for d in devices]), flush=True)
    else:
        for dev_id, label in devices:
            print(f"{dev_id:<8} {label}")
    return 0
