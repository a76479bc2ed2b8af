"""Test-wide settings: headless Qt, offline hubs, the shared real-data folder."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# Property tests assert what comes out, not how fast one example runs: on a loaded 2-core CI
# machine hypothesis's per-example deadline and its "generation is slow" check fail at random.
settings.register_profile("loupe", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("loupe")

ROOT = Path(__file__).resolve().parent.parent
# Real public data written by others lives beside the project (../shared/data); a user's fresh
# clone has none, so tests that read it skip with a clear reason. LOUPE_SHARED_DATA overrides.
SHARED_DATA = Path(os.environ.get("LOUPE_SHARED_DATA", ROOT.parent / "shared" / "data"))
SKIP_NO_SHARED = f"real test data not found at {SHARED_DATA} (it lives beside the project, in ../shared/data)"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ../shared/data; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(SKIP_NO_SHARED)
    return SHARED_DATA


def pytest_collection_modifyitems(config, items):
    have_shared = SHARED_DATA.is_dir()
    for item in items:
        if "shared_data" in item.keywords and not have_shared:
            item.add_marker(pytest.mark.skip(reason=SKIP_NO_SHARED))
        if "gpu" in item.keywords:
            try:
                import torch

                has_gpu = torch.cuda.is_available() or torch.backends.mps.is_available()
            except Exception:  # pragma: no cover
                has_gpu = False
            if not has_gpu:
                item.add_marker(pytest.mark.skip(reason="no CUDA or MPS device on this machine"))


@pytest.fixture(autouse=True)
def _stop_store_saving_threads(monkeypatch):
    """A test window's store is closed when the application quits, which a test never does: each
    left its saving thread running to the end of the session (about 90 by then). After the test
    (and after pytest-qt has closed its widgets) the threads of the stores it started are stopped."""
    from desktop.core.store.store import AnnotationStore

    started = []
    original = AnnotationStore.start_background

    def start_background(self, *args, **kwargs):
        started.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AnnotationStore, "start_background", start_background)
    yield
    for store in started:
        writer = getattr(store, "writer", None)
        background = getattr(writer, "background", None)
        if background is not None:
            background.stop()
            writer.background = None
        registration = getattr(store, "_registration", None)
        if registration is not None:
            registration.close()
            store._registration = None


@pytest.fixture(autouse=True)
def _no_hidden_qt_errors():
    """desktop.ui.guard catches an exception inside a Qt callback so that the app carries on
    (decision 0152); a test must still fail on one it did not cause on purpose. A test that does
    takes the `guard_reports` fixture."""
    from desktop.ui import guard

    guard.reported.clear()
    guard._last_said.clear()
    yield
    caught = list(guard.reported)
    guard.reported.clear()
    if caught:
        pytest.fail(f"an error was caught inside a Qt callback: {caught}")


@pytest.fixture
def guard_reports():
    """The errors desktop.ui.guard caught in this test: (what, "Type: message")."""
    from desktop.ui import guard

    yield guard.reported
    guard.reported.clear()
