"""A Loupe window in its own process for tests/test_termination.py: opens FOLDER, waits until the
parent holds the database's write lock, adds two boxes (they wait in memory), says "waiting", and
runs the event loop until a signal stops it."""

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402

from desktop.ui import termination  # noqa: E402
from desktop.ui.app import make_app  # noqa: E402


def main(folder: str, settings: str) -> int:
    app = make_app()
    termination.install(app)
    import desktop.ui.extensions as extensions
    from desktop.ui.main_window import MainWindow

    extensions.EXTENSIONS = ["desktop.ui.editor:install"]
    win = MainWindow(settings=QSettings(settings, QSettings.IniFormat))
    win.show()
    win.open_folder(folder)

    def ready():
        editor = win.box_editor
        if editor.image_id is None:
            QTimer.singleShot(50, ready)
            return
        print("open", flush=True)
        sys.stdin.readline()  # the parent now holds the write lock
        editor.add_box((10, 10, 15, 15), "heart")
        editor.add_box((40, 40, 15, 15), "lung")
        print(f"waiting {editor.store.pending}", flush=True)

    QTimer.singleShot(0, ready)
    code = app.exec()
    print(f"exited {code} after {termination.install(app).received}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
