"""The app's dialogs for work the command line also does: File > Import annotations…, File >
Export…, and Get weights… (from the Models dock, and for the training panel's base weights).
`install(window)` adds the File menu entries; each dialog calls the same desktop/core function as
its `loupe` subcommand and runs it in a worker."""

from __future__ import annotations


def _need_folder(window) -> bool:
    if window.folder is None:
        window.notify("Open a folder first: annotations belong to a folder of images", None, "warning")
        return False
    return True


def open_import(window):
    from desktop.ui.dialogs.import_dialog import ImportDialog

    if not _need_folder(window):
        return None
    dialog = ImportDialog(window)
    dialog.show()
    return dialog


def open_export(window):
    from desktop.ui.dialogs.export_dialog import ExportDialog

    if not _need_folder(window):
        return None
    dialog = ExportDialog(window)
    dialog.show()
    return dialog


def install(window) -> None:
    from PySide6.QtGui import QAction

    menu = window.menu("File")
    quit_action = getattr(window, "actions_", {}).get("quit")
    before = quit_action if quit_action in menu.actions() else None
    window.import_action = QAction("&Import Annotations…", window)
    window.import_action.triggered.connect(lambda: open_import(window))
    window.export_action = QAction("&Export…", window)
    window.export_action.triggered.connect(lambda: open_export(window))
    if before is not None:
        menu.insertAction(before, window.import_action)
        menu.insertAction(before, window.export_action)
        menu.insertSeparator(before)
    else:
        menu.addAction(window.import_action)
        menu.addAction(window.export_action)
