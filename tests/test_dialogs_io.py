"""File > Import annotations… and File > Export… in the real window (pytest-qt, offscreen): the
preview before anything is written, the import as one job, the problem report copied and saved,
the export options as `loupe export` has them, and "Show in folder"."""

from __future__ import annotations

import json
import shutil

import pytest
from PySide6.QtCore import Qt

from tests.editor_helpers import disk_boxes, image_folder, open_folder


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    import desktop.ui.extensions as extensions
    from desktop.ui.main_window import MainWindow

    monkeypatch.setattr(extensions, "EXTENSIONS", ["desktop.ui.editor:install", "desktop.ui.dialogs:install"])
    w = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitExposed(w)
    return w


def _dialog(win, cls_name):
    from desktop.ui.dialogs import export_dialog, import_dialog

    cls = {"import": import_dialog.ImportDialog, "export": export_dialog.ExportDialog}[cls_name]
    found = win.findChildren(cls)
    assert len(found) == 1
    return found[0]


def _wait(qtbot, job, timeout=30000):
    assert job is not None
    if job.state != "done":
        qtbot.waitSignal(job.finished, timeout=timeout).wait()
    return job


def test_file_menu_has_import_and_export_before_quit(win):
    texts = [a.text() for a in win.menu("File").actions()]
    assert texts.index("&Import Annotations…") < texts.index("&Export…") < texts.index("&Quit")


def test_import_without_a_folder_says_open_one_first(win):
    win.import_action.trigger()
    assert win.notifications.history[-1][:2] == ("warning", "Open a folder first: annotations belong to a folder of images")


def test_import_previews_reports_problems_and_imports_the_good_boxes(qtbot, win, tmp_path):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs", n=2))
    coco = {"images": [{"id": 1, "file_name": "img_0.png", "width": 200, "height": 160},
                       {"id": 2, "file_name": "img_1.png", "width": 200, "height": 160}],
            "categories": [{"id": 3, "name": "heart"}, {"id": 4, "name": "lung"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [10, 20, 30, 40]},
                            {"id": 2, "image_id": 2, "category_id": 4, "bbox": [5, 5, 10, 10]},
                            {"id": 9, "image_id": 2, "category_id": 4, "bbox": [190, 5, 30, 10]}]}
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(coco))
    editor.store.ensure_category("heart")
    win.import_action.trigger()
    dialog = _dialog(win, "import")
    dialog.set_path(str(path))
    _wait(qtbot, dialog.job)
    assert dialog.summary.text().startswith("<b>COCO (annotations)</b>: 2 box(es) on 2 image(s); 1 problem(s)")
    assert "categories new: lung; merged into existing: heart" in dialog.summary.text()
    problem = f"{path}, annotation id 9 (#2): box outside the image: [190.0, 5.0, 30.0, 10.0] on 200x160 (image img_1.png)"
    assert dialog.report.plain() == problem
    assert disk_boxes(editor.store) == []  # nothing written by the preview
    dialog.report.copy()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == problem + "\n"
    saved = dialog.report.save(str(tmp_path / "report.txt"))
    assert saved.read_text() == problem + "\n"
    # with problems, Import waits until the user agrees to leave them out
    assert not dialog.import_button.isEnabled()
    dialog.skip_bad.setChecked(True)
    assert dialog.import_button.isEnabled()
    qtbot.mouseClick(dialog.import_button, Qt.LeftButton)
    _wait(qtbot, dialog.job)
    assert [b[1:6] for b in disk_boxes(editor.store)] == [("heart", 10.0, 20.0, 30.0, 40.0),
                                                          ("lung", 5.0, 5.0, 10.0, 10.0)]
    assert "Done." in dialog.summary.text() and "imported 2 box(es) on 2 image(s)" in dialog.summary.text()
    assert len(editor.items) == 1  # the current image shows its imported box at once


def test_import_format_can_be_overridden_and_an_unknown_one_is_explained(qtbot, win, tmp_path):
    open_folder(qtbot, win, image_folder(tmp_path / "imgs", n=1))
    odd = tmp_path / "boxes.dat"
    odd.write_text("x")
    win.import_action.trigger()
    dialog = _dialog(win, "import")
    dialog.set_path(str(odd))
    assert "cannot tell its format from the name; choose the format" in dialog.summary.text()
    assert not dialog.import_button.isEnabled()
    dialog.set_path(str(odd), fmt="coco")
    _wait(qtbot, dialog.job)
    assert "not a COCO file" in dialog.report.plain() or "bad JSON" in dialog.report.plain()


def test_export_options_follow_the_format_and_show_in_folder(qtbot, win, tmp_path, monkeypatch):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs", n=2))
    editor.add_box((10, 10, 20, 20), "heart")
    editor.store.replace_predictions(editor.image_id, "det", [("lung", 50, 50, 10, 10, 0.7)])
    win.export_action.trigger()
    dialog = _dialog(win, "export")
    assert dialog.include_predictions.isVisibleTo(dialog) and not dialog.roboflow.isVisibleTo(dialog)
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("roboflow"))
    assert dialog.roboflow.isVisibleTo(dialog) and not dialog.scores.isVisibleTo(dialog)
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("coco"))
    out = tmp_path / "out" / "a.json"
    dialog.out_edit.setText(str(out))
    dialog.include_predictions.setChecked(True)
    dialog.scores.setChecked(True)
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    _wait(qtbot, dialog.job)
    data = json.loads(out.read_text())
    assert sorted((a["bbox"], a.get("score")) for a in data["annotations"]) == [
        ([10.0, 10.0, 20.0, 20.0], None), ([50.0, 50.0, 10.0, 10.0], 0.7)]
    assert dialog.show_button.isVisibleTo(dialog)
    opened = []
    from PySide6.QtGui import QDesktopServices

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True))
    qtbot.mouseClick(dialog.show_button, Qt.LeftButton)
    assert [u.toLocalFile() for u in opened] == [str(out.parent)]
    # the same options as `loupe export --format coco` without them: the prediction is left out
    dialog.include_predictions.setChecked(False)
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    _wait(qtbot, dialog.job)
    assert [a["bbox"] for a in json.loads(out.read_text())["annotations"]] == [[10.0, 10.0, 20.0, 20.0]]


def test_export_roboflow_split_writes_the_three_folders(qtbot, win, tmp_path):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs", n=3))
    editor.add_box((10, 10, 20, 20), "heart")
    for name in ("img_1.png", "img_2.png"):  # the store knows the images the user has seen
        editor.store.ensure_image(name, 200, 160)
    win.export_action.trigger()
    dialog = _dialog(win, "export")
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("roboflow"))
    dialog.all_images.setChecked(True)
    out = tmp_path / "ds"
    dialog.out_edit.setText(str(out))
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    _wait(qtbot, dialog.job)
    from pycocotools.coco import COCO

    counts = {s: len(COCO(str(out / s / "_annotations.coco.json")).getImgIds()) for s in ("train", "valid", "test")}
    assert sum(counts.values()) == 3 and all(counts.values())
    # only reviewed images (the default for a training split): none here, and the dialog says why
    dialog.all_images.setChecked(False)
    shutil.rmtree(out)
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    _wait(qtbot, dialog.job)
    assert "no reviewed images" in dialog.message.text()


def test_import_renames_labels_when_asked(qtbot, win, tmp_path):
    from desktop.ui.dialogs.import_dialog import label_mapping_supported

    if not label_mapping_supported():
        pytest.skip("this build's import cannot rename labels (desktop.core.exchange.authors_csv)")
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs", n=1))
    path = tmp_path / "BBox_List_2017.csv"
    path.write_text("Image Index,Finding Label,Bbox [x,y,w,h],,,\n"
                    "img_0.png,Mass,10,10,20,20\nimg_0.png,Nodule,40,40,5,5\nimg_0.png,Effusion,1,1,3,3\n")
    win.import_action.trigger()
    dialog = _dialog(win, "import")
    dialog.set_path(str(path))
    _wait(qtbot, dialog.job)
    assert "categories new: Effusion, Mass, Nodule" in dialog.summary.text()
    dialog._nih_mapping()  # the "NIH → EfficientDet classes" button
    _wait(qtbot, dialog.job)
    assert dialog.mapping_edit.text() == "Mass=Nodule/Mass; Nodule=Nodule/Mass"
    assert "categories new: Effusion, Nodule/Mass" in dialog.summary.text()
    qtbot.mouseClick(dialog.import_button, Qt.LeftButton)
    _wait(qtbot, dialog.job)
    assert sorted(b[1] for b in disk_boxes(editor.store)) == ["Effusion", "Nodule/Mass", "Nodule/Mass"]


def test_export_names_are_non_identifying_unless_asked(qtbot, win, tmp_path):
    from desktop.ui.dialogs.export_dialog import naming_supported

    if not naming_supported():
        pytest.skip("this build's exports keep the images' paths (no desktop.core.exchange.naming)")
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs", n=1))
    editor.add_box((10, 10, 20, 20), "heart")
    win.export_action.trigger()
    dialog = _dialog(win, "export")
    assert dialog.keep_paths.isVisibleTo(dialog) and not dialog.keep_paths.isChecked()
    out = tmp_path / "a.json"
    dialog.out_edit.setText(str(out))
    for keep, name in ((False, f"img{editor.image_id:06d}.png"), (True, "img_0.png")):
        dialog.keep_paths.setChecked(keep)
        qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
        _wait(qtbot, dialog.job)
        assert [i["file_name"] for i in json.loads(out.read_text())["images"]] == [name]


def test_an_export_waits_for_edits_still_waiting_to_be_saved(qtbot, win, tmp_path, monkeypatch):
    """Edits queued behind another program's lock are part of the export once they reach the disk;
    while they cannot, the export refuses and says so rather than write a file that misses them."""
    from desktop.ui.dialogs import common
    from tests.store_window_helpers import hold_write_lock

    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs", n=2))
    editor.add_box((10, 10, 20, 20), "heart")
    qtbot.waitUntil(lambda: editor.store.pending == 0, timeout=10000)
    out = tmp_path / "out" / "a.json"
    win.export_action.trigger()
    dialog = _dialog(win, "export")
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("coco"))
    dialog.out_edit.setText(str(out))
    locker = hold_write_lock(editor.store.path)
    try:
        editor.add_box((60, 60, 30, 30), "heart")
        assert editor.store.pending == 1
        monkeypatch.setattr(common, "SAVE_WAIT_S", 0.5)
        qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
        _wait(qtbot, dialog.job)
        assert "1 edit(s) are still waiting to be saved" in dialog.message.text()
        assert "the export would miss them" in dialog.message.text()
        assert not out.exists()
        monkeypatch.setattr(common, "SAVE_WAIT_S", 20.0)
        qtbot.mouseClick(dialog.export_button, Qt.LeftButton)  # the lock goes while the export waits
        qtbot.wait(300)
    finally:
        locker.release()
    _wait(qtbot, dialog.job)
    assert sorted(a["bbox"] for a in json.loads(out.read_text())["annotations"]) == [
        [10.0, 10.0, 20.0, 20.0], [60.0, 60.0, 30.0, 30.0]]
