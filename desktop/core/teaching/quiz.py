"""Quizzes on teaching cases (no Qt): the order, the diagnosis choices, and each learner's answers
saved in the folder's store (tables `quiz_sessions`, `quiz_answers`, `quiz_marks`). A learner is
known by the name typed at the start (no accounts). Learners' marks are kept in `quiz_marks` and
are never written as the folder's boxes.

    quiz = QuizBook(store)
    session = quiz.start("Ana", [3, 1, 2], labels=["Nodule", "Mass"])
    score = score_case(book.expert_marks(3), marks, case.diagnosis, "nodule")
    quiz.save_answer(session, 3, score, marks, seconds=41.0)
    quiz.latest_answers()      # one Answer per learner x case (the last attempt)
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from desktop.core.store.errors import StoreError
from desktop.core.teaching.scoring import CaseScore, Mark, normalise_diagnosis

MAX_NAME = 80


@dataclass(frozen=True)
class Answer:
    id: int
    session_id: int
    learner: str
    case_id: int
    diagnosis_expected: str
    diagnosis_given: str
    diagnosis_correct: bool | None
    expert_boxes: int
    learner_marks: int
    hits: int
    misses: int
    false_marks: int
    mean_iou: float | None
    per_label: dict
    seconds: float | None
    submitted: float
    attempts: int = 1  # how many times this learner answered this case (latest_answers)


def learner_name(text: str) -> str:
    """The learner's name as kept: trimmed, runs of spaces as one. Raises StoreError when empty."""
    name = " ".join(str(text or "").split())
    if not name:
        raise StoreError("type the learner's name first: results are kept under it")
    if len(name) > MAX_NAME:
        raise StoreError(f"the learner's name is longer than {MAX_NAME} characters")
    return name


def quiz_order(case_ids: Sequence[int], shuffle: bool = False, seed: int | None = None) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in case_ids))
    if shuffle:
        random.Random(seed).shuffle(ids)
    return ids


def diagnosis_choices(expected: str, others: Iterable[str], count: int = 5, seed: int | None = None) -> list[str]:
    """The case's diagnosis and up to `count - 1` of the other cases' diagnoses as distractors
    (none equal to it, ignoring case), in a shuffled order. Empty when the case has no diagnosis."""
    want = normalise_diagnosis(expected)
    if not want:
        return []
    seen, pool = {want}, []
    for text in others:
        key = normalise_diagnosis(text)
        if key and key not in seen:
            seen.add(key)
            pool.append(str(text).strip())
    rng = random.Random(seed)
    rng.shuffle(pool)
    choices = [expected.strip()] + pool[:max(count - 1, 0)]
    rng.shuffle(choices)
    return choices


class QuizBook:
    def __init__(self, store):
        self.store = store

    def start(self, learner: str, case_ids: Sequence[int], labels: Sequence[str]) -> int:
        """A new quiz session; its id. Raises StoreError (a clear message) when the name is empty
        or the database cannot be written now."""
        name = learner_name(learner)
        ids = [int(i) for i in case_ids]
        if not ids:
            raise StoreError("choose at least one teaching case for the quiz")
        now = time.time()

        def op(conn: sqlite3.Connection) -> int:
            return conn.execute("INSERT INTO quiz_sessions(learner, labels, case_ids, started) VALUES (?,?,?,?)",
                                (name, json.dumps(list(labels), ensure_ascii=False), json.dumps(ids), now)).lastrowid

        return self.store.writer.write(op, "a new quiz", queue=False)

    def finish(self, session_id: int) -> None:
        now = time.time()
        self.store.writer.write(
            lambda conn: conn.execute("UPDATE quiz_sessions SET finished = ? WHERE id = ?", (now, int(session_id))),
            "the end of a quiz", record={"edit": "teaching.finish", "session_id": int(session_id), "at": now})

    def save_answer(self, session_id: int, case_id: int, score: CaseScore, marks: Sequence[Mark],
                    seconds: float | None = None, submitted: float | None = None) -> None:
        """Keep one answer and the learner's marks (one transaction; kept in memory and retried,
        then in a recovery file, when the disk refuses)."""
        submitted = time.time() if submitted is None else float(submitted)
        marks = list(marks)
        hit_iou = score.learner_iou()
        per_label = {k: {"expert": v.expert, "learner": v.learner, "hits": v.hits, "misses": v.misses,
                         "false_marks": v.false_marks, "iou_sum": v.iou_sum} for k, v in score.per_label.items()}
        row = (int(session_id), int(case_id), score.diagnosis_expected, score.diagnosis_given,
               None if score.diagnosis_correct is None else int(score.diagnosis_correct), score.expert_boxes,
               score.learner_marks, score.hits, score.misses, score.false_marks, score.mean_iou,
               json.dumps(per_label, ensure_ascii=False), None if seconds is None else float(seconds), submitted)
        mark_rows = [(int(m.image), m.label, float(m.x), float(m.y), float(m.w), float(m.h), hit_iou.get(j))
                     for j, m in enumerate(marks)]

        def op(conn: sqlite3.Connection) -> None:
            answer = conn.execute(
                "INSERT INTO quiz_answers(session_id, case_id, diagnosis_expected, diagnosis_given, "
                "diagnosis_correct, expert_boxes, learner_marks, hits, misses, false_marks, mean_iou, per_label, "
                "seconds, submitted) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", row).lastrowid
            conn.executemany("INSERT INTO quiz_marks(answer_id, image_id, label, x, y, w, h, matched_iou) "
                             "VALUES (?,?,?,?,?,?,?,?)", [(answer, *m) for m in mark_rows])

        self.store.writer.write(op, "a quiz answer", record={"edit": "teaching.answer", "row": list(row),
                                                              "marks": [list(m) for m in mark_rows]})

    def delete_learner(self, learner: str) -> int:
        """Remove every quiz of this learner (a trial run, a name typed wrong); how many answers
        went. Not undoable: the window asks first."""
        name = learner_name(learner)
        n = self.store.conn.execute("SELECT COUNT(*) FROM quiz_answers a JOIN quiz_sessions s ON s.id = a.session_id "
                                    "WHERE s.learner = ?", (name,)).fetchone()[0]
        self.store.writer.write(lambda conn: _delete_learner(conn, name), f"the quiz results of {name}",
                                record={"edit": "teaching.delete_learner", "learner": name})
        return n

    # -- reading -----------------------------------------------------------------------------
    def learners(self) -> list[str]:
        return [r[0] for r in self.store.conn.execute(
            "SELECT learner FROM quiz_sessions GROUP BY learner ORDER BY MAX(started) DESC")]

    def answers(self, learner: str | None = None) -> list[Answer]:
        """Every answer (oldest first), or one learner's."""
        where, params = ("WHERE s.learner = ?", (learner,)) if learner is not None else ("", ())
        rows = self.store.conn.execute(
            "SELECT a.id, a.session_id, s.learner, a.case_id, a.diagnosis_expected, a.diagnosis_given, "
            "a.diagnosis_correct, a.expert_boxes, a.learner_marks, a.hits, a.misses, a.false_marks, a.mean_iou, "
            f"a.per_label, a.seconds, a.submitted FROM quiz_answers a JOIN quiz_sessions s ON s.id = a.session_id "
            f"{where} ORDER BY a.submitted, a.id", params).fetchall()
        return [Answer(r[0], r[1], r[2], r[3], r[4], r[5], None if r[6] is None else bool(r[6]), r[7], r[8], r[9],
                       r[10], r[11], r[12], _load(r[13]), r[14], r[15]) for r in rows]

    def latest_answers(self) -> list[Answer]:
        """One answer per learner x case: the last one, with `attempts` counting them all;
        ordered by learner, then the case's first answer."""
        latest: dict[tuple[str, int], Answer] = {}
        counts: dict[tuple[str, int], int] = {}
        for a in self.answers():
            key = (a.learner, a.case_id)
            counts[key] = counts.get(key, 0) + 1
            latest[key] = a
        from dataclasses import replace

        out = [replace(a, attempts=counts[k]) for k, a in latest.items()]
        return sorted(out, key=lambda a: (a.learner.lower(), a.learner, a.case_id))

    def marks(self, answer_id: int) -> list[tuple[Mark, float | None]]:
        """The learner's marks of one answer, each with the IoU of the expert box it hit (as
        scored when it was saved). A mark that a quiz before the fix of decision 0153 let past the
        film's edge comes back cut to the film, as the box editor cuts a box (clamp_rect)."""
        from desktop.core.box_geometry import clamp_rect

        out = []
        for image_id, label, x, y, w, h, iou, width, height in self.store.conn.execute(
                "SELECT m.image_id, m.label, m.x, m.y, m.w, m.h, m.matched_iou, i.width, i.height FROM quiz_marks m "
                "LEFT JOIN images i ON i.id = m.image_id WHERE m.answer_id = ? ORDER BY m.rowid", (int(answer_id),)):
            if width and height:
                x, y, w, h = clamp_rect(x, y, w, h, width, height)
            out.append((Mark(label, x, y, w, h, image_id), iou))
        return out


def _load(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _delete_learner(conn: sqlite3.Connection, name: str) -> None:
    sessions = "SELECT id FROM quiz_sessions WHERE learner = ?"
    conn.execute(f"DELETE FROM quiz_marks WHERE answer_id IN (SELECT id FROM quiz_answers WHERE session_id IN ({sessions}))",
                 (name,))
    conn.execute(f"DELETE FROM quiz_answers WHERE session_id IN ({sessions})", (name,))
    conn.execute("DELETE FROM quiz_sessions WHERE learner = ?", (name,))


def replay(store, record: dict, skipped: list[str]) -> None:
    """Put back a quiz answer, a quiz's end or a learner's deletion from a recovery file
    (store.recovery calls this)."""
    kind = record.get("edit")
    if kind == "teaching.delete_learner":
        _delete_learner(store.conn, record["learner"])
        return
    if kind == "teaching.finish":
        store.conn.execute("UPDATE quiz_sessions SET finished = ? WHERE id = ?", (record["at"], record["session_id"]))
        return
    row, marks = record["row"], record["marks"]
    if store.conn.execute("SELECT 1 FROM quiz_sessions WHERE id = ?", (row[0],)).fetchone() is None:
        skipped.append(f"quiz {row[0]} no longer exists")
        return
    answer = store.conn.execute(
        "INSERT INTO quiz_answers(session_id, case_id, diagnosis_expected, diagnosis_given, diagnosis_correct, "
        "expert_boxes, learner_marks, hits, misses, false_marks, mean_iou, per_label, seconds, submitted) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", row).lastrowid
    store.conn.executemany("INSERT INTO quiz_marks(answer_id, image_id, label, x, y, w, h, matched_iou) "
                           "VALUES (?,?,?,?,?,?,?,?)", [(answer, *m) for m in marks])
