"""Being asked to stop by the system (SIGTERM at log-out or shutdown, SIGHUP when the terminal
closes, Ctrl+C in the terminal): quit the way the window quits, so the store's close writes the
edits still waiting in memory to a recovery file (decision 0150). Without this, Python's default
action for SIGTERM/SIGHUP ends the process at once and the waiting edits were lost.

Python runs a signal handler only when the interpreter gets control, which a Qt event loop waiting
in C++ does not give it. `signal.set_wakeup_fd` writes the signal's number to a socket; a
QSocketNotifier on the other end wakes the event loop, and the quit runs on the GUI thread.
Windows has no SIGHUP and no wakeup sockets for console signals in the same way; there only
SIGINT/SIGTERM handlers are set and a short timer lets Python look at them.
"""

from __future__ import annotations

import signal
import socket
import sys

from PySide6.QtCore import QObject, QSocketNotifier, QTimer

STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, n))


class Termination(QObject):
    """Installed once on the application. `received` holds the signals seen (for the log/tests)."""

    def __init__(self, app):
        super().__init__(app)
        self.app = app
        self.received: list[int] = []
        self._notifier = None
        self._timer = None
        self._sockets = None
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._on_signal)
        if sys.platform != "win32":
            read, write = socket.socketpair()
            read.setblocking(False)
            write.setblocking(False)
            signal.set_wakeup_fd(write.fileno(), warn_on_full_buffer=False)
            self._sockets = (read, write)
            self._notifier = QSocketNotifier(read.fileno(), QSocketNotifier.Read, self)
            self._notifier.activated.connect(self._drain)
        else:  # let the interpreter run its handlers every so often
            self._timer = QTimer(self)
            self._timer.start(250)
            self._timer.timeout.connect(lambda: None)

    def _drain(self, *_):
        try:
            while self._sockets[0].recv(64):
                pass
        except (BlockingIOError, InterruptedError, OSError):
            pass

    def _on_signal(self, signum, _frame):
        self.received.append(signum)
        name = signal.Signals(signum).name
        print(f"loupe: {name} received: saving what waits and quitting", file=sys.stderr, flush=True)
        # exit(), not quit(): Qt 6's quit() first asks every window to close, and the window's
        # unsaved-edits prompt would wait for an answer nobody gives. exit() leaves every running
        # event loop (a modal prompt's too); aboutToQuit then closes the store, whose close() keeps
        # what still cannot be saved in a recovery file
        QTimer.singleShot(0, lambda: self.app.exit(0))


def install(app) -> Termination:
    existing = getattr(app, "_loupe_termination", None)
    if existing is None:
        existing = Termination(app)
        app._loupe_termination = existing
    return existing
