"""A quiz learner's marks stay inside the film as a box editor box does (decision 0153): drawn, moved
or resized past any edge they stop at it with their size kept (a move) or cut at the edge (a draw,
a resize); marks stored by an older Loupe past an edge come back cut to the film."""

from __future__ import annotations

import sqlite3

import pytest

from desktop.core.teaching import Mark, QuizBook, score_case
from desktop.ui.teaching import start_quiz
from tests.editor_helpers import drag_scene
from tests.teaching_window_helpers import folder_with_cases, make_teaching_window, plan

W, H = 200, 160  # the films of folder_with_cases


def quiz_on_first_case(qtbot, tmp_path, monkeypatch):
    win = make_teaching_window(qtbot, tmp_path, monkeypatch)
    folder, store, c1, c2, a, b = folder_with_cases(qtbot, win, tmp_path)
    quiz = start_quiz(win, plan("Ivy", [c1]))
    qtbot.addWidget(quiz)
    qtbot.waitExposed(quiz)
    quiz._forced = True  # marks left unsubmitted at the end: closing asks nothing
    assert quiz.view.image_size() == (W, H)
    return quiz, store, c1, a


def only_mark(quiz):
    (mark,) = quiz.all_marks()
    return mark.x, mark.y, mark.w, mark.h


# a mark (80, 60, 40, 40) dragged by its inside far past one edge: it stops at that edge, same size
MOVES = {"left": ((-400, 0), (0, 60)), "right": ((400, 0), (W - 40, 60)),
         "top": ((0, -400), (80, 0)), "bottom": ((0, 400), (80, H - 40))}


@pytest.mark.parametrize("edge", sorted(MOVES))
def test_a_mark_moved_past_an_edge_stops_at_it(qtbot, tmp_path, monkeypatch, edge):
    quiz, *_ = quiz_on_first_case(qtbot, tmp_path, monkeypatch)
    drag_scene(quiz.view.canvas, (80, 60), (120, 100))
    assert only_mark(quiz) == pytest.approx((80, 60, 40, 40), abs=1.0)
    x, y, w, h = only_mark(quiz)
    (dx, dy), (ex, ey) = MOVES[edge]
    drag_scene(quiz.view.canvas, (100, 80), (100 + dx, 80 + dy), steps=8)  # grabbed by its inside
    mx, my, mw, mh = only_mark(quiz)
    assert (mw, mh) == pytest.approx((w, h), abs=0.01)  # a move keeps the size
    assert 0 <= mx and mx + mw <= W + 1e-6 and 0 <= my and my + mh <= H + 1e-6
    assert (mx, my) == pytest.approx((ex if dx else x, ey if dy else y), abs=1.0)
    quiz.submit()  # what is saved is what is shown: inside the film
    (saved,) = [m for m, _iou in quiz.quiz.marks(quiz.quiz.answers("Ivy")[0].id)]
    assert (saved.x, saved.y, saved.w, saved.h) == pytest.approx((mx, my, mw, mh))


# the handle of the edge (or corner) dragged far outside: that side stops at the film's edge
RESIZES = {"w": ((80, 80), (-300, 80), (0, 60, 120, 40)), "e": ((120, 80), (500, 80), (80, 60, W - 80, 40)),
           "n": ((100, 60), (100, -300), (80, 0, 40, 100)), "s": ((100, 100), (100, 500), (80, 60, 40, H - 60)),
           "nw": ((80, 60), (-300, -300), (0, 0, 120, 100)), "se": ((120, 100), (500, 500), (80, 60, W - 80, H - 60))}


@pytest.mark.parametrize("handle", sorted(RESIZES))
def test_a_mark_resized_past_an_edge_stops_at_it(qtbot, tmp_path, monkeypatch, handle):
    quiz, *_ = quiz_on_first_case(qtbot, tmp_path, monkeypatch)
    drag_scene(quiz.view.canvas, (80, 60), (120, 100))
    start, end, expected = RESIZES[handle]
    drag_scene(quiz.view.canvas, start, end, steps=8)
    assert only_mark(quiz) == pytest.approx(expected, abs=1.0)


def test_a_mark_drawn_past_the_edges_is_cut_at_them(qtbot, tmp_path, monkeypatch):
    quiz, *_ = quiz_on_first_case(qtbot, tmp_path, monkeypatch)
    drag_scene(quiz.view.canvas, (150, 120), (420, 390))
    assert only_mark(quiz) == pytest.approx((150, 120, W - 150, H - 120), abs=1.0)
    quiz.view.remove_last_mark()
    drag_scene(quiz.view.canvas, (-50, -30), (30, 20))
    assert only_mark(quiz) == pytest.approx((0, 0, 30, 20), abs=1.0)


def test_a_mark_put_back_past_an_edge_is_cut_to_the_film(qtbot, tmp_path, monkeypatch):
    quiz, *_ = quiz_on_first_case(qtbot, tmp_path, monkeypatch)
    quiz.view.add_mark((170, -20, 60, 50), "Nodule")  # as kept by an older window, per image
    assert only_mark(quiz) == pytest.approx((170, 0, 30, 30))


def test_stored_marks_past_the_edge_load_cut_to_the_film(qtbot, tmp_path, monkeypatch):
    """An answer saved before marks were kept inside (its rows written as an older Loupe did)."""
    quiz, store, c1, a = quiz_on_first_case(qtbot, tmp_path, monkeypatch)
    book = QuizBook(store)
    session = book.start("Old", [c1], ["Nodule"])
    marks = [Mark("Nodule", 180, -20, 60, 50, a), Mark("Nodule", -10, 150, 30, 30, a), Mark("Nodule", 20, 20, 40, 40, a)]
    expert = quiz.book.expert_marks(c1)
    book.save_answer(session, c1, score_case(expert, marks, "Metastases", "Metastases"), marks)
    answer = book.answers("Old")[0].id
    rows = sqlite3.connect(store.path).execute("SELECT x, y, w, h FROM quiz_marks WHERE answer_id = ? ORDER BY rowid",
                                               (answer,)).fetchall()
    assert rows[0] == (180, -20, 60, 50)  # on disk as it was saved
    loaded = [(m.x, m.y, m.w, m.h) for m, _iou in book.marks(answer)]
    # the part of each mark inside the 200 x 160 film
    assert loaded == [(180, 0, 20, 30), (0, 150, 20, 10), (20, 20, 40, 40)]
