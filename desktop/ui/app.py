"""Starting the GUI: `run_app(folder=None, samples=False) -> int`."""

from __future__ import annotations

import sys


def make_app():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Loupe")
    app.setOrganizationName("Loupe")
    app.setOrganizationDomain("loupe.local")
    from desktop import __version__

    app.setApplicationVersion(__version__)
    icon = _icon()
    if icon is not None:
        app.setWindowIcon(icon)
    return app


def _icon():
    from PySide6.QtGui import QIcon

    from models.resources import resources_dir

    for name in ("icons/loupe.svg", "icons/loupe.png", "loupe.png"):
        path = resources_dir() / name
        if path.is_file():
            return QIcon(str(path))
    return None


def linux_libraries_missing() -> bool:
    """Before any QApplication: on Linux, say which system libraries Qt's xcb plugin lacks and the
    apt-get line (desktop/xcb_libraries.py). True when the window cannot open."""
    import os

    from desktop.xcb_libraries import check

    message = check()
    if not message:
        return False
    print(f"loupe: {message}", file=sys.stderr)
    if os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
        print("loupe: trying Qt's Wayland platform instead", file=sys.stderr)
        return False
    return True


def run_app(folder=None, samples: bool = False) -> int:
    if linux_libraries_missing():
        return 3
    app = make_app()
    from desktop.ui import guard, termination
    from desktop.ui.main_window import MainWindow

    termination.install(app)  # SIGTERM/SIGHUP/Ctrl+C quit as the window does: waiting edits are kept
    guard.install_excepthook()  # an error in a slot or timer is said in the window (decision 0152)

    window = MainWindow()
    window.show()
    if samples:
        from desktop.ui.viewer.actions import open_samples

        open_samples(window)
    elif folder:
        window.open_folder(folder)
    # no folder: the window's welcome page says what to do (Open folder…, samples, recent folders)
    return app.exec()
