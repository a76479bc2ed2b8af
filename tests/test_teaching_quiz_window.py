"""The quiz and presentation windows on real films: the quiz hides the expert boxes and the case
text, the learner draws marks and submits, the score shown is the one worked out by hand, the
answer is saved under the learner's name (never as the folder's boxes) and exported as CSV;
presentation mode reveals boxes, labels and text step by step and leaves with Esc."""

from __future__ import annotations

import csv
import sqlite3

import pytest
from PySide6.QtWidgets import QLabel

from desktop.ui.teaching import start_presentation, start_quiz
from tests.editor_helpers import drag_scene
from tests.teaching_window_helpers import folder_with_cases, make_teaching_window, plan


def hand_iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    return iw * ih / (aw * ah + bw * bh - iw * ih)


def visible_text(widget) -> str:
    return "\n".join(lab.text() for lab in widget.findChildren(QLabel) if lab.isVisibleTo(widget))


def test_quiz_hides_then_reveals_and_scores_the_learners_marks(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    boxes_before = sqlite3.connect(store.path).execute("SELECT COUNT(*) FROM boxes").fetchone()[0]
    quiz = start_quiz(win, plan("Ana", [c1, c2]))
    qtbot.addWidget(quiz)
    qtbot.waitExposed(quiz)
    # the film without boxes, labels, findings or diagnosis; the history is given
    assert quiz.view.image is not None and quiz.view.path.endswith("img_0.png")
    assert quiz.view.expert.childItems() == [] and quiz.view.mark_items() == []
    text = visible_text(quiz)
    assert "62F, smoker" in text
    for hidden in ("Two nodules", "Metastases", "Granulomas", "oncology"):
        assert hidden not in text
    assert quiz.diagnosis.currentText() == ""
    assert sorted(quiz.diagnosis.itemText(i) for i in range(quiz.diagnosis.count())) == ["Metastases",
                                                                                        "Round pneumonia"]
    # the learner: a Nodule over the first expert nodule, a Mass where there is none
    drag_scene(quiz.view.canvas, (22, 20), (62, 60))
    quiz.label_pick.setCurrentIndex(1)  # Mass
    drag_scene(quiz.view.canvas, (150, 10), (190, 40))
    assert [m.label for m in quiz.all_marks()] == ["Nodule", "Mass"]
    assert "2 marks" in quiz.mark_count.text()
    quiz.diagnosis.setEditText("  metastases ")
    quiz.submit_action.trigger()

    conn = sqlite3.connect(store.path)
    marks = conn.execute("SELECT label, x, y, w, h, matched_iou FROM quiz_marks ORDER BY rowid").fetchall()
    nodule = marks[0][1:5]
    expected_iou = hand_iou((20, 20, 40, 40), nodule)
    assert expected_iou > 0.85 and marks[0][5] == pytest.approx(expected_iou) and marks[1][5] is None
    row = conn.execute("SELECT s.learner, a.case_id, a.hits, a.misses, a.false_marks, a.mean_iou, a.diagnosis_correct "
                       "FROM quiz_answers a JOIN quiz_sessions s ON s.id = a.session_id").fetchone()
    assert row[:5] == ("Ana", c1, 1, 1, 1) and row[5] == pytest.approx(expected_iou) and row[6] == 1
    assert conn.execute("SELECT COUNT(*) FROM boxes").fetchone()[0] == boxes_before  # never the folder's boxes
    conn.close()
    shown = quiz.result.text()
    assert "1 of 2</b> findings found" in shown and "1 missed" in shown and "1 false mark" in shown
    assert f"{expected_iou:.2f}" in shown and "right" in shown
    # revealed: the expert boxes over the learner's marks, and the case text
    tags = sorted(o.tag.text for o in quiz.view.expert.childItems() if o.tag is not None)
    assert tags == ["Nodule", "Nodule: missed"]
    assert any("false mark" in (o.tag.text if o.tag else "") for o in quiz.view.marks.childItems())
    assert "Two nodules" in visible_text(quiz) and "Granulomas" in visible_text(quiz)

    quiz.next_action.trigger()  # case 2: nothing of case 1 left
    assert quiz.view.path.endswith("img_1.png") and quiz.view.expert.childItems() == []
    assert "Two nodules" not in visible_text(quiz) and "40M, fever" in visible_text(quiz)
    quiz.submit_action.trigger()  # an empty answer: the Mass is missed, the diagnosis wrong
    assert "0 of 1</b> finding found" in quiz.result.text() and "wrong" in quiz.result.text()
    with qtbot.waitSignal(quiz.finished, timeout=2000):
        quiz.submit_action.trigger()
    summary = quiz.history.text()
    assert "Findings found: <b>1 of 3</b>" in summary and "Diagnoses right: <b>1 of 2</b>" in summary
    assert "1 of 2 found, 1 false" in summary and "0 of 1 found&nbsp;&nbsp;</td><td>diagnosis wrong" in summary

    # results: saved per learner, summary, CSV read back by the csv module
    from desktop.ui.teaching import show_results

    dialog = show_results(win)
    qtbot.addWidget(dialog)
    assert dialog.case_table.rowCount() == 2 and dialog.label_table.rowCount() == 2
    labels = {dialog.label_table.item(r, 0).text(): dialog.label_table.item(r, 3).text() for r in range(2)}
    assert labels == {"Nodule": "50%", "Mass": "0%"}
    out = tmp_path / "results.csv"
    assert dialog.export_to(str(out)) == 2
    with open(out, newline="", encoding="utf-8-sig") as f:
        rows = {r["case_id"]: r for r in csv.DictReader(f)}
    assert rows[str(c1)]["learner"] == "Ana" and rows[str(c1)]["hits"] == "1" and rows[str(c1)]["false_marks"] == "1"
    assert rows[str(c1)]["mean_iou"] == f"{expected_iou:.4f}" and rows[str(c2)]["diagnosis_correct"] == "no"


def test_marks_are_removed_with_delete_and_kept_per_image(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    quiz = start_quiz(win, plan("Ben", [c1]))
    qtbot.addWidget(quiz)
    drag_scene(quiz.view.canvas, (10, 10), (30, 30))
    drag_scene(quiz.view.canvas, (100, 100), (130, 130))
    quiz.view.mark_items()[0].setSelected(True)
    assert quiz.view.delete_selected_marks() == 1
    assert [round(m.x) for m in quiz.all_marks()] == [100]
    quiz.view.remove_last_mark()
    assert quiz.all_marks() == []
    drag_scene(quiz.view.canvas, (10, 10), (11, 11))  # a click is not a mark
    assert quiz.all_marks() == []


def test_presentation_reveals_boxes_then_labels_then_text(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    win.teaching.select_case(c1)
    show = start_presentation(win)
    qtbot.addWidget(show)
    qtbot.waitExposed(show)
    assert show.isFullScreen() and show.palette().window().color().name() == "#000000"
    assert show.view.canvas.backgroundBrush().color().name() == "#000000"
    assert show.view.path.endswith("img_0.png") and show.view.expert.childItems() == []
    assert not show.text_area.isVisible() and "62F, smoker" in show.caption.text()
    show.forward.trigger()  # boxes
    outlines = show.view.expert.childItems()
    assert len(outlines) == 2 and all(o.tag is None for o in outlines)
    show.forward.trigger()  # labels
    assert [o.tag.text for o in show.view.expert.childItems()] == ["Nodule", "Nodule"]
    assert not show.text_area.isVisible()
    show.forward.trigger()  # text
    assert show.text_area.isVisible() and "Two nodules" in show.text.text() and "Metastases" in show.text.text()
    show.forward.trigger()  # the next case, from its film
    assert show.view.path.endswith("img_1.png") and show.view.expert.childItems() == []
    assert not show.text_area.isVisible() and "Case 2 of 2" in show.counter.text()
    show.back.trigger()  # back to case 1, fully revealed
    assert show.view.path.endswith("img_0.png") and show.text_area.isVisible()
    show.leave.trigger()
    assert not show.isVisible()


def test_quiz_setup_needs_a_name_and_offers_the_cases_and_labels(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QDialogButtonBox

    from desktop.ui.teaching.quiz_setup import QuizSetupDialog

    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    panel = win.teaching
    panel.search.setText("oncology")
    panel.refresh_list()
    dialog = QuizSetupDialog(panel)
    qtbot.addWidget(dialog)
    start = dialog.buttons.button(QDialogButtonBox.Ok)
    assert not start.isEnabled() and "learner's name" in dialog.problem.text()
    dialog.learner.setCurrentText("  Cleo  ")
    assert start.isEnabled() and dialog.problem.text() == ""
    assert dialog.chosen_key() == "found" and dialog.plan().case_ids == [c1]
    # the labels of the expert boxes on the chosen cases are ticked; the others are distractors
    assert dialog.plan().labels == ["Nodule"]
    for button in dialog.which.buttons():
        if button.property("key") == "all":
            button.setChecked(True)
    plan = dialog.plan()
    assert plan.learner == "Cleo" and sorted(plan.case_ids) == [c1, c2] and plan.labels == ["Nodule", "Mass"]


def test_a_case_of_two_films_keeps_marks_per_film_and_scores_each(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    both = win.teaching.book.create([a, b], diagnosis="Metastases")
    quiz = start_quiz(win, plan("Dev", [both]))
    qtbot.addWidget(quiz)
    assert quiz.image_row.isVisibleTo(quiz) and quiz.image_label.text() == "Image 1 of 2"
    drag_scene(quiz.view.canvas, (20, 20), (60, 60))          # image a: the first nodule
    quiz.show_image(1)
    assert quiz.view.path.endswith("img_1.png") and quiz.view.mark_items() == []
    quiz.label_pick.setCurrentIndex(1)
    drag_scene(quiz.view.canvas, (20, 20), (60, 60))          # image b: a Mass, but not where it is
    quiz.show_image(0)
    assert len(quiz.view.mark_items()) == 1                   # image a's mark is back
    assert sorted((m.image, m.label) for m in quiz.all_marks()) == [(a, "Nodule"), (b, "Mass")]
    quiz.submit()
    score = quiz.scores[both]
    # a: 1 of 2 nodules; b: the Mass (50,50,60,60) against (20,20,40,40): overlap 10x10 -> no hit
    assert (score.hits, score.misses, score.false_marks) == (1, 2, 1)
    quiz.show_image(1)  # the reveal follows to the other film
    assert sorted(o.tag.text for o in quiz.view.expert.childItems()) == ["Mass: missed"]


def test_quiz_film_uses_the_window_the_educator_set(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    win.show_image(str(folder / "img_0.png"))
    win.wl.set_window((100.0, 50.0))
    quiz = start_quiz(win, plan("Eve", [c1]))
    qtbot.addWidget(quiz)
    assert (quiz.view.wl.effective().center, quiz.view.wl.effective().width) == (100.0, 50.0)


def test_opening_another_folder_closes_the_quiz_and_the_presentation(qtbot, tmp_path, monkeypatch):
    from tests.editor_helpers import image_folder, open_folder

    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    quiz = start_quiz(win, plan("Fay", [c1]))
    qtbot.addWidget(quiz)
    drag_scene(quiz.view.canvas, (20, 20), (60, 60))  # marks not submitted: no question is asked
    show = start_presentation(win, full_screen=False)
    qtbot.addWidget(show)
    open_folder(qtbot, win, image_folder(tmp_path / "other", n=1))
    assert not quiz.isVisible() and not show.isVisible()
    assert win.teaching.book.count() == 0 and "No teaching cases yet" in win.teaching.empty.text()


def test_a_quiz_on_a_read_only_folder_says_why_it_cannot_start(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    store.writer.read_only = f"{store.path} is read-only: edits cannot be saved there, and nothing was changed"
    assert start_quiz(win, plan("Gus", [c1])) is None
    level, text, details = win.notifications.history[-1]
    assert (level, text) == ("error", "The quiz could not start") and "read-only" in details


def test_real_keys_drive_the_presentation_and_the_quiz(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    win.teaching.select_case(c1)
    show = start_presentation(win, full_screen=False)
    qtbot.addWidget(show)
    qtbot.waitExposed(show)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is show)
    qtbot.keyClick(show, Qt.Key_Space)
    assert show.step == 1
    qtbot.keyClick(show, Qt.Key_PageDown)  # a presenter's clicker
    assert show.step == 2
    qtbot.keyClick(show, Qt.Key_Left)
    assert show.step == 1
    qtbot.keyClick(show, Qt.Key_N)
    assert (show.index, show.step) == (1, 0)
    qtbot.keyClick(show, Qt.Key_B)  # a black screen, and back
    assert not show.view.isVisible() and not show.caption.isVisible()
    qtbot.keyClick(show, Qt.Key_B)
    assert show.view.isVisible()
    qtbot.keyClick(show, Qt.Key_Escape)
    assert not show.isVisible()

    quiz = start_quiz(win, plan("Hal", [c1, c2]))
    qtbot.addWidget(quiz)
    qtbot.waitExposed(quiz)
    quiz.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is quiz)
    quiz.view.canvas.setFocus()
    qtbot.keyClick(quiz.view.canvas, Qt.Key_2)
    assert quiz.view.current_label == "Mass"
    drag_scene(quiz.view.canvas, (10, 10), (40, 40))
    quiz.view.mark_items()[0].setSelected(True)
    qtbot.keyClick(quiz.view.canvas, Qt.Key_Delete)
    assert quiz.all_marks() == []
    qtbot.keyClick(quiz.view.canvas, Qt.Key_Return, Qt.ControlModifier)
    assert quiz.submitted and quiz.index == 0
    qtbot.keyClick(quiz.view.canvas, Qt.Key_N)
    assert quiz.index == 1 and not quiz.submitted
    # typing a diagnosis: its letters and digits are text, not the quiz's keys
    quiz.diagnosis.setFocus()
    qtbot.keyClicks(quiz.diagnosis.lineEdit(), "n2")
    assert quiz.diagnosis.currentText() == "n2" and quiz.index == 1 and quiz.view.current_label == "Mass"


def test_a_mark_is_resized_by_its_corner_and_moved_by_its_inside(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    quiz = start_quiz(win, plan("Ivy", [c1]))
    qtbot.addWidget(quiz)
    qtbot.waitExposed(quiz)
    drag_scene(quiz.view.canvas, (20, 20), (50, 50))
    (mark,) = quiz.all_marks()
    drag_scene(quiz.view.canvas, (mark.x + mark.w, mark.y + mark.h), (60, 60))  # the south-east corner
    (resized,) = quiz.all_marks()
    assert (round(resized.x), round(resized.y)) == (round(mark.x), round(mark.y))
    assert abs(resized.x + resized.w - 60) < 1.5 and abs(resized.y + resized.h - 60) < 1.5
    drag_scene(quiz.view.canvas, (40, 40), (50, 45))  # inside: moves it by (10, 5)
    (moved,) = quiz.all_marks()
    assert abs(moved.x - resized.x - 10) < 1.5 and abs(moved.y - resized.y - 5) < 1.5
    assert abs(moved.w - resized.w) < 0.01
    quiz.submit()  # the resized and moved mark is what is scored and saved
    (saved,) = [m for m, _iou in quiz.quiz.marks(quiz.quiz.answers("Ivy")[0].id)]
    assert (saved.x, saved.y, saved.w, saved.h) == pytest.approx((moved.x, moved.y, moved.w, moved.h))


def test_presentation_names_films_with_burned_in_text_before_projecting(qtbot, tmp_path, monkeypatch):
    from tests.editor_helpers import open_folder
    from tests.teaching_helpers import us_film

    folder = tmp_path / "us"
    folder.mkdir()
    us_film(folder / "echo.dcm")
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    open_folder(qtbot, win, folder)
    win.teaching.new_case()
    asked = []
    refuse = start_presentation(win, full_screen=False, ask=lambda text, details: asked.append((text, details)))
    assert refuse is None and getattr(win, "presentation", None) is None
    text, details = asked[0]
    assert "1 film of these cases may show the patient's name" in text and details.startswith("echo.dcm: modality US")
    show = start_presentation(win, full_screen=False, ask=lambda text, details: True)
    qtbot.addWidget(show)
    assert show.isVisible() and "may show the patient's name" in show.counter.text()
    from tests.teaching_helpers import PLANTED

    show.next_step(), show.next_step(), show.next_step()
    shown = visible_text(show) + show.windowTitle()
    assert not [v for v in PLANTED.values() if v in shown]  # no patient data on the wall


def test_the_quiz_covers_the_screen_so_the_answers_behind_it_stay_hidden(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    quiz = start_quiz(win, plan("Jo", [c1]))
    qtbot.addWidget(quiz)
    qtbot.waitExposed(quiz)
    available = win.screen().availableGeometry()
    assert quiz.geometry().contains(win.geometry().intersected(available))


def test_results_dialog_deletes_the_selected_learner_after_asking(qtbot, tmp_path, monkeypatch):
    from desktop.core.teaching import QuizBook, score_case
    from desktop.ui.teaching import show_results

    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    quiz = QuizBook(store)
    for name in ("Ana", "Test"):
        session = quiz.start(name, [c1], ["Nodule"])
        quiz.save_answer(session, c1, score_case(win.teaching.book.expert_marks(c1), [], "Metastases", ""), [])
    dialog = show_results(win)
    qtbot.addWidget(dialog)
    dialog.tabs.setCurrentWidget(dialog.learner_table)
    assert not dialog.delete_button.isEnabled()  # nobody selected
    row = [dialog.learner_table.item(r, 0).text() for r in range(2)].index("Test")
    dialog.learner_table.selectRow(row)
    assert dialog.delete_button.isEnabled()
    asked = []
    assert dialog.delete_learner(confirm=lambda text: asked.append(text) or False) is None
    assert "Delete every quiz result of Test (1 answer)" in asked[0] and len(quiz.learners()) == 2
    assert dialog.delete_learner(confirm=lambda text: True) == 1
    assert quiz.learners() == ["Ana"] and dialog.learner_table.rowCount() == 1
