"""Quiz results across learners (no Qt): the CSV export (one row per learner x case, the last
attempt) and the summary (hit rates per case and per finding label).

    write_results_csv(store, "results.csv")
    cases, labels = summarise(store)
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from desktop.core.store.errors import StoreError
from desktop.core.teaching.cases import CaseBook
from desktop.core.teaching.quiz import Answer, QuizBook

COLUMNS = ("learner", "case_id", "case", "attempts", "submitted_utc", "seconds", "diagnosis_expected",
           "diagnosis_given", "diagnosis_correct", "expert_boxes", "learner_marks", "hits", "misses",
           "false_marks", "mean_iou", "hits_by_label", "false_marks_by_label", "session_id")


@dataclass(frozen=True)
class CaseSummary:
    case_id: int
    name: str
    learners: int
    expert_boxes: int  # summed over learners
    hits: int
    false_marks: int
    hit_rate: float | None
    mean_iou: float | None
    diagnosis_right: int
    diagnosis_scored: int

    @property
    def diagnosis_rate(self) -> float | None:
        return self.diagnosis_right / self.diagnosis_scored if self.diagnosis_scored else None


@dataclass(frozen=True)
class LabelSummary:
    label: str
    learners: int
    expert_boxes: int
    hits: int
    false_marks: int
    hit_rate: float | None


def _cell(text) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    text = "" if text is None else str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _by_label(answer: Answer, key: str) -> str:
    if key == "hits":
        return "; ".join(f"{label} {v.get('hits', 0)}/{v.get('expert', 0)}"
                         for label, v in sorted(answer.per_label.items()) if v.get("expert"))
    return "; ".join(f"{label} {v.get('false_marks', 0)}" for label, v in sorted(answer.per_label.items())
                     if v.get("false_marks"))


def result_rows(store) -> list[dict[str, str]]:
    names = {c.id: c.name() for c in CaseBook(store).cases(include_deleted=True)}
    rows = []
    for a in QuizBook(store).latest_answers():
        rows.append({
            "learner": _cell(a.learner), "case_id": str(a.case_id), "case": _cell(names.get(a.case_id, "")),
            "attempts": str(a.attempts),
            "submitted_utc": dt.datetime.fromtimestamp(a.submitted, dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "seconds": "" if a.seconds is None else f"{a.seconds:.1f}",
            "diagnosis_expected": _cell(a.diagnosis_expected), "diagnosis_given": _cell(a.diagnosis_given),
            "diagnosis_correct": "" if a.diagnosis_correct is None else ("yes" if a.diagnosis_correct else "no"),
            "expert_boxes": str(a.expert_boxes), "learner_marks": str(a.learner_marks), "hits": str(a.hits),
            "misses": str(a.misses), "false_marks": str(a.false_marks),
            "mean_iou": "" if a.mean_iou is None else f"{a.mean_iou:.4f}",
            "hits_by_label": _cell(_by_label(a, "hits")), "false_marks_by_label": _cell(_by_label(a, "false")),
            "session_id": str(a.session_id)})
    return rows


def write_results_csv(store, path: str | Path) -> int:
    """Write the results CSV (UTF-8 with a BOM, so spreadsheets read accents); returns the number
    of rows. Raises StoreError naming the file when it cannot be written."""
    path = Path(path)
    rows = result_rows(store)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8-sig") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise StoreError(f"{path}: cannot write the quiz results: {exc.strerror or exc}") from None
    return len(rows)


def summarise(store) -> tuple[list[CaseSummary], list[LabelSummary]]:
    """Per case and per finding label, over every learner's last attempt: hits / expert boxes."""
    names = {c.id: c.name() for c in CaseBook(store).cases(include_deleted=True)}
    per_case: dict[int, list] = {}
    per_label: dict[str, list] = {}
    for a in QuizBook(store).latest_answers():
        t = per_case.setdefault(a.case_id, [0, 0, 0, 0, 0.0, 0, 0])
        t[0] += 1
        t[1] += a.expert_boxes
        t[2] += a.hits
        t[3] += a.false_marks
        t[4] += (a.mean_iou or 0.0) * a.hits
        if a.diagnosis_correct is not None:
            t[5] += int(a.diagnosis_correct)
            t[6] += 1
        for label, v in a.per_label.items():
            u = per_label.setdefault(label, [set(), 0, 0, 0])
            u[0].add(a.learner)
            u[1] += int(v.get("expert", 0))
            u[2] += int(v.get("hits", 0))
            u[3] += int(v.get("false_marks", 0))
    cases = [CaseSummary(cid, names.get(cid, f"Case {cid}"), t[0], t[1], t[2], t[3],
                         t[2] / t[1] if t[1] else None, t[4] / t[2] if t[2] else None, t[5], t[6])
             for cid, t in sorted(per_case.items())]
    labels = [LabelSummary(label, len(u[0]), u[1], u[2], u[3], u[2] / u[1] if u[1] else None)
              for label, u in sorted(per_label.items(), key=lambda kv: kv[0].lower())]
    return cases, labels


def require_results(store) -> None:
    if not QuizBook(store).answers():
        raise StoreError("no quiz has been answered in this folder yet: start one with Teaching ▸ Start Quiz…")
