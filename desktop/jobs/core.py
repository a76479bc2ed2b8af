"""The Qt-free half of a job: the context a job's code talks to, the run loop, and the time-left
estimate. The Qt half (`desktop.jobs.runner`) only moves what happens here onto QThreadPool and
back to the GUI thread as signals, so everything below is testable without a QApplication.

A job is a callable taking a `JobContext`. It either returns its result, or is a generator: each
value it yields is one finished item, handed to the GUI as it comes (`publish`), and the run loop
checks for cancel between items, so a cancel takes effect within one item.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


class JobCancelled(Exception):
    """Raised inside a job (by `JobContext.check`) when the user cancelled it."""


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    message: str
    seconds_left: float | None  # None until there is enough to estimate from

    def text(self) -> str:
        """'12 / 100 · 0:35 left', the line a progress bar shows."""
        parts = [f"{self.done} / {self.total}" if self.total else f"{self.done}"]
        if self.seconds_left is not None and self.done < self.total:
            parts.append(f"{format_seconds(self.seconds_left)} left")
        if self.message:
            parts.append(self.message)
        return " · ".join(parts)


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Eta:
    """Time left from the rate seen since the first item counted in this run.

    Items skipped at the start (already done in an earlier run) do not make the rate look fast:
    the estimate starts from the first `update`, and uses only the items done since then.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._start: tuple[float, int] | None = None

    def update(self, done: int, total: int) -> float | None:
        now = self._clock()
        if self._start is None:
            self._start = (now, done)
            return None
        t0, d0 = self._start
        if done <= d0 or now <= t0:
            return None
        per_item = (now - t0) / (done - d0)
        return per_item * max(0, total - done)


class JobContext:
    """What a job sees: report progress, ask whether it was cancelled, hand over partial results.

    `on_progress` and `on_publish` are called on the job's thread; the Qt runner turns them into
    queued signals. Progress is throttled to `min_interval` seconds (the last item always passes),
    so a job over 10,000 tiny items does not flood the GUI thread with events.
    """

    def __init__(
        self,
        on_progress: Callable[[Progress], None] | None = None,
        on_publish: Callable[[Any], None] | None = None,
        min_interval: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._on_progress = on_progress
        self._on_publish = on_publish
        self._cancel = threading.Event()
        self._eta = Eta(clock)
        self._clock = clock
        self._min_interval = min_interval
        self._last_emit = -1e9
        self.last: Progress | None = None

    # -- asked by the job ------------------------------------------------------------------
    def progress(self, done: int, total: int, message: str = "", force: bool = False) -> None:
        """`force`: pass this one on even within `min_interval` (a new stage's first count)."""
        left = self._eta.update(done, total)
        self.last = Progress(done, total, message, left)
        now = self._clock()
        if self._on_progress and (force or done >= total or now - self._last_emit >= self._min_interval):
            self._last_emit = now
            self._on_progress(self.last)

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise `JobCancelled` if the job was cancelled (for jobs that are not generators)."""
        if self._cancel.is_set():
            raise JobCancelled()

    def publish(self, item: Any) -> None:
        if self._on_publish:
            self._on_publish(item)

    # -- asked by the runner ---------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()


@dataclass
class Outcome:
    """How a run ended: exactly one of result / error / cancelled is meaningful."""

    result: Any = None
    error: BaseException | None = None
    cancelled: bool = False


def run_job(fn: Callable[[JobContext], Any], ctx: JobContext) -> Outcome:
    """Run `fn(ctx)` to the end, a cancel, or an error; never raises.

    A generator job's yielded values are published one by one; its return value is the result.
    """
    if ctx.cancelled():
        return Outcome(cancelled=True)
    try:
        out = fn(ctx)
        if isinstance(out, Iterator) and hasattr(out, "send"):
            out = _drain(out, ctx)
        if ctx.cancelled():
            return Outcome(result=out, cancelled=True)
        return Outcome(result=out)
    except JobCancelled:
        return Outcome(cancelled=True)
    except Exception as exc:  # delivered to the GUI as a notification, never lost
        return Outcome(error=exc)


def _drain(gen, ctx: JobContext):
    try:
        while True:
            item = next(gen)
            ctx.publish(item)
            if ctx.cancelled():
                gen.close()
                return None
    except StopIteration as stop:
        return stop.value
