"""Presentation mode, for teaching in a room: the cases full screen on black, no docks or menus,
the findings revealed step by step (the film with its history, then the boxes, then their labels,
then the text). A presenter's clicker sends PageDown/PageUp, which step like Space and Backspace."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from desktop.ui.guard import guarded
from desktop.ui.teaching.film_view import EXPERT, FilmView, educator_window_of
from desktop.ui.teaching.window_keys import window_action

STEPS = ("film", "boxes", "labels", "text")
KEYS = [  # (what it does, keys) in presentation mode; the Help sheet lists them too
    ("Reveal the next step (boxes, labels, text), then the next case", "Space, Right, PgDown, Return"),
    ("Back one step", "Left, PgUp, Backspace"), ("Next / previous image of the case", "Down, Up"),
    ("Next / previous case", "N, P"), ("First case", "Home"), ("Black screen (press again to come back)", "B"),
    ("Leave presentation mode", "Esc"),
]


class PresentationWindow(QWidget):
    step_changed = Signal(int, int)  # case index, step

    def __init__(self, main_window, store, case_ids: list[int], start: int = 0, parent=None):
        super().__init__(parent or main_window, Qt.Window)
        from desktop.core.teaching import CaseBook

        self.setWindowTitle("Presentation — Loupe")
        self.main_window = main_window
        self.store, self.book = store, CaseBook(store)
        self.case_ids = list(case_ids)
        self.colors = {c.name: c.color for c in store.categories()}
        pal = self.palette()
        pal.setColor(QPalette.Window, QColor("black"))
        pal.setColor(QPalette.WindowText, QColor("#e8e8e8"))
        self.setPalette(pal)
        self.setAutoFillBackground(True)
        self.setStyleSheet("QLabel { color: #e8e8e8; background: transparent; }")
        self.view = FilmView(self, background="black", educator_window=educator_window_of(main_window))
        self.view.canvas.setFocusPolicy(Qt.NoFocus)  # every key goes to the presentation
        self.view.canvas.setFrameShape(QScrollArea.NoFrame)
        self.caption = QLabel(self)
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("font-size: 22px; padding: 8px 24px;")
        self.counter = QLabel(self)
        self.counter.setStyleSheet("color: #808080; font-size: 14px; padding: 4px 12px;")
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.RichText)
        self.text.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.text.setStyleSheet("font-size: 22px; padding: 24px;")
        self.text_area = QScrollArea(self)
        self.text_area.setWidgetResizable(True)
        self.text_area.setFrameShape(QScrollArea.NoFrame)
        self.text_area.setStyleSheet("QScrollArea, QScrollArea > QWidget > QWidget { background: black; }")
        self.text_area.setWidget(self.text)
        self.text_area.hide()
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(0)
        left.addWidget(self.view, 1)
        left.addWidget(self.caption)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(0)
        top.addLayout(left, 3)
        top.addWidget(self.text_area, 2)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addLayout(top, 1)
        outer.addWidget(self.counter, 0, Qt.AlignRight)
        self._keys()
        self.setCursor(Qt.BlankCursor)  # no pointer on the projected film; it comes back when moved
        self.view.canvas.viewport().setCursor(Qt.BlankCursor)
        self.setMouseTracking(True)
        self.view.canvas.viewport().installEventFilter(self)
        self.index, self.step, self.image_index = -1, 0, 0
        self.show_case(max(0, min(start, len(self.case_ids) - 1)))

    def _keys(self) -> None:
        def add(keys, slot, text):
            return window_action(self, keys, slot, text)

        self.forward = add(["Space", "Right", "PgDown", "Return", "Enter"], self.next_step, "Next step")
        self.back = add(["Left", "PgUp", "Backspace"], self.previous_step, "Previous step")
        add(["Down"], lambda: self.show_image(self.image_index + 1), "Next image")
        add(["Up"], lambda: self.show_image(self.image_index - 1), "Previous image")
        add(["N"], lambda: self.show_case(self.index + 1), "Next case")
        add(["P"], lambda: self.show_case(self.index - 1), "Previous case")
        add(["Home"], lambda: self.show_case(0), "First case")
        self.blank_action = add(["B", "."], self.toggle_blank, "Black screen")
        self.leave = add(["Esc"], self.close, "Leave presentation mode")

    # -- steps -----------------------------------------------------------------------------------
    def show_case(self, index: int, step: int = 0) -> None:
        if not self.case_ids or not 0 <= index < len(self.case_ids):
            return
        self.index, self.step = index, step
        self.case = self.book.case(self.case_ids[index])
        self.paths = [str(p) for p in self.book.image_paths(self.case.id)]
        self.marks = self.book.expert_marks(self.case.id)
        self.image_index = -1
        self.show_image(0)

    def show_image(self, index: int) -> None:
        if not 0 <= index < max(len(self.paths), 1) or index == self.image_index:
            return
        self.image_index = index
        self.view.load(self.paths[index] if self.paths else None, getattr(self.main_window, "cache", None))
        self._apply()

    def next_step(self) -> None:
        if self.step < len(STEPS) - 1:
            self.step += 1
            self._apply()
        elif self.index + 1 < len(self.case_ids):
            self.show_case(self.index + 1)

    def previous_step(self) -> None:
        if self.step > 0:
            self.step -= 1
            self._apply()
        elif self.index > 0:
            self.show_case(self.index - 1, step=len(STEPS) - 1)

    def _apply(self) -> None:
        """Draw what the step reveals."""
        self.view.expert.clear()
        image_id = self.case.image_ids[self.image_index] if self.image_index < len(self.case.image_ids) else None
        if self.step >= 1:
            for m in self.marks:
                if m.image == image_id:
                    color = self.colors.get(m.label, EXPERT)
                    self.view.add_outline((m.x, m.y, m.w, m.h), color, m.label if self.step >= 2 else None,
                                          width=3.0, pixel_size=18)
        history = self.case.history.strip()
        self.caption.setText(html.escape(history) if history else "")
        self.caption.setVisible(bool(history))
        showing_text = self.step >= 3
        if showing_text:
            self.text.setText(_text_html(self.case))
        if showing_text != self.text_area.isVisible():
            self.text_area.setVisible(showing_text)
            self.view.canvas.fit()
        n_images = len(self.paths)
        where = f"Case {self.index + 1} of {len(self.case_ids)}"
        burned = (self.view.image.meta or {}).get("Burned-in text") if self.view.image is not None else None
        if burned:
            where = "⚠ the pixels may show the patient's name · " + where
        if n_images > 1:
            where += f" · image {self.image_index + 1} of {n_images} (Down/Up)"
        if not self.marks and self.step in (1, 2):
            where += " · this case has no boxes"
        where += f" · {_STEP_NAMES[self.step]} · Space: next, Esc: leave"
        self.counter.setText(where)
        self.step_changed.emit(self.index, self.step)

    @guarded("the presentation's mouse pointer", False)
    def eventFilter(self, obj, event) -> bool:
        from PySide6.QtCore import QEvent

        if event.type() == QEvent.MouseMove:
            self.view.canvas.viewport().setCursor(Qt.ArrowCursor)
        return False

    def toggle_blank(self) -> None:
        """A black screen while the room talks (B or ., as slide shows do); again to come back."""
        blank = self.view.isVisible()
        for w in (self.view, self.counter):
            w.setVisible(not blank)
        self.caption.setVisible(not blank and bool(self.caption.text()))
        self.text_area.setVisible(not blank and self.step >= 3)
        if not blank:
            self.view.canvas.fit()

    @guarded("laying out the presentation")
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.view.canvas.fit()


_STEP_NAMES = ("film", "boxes", "boxes and labels", "findings and diagnosis")


def _text_html(case) -> str:
    parts = []
    for title, value in (("Findings", case.findings), ("Diagnosis", case.diagnosis),
                         ("Differential", "; ".join(case.differential)), ("Discussion", case.discussion)):
        if value and value.strip():
            body = html.escape(value.strip()).replace("\n", "<br>")
            parts.append(f"<p style='margin:0 0 18px 0'><span style='color:#9ecbff'>{title}</span><br>{body}</p>")
    return "".join(parts) or "<p><i>No findings were written for this case.</i></p>"


def present(main_window, store, case_ids: list[int], start: int = 0, full_screen: bool = True) -> PresentationWindow:
    window = PresentationWindow(main_window, store, case_ids, start)
    if full_screen:
        screen = main_window.screen() if main_window is not None else None
        if screen is not None:  # without a window manager (a bare X server) full screen is this geometry
            window.setGeometry(screen.geometry())
        window.showFullScreen()
    else:
        window.show()
    window.activateWindow()
    window.setFocus()
    return window
