"""What the viewer remembers in QSettings: window geometry and dock layout, recent folders and
each folder's invert and window/level lock."""

from __future__ import annotations

import hashlib
import os

from PySide6.QtCore import QSettings

from desktop.core.imaging import Window

MAX_RECENT = 10


def default_settings() -> QSettings:
    """LOUPE_SETTINGS (an .ini path) overrides the platform's place, e.g. for tests."""
    path = os.environ.get("LOUPE_SETTINGS")
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings("Loupe", "Loupe")


def recent_folders(settings: QSettings) -> list[str]:
    value = settings.value("recent_folders", [])
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in (value or [])]


def existing_recent_folders(settings: QSettings) -> list[str]:
    """Recent folders that still exist; the ones gone are dropped from the settings too."""
    folders = recent_folders(settings)
    kept = [f for f in folders if os.path.isdir(f) and not is_temporary(f)]
    if kept != folders:
        settings.setValue("recent_folders", kept)
    return kept


def is_temporary(folder: str) -> bool:
    """A folder the self-test or a test run made (never offered as recent)."""
    import tempfile

    path = os.path.normpath(folder)
    tmp = os.path.normpath(tempfile.gettempdir())
    if not path.startswith(tmp + os.sep):
        return False
    first = path[len(tmp) + 1:].split(os.sep)[0]
    return first.startswith(("loupe-selftest-", "loupe-shots-"))


def add_recent_folder(settings: QSettings, folder: str) -> list[str]:
    if is_temporary(folder):
        return recent_folders(settings)
    folders = [folder] + [f for f in recent_folders(settings) if f != folder]
    folders = folders[:MAX_RECENT]
    settings.setValue("recent_folders", folders)
    return folders


def _wl_key(folder: str) -> str:
    return "window_level/" + hashlib.sha1(folder.encode("utf-8")).hexdigest()[:16]


def save_window_level(settings: QSettings, folder: str, window: Window | None, invert: bool,
                      locked: bool = False) -> None:
    """A folder's invert and W/L lock; the locked window with it (an unlocked manual window
    belongs to its image and is not kept for the folder)."""
    window = window if locked else None
    if window is None and not invert and not locked:
        settings.remove(_wl_key(folder))
        return
    center, width = (window.center, window.width) if window is not None else ("", "")
    settings.setValue(_wl_key(folder), f"{center};{width};{int(invert)};{int(locked)}")


def load_window_level(settings: QSettings, folder: str) -> tuple[Window | None, bool, bool]:
    """(locked window or None, invert, locked) for `folder`."""
    value = settings.value(_wl_key(folder))
    if not value:
        return None, False, False
    try:
        center, width, invert, *rest = str(value).split(";")
        locked = bool(rest) and rest[0] == "1"
        window = Window(float(center), float(width), "Locked") if center and locked else None
        return window, invert == "1", locked
    except ValueError:
        return None, False, False


def restore_window(window, settings: QSettings, default_fraction: float = 0.8) -> bool:
    """Geometry and dock layout of the last session (QMainWindow.saveState). On a first start the
    window takes `default_fraction` of the screen, centred. Returns True when a layout was restored."""
    geometry = settings.value("window/geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
    else:
        screen = window.screen() if hasattr(window, "screen") else None
        if screen is not None:
            area = screen.availableGeometry()
            # 80%; on a small screen (1280 px) up to 90% of the width, so the image keeps half the
            # window beside the list and the panels
            w = int(max(area.width() * default_fraction, min(area.width() * 0.9, 1152)))
            h = int(area.height() * default_fraction)
            if area.height() < 900:  # a laptop's 1280x720 or 1366x768: every pixel of height counts
                w, h = area.width(), area.height()  # (the image list showed two rows at 80%)
            window.resize(w, h)
            window.move(area.x() + (area.width() - w) // 2, area.y() + (area.height() - h) // 2)
        else:
            window.resize(1280, 820)
    state = settings.value("window/state")
    return bool(state is not None and window.restoreState(state))


def save_window(window, settings: QSettings) -> None:
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", window.saveState())
