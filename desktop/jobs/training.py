"""The training supervisor: a worker thread that runs `python -m desktop train ... --progress jsonl`
as a child process in its own process group / session, reads its JSON lines and turns them into Qt
signals. The GUI thread never blocks on the child.

Cancel asks politely (the stop file, then SIGINT / CTRL_BREAK_EVENT) and, if the child has not
ended after `grace_s`, kills its whole process group. A crash, an out-of-memory kill or a non-zero
exit is reported through `failed(message, log_tail)`; the app and its current model are untouched.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal


def training_command(kind: str, data: str, model: str, out: str, options: dict | None = None,
                     stop_file: str | None = None) -> list[str]:
    """The child's command line (the same executable: works in a frozen app too)."""
    cmd = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "desktop"]
    cmd += ["train", kind, "--data", str(data), "--model", str(model), "--out", str(out), "--progress", "jsonl"]
    if stop_file:
        cmd += ["--stop-file", str(stop_file)]
    for key, value in (options or {}).items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        cmd += [flag] if value is True else [flag, str(value)]
    return cmd


class _Reader(QThread):
    def __init__(self, target):
        super().__init__()
        self._target = target

    def run(self):
        self._target()


class TrainingSupervisor(QObject):
    """Start with `start(cmd)`; signals are delivered on the GUI thread (queued)."""

    started = Signal(dict)  # the child's "start" event
    progress = Signal(dict)  # every "step" event
    epoch = Signal(dict)  # every "epoch" event (the curves)
    log = Signal(str)  # "log" events, non-JSON lines on stdout and every stderr line
    finished = Signal(dict)  # the "done" event: out, card, metrics
    cancelled = Signal(str)  # output folder
    failed = Signal(str, str)  # message, the tail of the child's log

    def __init__(self, parent=None, grace_s: float = 10.0, tail_lines: int = 80):
        super().__init__(parent)
        self.grace_s = grace_s
        self.proc: subprocess.Popen | None = None
        self._thread: QThread | None = None
        self._tail = collections.deque(maxlen=tail_lines)
        self._stop_file = Path(tempfile.gettempdir()) / f"loupe-train-stop-{os.getpid()}-{id(self)}"
        self._cancel_requested = False
        self._events: list[dict] = []

    @property
    def stop_file(self) -> Path:
        return self._stop_file

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, cmd: list[str], env: dict | None = None) -> None:
        if self.is_running():
            raise RuntimeError("a training run is already going")
        self._stop_file.unlink(missing_ok=True)
        self._cancel_requested = False
        self._tail.clear()
        self._events = []
        kwargs: dict = {}
        if os.name == "nt":
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        else:
            kwargs["start_new_session"] = True  # its own session and process group
        child_env = dict(os.environ if env is None else env)
        child_env.setdefault("PYTHONUNBUFFERED", "1")
        child_env["HF_HUB_OFFLINE"] = "1"
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     text=True, encoding="utf-8", errors="replace", bufsize=1, env=child_env,
                                     **kwargs)
        threading.Thread(target=self._read_stderr, args=(self.proc,), daemon=True).start()
        self._thread = _Reader(self._read_stdout)
        self._thread.start()

    # -- reading (worker thread) -------------------------------------------------------------------
    def _read_stderr(self, proc) -> None:
        for line in proc.stderr:
            line = line.rstrip("\n")
            self._tail.append(line)
            if line.strip():
                self.log.emit(line)  # queued to the GUI thread: the panel's log shows it

    def _read_stdout(self) -> None:
        proc = self.proc
        final = None
        for line in proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                self._tail.append(line)
                self.log.emit(line)
                continue
            self._events.append(ev)
            kind = ev.get("event")
            if kind == "start":
                self.started.emit(ev)
            elif kind == "step":
                self.progress.emit(ev)
            elif kind == "epoch":
                self.epoch.emit(ev)
            elif kind == "log":
                self.log.emit(str(ev.get("message", "")))
            elif kind in ("done", "cancelled", "error"):
                final = ev
        rc = proc.wait()
        time.sleep(0.05)  # let the stderr reader drain
        tail = "\n".join(self._tail)
        if final and final["event"] == "done" and rc == 0:
            self.finished.emit(final)
        elif (final and final["event"] == "cancelled") or (self._cancel_requested and rc != 0):
            self.cancelled.emit(str((final or {}).get("out", "")))
        else:
            self.failed.emit(self._failure_message(final, rc), tail)
        self._stop_file.unlink(missing_ok=True)

    @staticmethod
    def _failure_message(final: dict | None, rc: int) -> str:
        if final and final.get("event") == "error":
            if final.get("kind") == "oom":
                return f"training ran out of memory: {final.get('message')}"
            return f"training failed: {final.get('message')}"
        if rc < 0:
            name = signal.Signals(-rc).name if -rc in signal.Signals._value2member_map_ else str(-rc)
            hint = " (the system may have run out of memory)" if name == "SIGKILL" else ""
            return f"the training process was killed by {name}{hint}"
        return f"the training process ended with exit status {rc}"

    # -- cancel ------------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the child to stop after its current step; kill its process group after grace_s.
        Asking again while a stop is under way does nothing (a second signal would end the child at
        once, without its "cancelled" event); `kill()` is the hard way."""
        if not self.is_running() or self._cancel_requested:
            return
        self._cancel_requested = True
        self._stop_file.touch()
        proc = self.proc
        try:
            if os.name == "nt":
                proc.send_signal(signal.CTRL_BREAK_EVENT)
            else:
                os.killpg(proc.pid, signal.SIGINT)
        except (ProcessLookupError, OSError):
            pass
        threading.Thread(target=self._kill_later, args=(proc,), daemon=True).start()

    def _kill_later(self, proc) -> None:
        try:
            proc.wait(timeout=self.grace_s)
        except subprocess.TimeoutExpired:
            self.kill(proc)

    def kill(self, proc=None) -> None:
        proc = proc or self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            if os.name == "nt":
                proc.kill()
            else:
                os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, OSError):
            pass

    def wait(self, timeout_ms: int = 30000) -> bool:
        return self._thread.wait(timeout_ms) if self._thread else True

    def events(self) -> list[dict]:
        return list(self._events)
