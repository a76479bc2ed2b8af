"""The Qt runner: signals arrive on the GUI thread, one heavy job per device, errors notify."""

from __future__ import annotations

import threading
import time

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QThread  # noqa: E402

from desktop.jobs.runner import JobRunner  # noqa: E402
from models.errors import WeightsError  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def runner(qtbot):
    notes = []
    r = JobRunner(notify=lambda text, details=None, level="info": notes.append((text, details, level)))
    r.notes = notes
    yield r
    r.shutdown()


def test_items_progress_and_result_arrive_on_the_gui_thread(qtbot, runner):
    gui = QThread.currentThread()
    threads, items, progress = [], [], []

    def job(ctx):
        threads.append(threading.current_thread())
        for i in range(5):
            ctx.progress(i + 1, 5, f"item {i}")
            yield i * i
        return "ok"

    j = runner.submit(job, name="squares")
    j.published.connect(lambda v: items.append((v, QThread.currentThread() is gui)))
    j.progress.connect(lambda p: progress.append(p))
    with qtbot.waitSignal(j.finished, timeout=5000):
        pass
    assert threads[0] is not threading.main_thread()
    assert items == [(0, True), (1, True), (4, True), (9, True), (16, True)]
    assert progress[-1].done == 5 and progress[-1].total == 5
    assert j.outcome.result == "ok"


def test_one_heavy_job_per_device_others_wait(qtbot, runner):
    log = []
    lock = threading.Lock()

    def make(name):
        def job(ctx):
            with lock:
                log.append(("start", name))
            time.sleep(0.05)
            with lock:
                log.append(("end", name))
            return name
        return job

    a = runner.submit(make("a"), device="cpu")
    b = runner.submit(make("b"), device="cpu")
    c = runner.submit(make("c"), device="cuda:0")  # another device runs alongside
    assert b.state == "queued"
    with qtbot.waitSignals([a.finished, b.finished, c.finished], timeout=5000):
        pass
    cpu = [e for e in log if e[1] in "ab"]
    assert cpu == [("start", "a"), ("end", "a"), ("start", "b"), ("end", "b")]
    assert not runner.busy()


def test_light_jobs_do_not_wait_for_the_device(qtbot, runner):
    gate = threading.Event()

    def heavy(ctx):
        gate.wait(5)
        return "heavy"

    h = runner.submit(heavy, device="cpu")
    thumb = runner.submit(lambda ctx: "thumb", device="cpu", heavy=False)
    with qtbot.waitSignal(thumb.result, timeout=3000) as blocker:
        pass
    assert blocker.args == ["thumb"] and h.state != "done"
    gate.set()
    qtbot.waitSignal(h.finished, timeout=3000).wait()


def test_cancel_stops_within_one_item(qtbot, runner):
    done = []

    def job(ctx):
        for i in range(1000):
            time.sleep(0.01)
            done.append(i)
            yield i

    j = runner.submit(job)
    got = []
    j.published.connect(lambda v: (got.append(v), j.cancel() if v == 2 else None))
    with qtbot.waitSignal(j.cancelled, timeout=5000):
        pass
    # the GUI saw item 2 and cancelled; the worker may have finished at most a couple more
    assert 3 <= len(done) <= 6
    assert j.outcome.cancelled


def test_cancelling_a_queued_job_ends_it_without_running(qtbot, runner):
    gate = threading.Event()
    ran = []
    a = runner.submit(lambda ctx: gate.wait(5))
    b = runner.submit(lambda ctx: ran.append("b"))
    with qtbot.waitSignal(b.cancelled, timeout=1000):
        b.cancel()
    gate.set()
    qtbot.waitSignal(a.finished, timeout=3000).wait()
    assert ran == [] and b.state == "done"


def test_errors_become_notifications_with_details(qtbot, runner):
    def job(ctx):
        raise WeightsError("heartformer.safetensors: 12 tensors missing (class_embed.weight, ...)")

    def boom(ctx):
        return 1 / 0

    j = runner.submit(job, name="Load Heartformer")
    with qtbot.waitSignal(j.error, timeout=3000) as blocker:
        pass
    assert blocker.args[0].startswith("heartformer.safetensors: 12 tensors missing")
    k = runner.submit(boom, name="Export COCO")
    qtbot.waitSignal(k.finished, timeout=3000).wait()
    (t1, d1, l1), (t2, d2, l2) = runner.notes
    assert l1 == l2 == "error"
    assert "WeightsError" in d1  # the traceback is in the details, not the headline
    assert t2 == "Export COCO failed: ZeroDivisionError: division by zero"
    assert "1 / 0" in d2
