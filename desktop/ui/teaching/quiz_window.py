"""The quiz: a window of its own with the film (no boxes, labels, findings or diagnosis), the
case's history, the learner's marks and a diagnosis to pick or type. Submit scores the answer
(desktop.core.teaching.scoring), saves it under the learner's name (never as the folder's boxes)
and reveals the expert boxes over the learner's marks with the case text."""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.core.teaching import Mark, QuizBook, diagnosis_choices, quiz_order, score_case
from desktop.ui.guard import guarded
from desktop.ui.teaching.film_view import FilmView, educator_window_of
from desktop.ui.teaching.quiz_reveal import case_html, draw_reveal, legend_html, score_html
from desktop.ui.teaching.window_keys import window_action

SIDE_WIDTH = 360
KEYS = [  # (what it does, keys) for the quiz window; the Help sheet lists them too
    ("Mark a finding", "Left-drag on the film"), ("Resize / move a mark", "Drag its edge or corner / inside"),
    ("Pick the label", "1-9"),
    ("Remove the selected mark", "Del, Backspace"), ("Remove the last mark", "Ctrl+Z"),
    ("Submit the answer / next case", "Ctrl+Return"), ("Next case after submitting", "N"),
    ("Next / previous image of the case", "PgDown, PgUp"), ("Zoom in / out, fit", "+, -, 0"),
    ("Window / level", "Right-drag"), ("Leave the quiz", "Esc"),
]


class QuizWindow(QWidget):
    finished = Signal(int)  # the session id, once every case was answered
    answered = Signal(int, object)  # case id, CaseScore

    def __init__(self, main_window, store, plan, parent=None):
        super().__init__(parent or main_window, Qt.Window)
        from desktop.core.teaching import CaseBook

        self.main_window = main_window
        self.setWindowTitle(f"Quiz — {plan.learner} — Loupe")
        self.setAttribute(Qt.WA_DeleteOnClose, False)
        self.store, self.plan = store, plan
        self.book, self.quiz = CaseBook(store), QuizBook(store)
        self.case_ids = quiz_order(plan.case_ids, plan.shuffle)
        self.session_id = self.quiz.start(plan.learner, self.case_ids, plan.labels)
        self.diagnoses = self.book.diagnoses()
        self.scores: dict[int, object] = {}
        self.index = -1
        self.case = None
        self.paths: list[str] = []
        self.image_ids: list[int] = []
        self.image_index = 0
        self.marks: dict[int, list[tuple[str, tuple]]] = {}  # image id -> [(label, rect)] while answering
        self.learner_marks: list[Mark] = []
        self.expert_marks: list[Mark] = []
        self.submitted = False
        self._started = time.monotonic()

        self.view = FilmView(self, educator_window=educator_window_of(main_window))
        self.view.drawing_enabled = True
        self.view.marks_changed.connect(self._marks_changed)
        self._build_side()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.side_area)
        self._build_keys()
        self.resize(min(1400, max(main_window.width(), 1000)), min(900, max(main_window.height(), 640)))
        self.show_case(0)

    # -- layout ----------------------------------------------------------------------------------
    def _build_side(self) -> None:
        side = QWidget(self)
        self.side_area = QScrollArea(self)
        self.side_area.setWidgetResizable(True)
        self.side_area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.side_area.setFrameShape(QFrame.NoFrame)
        self.side_area.setFixedWidth(SIDE_WIDTH)
        self.side_area.setWidget(side)
        lay = QVBoxLayout(side)
        self.heading = QLabel(side)
        self.heading.setWordWrap(True)
        self.heading.setStyleSheet("font-size: 15px; font-weight: bold")
        lay.addWidget(self.heading)
        row = QHBoxLayout()
        self.prev_image = QPushButton("◀ Image", side)
        self.prev_image.clicked.connect(lambda: self.show_image(self.image_index - 1))
        self.image_label = QLabel(side)
        self.next_image = QPushButton("Image ▶", side)
        self.next_image.clicked.connect(lambda: self.show_image(self.image_index + 1))
        row.addWidget(self.prev_image)
        row.addWidget(self.image_label, 1, Qt.AlignCenter)
        row.addWidget(self.next_image)
        self.image_row = QWidget(side)
        self.image_row.setLayout(row)
        lay.addWidget(self.image_row)
        self.history = QLabel(side)
        self.history.setWordWrap(True)
        self.history.setTextFormat(Qt.RichText)
        lay.addWidget(self.history)

        self.answer_box = QWidget(side)
        al = QVBoxLayout(self.answer_box)
        al.setContentsMargins(0, 0, 0, 0)
        al.addWidget(QLabel("<b>Mark the findings</b>", side))
        hint = QLabel("Drag on the film to draw a box around each finding. Drag a box's edge or corner to "
                      "resize it, its inside to move it; Del removes the selected box.", side)
        hint.setWordWrap(True)
        al.addWidget(hint)
        row = QHBoxLayout()
        row.addWidget(QLabel("Label", side))
        self.label_pick = QComboBox(side)
        for n, name in enumerate(self.plan.labels):
            self.label_pick.addItem(f"{n + 1}  {name}" if n < 9 else name, name)
        self.label_pick.currentIndexChanged.connect(self._label_changed)
        row.addWidget(self.label_pick, 1)
        al.addLayout(row)
        self.mark_count = QLabel(side)
        al.addWidget(self.mark_count)
        al.addSpacing(6)
        al.addWidget(QLabel("<b>Diagnosis</b>", side))
        self.diagnosis = QComboBox(side)
        self.diagnosis.setEditable(True)
        self.diagnosis.setInsertPolicy(QComboBox.NoInsert)
        self.diagnosis.lineEdit().setPlaceholderText("Pick one or type your own")
        al.addWidget(self.diagnosis)
        lay.addWidget(self.answer_box)

        self.result = QLabel(side)
        self.result.setWordWrap(True)
        self.result.setTextFormat(Qt.RichText)
        self.result.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay.addWidget(self.result)
        self.legend = QLabel(legend_html(), side)
        self.legend.setWordWrap(True)
        lay.addWidget(self.legend)
        self.case_text = QLabel(side)
        self.case_text.setWordWrap(True)
        self.case_text.setTextFormat(Qt.RichText)
        self.case_text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay.addWidget(self.case_text)
        lay.addStretch(1)
        self.submit_button = QPushButton("Submit Answer (Ctrl+Return)", side)
        self.submit_button.setDefault(True)
        self.submit_button.setToolTip("Ctrl+Return")
        self.submit_button.clicked.connect(self.submit_or_next)
        lay.addWidget(self.submit_button)
        self.leave_button = QPushButton("Leave Quiz", side)
        self.leave_button.clicked.connect(self.close)
        lay.addWidget(self.leave_button)

    def _build_keys(self) -> None:
        def add(keys, slot, text):
            return window_action(self, keys, slot, text)

        self.submit_action = add(["Ctrl+Return", "Ctrl+Enter"], self.submit_or_next, "Submit the answer")
        self.next_action = add(["N"], lambda: self.submitted and self.next_case(), "Next case")
        add([QKeySequence.Delete, "Backspace"], self.view.delete_selected_marks, "Remove the selected mark")
        add(["Ctrl+Z"], lambda: not self.submitted and self.view.remove_last_mark(), "Remove the last mark")
        add(["PgDown"], lambda: self.show_image(self.image_index + 1), "Next image of the case")
        add(["PgUp"], lambda: self.show_image(self.image_index - 1), "Previous image of the case")
        add(["+", "="], self.view.canvas.zoom_in, "Zoom in")
        add(["-"], self.view.canvas.zoom_out, "Zoom out")
        add(["0"], self.view.canvas.fit, "Fit")
        add(["Esc"], self.close, "Leave the quiz")
        for n in range(min(9, len(self.plan.labels))):
            add([str(n + 1)], lambda _checked=False, n=n: self.label_pick.setCurrentIndex(n), f"Label {n + 1}")

    # -- flow ------------------------------------------------------------------------------------
    def show_case(self, index: int) -> None:
        self.index = index
        self.case = self.book.case(self.case_ids[index])
        self.paths = [str(p) for p in self.book.image_paths(self.case.id)]
        self.image_ids = list(self.case.image_ids)
        self.marks = {i: [] for i in self.image_ids}
        self.learner_marks, self.expert_marks = [], []
        self.submitted = False
        self._started = time.monotonic()
        n = len(self.case_ids)
        self.heading.setText(f"Case {index + 1} of {n} · {html.escape(self.plan.learner)}")
        history = self.case.history.strip()
        self.history.setText(f"<b>History</b><br>{html.escape(history).replace(chr(10), '<br>')}" if history
                             else "<i>No history given for this case.</i>")
        self.diagnosis.clear()
        choices = diagnosis_choices(self.case.diagnosis, self.diagnoses, self.plan.choices,
                                    seed=self.session_id * 7919 + self.case.id)
        self.diagnosis.addItems(choices)
        self.diagnosis.setCurrentIndex(-1)
        self.diagnosis.setEditText("")
        self.answer_box.setEnabled(True)
        self.result.hide()
        self.legend.hide()
        self.case_text.hide()
        self.submit_button.setText("Submit Answer (Ctrl+Return)")
        self.view.drawing_enabled = True
        self._label_changed()
        self.image_index = -1
        self.show_image(0)

    def show_image(self, index: int) -> None:
        if not self.paths or not 0 <= index < len(self.paths) or index == self.image_index:
            return
        if 0 <= self.image_index < len(self.image_ids) and not self.submitted:
            self.marks[self.image_ids[self.image_index]] = self._marks_on_screen()
        self.image_index = index
        cache = getattr(self.main_window, "cache", None)
        self.view.load(self.paths[index], cache)
        image_id = self.image_ids[index]
        if self.submitted:
            draw_reveal(self.view, self.expert_marks, self.learner_marks, self.scores[self.case.id], image_id)
            self.view.freeze_marks()
        else:
            for label, rect in self.marks.get(image_id, []):
                self.view.add_mark(rect, label)
        many = len(self.paths) > 1
        self.image_row.setVisible(many)
        self.image_label.setText(f"Image {index + 1} of {len(self.paths)}")
        self.prev_image.setEnabled(index > 0)
        self.next_image.setEnabled(index < len(self.paths) - 1)
        self._marks_changed()

    def _marks_on_screen(self) -> list[tuple[str, tuple]]:
        return [(i.mark_label, i.scene_rect()) for i in self.view.mark_items()]

    def all_marks(self) -> list[Mark]:
        """The learner's marks on every image of the case, as scoring.Mark."""
        if 0 <= self.image_index < len(self.image_ids):
            self.marks[self.image_ids[self.image_index]] = self._marks_on_screen()
        return [Mark(label, *rect, image=image_id) for image_id in self.image_ids
                for label, rect in self.marks.get(image_id, [])]

    def _label_changed(self, *_args) -> None:
        self.view.current_label = self.label_pick.currentData() or "finding"

    def _marks_changed(self) -> None:
        if self.submitted:
            return
        n = len(self.view.mark_items())
        total = sum(len(v) for k, v in self.marks.items() if k != self._image_id()) + n
        self.mark_count.setText(f"{total} mark{'s' if total != 1 else ''} on this case"
                                + (f" ({n} on this image)" if len(self.paths) > 1 else ""))

    def _image_id(self) -> int | None:
        return self.image_ids[self.image_index] if 0 <= self.image_index < len(self.image_ids) else None

    def submit_or_next(self) -> None:
        if self.submitted:
            self.next_case()
        else:
            self.submit()

    def submit(self) -> None:
        """Score, save, reveal."""
        from models.errors import LoupeError

        if self.submitted or self.case is None:
            return
        learner = self.all_marks()
        expert = self.book.expert_marks(self.case.id)
        given = self.diagnosis.currentText()
        score = score_case(expert, learner, self.case.diagnosis, given)
        try:
            self.quiz.save_answer(self.session_id, self.case.id, score, learner,
                                  seconds=time.monotonic() - self._started)
        except LoupeError as exc:
            QMessageBox.warning(self, "Quiz", f"The answer could not be saved: {exc}")
            return
        self.scores[self.case.id] = score
        self.learner_marks, self.expert_marks = learner, expert
        self.submitted = True
        self.view.drawing_enabled = False
        self.answer_box.setEnabled(False)
        self.result.setText(score_html(score))
        self.case_text.setText(case_html(self.case))
        for w in (self.result, self.legend, self.case_text):
            w.show()
        draw_reveal(self.view, expert, learner, score, self._image_id())
        self.view.freeze_marks()
        last = self.index == len(self.case_ids) - 1
        self.submit_button.setText("Finish Quiz (Ctrl+Return)" if last else "Next Case (N)")
        self.answered.emit(self.case.id, score)

    def next_case(self) -> None:
        if not self.submitted:
            return
        if self.index + 1 < len(self.case_ids):
            self.show_case(self.index + 1)
            return
        self.quiz.finish(self.session_id)
        self._show_summary()
        self.finished.emit(self.session_id)

    def _show_summary(self) -> None:
        scores = list(self.scores.values())
        expert = sum(s.expert_boxes for s in scores)
        hits = sum(s.hits for s in scores)
        false = sum(s.false_marks for s in scores)
        scored = [s for s in scores if s.diagnosis_correct is not None]
        right = sum(1 for s in scored if s.diagnosis_correct)
        self.heading.setText(f"Quiz finished · {html.escape(self.plan.learner)}")
        rows = []
        for n, case_id in enumerate(self.case_ids):
            s = self.scores.get(case_id)
            if s is None:
                continue
            verdict = {True: "right", False: "wrong", None: "not scored"}[s.diagnosis_correct]
            rows.append(f"<tr><td>Case {n + 1}&nbsp;&nbsp;</td><td>{s.hits} of {s.expert_boxes} found"
                        f"{f', {s.false_marks} false' if s.false_marks else ''}&nbsp;&nbsp;</td>"
                        f"<td>diagnosis {verdict}</td></tr>")
        self.history.setText(
            f"<p><b>{len(scores)} case{'s' if len(scores) != 1 else ''}</b> answered.</p>"
            f"<p>Findings found: <b>{hits} of {expert}</b>, false marks: {false}.</p>"
            f"<p>Diagnoses right: <b>{right} of {len(scored)}</b>.</p>"
            f"<table>{''.join(rows)}</table>"
            "<p>The results are saved in the folder under this name: Teaching ▸ Quiz Results… shows them "
            "across learners and exports them as CSV.</p>")
        for w in (self.answer_box, self.result, self.legend, self.case_text, self.image_row, self.leave_button):
            w.hide()
        self.view.load(None)
        self.view.canvas.show_message("Quiz finished")
        self.submit_button.setText("Close")
        self.submit_button.clicked.disconnect()
        self.submit_button.clicked.connect(self.close)
        self.submitted = False
        self.case = None
        self.view.drawing_enabled = False

    def force_close(self) -> None:
        """Close without asking (the folder's store is closing)."""
        self._forced = True
        self.close()

    @guarded("closing the quiz")
    def closeEvent(self, event) -> None:
        unsent = (self.case is not None and not self.submitted and bool(self.all_marks())
                  and not getattr(self, "_forced", False))
        if unsent and self.isVisible() and QMessageBox.question(
                self, "Leave the quiz?", "This case's marks have not been submitted and will be lost. "
                "The answers already submitted are saved.") != QMessageBox.Yes:
            event.ignore()
            return
        super().closeEvent(event)
