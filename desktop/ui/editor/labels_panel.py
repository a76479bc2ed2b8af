"""The label set dock: categories with colour swatch, key 1-9 and order; add, rename, colour, key,
reorder, merge, delete (with an explicit choice for the boxes), and a label set taken from a model
card or preset. Every change is one undoable command on the editor's stack (label_commands).

The public methods take their arguments (tests and other panels call them); the buttons ask the
user with a dialog first."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QFileDialog,
    QGridLayout,
    QInputDialog,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.editor.label_commands import push_category_edit


class LabelsPanel(QWidget):
    def __init__(self, editor, parent=None):
        super().__init__(parent)
        self.editor = editor
        self.list = QListWidget(self)
        self.list.itemDoubleClicked.connect(lambda _item: self.ask_rename())
        self.buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        specs = [("add", "Add…", self.ask_add), ("rename", "Rename…", self.ask_rename),
                 ("color", "Colour…", self.ask_color), ("key", "Key…", self.ask_key),
                 ("up", "Up", lambda: self.move_selected(-1)), ("down", "Down", lambda: self.move_selected(1)),
                 ("merge", "Merge into…", self.ask_merge), ("delete", "Delete…", self.ask_delete)]
        for k, (name, text, slot) in enumerate(specs):
            button = QPushButton(text, self)
            button.clicked.connect(slot)
            self.buttons[name] = button
            grid.addWidget(button, k // 2, k % 2)
        self.from_model = QToolButton(self)
        self.from_model.setText("Label set from a model")
        self.from_model.setPopupMode(QToolButton.InstantPopup)
        self.model_menu = QMenu(self.from_model)
        self.model_menu.aboutToShow.connect(self._fill_model_menu)
        self.from_model.setMenu(self.model_menu)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(grid)
        layout.addWidget(self.from_model)
        editor.store_opened.connect(lambda _s: self.refresh())
        editor.labels_changed.connect(self.refresh)
        editor.boxes_changed.connect(lambda _p: self.refresh())  # a relabel may create a label
        self.refresh()

    # -- the list ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        store = self.editor.store
        keep = self.selected_id()
        cats = store.categories() if store is not None else []
        shown = (store is not None, [(c.id, c.name, c.color, c.key) for c in cats])
        if shown == getattr(self, "_shown", None):
            return
        self._shown = shown
        self.list.clear()
        for c in cats:
            item = QListWidgetItem(_swatch(c.color), f"{c.key if c.key else ' '}   {c.name}")
            item.setData(Qt.UserRole, c.id)
            item.setToolTip(f"{c.name}: colour {c.color}" + (f", key {c.key}" if c.key else ", no key"))
            self.list.addItem(item)
            if c.id == keep:
                self.list.setCurrentItem(item)
        for button in self.buttons.values():
            button.setEnabled(store is not None)

    def selected_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(Qt.UserRole))

    def select(self, category_id: int) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.UserRole) == category_id:
                self.list.setCurrentRow(row)

    # -- edits (each one undoable command, one store transaction) --------------------------------------
    def add(self, name: str, color: str | None = None, key: int | None = None) -> int | None:
        cid = push_category_edit(self.editor, f"Add label {name}", lambda s: s.add_category(name, color, key))
        if cid is not None:
            self.select(cid)
        return cid

    def rename(self, category_id: int, new_name: str) -> None:
        old = self._name(category_id)
        push_category_edit(self.editor, f"Rename label {old} to {new_name}",
                           lambda s: s.rename_category(category_id, new_name))

    def set_color(self, category_id: int, color: str) -> None:
        push_category_edit(self.editor, f"Colour of label {self._name(category_id)}",
                           lambda s: s.set_category(category_id, color=color))

    def set_key(self, category_id: int, key: int) -> None:
        push_category_edit(self.editor, f"Key {key} for label {self._name(category_id)}",
                           lambda s: s.set_category(category_id, key=key))

    def move(self, category_id: int, step: int) -> None:
        ids = [c.id for c in self.editor.store.categories()]
        k = ids.index(category_id)
        j = max(0, min(len(ids) - 1, k + step))
        if j == k:
            return
        ids.insert(j, ids.pop(k))
        push_category_edit(self.editor, f"Move label {self._name(category_id)}",
                           lambda s: s.reorder_categories(ids))
        self.select(category_id)

    def merge(self, category_id: int, into_id: int) -> None:
        push_category_edit(self.editor, f"Merge label {self._name(category_id)} into {self._name(into_id)}",
                           lambda s: s.merge_categories(category_id, into_id), (category_id, into_id))

    def delete(self, category_id: int, policy: str = "refuse", into_id: int | None = None) -> None:
        """policy: "refuse" (only when it has no boxes), "delete_boxes" or "reassign" (to `into_id`)."""
        affected = (category_id,) if into_id is None else (category_id, into_id)
        push_category_edit(self.editor, f"Delete label {self._name(category_id)}",
                           lambda s: s.delete_category(category_id, policy, into_id), affected)

    def load_label_set(self, names, source: str = "a model") -> None:
        push_category_edit(self.editor, f"Label set of {source}", lambda s: s.set_label_set(list(names)))

    def load_card(self, path) -> None:
        from models.errors import LoupeError
        from models.registry import load_card

        try:
            card = load_card(path)
        except LoupeError as exc:
            self.editor.window.notify(f"Cannot read the model card {path}", str(exc), "error")
            return
        self._load_from(card)

    def move_selected(self, step: int) -> None:
        if self.selected_id() is not None:
            self.move(self.selected_id(), step)

    # -- the buttons: ask, then edit ---------------------------------------------------------------------
    def ask_add(self) -> None:
        name, ok = QInputDialog.getText(self, "Add label", "Name:")
        if ok and name.strip():
            self.add(name.strip())

    def ask_rename(self) -> None:
        cid = self.selected_id()
        if cid is None:
            return
        name, ok = QInputDialog.getText(self, "Rename label", "New name:", text=self._name(cid))
        if ok and name.strip() and name.strip() != self._name(cid):
            self.rename(cid, name.strip())

    def ask_color(self) -> None:
        cid = self.selected_id()
        if cid is None:
            return
        current = next(c.color for c in self.editor.store.categories() if c.id == cid)
        color = QColorDialog.getColor(QColor(current), self, f"Colour of {self._name(cid)}")
        if color.isValid():
            self.set_color(cid, color.name())

    def ask_key(self) -> None:
        cid = self.selected_id()
        if cid is None:
            return
        key, ok = QInputDialog.getInt(self, "Label key", f"Key (1-9) for {self._name(cid)}:", 1, 1, 9)
        if ok:
            self.set_key(cid, key)

    def ask_merge(self) -> None:
        cid = self.selected_id()
        others = [c for c in self.editor.store.categories() if c.id != cid] if cid is not None else []
        if not others:
            return
        name, ok = QInputDialog.getItem(self, "Merge label", f"Merge {self._name(cid)} (and its boxes) into:",
                                        [c.name for c in others], 0, False)
        if ok:
            self.merge(cid, next(c.id for c in others if c.name == name))

    def ask_delete(self) -> None:
        from desktop.ui.editor.label_dialogs import DeleteCategoryDialog

        cid = self.selected_id()
        if cid is None:
            return
        store = self.editor.store
        others = [c for c in store.categories() if c.id != cid]
        dialog = DeleteCategoryDialog(self._name(cid), *store.category_box_count(cid), [c.name for c in others], self)
        if dialog.exec():
            policy, target = dialog.choice()
            into = next((c.id for c in others if c.name == target), None) if target else None
            self.delete(cid, policy, into)

    def _fill_model_menu(self) -> None:
        from models.errors import LoupeError
        from models.registry import list_presets

        self.model_menu.clear()
        try:
            cards = [c for c in list_presets() if c.class_names and c.task != "captioning"]
        except LoupeError as exc:
            cards = []
            self.editor.window.notify("Cannot list the model presets", str(exc), "warning")
        for card in cards:
            action = self.model_menu.addAction(f"{card.name} ({len(card.class_names)} classes)")
            action.triggered.connect(lambda _=False, c=card: self._load_from(c))
        self.model_menu.addSeparator()
        self.model_menu.addAction("Model card file…").triggered.connect(self._ask_card)

    def _ask_card(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model card", "", "Model cards (*.json)")
        if path:
            self.load_card(path)

    def _load_from(self, card) -> None:
        if not card.class_names:
            self.editor.window.notify(f"The model {card.name} names no classes")
            return
        self.load_label_set(card.class_names, card.name)

    def _name(self, category_id: int) -> str:
        return self.editor.store.category_name(category_id)


def _swatch(color: str) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)
