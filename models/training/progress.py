"""The progress protocol of a training child, and how it is asked to stop.

One JSON object per line on stdout (flushed at once), each with `event` and `time`:

    {"event": "start", "task": ..., "epochs": N, "steps_per_epoch": S, "device": ..., "out": ...}
    {"event": "step", "epoch": E, "step": K, "steps": S, "loss": L, "losses": {...}, "lr": ..., "eta_s": T,
     "images_per_s": R}
    {"event": "epoch", "epoch": E, "epochs": N, "train_loss": L, "val_loss": V, "metrics": {...}, "eta_s": T}
    {"event": "log", "message": ...}
    {"event": "done", "out": DIR, "card": PATH, "metrics": {...}}
    {"event": "cancelled", "out": DIR, "epoch": E, "step": K}
    {"event": "error", "message": ..., "kind": "oom" | "input" | "crash"}

Epochs count from 1. Anything else the child or its libraries print goes to stderr, so stdout
holds only these lines. Every event is also appended to `metrics.jsonl` in the output folder.
Stop: the supervisor creates the stop file, or sends SIGINT/SIGTERM (CTRL_BREAK on Windows); the
training loop checks `StopFlag.requested` after each step. A second signal ends the process at once.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO


class TrainingCancelled(Exception):
    """Raised inside a training loop once a stop was requested; the step in flight has finished."""


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if hasattr(v, "item") and callable(v.item):
        try:
            return _clean(v.item())
        except (ValueError, RuntimeError):
            return str(v)
    return v


class Progress:
    """Writes progress events as JSON lines ("jsonl"), as readable text ("text"), or not at all."""

    def __init__(self, mode: str = "text", stream: TextIO | None = None):
        self.mode = mode
        self.stream = stream or sys.stdout
        self.log_file: TextIO | None = None
        self.history: list[dict] = []  # the "epoch" events, for the report's curves

    @classmethod
    def for_child(cls, mode: str) -> Progress:
        """In jsonl mode keep the real stdout for the protocol and send fd 1 (library prints) to stderr."""
        if mode != "jsonl":
            return cls(mode)
        sys.stdout.flush()
        fd = os.dup(1)
        os.dup2(2, 1)
        stream = os.fdopen(fd, "w", buffering=1, encoding="utf-8")
        sys.stdout = sys.stderr
        return cls("jsonl", stream)

    def attach_log(self, path: Path) -> None:
        self.log_file = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def close(self) -> None:
        if self.log_file:
            self.log_file.close()
            self.log_file = None

    def emit(self, event: str, **fields: Any) -> dict:
        record = {"event": event, "time": round(time.time(), 3), **_clean(fields)}
        line = json.dumps(record)
        if event == "epoch":
            self.history.append(record)
        if self.log_file:
            self.log_file.write(line + "\n")
        if self.mode == "jsonl":
            self.stream.write(line + "\n")
            self.stream.flush()
        elif self.mode == "text":
            self.stream.write(self._text(record) + "\n")
            self.stream.flush()
        return record

    @staticmethod
    def _text(r: dict) -> str:
        ev = r["event"]
        if ev == "step":
            eta = r.get("eta_s")
            return (f"epoch {r['epoch']} step {r['step']}/{r.get('steps', '?')} loss {r.get('loss', 0):.4f}"
                    + (f"  eta {eta / 60:.1f} min" if eta is not None else ""))
        if ev == "epoch":
            ms = " ".join(f"{k} {v:.4f}" for k, v in (r.get("metrics") or {}).items() if isinstance(v, float))
            return f"epoch {r['epoch']}/{r.get('epochs')} train loss {r.get('train_loss')} val loss " \
                   f"{r.get('val_loss')} {ms}"
        if ev == "log":
            return r.get("message", "")
        return " ".join(f"{k}={v}" for k, v in r.items() if k != "time")


class StopFlag:
    """Set by the stop file or by SIGINT/SIGTERM; checked by the loop after every step."""

    def __init__(self, stop_file: str | os.PathLike | None = None):
        self.stop_file = Path(stop_file) if stop_file else None
        self._signalled = False
        self._previous: dict = {}

    def install_signal_handlers(self) -> None:
        names = ["SIGINT", "SIGTERM", "SIGBREAK"]
        for name in names:
            sig = getattr(signal, name, None)
            if sig is None:
                continue
            try:
                self._previous[sig] = signal.signal(sig, self._on_signal)
            except (ValueError, OSError):  # not the main thread
                pass

    def _on_signal(self, signum, frame) -> None:
        if self._signalled:  # asked twice: stop now
            signal.signal(signum, signal.SIG_DFL)
            raise KeyboardInterrupt
        self._signalled = True

    def request(self) -> None:
        self._signalled = True

    @property
    def requested(self) -> bool:
        return self._signalled or bool(self.stop_file and self.stop_file.exists())

    def check(self) -> None:
        if self.requested:
            raise TrainingCancelled("training stopped on request")


class EtaClock:
    """Seconds left from the mean time per step so far."""

    def __init__(self, total_steps: int):
        self.total = max(1, total_steps)
        self.start = time.perf_counter()
        self.done = 0

    def tick(self, n: int = 1) -> float | None:
        self.done += n
        if self.done <= 0:
            return None
        per = (time.perf_counter() - self.start) / self.done
        return max(0.0, per * (self.total - self.done))
