"""Quiz answers in the store (never as the folder's boxes), diagnosis choices, the results CSV read
back with Python's csv module, and the per-case and per-label summary across learners."""

from __future__ import annotations

import csv
import json

import pytest

from desktop.core.store import StoreError, open_store
from desktop.core.teaching import CaseBook, Mark, QuizBook, diagnosis_choices, quiz_order, score_case
from desktop.core.teaching.results import COLUMNS, summarise, write_results_csv


@pytest.fixture
def folder(tmp_path):
    s = open_store(tmp_path)
    a = s.ensure_image("a.png", 200, 200)
    b = s.ensure_image("b.png", 200, 200)
    s.add_box(a, "Nodule", 10, 10, 20, 20)
    s.add_box(a, "Mass", 100, 100, 40, 40)
    s.add_box(b, "Nodule", 50, 50, 20, 20)
    book = CaseBook(s)
    c1 = book.create([a], title="=cmd|' /C calc'!A0", diagnosis="Metastases")
    c2 = book.create([b], diagnosis="Granuloma")
    yield s, book, c1, c2, a, b
    s.close()


def answer(s, book, quiz, session, case_id, marks, given):
    case = book.case(case_id)
    score = score_case(book.expert_marks(case_id), marks, case.diagnosis, given)
    quiz.save_answer(session, case_id, score, marks, seconds=12.5)
    return score


def test_answers_are_kept_per_learner_and_never_as_boxes(folder):
    s, book, c1, c2, a, b = folder
    boxes_before = s.box_count(include_deleted=True)
    quiz = QuizBook(s)
    session = quiz.start("  Ana   Lima ", [c1, c2], ["Nodule", "Mass"])
    marks = [Mark("Nodule", 10, 10, 20, 20, a), Mark("Mass", 0, 0, 5, 5, a)]
    score = answer(s, book, quiz, session, c1, marks, "metastases")
    assert (score.hits, score.misses, score.false_marks) == (1, 1, 1)
    assert s.box_count(include_deleted=True) == boxes_before
    (kept,) = quiz.answers("Ana Lima")
    assert (kept.hits, kept.misses, kept.false_marks, kept.diagnosis_correct) == (1, 1, 1, True)
    assert kept.per_label["Mass"] == {"expert": 1, "learner": 1, "hits": 0, "misses": 1, "false_marks": 1,
                                      "iou_sum": 0.0}
    stored = quiz.marks(kept.id)
    assert [(m.label, m.x, iou) for m, iou in stored] == [("Nodule", 10, 1.0), ("Mass", 0, None)]
    with pytest.raises(StoreError, match="learner's name"):
        quiz.start("   ", [c1], [])


def test_csv_has_one_row_per_learner_and_case_and_a_second_tool_reads_it(folder, tmp_path):
    s, book, c1, c2, a, b = folder
    quiz = QuizBook(s)
    ana = quiz.start("Ana", [c1, c2], ["Nodule", "Mass"])
    answer(s, book, quiz, ana, c1, [Mark("Nodule", 12, 10, 20, 20, a)], "Lymphoma")     # IoU 360/440
    answer(s, book, quiz, ana, c2, [], "granuloma")
    ben = quiz.start("Ben", [c1], ["Nodule", "Mass"])
    answer(s, book, quiz, ben, c1, [], "")
    again = quiz.start("Ben", [c1], ["Nodule", "Mass"])                                  # a second attempt
    answer(s, book, quiz, again, c1, [Mark("Mass", 100, 100, 40, 40, a), Mark("Nodule", 10, 10, 20, 20, a)],
           "Metastases")
    out = tmp_path / "results.csv"
    assert write_results_csv(s, out) == 3
    with open(out, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == COLUMNS
    by = {(r["learner"], r["case_id"]): r for r in rows}
    ana1 = by[("Ana", str(c1))]
    assert (ana1["hits"], ana1["misses"], ana1["false_marks"], ana1["diagnosis_correct"]) == ("1", "1", "0", "no")
    assert ana1["mean_iou"] == f"{360 / 440:.4f}" and ana1["hits_by_label"] == "Mass 0/1; Nodule 1/1"
    assert ana1["case"].startswith("'=")  # a spreadsheet shows the title, it does not run it
    ben1 = by[("Ben", str(c1))]
    assert (ben1["attempts"], ben1["hits"], ben1["mean_iou"], ben1["diagnosis_correct"]) == ("2", "2", "1.0000", "yes")
    assert by[("Ana", str(c2))]["diagnosis_correct"] == "yes" and by[("Ana", str(c2))]["mean_iou"] == ""

    cases, labels = summarise(s)
    first = next(c for c in cases if c.case_id == c1)
    # Ana 1 of 2 boxes, Ben (last attempt) 2 of 2: 3 of 4
    assert (first.learners, first.expert_boxes, first.hits, first.hit_rate) == (2, 4, 3, 0.75)
    assert (first.diagnosis_right, first.diagnosis_scored) == (1, 2)
    nodule = next(lab for lab in labels if lab.label == "Nodule")
    mass = next(lab for lab in labels if lab.label == "Mass")
    # Nodule: Ana c1 1/1, Ana c2 0/1, Ben c1 1/1 -> 2/3; Mass: Ana 0/1, Ben 1/1 -> 1/2
    assert (nodule.expert_boxes, nodule.hits, nodule.hit_rate) == (3, 2, pytest.approx(2 / 3))
    assert (mass.expert_boxes, mass.hits, mass.hit_rate, mass.learners) == (2, 1, 0.5, 2)


def test_csv_to_a_folder_that_cannot_be_written_names_the_file(folder, tmp_path):
    s = folder[0]
    with pytest.raises(StoreError, match="cannot write the quiz results"):
        write_results_csv(s, tmp_path / "no" / "such" / "dir" / "r.csv")


def test_diagnosis_choices_hold_the_answer_and_distinct_distractors():
    choices = diagnosis_choices("Pneumothorax", ["pneumothorax", "Pneumonia", "Effusion", "Effusion", "",
                                                 "Fracture", "Sarcoid", "Lymphoma"], count=4, seed=1)
    assert len(choices) == 4 and "Pneumothorax" in choices
    assert len({c.lower() for c in choices}) == 4
    assert diagnosis_choices("", ["a", "b"]) == []
    assert diagnosis_choices("A", []) == ["A"]


def test_quiz_order_keeps_or_shuffles_each_case_once():
    assert quiz_order([3, 1, 3, 2]) == [3, 1, 2]
    shuffled = quiz_order(range(20), shuffle=True, seed=5)
    assert sorted(shuffled) == list(range(20)) and shuffled != list(range(20))


def test_loupe_cases_lists_searches_and_exports_results(folder, tmp_path, capsys):
    from desktop.cli import main

    s, book, c1, c2, a, b = folder
    book.update(c2, "keywords", ["chest", "infection"])
    s.close()
    assert main(["cases", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split("\t")[0] for ln in lines] == [str(c1), str(c2)]
    assert main(["cases", str(tmp_path), "--search", "infect", "--in", "keywords", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [(c["id"], c["diagnosis"], c["images"]) for c in found] == [(c2, "Granuloma", ["b.png"])]
    assert main(["cases", str(tmp_path), "--results", str(tmp_path / "r.csv")]) == 2
    assert "no quiz has been answered" in capsys.readouterr().err
    assert main(["cases", str(tmp_path), "--search", "x", "--in", "sex"]) == 2
    assert "cannot be searched by 'sex'" in capsys.readouterr().err
    s2 = open_store(tmp_path)
    quiz = QuizBook(s2)
    session = quiz.start("Ana", [c1], ["Nodule"])
    answer(s2, CaseBook(s2), quiz, session, c1, [Mark("Nodule", 10, 10, 20, 20, a)], "Metastases")
    s2.close()
    assert main(["cases", str(tmp_path), "--results", str(tmp_path / "r.csv")]) == 0
    err = capsys.readouterr().err
    assert "wrote 1 result row(s)" in err and "findings found 1/2 (50%)" in err and "finding Mass: found 0/1" in err
    with open(tmp_path / "r.csv", newline="", encoding="utf-8-sig") as f:
        (row,) = list(csv.DictReader(f))
    assert (row["learner"], row["hits"], row["misses"], row["diagnosis_correct"]) == ("Ana", "1", "1", "yes")


def test_a_learners_results_can_be_deleted_and_others_stay(folder):
    s, book, c1, c2, a, b = folder
    quiz = QuizBook(s)
    for name in ("Ana", "Trial run", "Trial run"):
        session = quiz.start(name, [c1], ["Nodule"])
        answer(s, book, quiz, session, c1, [Mark("Nodule", 10, 10, 20, 20, a)], "")
    assert quiz.delete_learner("Trial run") == 2
    assert quiz.learners() == ["Ana"] and len(quiz.answers()) == 1
    orphans = s.conn.execute("SELECT COUNT(*) FROM quiz_marks WHERE answer_id NOT IN (SELECT id FROM quiz_answers)")
    assert orphans.fetchone()[0] == 0


def test_unsaved_answers_and_a_deletion_are_put_back_from_a_recovery_file(folder, tmp_path):
    from desktop.core.store.recovery import FORMAT

    s, book, c1, c2, a, b = folder
    quiz = QuizBook(s)
    ana = quiz.start("Ana", [c1], ["Nodule"])
    trial = quiz.start("Trial", [c1], ["Nodule"])
    answer(s, book, quiz, trial, c1, [], "")
    score = score_case(book.expert_marks(c1), [Mark("Nodule", 10, 10, 20, 20, a)], "Metastases", "metastases")
    s.close()
    row = [ana, c1, "Metastases", "metastases", 1, 3, 1, 1, 2, 0, 1.0, "{}", 5.0, 1.0]
    doc = {"format": FORMAT, "version": 1, "saved": 0, "edits": [
        {"edit": "teaching.answer", "row": row, "marks": [[a, "Nodule", 10.0, 10.0, 20.0, 20.0, 1.0]]},
        {"edit": "teaching.delete_learner", "learner": "Trial"}]}
    (tmp_path / ".loupe" / "annotations.recovery-20260101-000000-1.json").write_text(json.dumps(doc))
    s2 = open_store(tmp_path)
    try:
        (kept,) = QuizBook(s2).answers()
        assert (kept.learner, kept.hits, kept.diagnosis_correct) == ("Ana", score.hits, True)
        assert [m.label for m, _iou in QuizBook(s2).marks(kept.id)] == ["Nodule"]
        assert QuizBook(s2).learners() == ["Ana"]
    finally:
        s2.close()
