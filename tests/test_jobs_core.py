"""The Qt-free job core: run loop, cancel within one item, time left, resume ledger."""

from __future__ import annotations

import pytest

from desktop.jobs.core import Eta, JobCancelled, JobContext, Progress, format_seconds, run_job
from desktop.jobs.ledger import RunLedger
from models.errors import WeightsError


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_generator_job_publishes_each_item_and_returns_its_value():
    seen = []
    ctx = JobContext(on_publish=seen.append)

    def job(ctx):
        for i in range(3):
            yield i * 10
        return "all done"

    out = run_job(job, ctx)
    assert seen == [0, 10, 20]
    assert out.result == "all done" and not out.cancelled and out.error is None


def test_cancel_stops_a_generator_within_one_item():
    ctx = JobContext()
    processed = []

    def job(ctx):
        for i in range(100):
            processed.append(i)
            if i == 4:
                ctx.cancel()  # the user presses Cancel while item 4 runs
            yield i

    out = run_job(job, ctx)
    assert out.cancelled
    assert processed == [0, 1, 2, 3, 4]


def test_plain_job_can_check_for_cancel():
    ctx = JobContext()

    def job(ctx):
        ctx.cancel()
        ctx.check()
        raise AssertionError("check() should have stopped the job")

    out = run_job(job, ctx)
    assert out.cancelled and out.error is None
    with pytest.raises(JobCancelled):
        ctx.check()


def test_errors_are_returned_not_raised():
    def job(ctx):
        raise WeightsError("heart.safetensors: file is truncated")

    out = run_job(job, JobContext())
    assert isinstance(out.error, WeightsError)
    assert "heart.safetensors" in str(out.error)


def test_time_left_uses_rate_since_this_run_started():
    clock = FakeClock()
    eta = Eta(clock)
    assert eta.update(500, 1000) is None  # 500 done in an earlier run: no rate yet
    clock.t = 10.0
    assert eta.update(510, 1000) == pytest.approx(490.0)  # 1 s per item, 490 to go


def test_progress_is_throttled_but_the_last_item_always_passes():
    clock = FakeClock()
    got = []
    ctx = JobContext(on_progress=got.append, min_interval=0.05, clock=clock)
    for i in range(1, 101):
        clock.t = i * 0.001  # 1 ms per item: 100 items in 0.1 s
        ctx.progress(i, 100)
    assert 2 <= len(got) <= 4
    assert got[-1].done == 100


def test_progress_text_reads_like_a_person_would_write_it():
    assert Progress(12, 100, "", 35.0).text() == "12 / 100 · 0:35 left"
    assert Progress(3, 10, "img3.png", None).text() == "3 / 10 · img3.png"
    assert format_seconds(3725) == "1:02:05"


def test_ledger_resumes_only_unfinished_images_and_retries_failed_ones(tmp_path):
    paths = [str(tmp_path / f"im{i}.png") for i in range(5)]
    ledger = RunLedger(tmp_path, "heartformer")
    ledger.mark_done(paths[0])
    ledger.mark_done(paths[1])
    ledger.mark_failed(paths[2], "not an image:\ncannot identify")
    # a new process reads the same files back
    again = RunLedger(tmp_path, "heartformer")
    assert again.remaining(paths) == paths[2:]
    assert again.failed() == [("im2.png", "not an image: cannot identify")]
    # another model keeps its own record
    assert RunLedger(tmp_path, "chexnet").remaining(paths) == paths
    again.clear()
    assert RunLedger(tmp_path, "heartformer").remaining(paths) == paths


def test_ledger_survives_a_cut_last_line(tmp_path):
    ledger = RunLedger(tmp_path, "m")
    ledger.mark_done(tmp_path / "a.png")
    with open(ledger.done_file, "a", encoding="utf-8") as fh:
        fh.write("b.p")  # the process died mid-write
    remaining = RunLedger(tmp_path, "m").remaining([str(tmp_path / "a.png"), str(tmp_path / "b.png")])
    assert remaining == [str(tmp_path / "b.png")]
