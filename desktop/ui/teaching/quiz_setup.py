"""Start a quiz: the learner's name (no accounts; earlier names offered), which cases (the
selected ones, those the search found, or all), in the list's or a random order, the labels the
learner may mark with, and how many diagnoses to choose from."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
)


@dataclass
class QuizPlan:
    learner: str
    case_ids: list[int]
    labels: list[str]
    shuffle: bool
    choices: int


class QuizSetupDialog(QDialog):
    def __init__(self, panel, parent=None):
        super().__init__(parent or panel.window)
        from desktop.core.teaching import QuizBook

        self.setWindowTitle("Start a quiz")
        self.panel = panel
        book, store = panel.book, panel.store
        self.sets = {"selected": panel.selected_ids(), "found": panel.visible_ids(),
                     "all": [c.id for c in book.cases()]}
        self.learner = QComboBox(self)
        self.learner.setEditable(True)
        self.learner.addItems(QuizBook(store).learners())
        self.learner.setCurrentText("")
        self.learner.lineEdit().setPlaceholderText("The learner's name (results are kept under it)")
        self.learner.setMinimumWidth(280)
        self.learner.currentTextChanged.connect(self._update)

        cases = QGroupBox("Cases", self)
        self.which = QButtonGroup(self)
        cl = QVBoxLayout(cases)
        searched = bool(panel.search.text().strip())
        for key, text in (("selected", "The selected cases"), ("found", "The cases the search found"),
                          ("all", "All cases of the folder")):
            n = len(self.sets[key])
            button = QRadioButton(f"{text} ({n})", cases)
            button.setProperty("key", key)
            button.setEnabled(n > 0 and (key != "found" or searched))
            self.which.addButton(button)
            cl.addWidget(button)
        default = "selected" if len(self.sets["selected"]) > 1 else ("found" if searched and self.sets["found"] else "all")
        for button in self.which.buttons():
            button.setChecked(button.property("key") == default)
        self.which.buttonToggled.connect(lambda *_: self._fill_labels())
        self.shuffle = QCheckBox("Random order", cases)
        cl.addWidget(self.shuffle)

        self.labels = QListWidget(self)
        self.labels.setMinimumHeight(110)
        self.label_note = QLabel(self)
        self.label_note.setWordWrap(True)
        self.choices = QSpinBox(self)
        self.choices.setRange(2, 10)
        self.choices.setValue(5)
        self.choices.setToolTip("The case's diagnosis and the other cases' diagnoses as distractors; "
                                "the learner may also type one")
        self.problem = QLabel(self)
        self.problem.setStyleSheet("color: #c0392b")
        self.problem.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Learner", self.learner)
        form.addRow("Diagnoses to choose from", self.choices)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(cases)
        lay.addWidget(QLabel("Labels the learner marks with:", self))
        lay.addWidget(self.labels, 1)
        lay.addWidget(self.label_note)
        lay.addWidget(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        self.buttons.button(QDialogButtonBox.Ok).setText("Start Quiz")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self._fill_labels()
        self.learner.setFocus()

    def chosen_key(self) -> str:
        button = self.which.checkedButton()
        return button.property("key") if button is not None else "all"

    def _fill_labels(self) -> None:
        book = self.panel.book
        used: list[str] = []
        for case_id in self.sets[self.chosen_key()]:
            for m in book.expert_marks(case_id):
                if m.label not in used:
                    used.append(m.label)
        names = [c.name for c in self.panel.store.categories()]
        names += [u for u in used if u not in names]
        self.labels.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if (name in used or not used) else Qt.Unchecked)
            self.labels.addItem(item)
        if used:
            self.label_note.setText("Ticked: the labels of the expert boxes on these cases. Tick others as "
                                    "distractors.")
        elif names:
            self.label_note.setText("These cases have no expert boxes yet: the quiz scores the diagnosis only.")
        else:
            self.label_note.setText("The folder has no labels: the learner marks boxes as “finding”.")
        self._update()

    def chosen_labels(self) -> list[str]:
        labels = [self.labels.item(i).text() for i in range(self.labels.count())
                  if self.labels.item(i).checkState() == Qt.Checked]
        return labels or ["finding"]

    def plan(self) -> QuizPlan:
        return QuizPlan(" ".join(self.learner.currentText().split()), list(self.sets[self.chosen_key()]),
                        self.chosen_labels(), self.shuffle.isChecked(), self.choices.value())

    def _update(self) -> None:
        plan = self.plan()
        problem = ""
        if not plan.learner:
            problem = "Type the learner's name to start."
        elif not plan.case_ids:
            problem = "Choose at least one case."
        self.problem.setText(problem)
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(not problem)
