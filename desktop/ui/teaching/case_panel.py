"""The Cases dock (teaching cases): the folder's cases (search by keyword, diagnosis or any text), the
selected case's fields, and the ways into a quiz, a presentation and the results.

`window.teaching` is this panel: `.book` (a desktop.core.teaching.CaseBook or None), `.store`,
`.selected_ids()`, `.visible_ids()`, `.select_case(id)`, `.new_case(patient=False)`."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.teaching.case_form import CaseForm
from desktop.ui.teaching.case_list import CaseListModel
from desktop.ui.teaching.commands import CreateCase, DeleteCase, SetCaseField, SetCaseImages

MIN_WIDTH = 300
SCOPES = (("All text", None), ("Keywords", ("keywords",)), ("Diagnosis", ("diagnosis",)),
          ("Keywords or diagnosis", ("keywords", "diagnosis")))


class CasePanel(QWidget):
    def __init__(self, window, undo_stack):
        super().__init__(window)
        self.window = window
        self.undo_stack = undo_stack
        self.store = None
        self.book = None
        self._current: int | None = None
        self._matching: list[int] = []
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self.refresh_list)

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search cases…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self.refresh_list)
        self.scope = QComboBox(self)
        for text, fields in SCOPES:
            self.scope.addItem(text, fields)
        self.scope.setToolTip("Where to search")
        self.scope.currentIndexChanged.connect(lambda _i: self.refresh_list())
        self.new_button = QToolButton(self)
        self.new_button.setText("New Case")
        self.new_button.setPopupMode(QToolButton.MenuButtonPopup)
        self.new_button.setToolButtonStyle(Qt.ToolButtonTextOnly)
        menu = QMenu(self.new_button)
        menu.addAction("From This Image", lambda: self.new_case(patient=False))
        menu.addAction("From This Patient's Images", lambda: self.new_case(patient=True))
        self.new_button.setMenu(menu)
        self.new_button.clicked.connect(lambda: self.new_case(patient=False))
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.clicked.connect(self.delete_selected)

        self.list_model = CaseListModel(self)
        self.list = QListView(self)
        self.list.setModel(self.list_model)
        self.list.setSelectionMode(QListView.ExtendedSelection)
        self.list.setUniformItemSizes(True)
        self.list.setEditTriggers(QListView.NoEditTriggers)
        self.list.selectionModel().currentChanged.connect(self._current_changed)
        self.list.activated.connect(lambda _index: self.show_first_image())
        self._filling = False
        self.empty = QLabel(self)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignCenter)
        self.empty.setMargin(12)
        self.list_stack = QStackedWidget(self)
        self.list_stack.addWidget(self.list)
        self.list_stack.addWidget(self.empty)
        self.count = QLabel(self)

        self.form = CaseForm(self)
        self.form.edited.connect(self._field_edited)
        self.form.insert_caption.connect(self.insert_caption)
        self.form.add_image.connect(self.add_shown_image)
        self.form.remove_image.connect(self.remove_shown_image)
        form_area = QScrollArea(self)
        form_area.setWidgetResizable(True)
        form_area.setFrameShape(QScrollArea.NoFrame)
        form_area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        form_area.setWidget(self.form)

        self.quiz_button = QPushButton("Quiz…", self)
        self.quiz_button.setToolTip("Start a quiz on the selected, found or all cases")
        self.present_button = QPushButton("Present…", self)
        self.present_button.setToolTip("Show the cases full screen, revealing the findings step by step (F5)")
        self.results_button = QPushButton("Results…", self)
        self.results_button.setToolTip("Quiz results per case and per finding; export as CSV")

        top = QWidget(self)
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.search, 1)
        row.addWidget(self.scope)
        tl.addLayout(row)
        tl.addWidget(self.list_stack, 1)
        row = QHBoxLayout()
        row.addWidget(self.count, 1)
        row.addWidget(self.new_button)
        row.addWidget(self.delete_button)
        tl.addLayout(row)
        self.splitter = QSplitter(Qt.Vertical, self)
        self.splitter.addWidget(top)
        self.splitter.addWidget(form_area)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.splitter, 1)
        row = QHBoxLayout()
        row.addWidget(self.quiz_button)
        row.addWidget(self.present_button)
        row.addWidget(self.results_button)
        lay.addLayout(row)
        top.setMinimumHeight(140)
        form_area.setMinimumHeight(120)
        self.set_store(None)

    def minimumSizeHint(self):
        """Wide enough for the form's fields (the first start's layout sizes the right side by
        its docks' needs)."""
        hint = super().minimumSizeHint()
        hint.setWidth(max(hint.width(), MIN_WIDTH))
        return hint

    # -- the store -------------------------------------------------------------------------------
    def set_store(self, store) -> None:
        from desktop.core.teaching import CaseBook

        self.store = store
        self.book = CaseBook(store) if store is not None else None
        self._current = None
        self.refresh_list()

    def read_only(self) -> bool:
        return self.store is not None and self.store.read_only

    # -- the list ----------------------------------------------------------------------------------
    def refresh_list(self, select: int | None = None) -> None:
        keep = select if select is not None else self._current
        enabled = self.book is not None
        for w in (self.search, self.scope, self.new_button, self.quiz_button, self.present_button,
                  self.results_button):
            w.setEnabled(enabled)
        if self.book is None:
            self._set_rows([])
            self._empty("Open a folder to write teaching cases about its images.")
            self.count.setText("")
            self._show(None)
            return
        from models.errors import LoupeError

        try:
            total = self.book.count()
            query = self.search.text().strip()
            ids = self.book.search(query, self.scope.currentData()) if query else None
            rows = self.book.rows(ids)
        except LoupeError as exc:
            self.window.notify("The teaching cases cannot be read", details=str(exc), level="error")
            return
        self._set_rows(rows)
        self.delete_button.setEnabled(bool(rows) and not self.read_only())
        self.new_button.setEnabled(not self.read_only())
        self.quiz_button.setEnabled(total > 0)
        self.present_button.setEnabled(total > 0)
        if total == 0:
            self._empty("No teaching cases yet. Show a film, then press New Case to write its history, "
                        "findings and diagnosis.")
            self.count.setText("")
        elif not rows:
            self._empty(f"No case matches “{query}”. Try fewer words, or search All text.")
            self.count.setText(f"0 of {total} cases")
        else:
            self.list_stack.setCurrentWidget(self.list)
            self.count.setText(f"{len(rows)} of {total} cases" if query else f"{total} case{'s' if total != 1 else ''}")
        row = self.list_model.row_of(keep) if keep in self._matching else (0 if rows else None)
        if row is not None:
            self._set_current_row(row, quiet=False)  # shows the case
        else:
            self._show(None)

    def _set_rows(self, rows) -> None:
        self._filling = True
        try:
            self.list_model.set_rows(rows)
        finally:
            self._filling = False
        self._matching = self.list_model.ids()

    def _set_current_row(self, row: int, quiet: bool) -> None:
        """Make `row` current; `quiet`: without showing it (the caller does)."""
        was, self._filling = self._filling, True
        try:
            index = self.list_model.index(row)
            self.list.setCurrentIndex(index)
            self.list.scrollTo(index)
        finally:
            self._filling = was
        if not quiet:
            self._current_changed(self.list_model.index(row), None)

    def _empty(self, text: str) -> None:
        self.empty.setText(text)
        self.list_stack.setCurrentWidget(self.empty)

    def _current_changed(self, index, _previous) -> None:
        if self._filling:
            return
        case_id = index.data(Qt.UserRole) if index is not None and index.isValid() else None
        moved = case_id != self._current
        self._show(case_id)
        if case_id is not None and moved:  # a refresh of the same case never moves the viewer
            self.show_first_image(only_if_elsewhere=True)

    def _show(self, case_id: int | None) -> None:
        self._current = case_id
        if case_id is None or self.book is None:
            self.form.show_case(None)
            return
        case = self.book.case(case_id)
        names = [p.name for p in self.book.image_paths(case_id)]
        self.form.show_case(case, names, read_only=self.read_only())

    def cases_changed(self, select: int | None = None) -> None:
        """A command created, deleted or restored a case."""
        if select is not None and select not in self._matching and self.search.text():
            self.search.blockSignals(True)
            self.search.clear()  # the case must be seen
            self.search.blockSignals(False)
        self.refresh_list(select=select)

    def select_case(self, case_id: int) -> None:
        if case_id not in self._matching:
            self.search.clear()
            self.refresh_list(select=case_id)
        elif self._current != case_id:
            self._set_current_row(self.list_model.row_of(case_id), quiet=False)

    def current_id(self) -> int | None:
        return self._current

    def selected_ids(self) -> list[int]:
        return [i.data(Qt.UserRole) for i in sorted(self.list.selectionModel().selectedRows(), key=lambda i: i.row())]

    def visible_ids(self) -> list[int]:
        return list(self._matching)

    def show_first_image(self, only_if_elsewhere: bool = False) -> None:
        """Show the case's first image in the viewer (unless one of its images is shown)."""
        if self._current is None or self.book is None:
            return
        paths = [str(p) for p in self.book.image_paths(self._current)]
        current = self.window.current_path()
        if only_if_elsewhere and current in paths:
            return
        existing = [p for p in paths if os.path.exists(p)]
        if existing:
            self.window.show_image(existing[0])
        elif paths:
            self.window.notify(f"The images of this case are missing from {self.store.folder}",
                               details="\n".join(paths), level="warning")

    def follow_image(self, path: str) -> None:
        """The viewer moved to `path`: select its case when the selected one is elsewhere."""
        if self.book is None or not path or self.store is None:
            return
        rel = os.path.relpath(path, self.store.folder)
        image_id = self.store.image_id(rel) if not rel.startswith("..") else None
        if image_id is None:
            return
        cases = self.book.cases_of_image(image_id)
        if cases and self._current not in cases:
            for case_id in cases:
                if case_id in self._matching:
                    self._set_current_row(self.list_model.row_of(case_id), quiet=True)
                    self._show(case_id)
                    return

    # -- edits ---------------------------------------------------------------------------------------
    def _refuse_read_only(self) -> bool:
        if self.read_only():
            self.window.notify("This folder is read-only: teaching cases cannot be changed. Edit a Copy… in the "
                               "status bar keeps edits in a copy", level="warning")
            return True
        return False

    def new_case(self, patient: bool = False) -> None:
        from desktop.core.store import StoreReadOnlyError
        from models.errors import LoupeError

        if self.book is None or self._refuse_read_only():
            return
        path = self.window.current_path()
        if not path:
            self.window.notify("Show a film first: a new case is made from the image on screen")
            return
        paths = [path]
        if patient:
            from desktop.core.teaching.groups import patient_group

            paths = patient_group(path, self.window.image_paths())
        try:
            ids = self._image_ids(paths)
            case_id = self.book.create(ids)
        except StoreReadOnlyError:
            self._refuse_read_only()
            return
        except LoupeError as exc:
            self.window.notify("The case could not be created", details=str(exc), level="error")
            return
        text = f"New case from {len(ids)} images" if len(ids) > 1 else "New case"
        self.undo_stack.push(CreateCase(self, case_id, text))
        self.form.editors["history"].setFocus()
        if patient and len(ids) == 1:
            self.window.notify("No other image of this patient was found in its folder: the case has this image")

    def _image_ids(self, paths: list[str]) -> list[int]:
        from desktop.core.imaging import read_image

        ids = []
        for p in paths:
            rel = os.path.relpath(p, self.store.folder)
            image_id = self.store.image_id(rel)
            if image_id is None:  # an image of the group never shown yet: its size from the file
                image = self.window.current_image() if p == self.window.current_path() else read_image(p)
                h, w = image.pixels.shape[:2]
                image_id = self.store.ensure_image(rel, w, h)
            ids.append(image_id)
        return ids

    def add_shown_image(self) -> None:
        """Add the film on screen to the selected case (one undo step)."""
        self._change_images(add=True)

    def remove_shown_image(self) -> None:
        """Take the film on screen out of the selected case (a case keeps at least one)."""
        self._change_images(add=False)

    def _change_images(self, add: bool) -> None:
        from models.errors import LoupeError

        if self.book is None or self._current is None or self._refuse_read_only():
            if self.book is not None and self._current is None:
                self.window.notify("Select a case first, in the Cases dock")
            return
        path = self.window.current_path()
        if not path:
            self.window.notify("Show a film first")
            return
        case = self.book.case(self._current)
        try:
            (image_id,) = self._image_ids([path])
        except LoupeError as exc:
            self.window.notify("The film could not be added to the case", details=str(exc), level="error")
            return
        before = list(case.image_ids)
        name = os.path.basename(path)
        if add:
            if image_id in before:
                self.window.notify(f"{name} is already in this case")
                return
            after, text = before + [image_id], f"Add {name} to the case"
        else:
            if image_id not in before:
                self.window.notify(f"{name} is not in this case")
                return
            if len(before) == 1:
                self.window.notify("A case keeps at least one film: delete the case instead")
                return
            after, text = [i for i in before if i != image_id], f"Remove {name} from the case"
        self.undo_stack.push(SetCaseImages(self, case.id, before, after, text))

    def write_images(self, case_id: int, image_ids: list[int]) -> None:
        """What the undo command runs."""
        self.book.set_images(case_id, image_ids)
        if self._current != case_id:
            self.select_case(case_id)
        else:
            self._show(case_id)
        for row in self.book.rows([case_id]):
            self.list_model.replace_row(row)

    def delete_selected(self) -> None:
        if self.book is None or self._refuse_read_only():
            return
        ids = self.selected_ids() or ([self._current] if self._current is not None else [])
        if not ids:
            return
        self.undo_stack.beginMacro(f"Delete {len(ids)} cases") if len(ids) > 1 else None
        try:
            for case_id in ids:
                self.undo_stack.push(DeleteCase(self, case_id, self.book.case(case_id).name()))
        finally:
            if len(ids) > 1:
                self.undo_stack.endMacro()

    def _field_edited(self, field: str, before, after, session: int) -> None:
        if self._current is None:
            return
        if self._refuse_read_only():
            self.form.set_field(field, before)
            return
        from desktop.core.store import StoreError

        try:
            self.undo_stack.push(SetCaseField(self, self._current, field, before, after,
                                              None if session < 0 else session))
        except StoreError as exc:
            self.form.set_field(field, before)
            self.window.notify("The case could not be changed", details=str(exc), level="warning")

    def write_field(self, case_id: int, field: str, value, show: bool) -> None:
        """What an undo command runs: the value to the store, and on screen when `show`."""
        self.book.update(case_id, field, value)
        if show:
            if self._current != case_id:
                self.select_case(case_id)
            self.form.set_field(field, value)
        if field in ("title", "diagnosis", "difficulty", "keywords") and case_id in self._matching:
            for row in self.book.rows([case_id]):
                self.list_model.replace_row(row)

    def insert_caption(self) -> None:
        """The model's caption of the image on screen (else of the case's first captioned image)
        added to the findings as a draft: one undo step."""
        if self._current is None or self._refuse_read_only():
            return
        case = self.book.case(self._current)
        current = self.window.current_path()
        rel = os.path.relpath(current, self.store.folder) if current else None
        current_id = self.store.image_id(rel) if rel else None
        order = ([current_id] if current_id in case.image_ids else []) + list(case.image_ids)
        caption = next((c for c in (self.store.caption(i).strip() for i in order) if c), "")
        if not caption:
            self.window.notify("No model caption for this case's images yet: run the captioner in the Models dock, "
                               "then insert its text here")
            return
        before = self.form.text_of("findings")
        after = (before.rstrip() + "\n\n" if before.strip() else "") + caption
        self.form.set_field("findings", after)
        self.undo_stack.push(SetCaseField(self, self._current, "findings", before, after,
                                          text="Insert model caption into findings"))
        editor = self.form.editors["findings"]
        cursor = editor.textCursor()
        cursor.setPosition(len(after) - len(caption))
        cursor.setPosition(len(after), cursor.MoveMode.KeepAnchor)
        editor.setTextCursor(cursor)  # the draft is selected: type over it or edit it
        editor.setFocus()
        self.window.notify("The model's caption is in the findings as a draft: edit it, or Ctrl+Z takes it out")
