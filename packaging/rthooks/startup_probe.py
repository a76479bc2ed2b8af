"""Start-up probe: when LOUPE_STARTUP_PROBE names a file, record when the first main window is on
screen, then exit. Used by packaging/build.py (as a runtime hook of the bundle) and by
tests/benchmarks/bench_startup.py (run before `desktop.cli.main` from source). Inert otherwise.

It wraps `MainWindow.show` as soon as `desktop.ui.main_window` is imported; one event-loop turn
after the first show (the window has been exposed and painted) it writes JSON
`{"t": <time.time()>, "torch": <was torch imported>, "torch_importer": <where from>, "modules": <count>}`
and exits 0. `torch_importer` names the first Loupe source lines on the stack of the first
`import torch`, so an eager import is easy to find.
"""

import os
import sys

_TARGET = os.environ.get("LOUPE_STARTUP_PROBE")


def _install(target: str) -> None:
    import importlib.abc
    import json
    import time

    importer: list[str] = []

    def report() -> None:
        data = {"t": time.time(), "torch": "torch" in sys.modules, "torch_importer": importer,
                "modules": len(sys.modules)}
        with open(target, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
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
            if name == "torch" and not importer:
                import traceback

                ours = [f"{f.filename}:{f.lineno}" for f in traceback.extract_stack()
                        if ("desktop" in f.filename or "models" in f.filename) and "site-packages" not in f.filename]
                importer.extend(ours[-4:] or ["(outside Loupe)"])
                return None
            if name != "desktop.ui.main_window":
                return None
            import importlib.util

            sys.meta_path.remove(self)
            try:
                spec = importlib.util.find_spec(name)
            finally:
                sys.meta_path.insert(0, self)
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
