"""The Cases dock in the real window: a case made from the image on screen, its fields
edited and undone through Edit ▸ Undo (typing merged into one step), the model caption inserted as
a draft, search by keyword and diagnosis, the keys in the Help sheet, and the empty states."""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import Qt

from desktop.core.teaching import CaseBook
from tests.editor_helpers import image_folder, open_folder
from tests.teaching_window_helpers import folder_with_cases, make_teaching_window


def disk_case(store, case_id):
    conn = sqlite3.connect(store.path)
    try:
        return conn.execute("SELECT title, history, findings, diagnosis, keywords, difficulty, deleted FROM cases "
                            "WHERE id = ?", (case_id,)).fetchone()
    finally:
        conn.close()


def type_into(qtbot, widget, text):
    widget.setFocus()
    qtbot.keyClicks(widget, text)


def test_create_edit_and_undo_a_case(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    panel = win.teaching
    assert "Open a folder" in panel.empty.text() and panel.list_stack.currentWidget() is panel.empty
    editor = open_folder(qtbot, win, image_folder(tmp_path / "f", n=2))
    assert "No teaching cases yet" in panel.empty.text() and "New Case" in panel.empty.text()
    panel.actions["new"].trigger()
    (case,) = panel.book.cases()
    assert case.image_ids == (editor.image_id,) and panel.current_id() == case.id
    form = panel.form
    type_into(qtbot, form.editors["history"], "58M cough")
    type_into(qtbot, form.editors["diagnosis"], "Pneumothorax")
    type_into(qtbot, form.editors["keywords"], "chest, trauma")
    form.difficulty.setCurrentIndex(form.difficulty.findData(4))
    win.canvas.setFocus()
    assert disk_case(editor.store, case.id)[:6] == ("", "58M cough", "", "Pneumothorax", '["chest", "trauma"]', 4)
    stack = editor.undo_stack
    # one step per field: new case, history, diagnosis, keywords, difficulty
    assert stack.count() == 5 and stack.undoText() == "Edit case difficulty"
    undo = editor.actions["undo"]
    undo.trigger()
    assert disk_case(editor.store, case.id)[5] is None and form.difficulty.currentData() is None
    undo.trigger()
    assert stack.undoText() == "Edit case diagnosis"
    assert disk_case(editor.store, case.id)[4] == "[]" and form.text_of("keywords") == ""
    undo.trigger()  # the whole word typed in the diagnosis is one step
    assert disk_case(editor.store, case.id)[3] == "" and form.text_of("diagnosis") == ""
    editor.actions["redo"].trigger()
    assert disk_case(editor.store, case.id)[3] == "Pneumothorax" and form.text_of("diagnosis") == "Pneumothorax"
    assert panel.list_model.index(0).data() == "Pneumothorax"  # the list names the case by its diagnosis
    undo.trigger()
    undo.trigger()
    undo.trigger()  # the case itself
    assert panel.book.cases() == [] and disk_case(editor.store, case.id)[6] == 1
    editor.actions["redo"].trigger()
    assert [c.id for c in panel.book.cases()] == [case.id] and panel.current_id() == case.id


def test_ctrl_z_in_a_field_undoes_through_the_folders_undo_stack(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    editor = open_folder(qtbot, win, image_folder(tmp_path / "f", n=1))
    panel = win.teaching
    panel.new_case()
    findings = panel.form.editors["findings"]
    type_into(qtbot, findings, "Left effusion")
    qtbot.keyClick(findings, Qt.Key_Z, Qt.ControlModifier)
    assert findings.toPlainText() == "" and panel.book.case(panel.current_id()).findings == ""
    assert editor.undo_stack.undoText() == "New case"
    qtbot.keyClick(findings, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert findings.toPlainText() == "Left effusion"
    # typing again after an undo starts a new step, it does not join the undone one
    qtbot.keyClick(findings, Qt.Key_Z, Qt.ControlModifier)
    type_into(qtbot, findings, "Right")
    qtbot.keyClick(findings, Qt.Key_Z, Qt.ControlModifier)
    assert findings.toPlainText() == "" and panel.book.case(panel.current_id()).findings == ""


def test_model_caption_goes_into_findings_as_one_undoable_draft(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    editor = open_folder(qtbot, win, image_folder(tmp_path / "f", n=1))
    panel = win.teaching
    panel.new_case()
    panel.form.caption_button.click()
    assert "No model caption for this case's images yet" in win.notifications.history[-1][1]
    assert panel.book.case(panel.current_id()).findings == ""
    editor.store.set_caption(editor.image_id, "cardiomegaly with small left effusion")
    type_into(qtbot, panel.form.editors["findings"], "Enlarged heart.")
    panel.form.caption_button.click()
    case_id = panel.current_id()
    assert panel.book.case(case_id).findings == "Enlarged heart.\n\ncardiomegaly with small left effusion"
    assert panel.form.editors["findings"].textCursor().selectedText() == "cardiomegaly with small left effusion"
    assert editor.undo_stack.undoText() == "Insert model caption into findings"
    editor.actions["undo"].trigger()
    assert panel.book.case(case_id).findings == "Enlarged heart."


def test_search_finds_by_keyword_and_by_diagnosis(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    panel = win.teaching
    assert panel.count.text() == "2 cases"
    panel.search.setText("oncology")
    panel.refresh_list()  # what the pause in typing does
    assert panel.visible_ids() == [c1] and panel.count.text() == "1 of 2 cases"
    panel.scope.setCurrentIndex(2)  # Diagnosis
    panel.search.setText("pneumonia")
    panel.refresh_list()
    assert panel.visible_ids() == [c2]
    panel.search.setText("oncology")  # a keyword, not a diagnosis
    panel.refresh_list()
    assert panel.visible_ids() == [] and "No case matches" in panel.empty.text()
    panel.scope.setCurrentIndex(1)  # Keywords
    panel.search.setText("chest")
    panel.refresh_list()
    assert sorted(panel.visible_ids()) == [c1, c2]
    # choosing a case shows its film
    panel.list.setCurrentIndex(panel.list_model.index(panel.visible_ids().index(c2)))
    assert win.current_path().endswith("img_1.png")


def test_case_list_follows_the_viewer(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    win.show_image(str(folder / "img_1.png"))
    assert win.teaching.current_id() == c2
    win.show_image(str(folder / "img_2.png"))  # no case: the selection stays
    assert win.teaching.current_id() == c2


def test_a_patients_images_make_one_case(qtbot, tmp_path, monkeypatch):
    from PIL import Image

    folder = tmp_path / "nih"
    folder.mkdir()
    for name in ("00000001_001.png", "00000001_000.png", "00000002_000.png"):
        Image.new("L", (64, 64), 128).save(folder / name)
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    editor = open_folder(qtbot, win, folder)
    qtbot.waitUntil(lambda: len(win.image_paths()) == 3)
    win.show_image(str(folder / "00000001_001.png"))
    win.teaching.actions["new_patient"].trigger()
    (case,) = win.teaching.book.cases()
    names = [p.name for p in win.teaching.book.image_paths(case.id)]
    assert names == ["00000001_000.png", "00000001_001.png"]
    assert "2 images" in win.teaching.form.images.text()
    assert editor.undo_stack.undoText() == "New case from 2 images"


def test_teaching_keys_are_in_the_help_sheet_and_clash_with_nothing(qtbot, tmp_path, monkeypatch):
    from desktop.ui.viewer.help_dialogs import shortcut_rows

    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    rows = shortcut_rows(win)
    assert ("Present Cases", "F5", "Teaching") in rows
    assert ("New Case from This Image", "Ctrl+Shift+N", "Teaching") in rows
    assert any(r[2] == "Quiz window" and r[0] == "Submit the answer / next case" for r in rows)
    assert any(r[2] == "Presentation mode" and "Esc" in r[1] for r in rows)
    main_keys = [k.strip() for r in rows if r[2] not in ("Quiz window", "Presentation mode") for k in r[1].split(",")]
    for key in ("F5", "Ctrl+Shift+N", "Ctrl+Shift+F"):
        assert main_keys.count(key) == 1, key


def test_read_only_case_text_cannot_be_edited(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    store.writer.read_only = "read-only for the test"
    store.read_only = True
    panel = win.teaching
    panel.refresh_list()
    assert panel.form.editors["findings"].isReadOnly() and not panel.new_button.isEnabled()
    panel.new_case()
    assert len(CaseBook(store).cases()) == 2


def test_a_refresh_from_another_window_does_not_move_the_viewer(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    win.teaching.select_case(c1)
    win.show_image(str(folder / "img_2.png"))  # a film with no case: the selection stays on c1
    assert win.teaching.current_id() == c1
    win.teaching.book.update(c1, "findings", "Edited in another window")
    win.box_editor.refresh_from_disk()
    assert win.current_path().endswith("img_2.png")
    assert win.teaching.form.text_of("findings") == "Edited in another window"


def test_films_are_added_to_and_removed_from_a_case_with_undo(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    panel, stack = win.teaching, win.box_editor.undo_stack
    panel.select_case(c1)
    win.show_image(str(folder / "img_2.png"))
    panel.form.add_image_button.click()
    third = store.image_id("img_2.png")
    assert panel.book.case(c1).image_ids == (a, third) and "2 images" in panel.form.images.text()
    assert stack.undoText() == "Add img_2.png to the case"
    assert panel.list_model.index(panel.list_model.row_of(c1)).data() == "Metastases  ·  2 images"
    panel.form.remove_image_button.click()
    assert panel.book.case(c1).image_ids == (a,)
    panel.form.remove_image_button.click()  # not in the case any more
    assert "is not in this case" in win.notifications.history[-1][1]
    stack.undo()
    assert panel.book.case(c1).image_ids == (a, third)
    win.show_image(str(folder / "img_0.png"))
    stack.undo()
    stack.undo()
    assert panel.book.case(c1).image_ids == (a,)
    win.show_image(str(folder / "img_0.png"))
    panel.remove_shown_image()  # the last film stays
    assert "at least one film" in win.notifications.history[-1][1] and panel.book.case(c1).image_ids == (a,)
