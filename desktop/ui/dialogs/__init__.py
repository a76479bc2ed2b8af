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


def _reuse(window, attr: str, cls):
    """One dialog of a kind per window and folder: reopening shows it again (a job it runs keeps
    its dialog alive); another folder gets a fresh one."""
    dialog = getattr(window, attr, None)
    busy = dialog is not None and dialog.job is not None and dialog.job.state != "done"
    if dialog is None or (dialog.folder != window.folder and not busy):
        if dialog is not None:
            dialog.deleteLater()
        dialog = cls(window)
        setattr(window, attr, dialog)
    dialog.show()
    dialog.raise_()
    return dialog


def open_import(window):
    from desktop.ui.dialogs.import_dialog import ImportDialog

    if not _need_folder(window):
        return None
    return _reuse(window, "_import_dialog", ImportDialog)


def open_export(window, fmt: str | None = None):
    """File > Export…; `fmt` ("teaching" from the Teaching menu) picks the format shown first."""
    from desktop.ui.dialogs.export_dialog import ExportDialog

    if not _need_folder(window):
        return None
    dialog = _reuse(window, "_export_dialog", ExportDialog)
    if fmt is not None and (dialog.job is None or dialog.job.state == "done"):
        index = dialog.format_box.findData(fmt)
        if index >= 0:
            dialog.format_box.setCurrentIndex(index)
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
