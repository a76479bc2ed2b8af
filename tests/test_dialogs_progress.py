"""The import and export dialogs' progress bar and Cancel (pytest-qt, offscreen): the bar counts
what the core functions count (the same as `loupe import/export` print), up to the total; Cancel
during an import keeps nothing of it (one transaction), during an export removes what it wrote."""

from __future__ import annotations

import json
import threading

import pytest
from exchange_helpers import db_rows
from PySide6.QtCore import Qt

from tests import test_dialogs_io
from tests.editor_helpers import image_folder, open_folder
from tests.test_dialogs_io import _dialog, _wait

win = test_dialogs_io.win  # the same window fixture: the real MainWindow with the editor and the dialogs


def coco_for(folder, n_images, per_image):
    images = [{"id": k + 1, "file_name": f"img_{k}.png", "width": 200, "height": 160} for k in range(n_images)]
    anns = [{"id": len(images) * j + k + 1, "image_id": k + 1, "category_id": 1 + j % 2,
             "bbox": [j % 150, j % 120, 20.5, 10.25]} for k in range(n_images) for j in range(per_image)]
    path = folder.parent / "many.json"
    path.write_text(json.dumps({"images": images, "annotations": anns,
                                "categories": [{"id": 1, "name": "heart"}, {"id": 2, "name": "lung"}]}))
    return path, len(anns)


def watch_bar(dialog):
    """(value, maximum, text) of the bar each time the job reports progress."""
    seen = []
    bar = dialog.progress.bar
    dialog.job.progress.connect(lambda _p: seen.append((bar.value(), bar.maximum(), bar.format())))
    return seen


def held_after(monkeypatch, module, stage: str):
    """The dialog's job stops after its first report of `stage` until the test has pressed
    Cancel (so the press lands part way, not after a fast job has ended)."""
    pressed, reached = threading.Event(), threading.Event()
    real = module.job_progress

    def job_progress(ctx):
        inner = real(ctx)

        def progress(done, total, text):
            inner(done, total, text)
            if text == stage and 0 < done < total:
                reached.set()
                pressed.wait(10)

        return progress

    monkeypatch.setattr(module, "job_progress", job_progress)
    return pressed, reached


def test_import_bar_counts_the_boxes_up_to_the_total(qtbot, win, tmp_path):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs", n=3))
    path, n = coco_for(tmp_path / "imgs", 3, 4000)
    win.import_action.trigger()
    dialog = _dialog(win, "import")
    dialog.set_path(str(path))
    _wait(qtbot, dialog.job)
    assert "12000 box(es) on 3 image(s)" in dialog.summary.text()
    qtbot.mouseClick(dialog.import_button, Qt.LeftButton)
    seen = watch_bar(dialog)
    assert dialog.progress.isVisible() and dialog.progress.cancel_button.isEnabled()
    _wait(qtbot, dialog.job)
    assert dialog.summary.text().startswith("<b>Done.</b>")
    assert not dialog.progress.isVisible()
    written = [(v, m) for v, m, text in seen if text.startswith("Boxes written")]
    assert written and written[-1] == (n, n) and all(m == n for _v, m in written)
    assert [v for v, _m in written] == sorted(v for v, _m in written)
    assert seen[-1][2] == f"Boxes written: {n:,} / {n:,}"
    assert editor.store.conn.execute("SELECT COUNT(*) FROM boxes").fetchone()[0] == n


def test_cancel_during_an_import_keeps_nothing(qtbot, win, tmp_path, monkeypatch):
    import desktop.ui.dialogs.import_dialog as import_dialog

    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs", n=3))
    editor.add_box((10, 10, 20, 20), "heart")
    path, _n = coco_for(tmp_path / "imgs", 3, 4000)
    win.import_action.trigger()
    dialog = _dialog(win, "import")
    dialog.set_path(str(path))
    _wait(qtbot, dialog.job)
    editor.store.wait_saved(5)
    before = db_rows(editor.store.path)
    pressed, reached = held_after(monkeypatch, import_dialog, "boxes written")
    qtbot.mouseClick(dialog.import_button, Qt.LeftButton)
    qtbot.waitUntil(reached.is_set, timeout=20000)  # part of the boxes are written (in the transaction)
    qtbot.waitUntil(lambda: dialog.progress.bar.format().startswith("Boxes written"), timeout=20000)
    qtbot.mouseClick(dialog.progress.cancel_button, Qt.LeftButton)
    assert dialog.progress.bar.format() == "Cancelling…"
    pressed.set()
    _wait(qtbot, dialog.job)
    assert dialog.job.outcome.cancelled
    assert "Import cancelled" in dialog.summary.text() and "Nothing was imported" in dialog.summary.text()
    assert db_rows(editor.store.path) == before  # read back by a second connection: the store as it was
    assert dialog.import_button.isEnabled() and dialog.close_button.isEnabled()


@pytest.mark.parametrize("fmt", ["roboflow", "yolo"])
def test_export_bar_counts_images_and_cancel_removes_what_it_wrote(qtbot, win, tmp_path, monkeypatch, fmt):
    import desktop.ui.dialogs.export_dialog as export_dialog

    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs", n=6))
    editor.add_box((10, 10, 20, 20), "heart")
    for k in range(1, 6):
        editor.store.ensure_image(f"img_{k}.png", 200, 160)
    win.export_action.trigger()
    dialog = _dialog(win, "export")
    dialog.format_box.setCurrentIndex(dialog.format_box.findData(fmt))
    dialog.all_images.setChecked(True)
    out = tmp_path / "out"
    dialog.out_edit.setText(str(out))
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    seen = watch_bar(dialog)
    _wait(qtbot, dialog.job)
    assert dialog.message.text().startswith("<b>Done.</b>")
    images = [(v, m) for v, m, text in seen if text.startswith("Images written")]
    assert images[-1] == (6, 6)
    assert sorted(p.name for p in out.rglob("*.png" if fmt == "roboflow" else "img_*.txt")) == sorted(
        (f"img{k:06d}.png" for k in range(1, 7)) if fmt == "roboflow" else (f"img_{k}.txt" for k in range(6)))

    out2 = tmp_path / "out2"
    dialog.out_edit.setText(str(out2))
    pressed, reached = held_after(monkeypatch, export_dialog, "images written")
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    qtbot.waitUntil(reached.is_set, timeout=20000)
    qtbot.waitUntil(lambda: dialog.progress.bar.format().startswith("Images written"), timeout=20000)
    assert any(p.is_file() for p in out2.rglob("*"))  # it had written part of the export
    qtbot.mouseClick(dialog.progress.cancel_button, Qt.LeftButton)
    pressed.set()
    _wait(qtbot, dialog.job)
    assert dialog.job.outcome.cancelled
    assert "Export cancelled" in dialog.message.text()
    assert not out2.exists()  # the folder it made, with everything it had written, is gone
    assert dialog.export_button.isEnabled() and not dialog.show_button.isVisible()
