"""The viewer's worker threads yield the CPU to the GUI thread (Linux: niced threads)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from desktop.ui.viewer.workers import WORKER_NICENESS, WorkQueue


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority is a Linux feature")
def test_workers_run_niced_and_the_gui_thread_keeps_its_priority():
    queue = WorkQueue(2)
    before = os.getpriority(os.PRIO_PROCESS, 0)
    got = queue._executor.submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result()
    assert got == min(before + WORKER_NICENESS, 19)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
