"""Teaching cases, quizzes and their scoring (no Qt). See cases.py, search.py, scoring.py,
quiz.py and results.py; decisions 0140-0142."""

from desktop.core.teaching.cases import DIFFICULTY, FIELDS, LIST_FIELDS, TEXT_FIELDS, Case, CaseBook, CaseRow
from desktop.core.teaching.quiz import Answer, QuizBook, diagnosis_choices, quiz_order
from desktop.core.teaching.results import summarise, write_results_csv
from desktop.core.teaching.scoring import IOU_THRESHOLD, CaseScore, LabelScore, Mark, iou, score_case

__all__ = [
    "Case", "CaseBook", "CaseRow", "FIELDS", "TEXT_FIELDS", "LIST_FIELDS", "DIFFICULTY",
    "Answer", "QuizBook", "diagnosis_choices", "quiz_order", "summarise", "write_results_csv",
    "Mark", "CaseScore", "LabelScore", "IOU_THRESHOLD", "iou", "score_case",
]
