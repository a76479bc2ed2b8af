"""The Teaching set part of File > Export…: the set's title, which cases go in (check boxes; every
image when the folder has no cases), the window for DICOM, quiz and zip, and the images whose
pixels may show burned-in text, found before anything is written and listed with check boxes to
leave them out. `options()` gives the keyword arguments of
desktop.core.exchange.teaching_set.export_teaching_set, the function `loupe export --format
teaching` calls."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.exchange.teaching_set import burned_in_images, case_choices
from desktop.core.imaging import CT_PRESETS

WINDOWS = [("Each file's own window", None)] + [(f"{w.name} (C {w.center:g} / W {w.width:g})", w.name.lower())
                                                 for w in CT_PRESETS] + [("This window:", "custom")]


def _rows(widget: QListWidget, most: int) -> None:
    """As tall as its rows, up to `most` of them (then it scrolls): no empty space, no tall dialog."""
    n = max(1, min(widget.count(), most))
    row = widget.sizeHintForRow(0) if widget.count() else widget.fontMetrics().height() + 4
    widget.setFixedHeight(n * row + 2 * widget.frameWidth() + 4)


class TeachingOptions(QWidget):
    def __init__(self, dialog):
        super().__init__(dialog)
        self.dialog = dialog
        self.scan_job = None
        self.flagged = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        self.title = QLineEdit("Teaching set")
        self.title.setToolTip("Shown at the top of the page (the folder's name is never used: it may name a patient)")
        form.addRow("Title", self.title)
        row = QHBoxLayout()
        self.window_mode = QComboBox()
        for text, key in WINDOWS:
            self.window_mode.addItem(text, key)
        self.center, self.width = QDoubleSpinBox(), QDoubleSpinBox()
        for spin, value, name in ((self.center, 40.0, "center"), (self.width, 400.0, "width")):
            spin.setRange(-100000, 100000)
            spin.setValue(value)
            spin.setPrefix(f"{name} ")
        self.width.setMinimum(1)
        self.window_mode.currentIndexChanged.connect(self._window_mode_changed)
        row.addWidget(self.window_mode, 1)
        row.addWidget(self.center)
        row.addWidget(self.width)
        form.addRow("DICOM window", row)
        self.labels = QLineEdit()
        self.labels.setPlaceholderText("the labels of the cases' boxes")
        self.labels.setToolTip("Comma-separated; add labels that are not on these films as distractors. A box "
                               "whose label is not listed here can only be missed.")
        form.addRow("Labels to mark", self.labels)
        lay.addLayout(form)
        row = QHBoxLayout()
        self.quiz = QCheckBox("Quiz: the learner marks boxes and picks a diagnosis, then sees the score")
        self.quiz.setChecked(True)
        self.zip = QCheckBox("Also a .zip")
        self.zip.setToolTip("A .zip of the set beside its folder, to send or hand out")
        self.zip.setChecked(True)
        row.addWidget(self.quiz, 1)
        row.addWidget(self.zip)
        lay.addLayout(row)

        head = QHBoxLayout()
        self.cases_label = QLabel("Cases")
        self.cases_label.setWordWrap(True)
        self.all_button, self.none_button = QPushButton("All"), QPushButton("None")
        self.all_button.clicked.connect(lambda: self._check_all(self.cases, True))
        self.none_button.clicked.connect(lambda: self._check_all(self.cases, False))
        head.addWidget(self.cases_label, 1)
        head.addWidget(self.all_button)
        head.addWidget(self.none_button)
        lay.addLayout(head)
        self.cases = QListWidget()
        self.cases.itemChanged.connect(lambda _item: self._count())
        lay.addWidget(self.cases)

        head = QHBoxLayout()
        self.burned_label = QLabel("")
        self.burned_label.setWordWrap(True)
        self.burned_label.setTextFormat(Qt.TextFormat.RichText)
        self.leave_all = QPushButton("Leave all out")
        self.leave_all.setToolTip("Tick every image listed here: none of them goes into the set")
        self.leave_all.clicked.connect(lambda: self._check_all(self.burned, True))
        self.leave_all.hide()
        head.addWidget(self.burned_label, 1)
        head.addWidget(self.leave_all, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(head)
        self.burned = QListWidget()
        self.burned.hide()
        lay.addWidget(self.burned)
        self._window_mode_changed()

    # -- filling ----------------------------------------------------------------------------------
    def load(self, store) -> None:
        """The case list from the window's store, then the burned-in check in the background."""
        self.cases.clear()
        choices = case_choices(store) if store is not None else []
        for case_id, text in choices:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, case_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.cases.addItem(item)
        _rows(self.cases, 5)
        has_cases = bool(choices)
        for w in (self.cases, self.all_button, self.none_button):
            w.setVisible(has_cases)
        if has_cases:
            self._count()
        else:
            self.cases_label.setText("This folder has no teaching cases yet: each of its images becomes a case "
                                     "of the set (make cases in the Cases dock to choose them and add their text).")
        self._scan()

    def _count(self) -> None:
        n = sum(self.cases.item(i).checkState() == Qt.CheckState.Checked for i in range(self.cases.count()))
        self.cases_label.setText(f"Cases: {n} of {self.cases.count()} chosen")

    def _scan(self) -> None:
        from desktop.core.store import open_store

        folder = self.dialog.folder
        self.burned_label.setText("Checking the images for burned-in text…")
        self.burned.clear()
        self.burned.hide()
        self.leave_all.hide()

        def run(ctx):
            with open_store(folder) as store:
                return burned_in_images(store)

        self.scan_job = self.dialog.jobs.submit(run, name="Check for burned-in text", device=None, heavy=False)
        self.scan_job.result.connect(self._scanned)
        self.scan_job.error.connect(lambda text, _d: self.burned_label.setText(f"Could not check: {text}"))

    def _scanned(self, flagged) -> None:
        self.flagged = list(flagged)
        self.burned.clear()
        if not self.flagged:
            self.burned_label.setText("No image says it has burned-in text (Loupe reads the DICOM header; it "
                                      "cannot read text in the pixels).")
            return
        self.burned_label.setText(
            f"<span style='color:#b07d00'>⚠ {len(self.flagged)} image(s) may show the patient's name or ID in "
            "their pixels (burned-in text).</span> Tick the ones to leave out:")
        seen = set()
        for b in self.flagged:
            if b.rel_path in seen:
                continue
            seen.add(b.rel_path)
            item = QListWidgetItem(b.line())
            item.setToolTip(b.reason)
            item.setData(Qt.ItemDataRole.UserRole, b.rel_path)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.burned.addItem(item)
        _rows(self.burned, 3)
        self.burned.show()
        self.leave_all.show()

    @staticmethod
    def _check_all(widget: QListWidget, on: bool) -> None:
        state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        for i in range(widget.count()):
            widget.item(i).setCheckState(state)

    def _window_mode_changed(self) -> None:
        custom = self.window_mode.currentData() == "custom"
        self.center.setVisible(custom)
        self.width.setVisible(custom)

    # -- reading ----------------------------------------------------------------------------------
    def case_ids(self) -> list[int] | None:
        """The chosen cases; None for all of them (or when the folder has none)."""
        items = [self.cases.item(i) for i in range(self.cases.count())]
        chosen = [it.data(Qt.ItemDataRole.UserRole) for it in items if it.checkState() == Qt.CheckState.Checked]
        return None if len(chosen) == len(items) else chosen

    def leave_out(self) -> set[str]:
        return {self.burned.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.burned.count())
                if self.burned.item(i).checkState() == Qt.CheckState.Checked}

    def window(self):
        key = self.window_mode.currentData()
        if key == "custom":
            return (self.center.value(), self.width.value())
        return key

    def problem(self) -> str | None:
        """Why the export cannot start, in the dialog's words (None when it can)."""
        if self.cases.count() and self.case_ids() == []:
            return "Tick at least one case to export."
        return None

    def options(self, keep_paths: bool) -> dict:
        return {"case_ids": self.case_ids(), "window": self.window(), "leave_out": self.leave_out(),
                "keep_paths": keep_paths, "zip_file": self.zip.isChecked(), "title": self.title.text(),
                "quiz": self.quiz.isChecked(), "labels": self.chosen_labels()}

    def chosen_labels(self) -> list[str] | None:
        names = [n.strip() for n in self.labels.text().split(",") if n.strip()]
        return names or None
