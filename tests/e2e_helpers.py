"""End-to-end helpers: the REAL MainWindow (with every installed panel) over a folder of tiny images,
and preset weights files built with seeded random weights in their published formats by the same
builders the self-test uses (`desktop.selftest`), put in a models folder the window's settings name."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image


def build_preset_weights(name: str, models_dir: Path) -> Path:
    """`<models_dir>/<the preset's weights file>` with seeded random weights, as published."""
    import torch

    from desktop.selftest import _published, _random_module, _tiny_vocab
    from models.registry import clear_cache, preset_card

    models_dir.mkdir(parents=True, exist_ok=True)
    card = preset_card(name)
    options = {}
    if card.architecture == "roco-captioner":  # its vocabulary lives beside its weights
        options["vocab"] = str(_tiny_vocab(models_dir / card.extra["vocab"]))
    if card.architecture.startswith("rfdetr"):  # its loader needs a file: build the module as published
        module = _random_rfdetr(card)
    else:
        module = _random_module(card, options)
    kind, obj = _published(card, module)
    path = models_dir / Path(card.weights).name
    if kind == "safetensors":
        from safetensors.torch import save_file

        save_file(obj, str(path))
    else:
        torch.save(obj, path)
    clear_cache()
    return path


def _random_rfdetr(card):
    """The LWDETR module of `rfdetr.RFDETR<Variant>(num_classes=len(classes) - 1)`, seeded, offline."""
    import rfdetr
    import torch

    from models.detection.rfdetr import VARIANTS

    torch.manual_seed(0)
    rf = getattr(rfdetr, VARIANTS[card.architecture])(num_classes=len(card.class_names) - 1,
                                                    pretrain_weights=None, device="cpu")
    return rf.model.model


def make_images(folder: Path, n: int = 3, size: int = 64, bad: tuple[int, ...] = ()) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    out = []
    for i in range(n):
        p = folder / f"film{i:02d}.png"
        if i in bad:
            p.write_bytes(b"\x89PNG broken")
        else:
            yy, xx = np.mgrid[0:size, 0:size]
            grey = (((xx - size / 2) ** 2 + (yy - size / 2) ** 2) < (size / 3) ** 2) * 160 + 40
            grey = (grey + rng.integers(0, 30, (size, size))).clip(0, 255).astype(np.uint8)
            Image.fromarray(np.dstack([grey] * 3)).save(p)
        out.append(p)
    return out


def open_window(qtbot, tmp_path: Path, folder: Path, models_dir: Path, n_images: int):
    """The real window, settings in an ini under tmp_path, the folder opened and listed."""
    from PySide6.QtCore import QSettings

    from desktop.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("models/folder", str(models_dir))
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    if not hasattr(win, "model_panel"):  # an extension before it failed: install ours alone
        from desktop.ui.model_panel import install

        install(win)
    win.show()
    win.open_folder(folder)
    qtbot.waitUntil(lambda: len(win.image_paths()) == n_images and win.current_path() is not None,
                    timeout=10000)
    return win


def load_preset(qtbot, win, name: str, timeout: int = 120000):
    panel = win.model_panel
    panel.refresh_models()
    job = panel.select(name)
    if job is not None:
        qtbot.waitSignal(job.finished, timeout=timeout).wait()
    assert panel.model is not None, (panel.status.text(), win.notifications.history[-3:])
    return panel.model


def wait_job(qtbot, job, timeout: int = 120000):
    assert job is not None
    qtbot.waitSignal(job.finished, timeout=timeout).wait()
    return job


def ticks_while(qtbot, job, interval_ms: int = 10, timeout: float = 120.0) -> tuple[int, float]:
    """Runs the event loop until `job` finishes. Returns how many 10 ms timer ticks the GUI thread
    handled while the job was running (0 if the work froze the event loop) and the longest gap (s)."""
    from PySide6.QtCore import QTimer

    ticks = []
    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(lambda: ticks.append((time.perf_counter(), job.state == "running")))
    timer.start()
    end = time.monotonic() + timeout
    while job.state != "done" and time.monotonic() < end:
        qtbot.wait(20)
    timer.stop()
    times = np.array([t for t, _ in ticks]) if ticks else np.zeros(1)
    gaps = np.diff(times) if len(times) > 1 else np.array([0.0])
    return sum(running for _, running in ticks), float(gaps.max())
