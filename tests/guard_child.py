"""A Loupe window in its own process for tests/test_qt_guard.py, with a real event loop: the pixel
probe's mouse filter is broken on purpose, a mouse move is posted (delivered by Qt from C++, no
Python caller above it) and a timer slot raises too. Prints what the window said as JSON, then
quits. MODE "guarded" is the app as shipped; "bare" takes the guard off the filter (what PySide
does on its own)."""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEvent, QPointF, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402

from desktop.ui import guard  # noqa: E402
from desktop.ui.app import make_app  # noqa: E402


def main(mode: str, settings: str) -> int:
    app = make_app()
    guard.install_excepthook()  # as run_app does
    import desktop.ui.extensions as extensions
    from desktop.ui.main_window import MainWindow
    from desktop.ui.measure.probe import PixelProbe

    def broken(self, *_args):
        raise ValueError("probe broke")

    PixelProbe._schedule = broken
    if mode == "bare":
        PixelProbe.eventFilter = PixelProbe.eventFilter.__wrapped__
    extensions.EXTENSIONS = ["desktop.ui.editor:install", "desktop.ui.measure:install"]
    win = MainWindow(settings=QSettings(settings, QSettings.IniFormat))
    win.resize(800, 600)
    win.show()
    viewport = win.canvas.viewport()

    def move():
        pos = QPointF(40, 40)
        QCoreApplication.postEvent(viewport, QMouseEvent(QEvent.MouseMove, pos, QPointF(viewport.mapToGlobal(
            pos.toPoint())), Qt.NoButton, Qt.NoButton, Qt.NoModifier))

    def slot_raises():
        raise KeyError("timer slot broke")

    def report():
        print(json.dumps({"alive": win.isVisible(), "said": [[lv, text, bool(details)] for lv, text, details
                                                             in win.notifications.history]}), flush=True)
        app.quit()

    QTimer.singleShot(50, move)
    QTimer.singleShot(100, slot_raises)
    QTimer.singleShot(400, report)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
