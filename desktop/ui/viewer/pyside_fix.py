"""Work around a PySide6 6.12 bug on Python < 3.12: every widget repaint drops one reference to
None (a bare QLabel.repaint() shows it), so after enough paints None's count reaches zero and the
interpreter aborts with "none_dealloc: deallocating None". From Python 3.12 None is immortal.
We add a huge number of references to None once; extra references to None are harmless.
See docs/decisions/0014-pyside-none-refcount.md."""

from __future__ import annotations

import ctypes
import sys

_done = False


def protect_none() -> None:
    global _done
    if _done or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40
    _done = True


protect_none()
