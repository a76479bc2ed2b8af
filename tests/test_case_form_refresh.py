"""A teaching case edited in another Loupe window on the same folder (its own store connection):
the refresh shows the new text without an undo step of its own, the typing run in this window goes
on as one step, and a focused field keeps its cursor (decision 0154)."""

from __future__ import annotations

from desktop.core.store import open_store
from desktop.core.teaching import CaseBook
from tests.teaching_window_helpers import folder_with_cases, make_teaching_window


def edit_elsewhere(folder, case_id, field, value) -> None:
    other = open_store(folder)  # another window: its own connection to the folder's store
    try:
        CaseBook(other).update(case_id, field, value)
    finally:
        other.close()


def cursor_of(editor) -> int:
    return editor.textCursor().position()


def put_cursor(editor, position: int) -> None:
    cursor = editor.textCursor()
    cursor.setPosition(position)
    editor.setTextCursor(cursor)


def test_a_field_changed_in_another_window_is_shown_without_an_undo_step(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    panel, stack = win.teaching, win.box_editor.undo_stack
    panel.select_case(c1)
    form = panel.form
    findings = form.editors["findings"]
    findings.setFocus()
    put_cursor(findings, len("Two nodules"))
    qtbot.keyClicks(findings, " in the left lung")
    steps = stack.count()
    assert stack.undoText() == "Edit case findings"
    put_cursor(findings, 3)

    edit_elsewhere(folder, c1, "title", "Retitled in the other window")
    qtbot.waitUntil(lambda: form.text_of("title") == "Retitled in the other window", timeout=5000)
    assert stack.count() == steps and stack.undoText() == "Edit case findings"  # the refresh is no step
    assert findings.hasFocus() and cursor_of(findings) == 3  # text unchanged: the cursor stays

    qtbot.keyClicks(findings, "!")
    assert findings.toPlainText() == "Two! nodules in the left lung"
    assert stack.count() == steps  # still the same typing run: one step
    stack.undo()
    assert findings.toPlainText() == "Two nodules" and panel.book.case(c1).findings == "Two nodules"
    assert form.text_of("title") == "Retitled in the other window"  # the other window's edit is not undone here


def test_the_focused_field_changed_in_another_window_shows_the_new_text_and_undoes_to_it(qtbot, tmp_path,
                                                                                         monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    panel, stack = win.teaching, win.box_editor.undo_stack
    panel.select_case(c1)
    findings = panel.form.editors["findings"]
    findings.setFocus()
    put_cursor(findings, len("Two nodules"))
    qtbot.keyClicks(findings, ", round")
    steps = stack.count()
    put_cursor(findings, 5)

    edit_elsewhere(folder, c1, "findings", "Three nodules")
    qtbot.waitUntil(lambda: findings.toPlainText() == "Three nodules", timeout=5000)
    assert stack.count() == steps
    assert findings.hasFocus() and cursor_of(findings) == 5  # where it was (the text is long enough)

    qtbot.keyClicks(findings, "X")
    assert findings.toPlainText() == "ThreeX nodules"
    assert stack.count() == steps + 1  # not merged into the typing before the other window's change
    stack.undo()
    assert findings.toPlainText() == "Three nodules" and panel.book.case(c1).findings == "Three nodules"
