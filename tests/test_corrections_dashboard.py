"""The corrections dashboard (decision 0132): numbers from planted edits, the CSV read back by
Python's csv module, the PNG at the plotted size, the window's dialog, and an empty store saying
what to do next."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from desktop.cli import main
from desktop.core.exchange.correction_stats import CSV_COLUMNS, EMPTY_HINT, correction_stats, iou_xywh
from desktop.core.exchange.corrections import corrections
from desktop.core.store import open_store


def planted(folder):
    """Run 1 of "det" on a.png and b.png, run 2 on b.png, and the edits people made:
    a.png (run 1): lesion p1 accepted; lesion p2 moved (0,0,10,10) -> (5,0,10,10), IoU 50/150 = 1/3;
                   nodule p3 relabelled to lesion; nodule p4 deleted; a person drew one nodule
    b.png (run 1): lesion p5 left unreviewed -> replaced by run 2, so gone; lesion p6 accepted
    b.png (run 2): nodule q1 moved (0,0,10,10) -> (0,0,20,10), IoU 100/200 = 1/2, and relabelled to lesion;
                   nodule q2 unreviewed
    c.png: a person drew a lesion (no model ran there: counted for no model)
    Another model "other" on c.png: one prediction deleted."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("a.png", "b.png", "c.png"):
        Image.fromarray(np.zeros((40, 40), np.uint8)).save(folder / name)
    store = open_store(folder)
    a, b, c = (store.ensure_image(n, 40, 40) for n in ("a.png", "b.png", "c.png"))
    r1 = store.begin_run("det", "detection", "detection-band", {"threshold": 0.3})
    ids_a = store.replace_predictions(a, "det", [("lesion", 1, 1, 5, 5, 0.9), ("lesion", 0, 0, 10, 10, 0.8),
                                                 ("nodule", 2, 2, 6, 6, 0.5), ("nodule", 3, 3, 4, 4, 0.4)], run_id=r1)
    ids_b = store.replace_predictions(b, "det", [("lesion", 1, 1, 5, 5, 0.35), ("lesion", 2, 2, 5, 5, 0.95)],
                                      run_id=r1)
    p1, p2, p3, p4 = ids_a
    store.accept_predictions(a, [p1])
    store.update_box(p2, x=5)
    store.update_box(p3, category="lesion")
    store.delete_box(p4)
    store.add_box(a, "nodule", 20, 20, 8, 8)
    store.accept_predictions(b, [ids_b[1]])
    r2 = store.begin_run("det", "detection", "detection-band", {"threshold": 0.3})
    q1, _q2 = store.replace_predictions(b, "det", [("nodule", 0, 0, 10, 10, 0.6), ("nodule", 8, 8, 5, 5, 0.3)],
                                        run_id=r2)
    store.update_box(q1, w=20, category="lesion")
    store.add_box(c, "lesion", 1, 1, 9, 9)
    (o1,) = store.replace_predictions(c, "other", [("lesion", 5, 5, 5, 5, 0.7)])  # no run recorded
    store.delete_box(o1)
    return store, r1, r2


def test_iou_by_hand():
    assert iou_xywh((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(1 / 3)
    assert iou_xywh((0, 0, 10, 10), (0, 0, 20, 10)) == pytest.approx(0.5)
    assert iou_xywh((0, 0, 1, 1), (5, 5, 1, 1)) == 0.0


def test_counts_equal_the_planted_edits(tmp_path):
    store, r1, r2 = planted(tmp_path / "f")
    with store:
        stats = correction_stats(store)
        assert stats.models == ["det", "other"]
        det = stats.total("det")
        # predictions left: p1-p4, p6, q1, q2 (p5 was replaced unreviewed)
        assert (det.predictions, det.accepted, det.moved, det.relabelled, det.deleted, det.unreviewed, det.added) == (
            7, 2, 2, 2, 1, 1, 1)
        assert (det.reviewed, det.corrected) == (6, 4) and det.corrected_rate == pytest.approx(4 / 6)
        assert det.moved_mean_iou == pytest.approx((1 / 3 + 1 / 2) / 2)
        per_class = stats.per_class("det")  # under the class the MODEL gave
        assert (per_class["nodule"].predictions, per_class["nodule"].relabelled, per_class["nodule"].added) == (4, 2, 1)
        assert per_class["lesion"].moved == 1 and per_class["lesion"].moved_mean_iou == pytest.approx(1 / 3)
        runs = stats.per_run("det")
        assert [(i.key, t.predictions, t.corrected) for i, t in runs] == [(r1, 5, 3), (r2, 2, 1)]
        other = stats.total("other")
        assert (other.predictions, other.deleted, other.added, other.corrected_rate) == (1, 1, 1, 1.0)
        assert [i.label for i, _ in stats.per_run("other")] == ["earlier runs"]
        # the same kinds as the corrections export (one definition)
        export = corrections(store, "det")["counts"]
        assert (export["accepted"], export["moved"], export["relabelled"], export["deleted"],
                export["unreviewed"]) == (det.accepted, det.moved, det.relabelled, det.deleted, det.unreviewed)


def test_cli_writes_a_csv_that_csv_reads_and_a_png_of_the_plotted_size(tmp_path, capsys):
    store, r1, r2 = planted(tmp_path / "f")
    store.close()
    out_csv, out_png = tmp_path / "out" / "corrections.csv", tmp_path / "out" / "corrections.png"
    rc = main(["corrections", str(tmp_path / "f"), "--csv", str(out_csv), "--png", str(out_png),
               "--size", "900x600"])
    assert rc == 0
    with open(out_csv, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    model_row = next(r for r in rows if r["level"] == "model" and r["model"] == "det")
    assert {k: model_row[k] for k in ("predictions", "accepted", "moved", "relabelled", "deleted", "unreviewed",
                                      "added", "reviewed", "corrected")} == {
        "predictions": "7", "accepted": "2", "moved": "2", "relabelled": "2", "deleted": "1", "unreviewed": "1",
        "added": "1", "reviewed": "6", "corrected": "4"}
    assert float(model_row["corrected_rate"]) == pytest.approx(4 / 6, abs=1e-6)
    assert float(model_row["moved_mean_iou"]) == pytest.approx(5 / 12, abs=1e-6)
    run2 = next(r for r in rows if r["level"] == "class" and r["run"] == str(r2) and r["class"] == "nodule")
    assert (run2["predictions"], run2["moved"], run2["relabelled"], run2["unreviewed"]) == ("2", "1", "1", "1")
    assert float(run2["moved_mean_iou"]) == pytest.approx(0.5)
    assert {r["level"] for r in rows} == {"model", "run", "class"}
    with Image.open(out_png) as png:
        assert png.size == (900, 600)
        pixels = np.asarray(png.convert("RGB")).reshape(-1, 3)
        assert len(np.unique(pixels, axis=0)) > 5  # plots were drawn, not a blank page
    rc = main(["corrections", str(tmp_path / "f")])  # no files: a summary per model
    assert rc == 0 and "det: 7 predictions, 6 reviewed, 4 corrected (67%)" in capsys.readouterr().out
    rc = main(["corrections", str(tmp_path / "f"), "--model", "nope", "--csv", str(out_csv)])
    assert rc == 2 and "no predictions of that model" in capsys.readouterr().err


def test_empty_store_says_what_to_do_next(tmp_path, capsys):
    (tmp_path / "f").mkdir()
    rc = main(["corrections", str(tmp_path / "f"), "--csv", str(tmp_path / "c.csv")])
    assert rc == 0
    assert "Run a detector on the folder" in capsys.readouterr().err
    with open(tmp_path / "c.csv", newline="", encoding="utf-8") as fh:
        assert list(csv.reader(fh)) == [list(CSV_COLUMNS)]  # the header only


@pytest.mark.gui
def test_the_dialog_shows_the_numbers_and_saves_png_and_csv(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    import desktop.ui.extensions as extensions
    from desktop.ui.main_window import MainWindow
    from desktop.ui.review.dashboard_chart import PNG_SIZE

    folder = tmp_path / "f"
    store, _r1, _r2 = planted(folder)
    store.close()
    monkeypatch.setattr(extensions, "EXTENSIONS", ["desktop.ui.editor:install", "desktop.ui.review:install"])
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    win.review_actions["dashboard"].trigger()  # before a folder: says to open one
    dialog = win._dashboard_dialog
    assert "Open a folder first" in dialog.summary.text() and not dialog.png_button.isEnabled()
    win.open_folder(folder)
    qtbot.waitUntil(lambda: win.box_editor.image_id is not None, timeout=10000)
    win.review_actions["dashboard"].trigger()
    qtbot.waitUntil(lambda: not dialog.counting, timeout=10000)  # counted in a worker
    assert [dialog.model_box.itemText(i) for i in range(dialog.model_box.count())] == ["det", "other"]
    assert dialog.png_button.isEnabled()
    png, out_csv = dialog.save_png(str(tmp_path / "d.png")), dialog.save_csv(str(tmp_path / "d.csv"))
    with Image.open(png) as image:
        assert image.size == PNG_SIZE
    with open(out_csv, newline="", encoding="utf-8") as fh:
        det = next(r for r in csv.DictReader(fh) if r["level"] == "model" and r["model"] == "det")
    assert det["corrected"] == "4"
    dialog.model_box.setCurrentText("other")
    assert dialog.chart.model == "other"


@pytest.mark.gui
def test_the_dialog_on_an_empty_folder_says_what_to_do(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    import desktop.ui.extensions as extensions
    from desktop.ui.main_window import MainWindow

    folder = tmp_path / "f"
    folder.mkdir()
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(folder / "a.png")
    monkeypatch.setattr(extensions, "EXTENSIONS", ["desktop.ui.editor:install", "desktop.ui.review:install"])
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    win.open_folder(folder)
    qtbot.waitUntil(lambda: win.box_editor.image_id is not None, timeout=10000)
    win.review_actions["dashboard"].trigger()
    dialog = win._dashboard_dialog
    qtbot.waitUntil(lambda: not dialog.counting, timeout=10000)
    assert dialog.summary.text() == EMPTY_HINT
    assert not dialog.png_button.isEnabled() and not dialog.csv_button.isEnabled()


def test_sqlite_counts_agree_with_the_corrections_rule_on_random_edits(tmp_path):
    """The dashboard counts in SQL; the corrections export decides box by box in Python
    (`prediction_kinds`). On 400 random predictions and edits, both say the same."""
    import random

    from desktop.core.exchange.corrections import prediction_kinds

    rng = random.Random(7)
    folder = tmp_path / "f"
    folder.mkdir()
    store = open_store(folder)
    with store:
        images = [store.ensure_image(f"i{k}.png", 50, 50) for k in range(20)]
        for model in ("m1", "m2"):
            run = store.begin_run(model, "detection", "detection-band", {})
            for iid in images:
                rows = [(rng.choice("abc"), rng.uniform(0, 30), rng.uniform(0, 30), rng.uniform(1, 20),
                         rng.uniform(1, 20), rng.random()) for _ in range(10)]
                for bid in store.replace_predictions(iid, model, rows, run_id=run):
                    r = rng.random()
                    if r < 0.2:
                        store.accept_predictions(iid, [bid])
                    elif r < 0.4:
                        store.update_box(bid, x=rng.uniform(0, 30), h=rng.uniform(1, 20))
                    elif r < 0.55:
                        store.update_box(bid, category=rng.choice("abc"))
                    elif r < 0.65:
                        store.update_box(bid, y=rng.uniform(0, 30), category=rng.choice("abc"))
                    elif r < 0.8:
                        store.delete_box(bid)
        expected: dict = {}
        for (model, state, deleted, cat, x, y, w, h, ocat, ox, oy, ow, oh) in store.conn.execute(
                "SELECT model, state, deleted, category_id, x, y, w, h, orig_category_id, orig_x, orig_y, orig_w, "
                "orig_h FROM boxes WHERE source = 'model'"):
            tally = expected.setdefault((model, ocat), dict.fromkeys(("n", "accepted", "moved", "relabelled",
                                                                     "deleted", "unreviewed", "iou"), 0))
            kinds = prediction_kinds(state, deleted, cat, (x, y, w, h), ocat, (ox, oy, ow, oh))
            tally["n"] += 1
            for k in kinds:
                tally[k] += 1
            if "moved" in kinds:
                tally["iou"] += iou_xywh((x, y, w, h), (ox, oy, ow, oh))
        names = {c.id: c.name for c in store.categories()}
        stats = correction_stats(store)
        for (model, ocat), want in expected.items():
            got = stats.per_class(model)[names[ocat]]
            assert (got.predictions, got.accepted, got.moved, got.relabelled, got.deleted, got.unreviewed) == (
                want["n"], want["accepted"], want["moved"], want["relabelled"], want["deleted"], want["unreviewed"])
            assert got.iou_sum == pytest.approx(want["iou"], abs=1e-9)
        assert sum(t.moved for t in stats.cells.values()) > 50  # the edits were varied enough to mean something
