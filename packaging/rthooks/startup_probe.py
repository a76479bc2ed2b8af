"""Start-up probe: when LOUPE_STARTUP_PROBE names a file, record when the first main window is on
screen, then exit. Used by packaging/build.py (as a runtime hook of the bundle) and by
tests/benchmarks/bench_startup.py (run before `desktop.cli.main` from source). Inert otherwise.

It wraps `MainWindow.show` as soon as `desktop.ui.main_window` is imported; one event-loop turn
after the first show (the window has been exposed and painted) it writes JSON
`{"t": <time.time()>, "torch": <was torch imported>, "modules": <count>}` and exits 0.
"""

import os
import sys

_TARGET = os.environ.get("LOUPE_STARTUP_PROBE")


def _install(target: str) -> None:
    import importlib.abc
    import json
    import time

    def report() -> None:
        with open(target, "w", encoding="utf-8") as fh:
            json.dump({"t": time.time(), "torch": "torch" in sys.modules, "modules": len(sys.modules)}, fh)
        os._exit(0)

    def patch(module) -> None:
        cls = module.MainWindow
        original = cls.show

        def show(self, *args, **kwargs):
            original(self, *args, **kwargs)
            from PySide6.QtCore import QTimer

            QTimer.singleShot(0, report)

        cls.show = show

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target_module=None):
            if name != "desktop.ui.main_window":
                return None
            sys.meta_path.remove(self)
            import importlib.util

            spec = importlib.util.find_spec(name)
            if spec is None or spec.loader is None:
                return spec
            exec_module = spec.loader.exec_module

            def exec_and_patch(module):
                exec_module(module)
                patch(module)

            spec.loader.exec_module = exec_and_patch
            return spec

    sys.meta_path.insert(0, Finder())


if _TARGET:
    _install(_TARGET)
