"""Teaching ▸ Quiz Results…: hit rates per case and per finding label across learners (each
learner's last attempt), the learners, and Export CSV (desktop.core.teaching.results)."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
)

from desktop.core.teaching import QuizBook
from desktop.core.teaching.results import summarise, write_results_csv


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


class ResultsDialog(QDialog):
    def __init__(self, window, store):
        super().__init__(window)
        self.window_, self.store = window, store
        self.setWindowTitle("Quiz results")
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.tabs = QTabWidget(self)
        self.case_table = self._table(["Case", "Learners", "Findings found", "Hit rate", "Mean IoU",
                                       "False marks", "Diagnosis right"])
        self.label_table = self._table(["Finding (label)", "Learners", "Found", "Hit rate", "False marks"])
        self.learner_table = self._table(["Learner", "Cases", "Findings found", "Hit rate", "Diagnosis right"])
        self.tabs.addTab(self.case_table, "Per case")
        self.tabs.addTab(self.label_table, "Per finding")
        self.tabs.addTab(self.learner_table, "Per learner")
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.clicked.connect(self.choose_export)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.addButton(self.export_button, QDialogButtonBox.ActionRole)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(buttons)
        self.resize(760, 460)
        self.refresh()

    def _table(self, headers) -> QTableWidget:
        table = QTableWidget(0, len(headers), self)
        table.setHorizontalHeaderLabels(headers)
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.NoEditTriggers)
        table.setSelectionBehavior(QTableWidget.SelectRows)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        for c in range(1, len(headers)):
            table.horizontalHeader().setSectionResizeMode(c, QHeaderView.ResizeToContents)
        return table

    @staticmethod
    def _fill(table: QTableWidget, rows) -> None:
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                item = QTableWidgetItem(str(value))
                if c:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                table.setItem(r, c, item)

    def refresh(self) -> None:
        cases, labels = summarise(self.store)
        answers = QuizBook(self.store).latest_answers()
        learners = sorted({a.learner for a in answers}, key=str.lower)
        if not answers:
            self.summary.setText("No quiz has been answered in this folder yet. Start one with Teaching ▸ Start "
                                 "Quiz…; each learner's answers are kept here under their name.")
        else:
            self.summary.setText(f"{len(learners)} learner{'s' if len(learners) != 1 else ''}, {len(cases)} case"
                                 f"{'s' if len(cases) != 1 else ''} answered; each learner's last attempt counts.")
        self.export_button.setEnabled(bool(answers))
        self._fill(self.case_table, [
            (c.name, c.learners, f"{c.hits} of {c.expert_boxes}", _pct(c.hit_rate),
             "—" if c.mean_iou is None else f"{c.mean_iou:.2f}", c.false_marks,
             f"{c.diagnosis_right} of {c.diagnosis_scored}" if c.diagnosis_scored else "—") for c in cases])
        self._fill(self.label_table, [
            (lab.label, lab.learners, f"{lab.hits} of {lab.expert_boxes}", _pct(lab.hit_rate), lab.false_marks)
            for lab in labels])
        rows = []
        for name in learners:
            mine = [a for a in answers if a.learner == name]
            expert = sum(a.expert_boxes for a in mine)
            hits = sum(a.hits for a in mine)
            scored = [a for a in mine if a.diagnosis_correct is not None]
            rows.append((name, len(mine), f"{hits} of {expert}", _pct(hits / expert if expert else None),
                         f"{sum(1 for a in scored if a.diagnosis_correct)} of {len(scored)}" if scored else "—"))
        self._fill(self.learner_table, rows)

    def choose_export(self) -> None:
        start = os.path.join(str(self.store.folder), "quiz-results.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export quiz results", start, "CSV files (*.csv)")
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> int | None:
        from models.errors import LoupeError

        try:
            n = write_results_csv(self.store, path)
        except LoupeError as exc:
            self.window_.notify("The quiz results could not be exported", details=str(exc), level="error")
            return None
        self.window_.notify(f"{n} result row{'s' if n != 1 else ''} exported to {path}")
        return n
