"""Which other Loupe windows have this folder's store open (decision 0113).

Each window writes `instances/<host>-<pid>.json` beside the database and touches it every few
seconds (a heartbeat). Another window is "open" while its file is fresh; a file of a process that
no longer runs on this host, or one not touched for STALE_S, is ignored (and removed when it is
ours to know: same host, dead pid). Files, not a table: a heartbeat must not wake every other
window's "the store changed" check.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

STALE_S = 30.0
BEAT_S = 5.0


@dataclass(frozen=True)
class Instance:
    pid: int
    host: str
    started: float

    def describe(self) -> str:
        host = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"Loupe (process {self.pid}{host})"


class Registration:
    def __init__(self, db_path: Path):
        self.dir = db_path.parent / "instances"
        self.me = Instance(os.getpid(), socket.gethostname(), time.time())
        self.file = self.dir / f"{self.me.host}-{self.me.pid}.json"
        self._last = 0.0
        self.active = False
        try:
            self.dir.mkdir(exist_ok=True)
            self.file.write_text(json.dumps(self.me.__dict__), encoding="utf-8")
            self.active = True
            self._last = time.monotonic()
        except OSError:
            pass  # a folder we cannot write: others are still seen, we are simply not announced

    def beat(self) -> None:
        if self.active and time.monotonic() - self._last >= BEAT_S:
            try:
                os.utime(self.file)
            except OSError:
                try:
                    self.file.write_text(json.dumps(self.me.__dict__), encoding="utf-8")
                except OSError:
                    return
            self._last = time.monotonic()

    def others(self) -> list[Instance]:
        return others(self.dir, self.me)

    def close(self) -> None:
        if self.active:
            try:
                self.file.unlink()
            except OSError:
                pass
            self.active = False


def others(folder: Path, me: Instance | None = None) -> list[Instance]:
    """The other live Loupe windows registered in `folder`."""
    found = []
    now = time.time()
    host = socket.gethostname()
    try:
        entries = list(folder.glob("*.json"))
    except OSError:
        return []
    for path in entries:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            inst = Instance(int(data["pid"]), str(data["host"]), float(data["started"]))
            fresh = now - path.stat().st_mtime < STALE_S
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if me is not None and (inst.pid, inst.host) == (me.pid, me.host):
            continue
        if inst.host == host and not _alive(inst.pid):
            try:
                path.unlink()
            except OSError:
                pass
            continue
        if fresh:
            found.append(inst)
    return sorted(found, key=lambda i: i.started)


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C there: trust the heartbeat alone
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        return True
    return True
