"""The Edit menu and the editor's shortcuts (labelImg's habits where they exist)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence


def _add(window, menu, text, slot, keys=(), on=None) -> QAction:
    """An action in `menu`; its keys work anywhere in the window, or only while `on` (the canvas)
    has focus, for keys other widgets need (Tab moves focus, Enter activates list items)."""
    action = QAction(text, window)
    if keys:
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.WidgetWithChildrenShortcut if on is not None else Qt.WindowShortcut)
    action.triggered.connect(slot)
    menu.addAction(action)
    (on if on is not None else window).addAction(action)
    return action


def build_edit_menu(window, editor, canvas_input) -> dict[str, QAction]:
    menu = window.menu("Edit")
    a: dict[str, QAction] = {}
    a["undo"] = editor.undo_stack.createUndoAction(window, "&Undo")  # text says what will be undone
    a["undo"].setShortcuts([QKeySequence("Ctrl+Z")])
    a["redo"] = editor.undo_stack.createRedoAction(window, "&Redo")
    a["redo"].setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    for key in ("undo", "redo"):
        a[key].setShortcutContext(Qt.WindowShortcut)
        menu.addAction(a[key])
        window.addAction(a[key])
    menu.addSeparator()
    a["draw"] = _add(window, menu, "&Draw Box", canvas_input.start_drawing, ["W", "R"])
    canvas = window.canvas
    a["accept"] = _add(window, menu, "&Accept All Predictions\tEnter", editor.accept_predictions,
                       [Qt.Key_Return, Qt.Key_Enter], on=canvas)
    # Space on the canvas (pressed and released without panning): see canvas_input.py
    a["reviewed"] = _add(window, menu, "Mark Reviewed and &Next\tSpace", editor.mark_reviewed_and_next)
    menu.addSeparator()
    a["relabel"] = _add(window, menu, "Re&label…", lambda: pick_label(window, editor), ["Ctrl+E"])
    a["delete"] = _add(window, menu, "De&lete Box", editor.delete_selected, [QKeySequence.Delete, "Backspace"])
    a["duplicate"] = _add(window, menu, "Du&plicate Box", editor.duplicate_selected, ["Ctrl+D"])
    a["copy"] = _add(window, menu, "&Copy Boxes", editor.copy_selected, [QKeySequence.Copy])
    a["paste"] = _add(window, menu, "&Paste Boxes", editor.paste, [QKeySequence.Paste])
    a["lock"] = _add(window, menu, "Loc&k/Unlock Box", editor.toggle_lock, ["Ctrl+L"])
    menu.addSeparator()
    a["next_box"] = _add(window, menu, "Select Next Box\tTab", lambda: editor.select_next(1), ["Tab"], on=canvas)
    a["prev_box"] = _add(window, menu, "Select Previous Box\tShift+Tab", lambda: editor.select_next(-1),
                         ["Shift+Tab"], on=canvas)
    a["select_all"] = _add(window, menu, "Select All Boxes", lambda: editor._select(list(editor.items)),
                           [QKeySequence.SelectAll])
    a["hide"] = _add(window, menu, "&Hide/Show Boxes", editor.toggle_visible, ["H"])
    labels = menu.addMenu("Label by Key")
    for k in range(1, 10):
        a[f"key{k}"] = _add(window, labels, f"Label {k}", lambda _=False, k=k: editor.relabel_by_key(k), [str(k)])
    return a


def pick_label(window, editor) -> None:
    from desktop.ui.editor.label_picker import LabelPicker

    if editor.store is None:
        return
    names = [c.name for c in editor.store.categories()]
    box = editor.selected_box()
    dialog = LabelPicker(names, box.category if box else editor.current_category, window)
    if dialog.exec():
        name = dialog.chosen()
        if name:
            editor.relabel_selected(name)
