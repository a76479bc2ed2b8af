"""The viewer stays fast as the folder grows (issue 13 part 5): a step costs the same at 20,000
images as at 10, held keys coalesce, the name filter waits for a typing pause and never walks the
model row by row. Timing is only ever compared with a baseline measured in the same test (a 10-row
folder); the rest is counting (decodes, passes, model resets, data() calls)."""

from __future__ import annotations

import statistics
import threading
import time

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from viewer_helpers import make_window

import desktop.ui.main_window as main_window
import desktop.ui.viewer.workers as workers
from desktop.core.imaging import read_image
from desktop.ui.viewer.image_list import ImageListModel, ImageListPanel

pytestmark = pytest.mark.gui


@pytest.fixture
def one_image(tmp_path):
    path = tmp_path / "one.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)).save(path)
    return read_image(path)


@pytest.fixture
def data_calls(monkeypatch):
    """Counts ImageListModel.data() calls (the Python work a view or a filter asks per row)."""
    calls = [0]
    original = ImageListModel.data

    def counting(self, index, role=Qt.DisplayRole):
        calls[0] += 1
        return original(self, index, role)

    monkeypatch.setattr(ImageListModel, "data", counting)
    return calls


def _synthetic(win, root, n):
    """A listed folder of `n` entries without files (the decode is faked)."""
    model = win.image_list.model
    model.reset(str(root))
    paths = [str(root / f"img{i:06d}.png") for i in range(n)]
    for start in range(0, n, 5000):
        model.append(paths[start:start + 5000])
    return paths


def test_a_step_costs_the_same_at_20000_images_as_at_10(qtbot, tmp_path, monkeypatch, one_image, data_calls):
    """Before: go_next listed every visible path through the proxy (one data() call per row), so
    a step at 20,000 images cost hundreds of times the step at 10."""
    fake = lambda _path: one_image  # noqa: E731 - the same decoded image for every entry
    monkeypatch.setattr(main_window, "read_image", fake)
    monkeypatch.setattr(workers, "read_image", fake)
    small, big = make_window(qtbot, tmp_path, monkeypatch), make_window(qtbot, tmp_path, monkeypatch)
    small_paths, big_paths = _synthetic(small, tmp_path / "s", 10), _synthetic(big, tmp_path / "b", 20_000)
    small.show_image(small_paths[0])
    big.show_image(big_paths[10_000])
    qtbot.wait(50)

    def one_step(win):
        # the same work in both windows: the step, not thumbnails of rows that came into view
        qtbot.waitUntil(lambda: win.image_list.model.pool.idle() and win.cache.pool.idle(), timeout=10000)
        qtbot.wait(5)
        t = time.perf_counter()
        win.go_next()
        win.image_list.view.viewport().repaint()
        win.canvas.viewport().repaint()
        return time.perf_counter() - t

    times = {"small": [], "big": [], "big_calls": []}
    for k in range(12):  # small and big alternate, so a load spike hits both
        if k % 4 == 0:
            small.show_image(small_paths[0])
        times["small"].append(one_step(small))
        before = data_calls[0]
        times["big"].append(one_step(big))
        times["big_calls"].append(data_calls[0] - before)
    assert big.current_path() == big_paths[10_012]
    assert max(times["big_calls"]) < 500  # the rows on screen, not the 20,000 in the folder
    ratio = statistics.median(times["big"]) / statistics.median(times["small"])
    assert ratio < 3.0, f"a step at 20,000 images costs {ratio:.1f}x the step at 10"


def test_held_key_decodes_only_the_latest_image_and_the_list_never_empties(qtbot, tmp_path, monkeypatch):
    """50 presses queued while decodes are slow: the list moves with each press, only the image
    asked for last is decoded and shown (before: 50 decodes one after the other on the GUI
    thread, each press waiting for the previous one)."""
    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(60):
        Image.fromarray(rng.integers(0, 255, (32, 32), dtype=np.uint8)).save(folder / f"img{i:03d}.png")
    decoded, lock = [], threading.Lock()

    def slow(path):
        if not threading.current_thread().name.startswith("loupe-thumbnails"):
            with lock:
                decoded.append(str(path))
        time.sleep(0.03)
        return read_image(path)

    monkeypatch.setattr(main_window, "read_image", slow)
    monkeypatch.setattr(workers, "read_image", slow)
    win = make_window(qtbot, tmp_path, monkeypatch)
    win.open_folder(folder)
    qtbot.waitUntil(lambda: len(win.image_paths()) == 60 and win.current_image() is not None, timeout=10000)
    paths = win.image_paths()
    qtbot.waitUntil(lambda: win.cache.pool.idle() and win.image_list.model.pool.idle(), timeout=10000)
    win.cache.clear()
    panel, shown, emptied = win.image_list, [], []
    win.current_image_changed.connect(shown.append)
    panel.proxy.modelReset.connect(lambda: emptied.append("reset"))
    panel.proxy.rowsRemoved.connect(lambda *_: emptied.append("removed"))
    with lock:
        decoded.clear()
    win.canvas.setFocus()
    t = time.perf_counter()
    for _ in range(50):
        qtbot.keyClick(win.canvas, Qt.Key_D)
    burst = time.perf_counter() - t
    assert panel.view.currentIndex().row() == 50  # the list followed every press at once
    qtbot.waitUntil(lambda: win.current_path() == paths[50], timeout=10000)
    assert shown == [paths[50]]
    assert win.current_image() is not None
    qtbot.waitUntil(win.cache.pool.idle, timeout=10000)
    with lock:
        stale = set(decoded) - {paths[50], paths[51], paths[52], paths[49]}
    # the worker takes the latest request whenever it is free: at most one per decode time
    assert len(stale) <= min(burst / 0.03 + 1, 10), f"{len(stale)} images decoded for nothing"
    assert emptied == [] and panel.proxy.rowCount() == 60


def test_name_filter_waits_for_a_pause_and_never_walks_the_rows(qtbot, data_calls):
    """100,000 names: typing runs no filter pass until the pause, then one pass that asks the
    model for no row (before: one QSortFilterProxyModel pass per key, each calling data() for
    every row, seconds per key). The result equals the plain substring filter of the names."""
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.resize(300, 600)
    panel.show()
    root = "/data/scans"
    paths = [f"{root}/case{i // 100:04d}/img{i:06d}.png" for i in range(100_000)]
    panel.model.reset(root)
    for start in range(0, len(paths), 5000):
        panel.model.append(paths[start:start + 5000])
    qtbot.wait(20)
    resets = []
    panel.proxy.modelReset.connect(lambda: resets.append(1))
    before = data_calls[0]
    qtbot.keyClicks(panel.filter, "IMG0012")
    assert panel.proxy.passes == 0 and resets == []  # still typing
    qtbot.waitUntil(lambda: panel.proxy.passes == 1, timeout=5000)
    assert resets == [1]
    assert data_calls[0] - before < 500  # only rows painted, never one call per row of 100,000
    expected = [p for p in paths if "img0012" in p[len(root) + 1:].lower()]
    assert len(expected) == 100 and panel.visible_paths() == expected
    assert panel.neighbour(expected[3], +1) == expected[4]
    assert panel.neighbour(expected[-1], +1) is None
    panel.filter.clear()  # clearing shows everything at once, no pause
    assert panel.proxy.passes == 2 and panel.proxy.rowCount() == 100_000


def test_review_count_follows_rows_listed_after_the_store_opened(qtbot):
    """The count is kept as rows arrive and statuses change (no walk over every image)."""
    panel = ImageListPanel()
    qtbot.addWidget(panel)
    paths = [f"/f/img{i}.png" for i in range(6)]
    panel.model.reset("/f")
    panel.model.append(paths[:2])
    panel.set_review_statuses({paths[0]: "done", paths[4]: "in_progress", "/elsewhere.png": "done"})
    assert panel.review_count.text() == "1 of 2 reviewed · 0 in progress"
    panel.model.append(paths[2:])  # the scan goes on
    assert panel.review_count.text() == "1 of 6 reviewed · 1 in progress"
    panel.set_review_status(paths[4], "done")
    panel.set_review_status(paths[0], "unreviewed")
    assert panel.review_count.text() == "1 of 6 reviewed · 0 in progress"
    panel.status_filter.setCurrentIndex(panel.status_filter.findData("done"))
    assert panel.visible_paths() == [paths[4]]


def test_the_scan_joins_batches_so_the_list_relayouts_a_few_times(tmp_path, monkeypatch):
    """Each insert makes the list view lay out every row again: 1,500 images arrive as the first
    image alone and then one batch, not three of 500 more (before)."""
    from pathlib import Path

    from desktop.core.folder import list_images

    monkeypatch.setattr(workers.FolderScanJob, "EMIT_S", 60.0)  # rows decide, not the clock
    for i in range(1500):
        (tmp_path / f"img{i:05d}.png").touch()
    job = workers.FolderScanJob(Path(tmp_path), generation=7)
    batches = []
    job.signals.batch.connect(lambda payload: batches.append(payload))
    job.run()
    assert [g for g, *_ in batches] == [7] * len(batches)
    assert [len(b) for _, b, *_ in batches] == [1, 1499]
    assert [p for _, b, *_ in batches for p in b] == [str(p) for p in list_images(tmp_path)]
    # the list's names come with the paths, made in the worker: relative to the folder, and folded
    names = [n for _, _, ns, _ in batches for n in ns]
    assert names == [p.name for p in list_images(tmp_path)]
    assert [f for *_, fs in batches for f in fs] == [n.casefold() for n in names]
