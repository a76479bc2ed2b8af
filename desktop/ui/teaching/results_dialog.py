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
        self.delete_button = QPushButton("Delete Learner's Results…", self)
        self.delete_button.setToolTip("Remove every quiz of the learner selected in Per learner (a trial run, "
                                      "a name typed wrong)")
        self.delete_button.clicked.connect(lambda: self.delete_learner())
        self.learner_table.itemSelectionChanged.connect(self._update_delete)
        self.tabs.currentChanged.connect(lambda _i: self._update_delete())
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.addButton(self.delete_button, QDialogButtonBox.ActionRole)
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
        if hasattr(self, "delete_button"):
            self._update_delete()

    def selected_learner(self) -> str | None:
        rows = {i.row() for i in self.learner_table.selectedItems()}
        if self.tabs.currentWidget() is not self.learner_table or len(rows) != 1:
            return None
        item = self.learner_table.item(rows.pop(), 0)
        return item.text() if item is not None else None

    def _update_delete(self) -> None:
        self.delete_button.setEnabled(self.selected_learner() is not None and not self.store.read_only)

    def delete_learner(self, learner: str | None = None, confirm=None) -> int | None:
        """Delete the selected (or given) learner's results once the educator confirms
        (`confirm(text) -> bool`; a question by default)."""
        from PySide6.QtWidgets import QMessageBox

        from models.errors import LoupeError

        learner = learner or self.selected_learner()
        if not learner:
            return None
        n = sum(1 for a in QuizBook(self.store).answers(learner))
        text = (f"Delete every quiz result of {learner} ({n} answer{'s' if n != 1 else ''})? This cannot be "
                "undone; export the CSV first to keep a copy.")
        if confirm is None:
            def confirm(t):
                return QMessageBox.question(self, "Delete results", t) == QMessageBox.Yes
        if not confirm(text):
            return None
        try:
            gone = QuizBook(self.store).delete_learner(learner)
        except LoupeError as exc:
            self.window_.notify("The results could not be deleted", details=str(exc), level="error")
            return None
        self.window_.notify(f"The quiz results of {learner} were deleted ({gone} answer{'s' if gone != 1 else ''})")
        self.refresh()
        return gone

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
