"""The fields of one teaching case, edited in place. Every change goes to the panel as one undo
command per field edit (typing merges until the field loses focus); Ctrl+Z in a field undoes
through the folder's undo stack, not the field's own (so the store and the Edit menu agree)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.core.teaching.cases import DIFFICULTY, LIST_FIELDS
from desktop.ui.guard import guarded

_LINES = {"history": 2, "findings": 4, "differential": 2, "discussion": 3}  # lines at least
_PLACEHOLDERS = {
    "title": "Optional; hidden from learners",
    "history": "Clinical history given to the learner, e.g. 58-year-old smoker, haemoptysis",
    "findings": "What the film shows",
    "diagnosis": "The answer a quiz scores against",
    "differential": "One per line",
    "keywords": "Comma separated, e.g. chest, CT, emergency",
    "discussion": "Teaching points",
}


class _FieldKeys(QObject):
    """Undo/redo keys in a field go to the window's Edit ▸ Undo (not the field's own undo); focus
    in starts a new typing run (a new undo step)."""

    def __init__(self, form, field: str):
        super().__init__(form)
        self.form, self.field = form, field

    @guarded("the teaching case form's keys", False)
    def eventFilter(self, obj, event) -> bool:
        t = event.type()
        if t == QEvent.ShortcutOverride and (
                event.matches(QKeySequence.Undo) or event.matches(QKeySequence.Redo)
                or (event.key() == Qt.Key_Y and event.modifiers() == Qt.ControlModifier)):
            event.ignore()
            return True  # not taken by the field: the window's shortcut runs
        if t in (QEvent.FocusIn, QEvent.FocusOut):
            self.form.new_session()
        return False


def _fit_height(editor: QPlainTextEdit, least: int, most: int = 12) -> None:
    """A text field as tall as its wrapped text (at least `least` lines, at most `most`), so a
    case's text reads without a scroll bar inside the form's own scroll area."""
    lines, block = 0, editor.document().firstBlock()
    while block.isValid():
        layout = block.layout()
        lines += max(layout.lineCount() if layout is not None else 1, 1)
        block = block.next()
    lines = min(max(lines, least), most)
    margins = editor.contentsMargins()
    height = int(editor.fontMetrics().lineSpacing() * lines + 2 * editor.document().documentMargin()
                 + margins.top() + margins.bottom() + 2)
    if editor.height() != height:
        editor.setFixedHeight(height)


class CaseForm(QWidget):
    edited = Signal(str, object, object, int)  # field, before (as shown), after, typing session
    insert_caption = Signal()
    add_image = Signal()
    remove_image = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.editors: dict[str, QWidget] = {}
        self._shown: dict[str, object] = {}
        self._session = 0
        self._case_id: int | None = None  # the case shown
        self._quiet = False
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.WrapLongRows)
        self.images = QLabel(self)
        self.images.setWordWrap(True)
        self.images.setTextInteractionFlags(Qt.TextSelectableByMouse)
        images = QVBoxLayout()
        images.setContentsMargins(0, 0, 0, 0)
        images.addWidget(self.images)
        row = QHBoxLayout()
        self.add_image_button = QPushButton("Add Shown Film", self)
        self.add_image_button.setToolTip("Add the film on screen to this case (a patient's other views or visits)")
        self.add_image_button.clicked.connect(self.add_image)
        self.remove_image_button = QPushButton("Remove It", self)
        self.remove_image_button.setToolTip("Take the film on screen out of this case")
        self.remove_image_button.clicked.connect(self.remove_image)
        row.addWidget(self.add_image_button)
        row.addWidget(self.remove_image_button)
        row.addStretch(1)
        images.addLayout(row)
        form.addRow("Images", images)
        for field in ("title", "history", "findings", "diagnosis", "differential", "keywords", "discussion"):
            editor = self._make_editor(field)
            label = {"differential": "Differential", "keywords": "Keywords"}.get(field, field.capitalize())
            if field == "findings":
                box = QVBoxLayout()
                box.setContentsMargins(0, 0, 0, 0)
                box.addWidget(editor)
                self.caption_button = QPushButton("Insert Model Caption", self)
                self.caption_button.setToolTip("Add the captioner's text for this image to the findings as a draft")
                self.caption_button.clicked.connect(self.insert_caption)
                row = QHBoxLayout()
                row.addWidget(self.caption_button)
                row.addStretch(1)
                box.addLayout(row)
                form.addRow(label, box)
            else:
                form.addRow(label, editor)
        self.difficulty = QComboBox(self)
        self.difficulty.addItem("Not set", None)
        for level, name in DIFFICULTY.items():
            self.difficulty.addItem(f"{level} — {name}", level)
        self.difficulty.currentIndexChanged.connect(self._difficulty_changed)
        self.editors["difficulty"] = self.difficulty
        form.addRow("Difficulty", self.difficulty)
        self.setLayout(form)
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)
        self._refit.timeout.connect(self.refit)
        self.show_case(None)
        self.refit()

    def _refit_later(self) -> None:
        self._refit.start()  # once the text is laid out at its width

    def refit(self) -> None:
        for field, lines in _LINES.items():
            _fit_height(self.editors[field], lines)

    @guarded("laying out the teaching case form")
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._refit_later()

    def _make_editor(self, field: str) -> QWidget:
        if field in _LINES:
            editor = QPlainTextEdit(self)
            editor.setUndoRedoEnabled(False)  # undo is the folder's undo stack
            editor.setTabChangesFocus(True)
            editor.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
            editor.setVerticalScrollBarPolicy(Qt.ScrollBarAsNeeded)
            editor.textChanged.connect(lambda f=field: self._text_changed(f))
            editor.textChanged.connect(self._refit_later)
        else:
            editor = QLineEdit(self)
            editor.textEdited.connect(lambda _t, f=field: self._text_changed(f))
        editor.setPlaceholderText(_PLACEHOLDERS.get(field, ""))
        editor.installEventFilter(_FieldKeys(self, field))
        editor.setObjectName(f"case_{field}")
        self.editors[field] = editor
        return editor

    # -- showing -------------------------------------------------------------------------------
    def show_case(self, case, image_names: list[str] | None = None, read_only: bool = False) -> None:
        """Show `case` (None: no case). The case already shown again (a refresh after another
        window saved): only what changed is replaced, the typing run goes on (the next keystroke
        still joins the same undo step) and a focused field keeps its cursor."""
        refresh = case is not None and case.id == self._case_id
        self._case_id = None if case is None else case.id
        self._quiet = True
        try:
            for field, editor in self.editors.items():
                value = None if case is None else case.value(field)
                self.set_field(field, value, keep_cursor=refresh)
                editor.setEnabled(case is not None)
                if hasattr(editor, "setReadOnly"):
                    editor.setReadOnly(read_only)
            for button in (self.caption_button, self.add_image_button, self.remove_image_button):
                button.setEnabled(case is not None and not read_only)
            names = image_names or []
            if case is None:
                self.images.setText("")
            else:
                shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
                self.images.setText(f"{len(names)} image{'s' if len(names) != 1 else ''}: {shown}")
        finally:
            self._quiet = False
        if not refresh:
            self.new_session()

    def set_field(self, field: str, value, keep_cursor: bool = False) -> None:
        """Show `value` (a stored value, or the raw text a command kept) without making an edit.
        `keep_cursor`: a focused field whose text changes keeps its cursor where it was (or at
        the end of a shorter text)."""
        editor = self.editors[field]
        was, self._quiet = self._quiet, True
        try:
            if field == "difficulty":
                index = self.difficulty.findData(value)
                self.difficulty.setCurrentIndex(max(index, 0))
                self._shown[field] = self.difficulty.currentData()
                return
            if field in LIST_FIELDS and not isinstance(value, str):
                sep = "\n" if field == "differential" else ", "
                value = sep.join(value or ())
            text = str(value or "")
            if self.text_of(field) != text:
                plain = isinstance(editor, QPlainTextEdit)
                cursor = (editor.textCursor().position() if plain else editor.cursorPosition()) \
                    if keep_cursor and editor.hasFocus() else None
                if plain:
                    editor.setPlainText(text)
                else:
                    editor.setText(text)
                if cursor is not None:
                    if plain:
                        moved = editor.textCursor()
                        moved.setPosition(min(cursor, editor.document().characterCount() - 1))
                        editor.setTextCursor(moved)
                    else:
                        editor.setCursorPosition(cursor)  # Qt stops it at the end
            self._shown[field] = text
        finally:
            self._quiet = was

    def text_of(self, field: str):
        editor = self.editors[field]
        if field == "difficulty":
            return self.difficulty.currentData()
        return editor.toPlainText() if isinstance(editor, QPlainTextEdit) else editor.text()

    def new_session(self) -> None:
        self._session += 1

    # -- edits ---------------------------------------------------------------------------------
    def _text_changed(self, field: str) -> None:
        if self._quiet:
            return
        before, after = self._shown.get(field, ""), self.text_of(field)
        if before == after:
            return
        self._shown[field] = after
        self.edited.emit(field, before, after, self._session)

    def _difficulty_changed(self, _index: int) -> None:
        if self._quiet:
            return
        before, after = self._shown.get("difficulty"), self.difficulty.currentData()
        self._shown["difficulty"] = after
        self.new_session()
        self.edited.emit("difficulty", before, after, -1)
