"""File > Export… > Teaching set in the real window (pytest-qt, offscreen): the burned-in images
are found before anything is written and can be ticked to leave out, the cases can be chosen,
the export runs as a job through export_teaching_set (the function `loupe export --format
teaching` calls) and ends with the page, the zip, and "Open the page"."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from desktop.core.teaching import CaseBook
from tests.editor_helpers import open_folder
from tests.teaching_helpers import PLANTED, phi_folder
from tests.test_dialogs_io import _dialog, _wait, win  # noqa: F401  (the window fixture)


def _teaching(qtbot, win, films):  # noqa: F811
    open_folder(qtbot, win, films)
    win.export_action.trigger()
    dialog = _dialog(win, "export")
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("teaching"))
    assert dialog.teaching.isVisibleTo(dialog) and not dialog.roboflow.isVisibleTo(dialog)
    _wait(qtbot, dialog.teaching.scan_job)
    return dialog


def test_burned_in_images_are_listed_and_left_out_when_ticked(qtbot, win, tmp_path, monkeypatch):  # noqa: F811
    dialog = _teaching(qtbot, win, phi_folder(tmp_path))
    assert dialog.out_edit.text().endswith("films-teaching-set")
    assert "no teaching cases yet: each of its images becomes a case" in dialog.teaching.cases_label.text()
    assert "1 image(s) may show the patient's name or ID" in dialog.teaching.burned_label.text()
    items = [dialog.teaching.burned.item(i) for i in range(dialog.teaching.burned.count())]
    assert len(items) == 1 and "US_0001.dcm" in items[0].text() and "ultrasound" in items[0].text()
    items[0].setCheckState(Qt.CheckState.Checked)
    out = tmp_path / "handout"
    dialog.out_edit.setText(str(out))
    dialog.teaching.title.setText("Monday film reading")
    dialog.teaching.window_mode.setCurrentIndex(dialog.teaching.window_mode.findData("lung"))
    dialog.teaching.labels.setText("Nodule, Mass")
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    _wait(qtbot, dialog.job)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [c["case"] for c in manifest["cases"]] == ["case-001", "case-002"]
    assert manifest["left_out"][0]["reason"].startswith("modality US") and "source" not in manifest["left_out"][0]
    assert manifest["window"] == {"name": "Lung", "center": -600.0, "width": 1500.0}
    assert manifest["title"] == "Monday film reading"
    from tests.test_teaching_set import page_data

    assert [x["name"] for x in page_data(out / "index.html")["labels"]] == ["Nodule", "Mass"]
    assert (tmp_path / "handout.zip").exists()
    text = dialog.message.text()
    assert "2 case(s), 2 image(s)" in text and "1 image(s) left out" in text and "index.html" in text
    assert dialog.open_page_button.isVisibleTo(dialog) and dialog.show_button.isVisibleTo(dialog)
    opened = []
    from PySide6.QtGui import QDesktopServices

    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True))
    qtbot.mouseClick(dialog.open_page_button, Qt.LeftButton)
    assert [u.toLocalFile() for u in opened] == [str(out / "index.html")]
    for path in out.rglob("*"):
        if path.is_file():
            assert PLANTED["PatientID"].encode() not in path.read_bytes()


def test_cases_are_chosen_with_check_boxes(qtbot, win, tmp_path):  # noqa: F811
    films = phi_folder(tmp_path)
    from desktop.core.store import open_store

    with open_store(films) as store:
        book = CaseBook(store)
        ids = {r.rel_path: r.id for r in store.images()}
        first = book.create([next(i for r, i in ids.items() if r.endswith(".png"))], title="Chest film",
                            diagnosis="Normal")
        book.create([next(i for r, i in ids.items() if r.endswith("_CT.dcm"))], title="CT nodule",
                    diagnosis="Granuloma")
    dialog = _teaching(qtbot, win, films)
    cases = dialog.teaching.cases
    assert [cases.item(i).text() for i in range(cases.count())] == ["Chest film (1 image)", "CT nodule (1 image)"]
    assert dialog.teaching.cases_label.text() == "Cases: 2 of 2 chosen"
    assert "No image says it has burned-in text" in dialog.teaching.burned_label.text()  # no case holds the US
    qtbot.mouseClick(dialog.teaching.none_button, Qt.LeftButton)
    dialog.out_edit.setText(str(tmp_path / "set"))
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    assert dialog.message.text() == "Tick at least one case to export." and dialog.job is None
    cases.item(0).setCheckState(Qt.CheckState.Checked)
    assert dialog.teaching.cases_label.text() == "Cases: 1 of 2 chosen"
    dialog.teaching.quiz.setChecked(False)
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    _wait(qtbot, dialog.job)
    manifest = json.loads((tmp_path / "set" / "manifest.json").read_text(encoding="utf-8"))
    assert [c["case_id"] for c in manifest["cases"]] == [first]
    assert "1 case(s), 1 image(s)" in dialog.message.text()


def test_a_folder_that_is_not_empty_is_refused_with_the_reason(qtbot, win, tmp_path):  # noqa: F811
    dialog = _teaching(qtbot, win, phi_folder(tmp_path))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("keep me")
    dialog.out_edit.setText(str(busy))
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    _wait(qtbot, dialog.job)
    assert "the folder is not empty and holds no earlier teaching set" in dialog.message.text()
    assert (busy / "notes.txt").read_text() == "keep me" and dialog.export_button.isEnabled()


def test_the_teaching_menu_opens_the_export_on_the_teaching_set(qtbot, win, tmp_path):  # noqa: F811
    from desktop.ui.teaching import install

    if getattr(win, "teaching", None) is None:  # the fixture installs the editor and dialogs only
        install(win)
    open_folder(qtbot, win, phi_folder(tmp_path))
    texts = [a.text() for a in win.menu("Teaching").actions()]
    assert "&Export Teaching Set…" in texts
    win.teaching.actions["export"].trigger()
    dialog = _dialog(win, "export")
    assert dialog.fmt() == "teaching" and dialog.teaching.isVisibleTo(dialog)
    _wait(qtbot, dialog.teaching.scan_job)
