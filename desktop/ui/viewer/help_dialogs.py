"""Help ▸ Keyboard shortcuts (a searchable sheet built from the window's own actions and
shortcuts, so it cannot drift) and Help ▸ About (versions and the devices found; torch is imported
only when the dialog opens, decision 0072)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTableView,
    QVBoxLayout,
)


def _menu_path(action: QAction) -> str:
    for widget in action.associatedObjects():
        if isinstance(widget, QMenu):
            names = [widget.title().replace("&", "")]
            parent = widget.parent()
            while isinstance(parent, QMenu):
                names.insert(0, parent.title().replace("&", ""))
                parent = parent.parent()
            return " ▸ ".join(names)
    return ""


def register_keys(window, where: str, rows) -> None:
    """List the keys of another window of `window` (`where`, e.g. "Quiz window"), which exists only
    while open, in the shortcuts sheet: (what it does, keys) rows."""
    listed = window.__dict__.setdefault("_other_window_keys", [])
    for what, keys in rows:
        if (what, keys, where) not in listed:
            listed.append((what, keys, where))


def _in_other_window(action, window) -> bool:
    parent = action.parent()
    return hasattr(parent, "window") and parent.window() is not window


def shortcut_rows(window) -> list[tuple[str, str, str]]:
    """(what it does, keys, where) for every action and QShortcut of the window with a key, and
    the keys other windows registered (register_keys)."""
    rows, seen = [], set()
    for action in window.findChildren(QAction):
        if _in_other_window(action, window):
            continue  # an open quiz or presentation: its registered rows say it better
        keys = [k.toString(QKeySequence.NativeText) for k in action.shortcuts() if not k.isEmpty()]
        if not keys:
            continue
        text = action.text().split("\t")[0].replace("&", "").replace("…", "").strip() or action.toolTip()
        row = (text, ", ".join(keys), _menu_path(action))
        if row not in seen:
            seen.add(row)
            rows.append(row)
    for shortcut in window.findChildren(QShortcut):
        key = shortcut.key().toString(QKeySequence.NativeText)
        if not key:
            continue
        text = shortcut.whatsThis() or shortcut.objectName() or "(no description)"
        row = (text, key, "")
        if row not in seen:
            seen.add(row)
            rows.append(row)
    rows += [r for r in getattr(window, "_other_window_keys", []) if r not in seen]
    return sorted(rows, key=lambda r: (r[2] == "", r[2], r[0].lower()))


class ShortcutsDialog(QDialog):
    def __init__(self, window):
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(620, 520)
        self.model = QStandardItemModel(0, 3, self)
        self.model.setHorizontalHeaderLabels(["Action", "Keys", "Menu"])
        for row in shortcut_rows(window):
            self.model.appendRow([QStandardItem(v) for v in row])
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)  # every column
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search actions or keys…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableView.NoEditTriggers)
        self.table.setSelectionBehavior(QTableView.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.search)
        lay.addWidget(self.table)
        lay.addWidget(buttons)

    def visible_rows(self) -> list[tuple[str, str, str]]:
        return [tuple(self.proxy.index(r, c).data() for c in range(3)) for r in range(self.proxy.rowCount())]


def about_facts() -> list[tuple[str, str]]:
    """(name, value) lines of the About dialog; imports torch (call it when the dialog opens)."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    from desktop import __version__

    facts = [("Loupe", __version__), ("Qt", qVersion()), ("PySide6", pyside_version),
             ("Python", sys.version.split()[0])]
    try:
        import torch

        facts.append(("torch", torch.__version__))
        devices = ["CPU"]
        if torch.cuda.is_available():
            devices += [f"CUDA {i}: {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())]
        if torch.backends.mps.is_available():
            devices.append("Apple MPS")
        facts.append(("Devices", "; ".join(devices)))
    except Exception as exc:  # noqa: BLE001 - the dialog says what is missing
        facts.append(("torch", f"not available ({type(exc).__name__}: {exc})"))
        facts.append(("Devices", "CPU"))
    return facts


class AboutDialog(QDialog):
    def __init__(self, window):
        super().__init__(window)
        self.setWindowTitle("About Loupe")
        self.facts = about_facts()
        rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in self.facts)
        self.text = QLabel("<h3>Loupe</h3><p>Look at medical images and correct what models say about them. "
                           f"Everything runs on this computer.</p><table>{rows}</table>", self)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(buttons)
        self.resize(480, 280)


def show_shortcuts(window) -> ShortcutsDialog:
    dialog = ShortcutsDialog(window)
    dialog.show()
    dialog.activateWindow()
    dialog.search.setFocus()  # type to search at once
    return dialog


def show_about(window) -> AboutDialog:
    dialog = AboutDialog(window)
    dialog.show()
    return dialog
