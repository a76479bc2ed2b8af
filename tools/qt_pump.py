"""Run a Qt event loop by hand for the screenshot scripts: for some seconds, or until a condition."""

from __future__ import annotations

import time


def pump(app, until=None, seconds: float = 0.0, timeout: float = 600.0) -> None:
    """Process events until `until()` is true (TimeoutError after `timeout` s) or for `seconds`."""
    end = time.monotonic() + (timeout if until is not None else seconds)
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return
        time.sleep(0.005)
    if until is not None:
        raise TimeoutError(f"the window did not get there within {timeout:.0f} s")
