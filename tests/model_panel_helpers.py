"""Stand-ins for the model panel's unit tests: a minimal window and box editor that speak the seams
of decision 0001 (over the REAL annotation store), and tiny fake models with known outputs. The
end-to-end tests (tests/test_e2e_*.py) use the real MainWindow and real models instead."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDockWidget, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QMainWindow

from desktop.core.store import open_store
from models.base import Detections, LoupeModel, ModelCard


def make_folder(root: Path, n: int = 4, size: int = 48, bad: tuple[int, ...] = ()) -> list[str]:
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    rng = np.random.default_rng(0)
    for i in range(n):
        p = root / f"img{i:03d}.png"
        if i in bad:
            p.write_bytes(b"this is not a png")
        else:
            Image.fromarray(rng.integers(0, 255, (size, size + 8, 3), dtype=np.uint8)).save(p)
        paths.append(str(p))
    return paths


class FakeEditor(QObject):
    boxes_changed = Signal(str)

    def __init__(self, store):
        super().__init__()
        self.store = store
        self.reloads = 0
        self.filters = []
        self.visible = True
        self.selected = None

    def reload(self):
        self.reloads += 1

    def set_prediction_filter(self, threshold, classes):
        self.filters.append((threshold, classes))

    def selected_box(self):
        return self.selected

    def set_annotations_visible(self, visible):
        self.visible = visible


class FakeWindow(QMainWindow):
    folder_opened = Signal(str)
    current_image_changed = Signal(str)

    def __init__(self):
        super().__init__()
        self._scene = QGraphicsScene(self)
        self.canvas = QGraphicsView(self._scene)
        self.canvas.image_item = QGraphicsPixmapItem()
        self.canvas.image_item.setZValue(-1000)  # as the viewer's canvas does
        self.canvas.scene().addItem(self.canvas.image_item)
        self.setCentralWidget(self.canvas)
        self.notes = []
        self.folder = None
        self._paths: list[str] = []
        self._current = None
        self._selected: list[str] = []
        self.box_editor = None

    def open_folder(self, folder):
        self.folder = str(folder)
        self._paths = sorted(str(p) for p in Path(folder).glob("*.png"))
        self.box_editor = FakeEditor(open_store(folder))
        self.folder_opened.emit(self.folder)
        if self._paths:
            self.show_image(self._paths[0])

    def show_image(self, path):
        self._current = str(path)
        self.current_image_changed.emit(self._current)

    def current_path(self):
        return self._current

    def image_paths(self):
        return list(self._paths)

    def selected_paths(self):
        return list(self._selected)

    def current_rgb(self):
        from desktop.core.imaging import read_image

        return read_image(self._current).display()

    def add_panel(self, title, widget, area=None):
        dock = QDockWidget(title, self)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def menu(self, name):
        return self.menuBar().addMenu(name)

    def notify(self, text, details=None, level="info"):
        self.notes.append((text, details, level))


def _card(name, architecture, task, classes, controls, **extra):
    return ModelCard(name=name, architecture=architecture, task=task, class_names=classes, controls=controls,
                     extra=extra)


class FakeDetector(LoupeModel):
    """Two boxes per image, scores 0.9 (lesion) and 0.2 (nodule); sleeps `delay` per image."""

    task = "detection"
    controls = ("threshold", "class_filter", "saliency_method", "device")

    def __init__(self, card, delay=0.0):
        import torch

        super().__init__(card, torch.nn.Identity(), torch.device("cpu"))
        self.delay = delay
        self.calls = []
        self.release = threading.Event()
        self.release.set()

    def to(self, device):
        """Records the move (this machine has only a CPU to really move to)."""
        self.moves = getattr(self, "moves", []) + [str(device)]
        self.device = str(device)
        return self

    def detect(self, rgb, threshold=None):
        self.release.wait(10)
        self.calls.append(rgb.shape)
        time.sleep(self.delay)
        h, w = rgb.shape[:2]
        dets = Detections(np.array([[2, 3, w / 2, h / 2], [1, 1, 10, 12]], np.float32),
                          np.array([0.9, 0.2], np.float32), np.array([0, 1]), ["lesion", "nodule"])
        return dets.filter(threshold or 0.0)


class FakeClassifier(LoupeModel):
    task = "classification"
    controls = ("saliency_method", "device")

    def __init__(self, card):
        import torch

        super().__init__(card, torch.nn.Identity(), torch.device("cpu"))

    def classify(self, rgb):
        return {"Effusion": 0.1, "Cardiomegaly": 0.7, "Mass": 0.55}

    def saliency_layer(self):
        return self.torch_module

    def attention_map(self, rgb):
        """Like Qing's: 7x7, the class token's attention; here all on the top-left cell."""
        a = np.zeros((7, 7), np.float32)
        a[0, 0] = 1.0
        return a


class FakeCaptioner(LoupeModel):
    task = "captioning"
    controls = ("beam_size", "max_length", "device")

    def __init__(self, card):
        import torch

        super().__init__(card, torch.nn.Identity(), torch.device("cpu"))
        self.args = []

    def caption(self, rgb, max_len=80, beam_size=1, **options):
        self.args.append((max_len, beam_size))
        return f"chest film {rgb.shape[1]}x{rgb.shape[0]}"


FAKES = {"fake-detector": (FakeDetector, "detection", ["lesion", "nodule"], ["threshold", "class_filter"]),
         "fake-classifier": (FakeClassifier, "classification", ["Effusion", "Cardiomegaly", "Mass"], []),
         "fake-captioner": (FakeCaptioner, "captioning", [], ["beam_size", "max_length"])}


def write_fake_cards(models_dir: Path) -> dict[str, Path]:
    """A card plus a (dummy) weights file per fake model in `models_dir`."""
    models_dir.mkdir(parents=True, exist_ok=True)
    out = {}
    for arch, (_cls, task, classes, controls) in FAKES.items():
        (models_dir / f"{arch}.safetensors").write_bytes(b"dummy")
        card = {"name": arch, "architecture": arch, "task": task, "class_names": classes,
                "controls": controls, "weights": f"{arch}.safetensors", "default_threshold": 0.3,
                "description": f"a stand-in {task} model", "extra": {"multi_label": True}}
        path = models_dir / f"{arch}.json"
        path.write_text(json.dumps(card))
        out[arch] = path
    return out


def fake_load_model(built: dict):
    """A stand-in for models.load_model that builds fakes from their cards (and remembers them)."""

    def load(spec, weights=None, device="auto", **options):
        card = json.loads(Path(spec).read_text())
        cls = FAKES[card["architecture"]][0]
        model = cls(_card(card["name"], card["architecture"], card["task"], card["class_names"],
                          card["controls"]))
        built[card["architecture"]] = model
        return model

    return load


def fake_device_probe(monkeypatch, devices, delay_s: float = 0.0, code: int = 0):
    """The shared device probe (a child process, desktop.ui.device_probe) answers `devices`, from a
    child that prints them after `delay_s` and exits with `code`; a fresh probe for this test."""
    import json
    import sys

    from PySide6.QtWidgets import QApplication

    import desktop.ui.device_probe as device_probe

    script = (f"import time, sys; time.sleep({delay_s}); print('torch: a warning first'); "
              f"print({json.dumps(json.dumps([list(d) for d in devices]))}); sys.exit({code})")
    monkeypatch.setattr(device_probe, "probe_command", lambda: [sys.executable, "-c", script])
    monkeypatch.setattr(QApplication.instance(), "_loupe_device_probe", None, raising=False)
    return device_probe
