"""The round trip through the window: File > Import annotations… of the real NIH box list onto a
copy of the NIH images, one box moved with the keyboard, File > Export… as COCO, read back with
pycocotools: the boxes are the CSV's, with the edit."""

from __future__ import annotations

import csv
import shutil

import pytest
from PySide6.QtCore import Qt

from tests.test_dialogs_io import _dialog, _wait, win  # noqa: F401 (the window fixture)


@pytest.mark.shared_data
def test_nih_import_edit_export_coco_read_by_pycocotools(qtbot, win, tmp_path, shared_data):  # noqa: F811
    from pycocotools.coco import COCO

    folder = tmp_path / "nih"
    folder.mkdir()
    for p in (shared_data / "nih" / "images").glob("*.png"):
        shutil.copy(p, folder / p.name)
    csv_path = shared_data / "nih" / "BBox_List_2017.csv"
    with open(csv_path, newline="") as f:
        rows = [r for r in list(csv.reader(f))[1:] if r and (folder / r[0]).is_file()]
    expected = {p.name: [] for p in folder.glob("*.png")}  # the RGBA one has no box
    for r in rows:
        expected[r[0]].append((r[1], [float(v) for v in r[2:6]]))
    assert sum(map(len, expected.values())) == 4 and len(expected) == 5

    win.open_folder(folder)
    qtbot.waitUntil(lambda: win.box_editor.image_id is not None, timeout=10000)
    win.import_action.trigger()
    dialog = _dialog(win, "import")
    from PySide6.QtWidgets import QApplication

    dialog.activateWindow()  # as a window manager does: the keys go to the dialog, not the canvas
    dialog.path_edit.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.path_edit, timeout=3000)
    qtbot.keyClicks(dialog.path_edit, str(csv_path))
    qtbot.keyClick(dialog.path_edit, Qt.Key_Return)
    _wait(qtbot, dialog.job)
    assert dialog.format_box.currentData() is None  # told from the file
    assert "NIH ChestX-ray14 BBox_List_2017.csv</b>: 4 box(es) on 4 image(s); 980 row(s) skip" in dialog.summary.text()
    dialog.import_button.setFocus()  # the field loses focus to the button, as with a real press
    qtbot.mouseClick(dialog.import_button, Qt.LeftButton)
    _wait(qtbot, dialog.job)
    assert "imported 4 box(es) on 4 image(s)" in dialog.summary.text()
    dialog.close()

    editor = win.box_editor
    name = "00000032_037.png"
    win.show_image(str(folder / name))
    qtbot.waitUntil(lambda: len(editor.items) == 1, timeout=5000)  # its imported box, on the canvas
    (item,) = editor.items.values()
    item.setSelected(True)
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key_Right, Qt.ShiftModifier)  # the editor's nudge: 10 px right
    qtbot.keyClick(win.canvas, Qt.Key_Down)  # and 1 px down
    label, (x, y, w, h) = expected[name][0]
    expected[name] = [(label, [x + 10, y + 1, w, h])]

    win.export_action.trigger()
    export = _dialog(win, "export")
    assert export.format_box.currentData() == "coco"
    out = tmp_path / "export" / "nih.coco.json"
    export.out_edit.setText(str(out))
    if export.keep_paths.isVisibleTo(export):  # name the images by their files, to compare with the CSV
        export.keep_paths.setChecked(True)
    qtbot.mouseClick(export.export_button, Qt.LeftButton)
    _wait(qtbot, export.job)
    assert export.show_button.isVisibleTo(export)

    coco = COCO(str(out))
    got = {}
    for img in coco.loadImgs(coco.getImgIds()):
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[img["id"]]))
        got[img["file_name"]] = [(coco.loadCats(a["category_id"])[0]["name"], a["bbox"]) for a in anns]
    assert got.keys() == expected.keys()
    for key, boxes in expected.items():
        assert [b[0] for b in got[key]] == [b[0] for b in boxes]
        assert [b[1] for b in got[key]] == [pytest.approx(b[1], abs=1e-6) for b in boxes]
