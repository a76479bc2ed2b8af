"""The Qt half of jobs: run `desktop.jobs.core` jobs on a QThreadPool, deliver what they report to
the GUI thread as queued signals, and allow at most one heavy job per device at a time.

    job = window.jobs.submit(fn, name="Detect 1,200 images", device="cpu")
    job.progress.connect(lambda p: bar.setValue(p.done))     # desktop.jobs.core.Progress
    job.published.connect(store_one_result)                  # each item a generator job yields
    job.result.connect(...); job.finished.connect(...)       # finished comes last, always
    job.cancel()                                             # takes effect within one item

Errors are delivered as non-modal notifications (`window.notify(text, details, level)`) with the
traceback as details, and as the job's `error(text, details)` signal.
"""

from __future__ import annotations

import logging
import traceback
from collections import deque

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, Qt, QThreadPool, Signal

from desktop.jobs.core import JobContext, Outcome, Progress, run_job
from models.errors import LoupeError

log = logging.getLogger(__name__)


class _Worker(QRunnable):
    def __init__(self, job: Job):
        super().__init__()
        self.setAutoDelete(False)  # the Job holds it; Python owns its lifetime
        self._job = job

    def run(self) -> None:
        job = self._job
        job._sig_started.emit()
        outcome = run_job(job.fn, job.context)
        if outcome.error is not None:
            job._details = "".join(traceback.format_exception(outcome.error))
        job._sig_done.emit(outcome)


class Job(QObject):
    """One piece of work. Lives in the GUI thread; its public signals are emitted there."""

    started = Signal()
    progress = Signal(object)  # Progress
    published = Signal(object)  # one item a generator job yielded
    result = Signal(object)
    error = Signal(str, str)  # message for the user, details (traceback)
    cancelled = Signal()
    finished = Signal()  # always the last signal

    # emitted on the worker thread, received queued on the GUI thread
    _sig_started = Signal()
    _sig_progress = Signal(object)
    _sig_publish = Signal(object)
    _sig_done = Signal(object)

    def __init__(self, fn, name: str, device: str | None, heavy: bool, parent=None):
        super().__init__(parent)
        self.fn = fn
        self.name = name
        self.device = device or "cpu"
        self.heavy = heavy
        self.state = "queued"  # queued -> running -> done
        self.outcome: Outcome | None = None
        self.last_progress: Progress | None = None
        self._details = ""
        self._on_cancel_queued = None
        self.context = JobContext(on_progress=self._sig_progress.emit, on_publish=self._sig_publish.emit)
        self._worker = _Worker(self)
        q = Qt.ConnectionType.QueuedConnection
        self._sig_started.connect(self._on_started, q)
        self._sig_progress.connect(self._on_progress, q)
        self._sig_publish.connect(self.published.emit, q)
        self._sig_done.connect(self._on_done, q)

    def cancel(self) -> None:
        """Ask the job to stop; it stops before its next item. A queued job ends at once."""
        self.context.cancel()
        if self.state == "queued" and self._on_cancel_queued is not None:
            self._on_cancel_queued(self)

    def is_running(self) -> bool:
        return self.state == "running"

    def _on_started(self) -> None:
        self.state = "running"
        self.started.emit()

    def _on_progress(self, p: Progress) -> None:
        self.last_progress = p
        self.progress.emit(p)

    def _on_done(self, outcome: Outcome) -> None:
        self.state = "done"
        self.outcome = outcome
        if outcome.error is not None:
            self.error.emit(error_text(self.name, outcome.error), self._details)
        elif outcome.cancelled:
            self.cancelled.emit()
        else:
            self.result.emit(outcome.result)
        self.finished.emit()


def error_text(job_name: str, exc: BaseException) -> str:
    """The line a user reads: a LoupeError's own message; otherwise the job name and the error."""
    if isinstance(exc, LoupeError):
        return str(exc)
    return f"{job_name} failed: {type(exc).__name__}: {exc}"


class JobRunner(QObject):
    """Starts jobs on its thread pool; heavy jobs wait for the device to be free."""

    job_started = Signal(object)
    job_finished = Signal(object)

    def __init__(self, notify=None, max_threads: int = 4, parent=None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._notify = notify
        self._running: dict[str, Job] = {}  # device -> the heavy job using it
        self._queues: dict[str, deque[Job]] = {}
        self._jobs: set[Job] = set()

    def submit(self, fn, name: str = "job", device: str | None = "cpu", heavy: bool = True) -> Job:
        """Queue `fn(ctx)`; returns its Job at once (connect to its signals right away: nothing
        is delivered before control returns to the event loop)."""
        job = Job(fn, name, device, heavy, parent=self)
        self._jobs.add(job)
        job.finished.connect(lambda j=job: self._on_finished(j))
        job.error.connect(lambda text, details: self._report(text, details))
        if heavy:
            job._on_cancel_queued = self._drop_queued
            self._queues.setdefault(job.device, deque()).append(job)
            self._start_next(job.device)
        else:
            self._launch(job)
        return job

    def jobs(self) -> list[Job]:
        return [j for j in self._jobs if j.state != "done"]

    def busy(self, device: str | None = None) -> bool:
        if device is None:
            return bool(self.jobs())
        return device in self._running or bool(self._queues.get(device))

    def cancel_all(self) -> None:
        for job in list(self._jobs):
            job.cancel()

    def shutdown(self, wait_ms: int = 5000) -> bool:
        """Cancel everything and wait for running items to end (on quit)."""
        self.cancel_all()
        for q in self._queues.values():
            q.clear()
        return self.pool.waitForDone(wait_ms)

    # -- internals ---------------------------------------------------------------------------
    def _launch(self, job: Job) -> None:
        self.job_started.emit(job)
        self.pool.start(job._worker)

    def _start_next(self, device: str) -> None:
        if device in self._running:
            return
        queue = self._queues.get(device)
        while queue:
            job = queue.popleft()
            if job.context.cancelled():  # cancelled while waiting: it ends without running
                job._on_done(Outcome(cancelled=True))
                continue
            self._running[device] = job
            self._launch(job)
            return

    def _drop_queued(self, job: Job) -> None:
        queue = self._queues.get(job.device)
        if queue and job in queue:
            queue.remove(job)
            job._on_done(Outcome(cancelled=True))

    def _on_finished(self, job: Job) -> None:
        self._jobs.discard(job)
        if job.heavy and self._running.get(job.device) is job:
            del self._running[job.device]
            self._start_next(job.device)
        self.job_finished.emit(job)

    def _report(self, text: str, details: str) -> None:
        log.warning("%s\n%s", text, details)
        if self._notify is not None:
            try:
                self._notify(text, details=details, level="error")
            except Exception:  # pragma: no cover - a broken notifier must not break the runner
                log.exception("notify failed")


def runner_for(window) -> JobRunner:
    """The window's job runner (`window.jobs`), made on first use; it notifies through the window."""
    runner = getattr(window, "jobs", None)
    if isinstance(runner, JobRunner):
        return runner
    notify = getattr(window, "notify", None)
    runner = JobRunner(notify=notify, parent=window if isinstance(window, QObject) else None)
    window.jobs = runner
    app = QCoreApplication.instance()
    if app is not None:  # on quit: cancel, and let running items end before Python goes away
        app.aboutToQuit.connect(runner.shutdown)
    return runner
