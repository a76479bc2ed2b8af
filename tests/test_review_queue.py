"""The review queue in the real window (decision 0131): the image list ordered by a run's planted
uncertainty, N going to the most uncertain image not reviewed yet, Space following the order, the
shortcut sheet, and the order staying a step (not a pass) at 100,000 images."""

from __future__ import annotations

import pytest
from editor_helpers import image_folder
from PySide6.QtCore import QSettings, Qt

pytestmark = pytest.mark.gui

# planted uncertainty per image: the queue is img_3, img_1, img_4, img_0; img_2 and img_5 unscored
PLANTED = {"img_0.png": 0.2, "img_1.png": 1.7, "img_3.png": 2.4, "img_4.png": 0.9}
QUEUE = ["img_3.png", "img_1.png", "img_4.png", "img_0.png", "img_2.png", "img_5.png"]


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch):
    import desktop.ui.extensions as extensions
    from desktop.ui.main_window import MainWindow

    monkeypatch.setattr(extensions, "EXTENSIONS", ["desktop.ui.editor:install", "desktop.ui.review:install"])
    window = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    folder = image_folder(tmp_path / "imgs", n=6)
    window.open_folder(folder)
    qtbot.waitUntil(lambda: window.box_editor.image_id is not None and len(window.image_paths()) == 6,
                    timeout=10000)
    return window


def plant_run(win, scores=PLANTED) -> int:
    store = win.box_editor.store
    run = store.begin_run("planted", "detection", "detection-band", {"threshold": 0.3})
    for name, value in scores.items():
        iid = store.ensure_image(name, 200, 160)
        store.set_image_score(run, iid, value)
    win.review_queue.refresh_runs()  # what the Models dock's run_scored signal does after a run
    return run


def names(paths):
    return [p.rsplit("/", 1)[-1] for p in paths]


def test_the_list_orders_by_the_planted_uncertainty_and_back(win):
    plant_run(win)
    order = win.image_list.order
    assert order.combo.itemText(1) == "Most uncertain first"
    assert order.choose("latest")
    assert names(win.image_list.visible_paths()) == QUEUE
    assert win.image_list.view.currentIndex().data(Qt.UserRole + 2) == win.current_path()  # still current
    first = win.image_list.proxy.index(0, 0)
    assert first.data(Qt.ToolTipRole).endswith("Uncertainty: 2.40")  # img_3's planted score
    win.image_list.status_filter.setCurrentIndex(win.image_list.status_filter.findData("unreviewed"))
    assert names(win.image_list.visible_paths()) == QUEUE  # the filter keeps the order
    assert order.choose("folder")
    assert names(win.image_list.visible_paths()) == [f"img_{k}.png" for k in range(6)]
    assert "Uncertainty" not in win.image_list.proxy.index(0, 0).data(Qt.ToolTipRole)


def test_n_goes_to_the_most_uncertain_unreviewed_image(qtbot, win):
    plant_run(win)
    store = win.box_editor.store
    store.set_review_status(store.image_id("img_3.png"), "done")  # the most uncertain is reviewed already
    win.box_editor.store_refreshed.emit()
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key_N)
    assert names([win.current_path()]) == ["img_1.png"]  # folder order in the list, N follows the scores
    qtbot.keyClick(win.canvas, Qt.Key_N)  # N again: not the image on screen, the next most uncertain
    assert names([win.current_path()]) == ["img_4.png"]


def test_space_follows_the_order_when_it_is_chosen(qtbot, win):
    plant_run(win)
    win.image_list.order.choose("latest")
    win.show_image(str(win.folder / "img_3.png"))
    win.canvas.setFocus()
    seen = [names([win.current_path()])[0]]
    for _ in range(3):
        qtbot.keyClick(win.canvas, Qt.Key_Space)  # mark reviewed and next
        seen.append(names([win.current_path()])[0])
    assert seen == QUEUE[:4]
    statuses = {r.rel_path: r.review_status for r in win.box_editor.store.images()}
    assert [statuses[n] for n in QUEUE[:3]] == ["done"] * 3
    qtbot.keyClick(win.canvas, Qt.Key_N)  # the three reviewed ones are skipped; img_0 is on screen
    assert names([win.current_path()]) == ["img_0.png"]
    assert "the last one this run scored that is not reviewed" in win.notifications.history[-1][1]


def test_n_without_scores_says_what_to_do(qtbot, win):
    before = win.current_path()
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key_N)
    assert win.current_path() == before
    assert "run a model on the folder" in win.notifications.history[-1][1]
    assert not win.image_list.order.choose("latest")  # not offered until a run scored images


def test_n_is_on_the_shortcut_sheet_and_no_other_action_has_it(win):
    from desktop.ui.viewer.help_dialogs import shortcut_rows

    rows = shortcut_rows(win)
    with_n = [r for r in rows if "N" in [k.strip() for k in r[1].split(",")]]
    assert with_n == [("Next Most Uncertain Image", "N", "View")]


def test_a_new_run_becomes_the_latest_order(qtbot, win):
    plant_run(win)
    win.image_list.order.choose("latest")
    passes = win.image_list.proxy.passes
    win.box_editor.store_refreshed.emit()  # another window edited a box: no run changed, no new sort
    assert win.image_list.proxy.passes == passes
    plant_run(win, {"img_5.png": 3.0, "img_2.png": 0.1})
    assert names(win.image_list.visible_paths())[:2] == ["img_5.png", "img_2.png"]
    runs = [win.image_list.order.combo.itemText(i) for i in range(win.image_list.order.combo.count())]
    assert len(runs) == 4 and runs[2].startswith("Most uncertain of run 2: planted")


def test_a_step_in_uncertainty_order_at_100000_images_is_a_lookup(qtbot):
    """Ordering is one sort when chosen; after it a step maps rows through a dict (O(1)) and asks
    the model only for the rows painted."""
    import random

    from desktop.ui.viewer.image_list import ImageListModel, ImageListPanel

    panel = ImageListPanel()
    qtbot.addWidget(panel)
    panel.resize(300, 600)
    panel.show()
    root = "/data/scans"
    paths = [f"{root}/img{i:06d}.png" for i in range(100_000)]
    panel.model.reset(root)
    for start in range(0, len(paths), 5000):
        panel.model.append(paths[start:start + 5000])
    rng = random.Random(3)
    scores = {p: rng.random() for p in paths[::2]}  # half the folder scored
    panel.set_order_scores(scores)
    expected = sorted(scores, key=lambda p: -scores[p]) + paths[1::2]
    assert panel.visible_paths() == expected
    calls = [0]
    original = ImageListModel.data

    def counting(self, index, role=Qt.DisplayRole):
        calls[0] += 1
        return original(self, index, role)

    ImageListModel.data = counting
    try:
        here = expected[50_000]
        for k in range(20):
            nxt = panel.neighbour(here, +1)
            assert nxt == expected[50_001 + k]
            panel.select_path(nxt)
            here = nxt
        panel.view.viewport().repaint()
    finally:
        ImageListModel.data = original
    assert calls[0] < 2000  # the rows on screen, never one per row of 100,000
    assert panel.proxy.passes == 1  # one sort, no filter pass per step


def test_a_run_in_the_real_window_fills_the_queue(qtbot, tmp_path, monkeypatch):
    """Box editor, Models dock and review queue installed as in the app: a detector run on all
    images offers its run in the Order box at once, and N goes by its scores."""
    from model_panel_helpers import fake_load_model, write_fake_cards

    import desktop.ui.extensions as extensions
    import models
    from desktop.ui.main_window import MainWindow

    cards = write_fake_cards(tmp_path / "models")
    monkeypatch.setenv("LOUPE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setattr(models, "load_model", fake_load_model({}))
    monkeypatch.setattr(extensions, "EXTENSIONS", ["desktop.ui.editor:install", "desktop.ui.model_panel:install",
                                                   "desktop.ui.review:install"])
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    settings.setValue("models/folder", str(tmp_path / "models"))
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    folder = image_folder(tmp_path / "imgs", n=3)
    window.open_folder(folder)
    qtbot.waitUntil(lambda: window.box_editor.image_id is not None and len(window.image_paths()) == 3,
                    timeout=10000)
    panel = window.model_panel
    try:
        job = panel.select(str(cards["fake-detector"]))
        if job is not None:
            qtbot.waitSignal(job.finished, timeout=60000).wait()
        job = panel.run("all")
        qtbot.waitSignal(job.finished, timeout=20000).wait()
        order = window.image_list.order
        assert order.combo.count() == 3 and order.combo.itemText(2).startswith("Most uncertain of run 1: fake-detector")
        assert order.choose("latest") and len(window.image_list.visible_paths()) == 3
        window.show_image(str(folder / "img_0.png"))
        window.canvas.setFocus()
        qtbot.keyClick(window.canvas, Qt.Key_N)  # every image scores the same: the first other one in the ranking
        assert window.current_path() != str(folder / "img_0.png")
        assert "Most uncertain image not reviewed yet" in window.notifications.history[-1][1]
    finally:
        window.jobs.shutdown()
