"""A Python exception must never leave code that Qt calls from C++ (an event filter, a paint, mouse
or key override, a graphics item's itemChange): PySide6 6.11 then aborts the process or leaves a
drag half done. `@guarded("what it does", default)` wraps such a method: on an exception it logs
the traceback, tells the user in the main window's status bar (the app's notification line, with
the traceback under Details) what failed and what to do, and returns `default` (False for an
event filter: Qt goes on delivering the event). `install_excepthook()` sends what escapes
elsewhere (a slot, a timer) the same way (docs/decisions/0152-exceptions-in-qt-callbacks.md)."""

from __future__ import annotations

import functools
import logging
import sys
import time
import traceback
from collections import deque

log = logging.getLogger("loupe.ui")

REPEAT_S = 10.0  # the same failure again within this is logged as a count, not said again
_last_said: dict[str, float] = {}
_repeats: dict[str, int] = {}
_reporting = False
_handling: set[str] = set()  # guarded methods whose error is being cleaned up and reported now
reported: deque = deque(maxlen=100)  # (what, "Type: message") of every error caught: the tests read it
_box = None  # the one non-modal message box over a window without a status bar (quiz, presentation)


def guarded(what: str, default=None, *, fallback=None, cleanup=None):
    """Decorate a method Qt calls. `what` names it for the user ("drawing marks on the film").
    On an exception: `cleanup(self)` runs (e.g. cancel a half-drawn shape), the error is reported,
    and the method returns `fallback(*args)` when given (itemChange returns the value it got),
    else `default`."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - nothing may leave a C++-called override
                origin = args[0] if args else None
                if what in _handling:  # failed again while its cleanup or report runs (events they send)
                    reported.append((what, f"{type(exc).__name__}: {exc}"))
                    return fallback(*args, **kwargs) if fallback is not None else default
                _handling.add(what)
                try:
                    if cleanup is not None and origin is not None:
                        try:
                            cleanup(origin)
                        except Exception:  # noqa: BLE001
                            log.exception("cleaning up after an error in %s", what)
                    report_unexpected(what, exc, origin)
                finally:
                    _handling.discard(what)
                if fallback is not None:
                    try:
                        return fallback(*args, **kwargs)
                    except Exception:  # noqa: BLE001
                        log.exception("the fallback after an error in %s", what)
                return default

        inner.__loupe_guarded__ = what
        return inner

    return wrap


def message_for(what: str) -> str:
    return f"Unexpected error in {what}; Loupe carried on. If it happens again, restart Loupe and report it with the Details"


def report_unexpected(what: str, exc: BaseException, origin=None) -> None:
    """Log `exc` with its traceback and say it in the window (at most once per REPEAT_S per `what`)."""
    global _reporting
    if isinstance(exc, RuntimeError) and "already deleted" in str(exc):
        log.debug("%s: a window part already closed: %s", what, exc)  # teardown, not a failure
        return
    reported.append((what, f"{type(exc).__name__}: {exc}"))
    now = time.monotonic()
    if now - _last_said.get(what, -REPEAT_S) < REPEAT_S or _reporting:
        _repeats[what] = _repeats.get(what, 0) + 1  # an error on every mouse move: one log line per REPEAT_S
        return
    _last_said[what] = now
    again = _repeats.pop(what, 0)
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    log.error("unexpected error in %s%s\n%s", what, f" (and {again} more times since it was last said)" if again
              else "", details.rstrip())
    _reporting = True
    try:
        _tell(what, details, origin)
    except Exception:  # noqa: BLE001 - the report itself must not fail the caller
        log.exception("reporting the error in %s", what)
    finally:
        _reporting = False


def _tell(what: str, details: str, origin) -> None:
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        return
    text = message_for(what)
    start = _widget_of(origin) or QApplication.activeWindow()
    main = _main_window(start)
    if main is not None:
        main.notify(text, details=details, level="error")
    front = start.window() if start is not None else QApplication.activeWindow()
    if front is not None and front is not main and front.isVisible():
        _show_box(front, text, details)  # a quiz or presentation: the status bar is behind it


def _widget_of(origin):
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QGraphicsItem, QWidget

    try:
        if isinstance(origin, QGraphicsItem):
            scene = origin.scene()
            views = scene.views() if scene is not None else []
            return views[0] if views else None
        obj = origin
        while isinstance(obj, QObject):
            if isinstance(obj, QWidget):
                return obj
            obj = obj.parent()
    except RuntimeError:  # a part already deleted
        return None
    return None


def _main_window(widget):
    """The window with the notification line: `widget`'s own or the first one open."""
    from PySide6.QtWidgets import QApplication

    w = widget
    while w is not None:
        if hasattr(w, "notifications") and callable(getattr(w, "notify", None)):
            return w
        w = w.parentWidget()
    for top in QApplication.topLevelWidgets():
        if hasattr(top, "notifications") and callable(getattr(top, "notify", None)):
            return top
    return None


def _show_box(parent, text: str, details: str) -> None:
    global _box
    from PySide6.QtWidgets import QMessageBox

    try:
        if _box is not None and _box.parent() is parent:
            box = _box
        else:
            box = QMessageBox(QMessageBox.Warning, "Loupe", "", QMessageBox.Ok, parent)
            box.setModal(False)
            _box = box
    except RuntimeError:  # the earlier box was deleted with its window
        box = _box = QMessageBox(QMessageBox.Warning, "Loupe", "", QMessageBox.Ok, parent)
        box.setModal(False)
    box.setText(text)
    box.setDetailedText(details)
    box.show()  # not exec(): nothing waits on it
    box.raise_()


def install_excepthook() -> None:
    """What escapes a slot or a timer callback: printed as Python does, and said in the window."""
    previous = sys.excepthook

    def hook(kind, exc, tb):
        if not issubclass(kind, Exception):
            previous(kind, exc, tb)
            return
        if exc is not None and exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        report_unexpected("Loupe", exc)

    sys.excepthook = hook
