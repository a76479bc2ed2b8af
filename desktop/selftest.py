"""`loupe --self-test`: a headless smoke test of a built app (or a checkout), exit 0 when all pass.

It is how a built installer is checked on a clean machine: open the sample folder in the main window
(offscreen), decode every sample, build every preset with seeded random weights written in its
published format to a temporary folder, load each through the real loader, run one detection, one
classification, one caption and one Grad-CAM, export COCO and read it back with pycocotools. The
network is blocked for the whole run; any attempt to reach it fails the `offline` check.

Each check prints `PASS name (1.2 s): detail` or `FAIL name (0.1 s): reason`. A check whose part of
the app is missing fails as "not available: ..."; a check whose prerequisite failed fails as
"skipped: needs ...". Nothing is written outside a temporary folder, which is removed at the end.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Small inputs keep the whole run well under two minutes on two CPU cores.
IMAGE_SIZE = 160


class NotAvailable(Exception):
    """The part of the app a check needs is not there (not built into this bundle or checkout)."""


@dataclass
class Result:
    name: str
    ok: bool
    detail: str
    seconds: float

    def line(self) -> str:
        return f"{'PASS' if self.ok else 'FAIL'} {self.name} ({self.seconds:.1f} s): {self.detail}"


@dataclass
class Context:
    """What the checks hand on to each other."""

    workdir: Path
    samples: Path | None = None
    images: dict[str, object] = field(default_factory=dict)  # path -> RGB uint8 array
    models: dict[str, object] = field(default_factory=dict)  # preset name -> LoupeModel
    window_opened: bool = False
    torch_before_window: bool = False
    torch_after_window: list[str] = field(default_factory=list)
    devices_found: list | None = None
    network_attempts: list[str] = field(default_factory=list)


def _need(module: str):
    """Import `module` or raise NotAvailable naming it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise NotAvailable(f"not available: {module} ({exc})") from exc


def _small_rgb(ctx: Context):
    import numpy as np
    from PIL import Image

    if not ctx.images:
        raise NotAvailable("skipped: needs decoded samples")
    rgb = next(iter(ctx.images.values()))
    return np.asarray(Image.fromarray(rgb).resize((IMAGE_SIZE, IMAGE_SIZE)))


def _model_for(ctx: Context, task: str):
    for name, model in ctx.models.items():
        if model.task == task:
            return name, model
    raise NotAvailable(f"skipped: needs the {FORWARD[task]} preset built and loaded")


_NETWORK_LIBS = {"socket", "ssl", "http", "urllib", "urllib3", "requests", "httpx", "httpcore", "httpx2",
                 "httpcore2", "anyio", "h11", "certifi", "selftest"}


def _caller_package() -> str:
    """The innermost package on the stack that is not a network library: who reached out."""
    import traceback

    for frame in reversed(traceback.extract_stack()):
        parts = Path(frame.filename).with_suffix("").parts
        if "site-packages" in parts:
            name = parts[parts.index("site-packages") + 1]
        elif "desktop" in parts or "models" in parts:
            name = ".".join(parts[max(i for i, p in enumerate(parts) if p in ("desktop", "models")):])
        else:
            continue
        if name.split(".")[-1] not in _NETWORK_LIBS and name not in _NETWORK_LIBS:
            return name
    return "unknown code"


@contextlib.contextmanager
def block_network(attempts: list[str]):
    """Refuse every internet connection (local sockets still work), recording each attempt."""
    import socket

    saved = socket.socket.connect, socket.socket.connect_ex, socket.create_connection, socket.getaddrinfo

    def refuse(where) -> OSError:
        attempts.append(f"{where} by {_caller_package()}")
        return OSError(f"Loupe self-test: network access is blocked ({where})")

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise refuse(address)
        return saved[0](sock, address)

    def connect_ex(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise refuse(address)
        return saved[1](sock, address)

    def create_connection(address, *args, **kwargs):
        raise refuse(address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in (None, "localhost", "127.0.0.1", "::1"):
            raise refuse(host)
        return saved[3](host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    socket.create_connection, socket.getaddrinfo = create_connection, getaddrinfo
    try:
        yield attempts
    finally:
        socket.socket.connect, socket.socket.connect_ex, socket.create_connection, socket.getaddrinfo = saved


# -- checks -----------------------------------------------------------------------------------------


def check_samples(ctx: Context) -> str:
    samples = _need("desktop.core.samples")
    written = samples.write_samples(ctx.workdir / "samples")
    ctx.samples = ctx.workdir / "samples"
    missing = [p.name for p in written if not Path(p).is_file()]
    if not written or missing:
        raise AssertionError(f"the sample generator did not write {', '.join(missing) or 'any file'}")
    return f"{len(written)} sample files written"


def check_main_window(ctx: Context) -> str:
    if ctx.samples is None:
        raise NotAvailable("skipped: needs samples")
    torch_before = "torch" in sys.modules
    _need("PySide6.QtWidgets")
    main_window = _need("desktop.ui.main_window")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0], "-platform", "offscreen"])
    from PySide6.QtCore import QSettings

    # its own settings: the user's recent folders and dock layout never see the self-test
    settings = QSettings(str(ctx.workdir / "selftest-settings.ini"), QSettings.IniFormat)
    window = main_window.MainWindow(settings=settings)
    try:
        window.show()
        window.open_folder(str(ctx.samples))
        deadline = time.monotonic() + 20
        while not list(window.image_paths()) and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        paths = list(window.image_paths())
        # the device check (a child process) answers while the window runs: torch must still be absent
        from desktop.ui.device_probe import shared_probe

        probe = shared_probe()
        probe.start()
        deadline = time.monotonic() + 120
        while probe.devices is None and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        ctx.devices_found = probe.devices
        app.processEvents()
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()
    if not paths:
        raise AssertionError(f"the main window listed no images in {ctx.samples}")
    ctx.window_opened = True
    ctx.torch_before_window = torch_before
    if not torch_before and "torch" in sys.modules:
        ctx.torch_after_window = ["torch"]
    return f"opened the sample folder offscreen, {len(paths)} images listed"


def check_lazy_torch(ctx: Context) -> str:
    if not ctx.window_opened:
        raise NotAvailable("skipped: needs main-window")
    if ctx.torch_before_window:
        raise AssertionError("cannot tell: torch was imported before the window opened (run in a fresh process)")
    if ctx.torch_after_window:
        raise AssertionError("opening the main window imported torch (it must load only with a model)")
    if ctx.devices_found is None:
        raise AssertionError("the window's device check (a child process) gave no answer in 120 s")
    names = ", ".join(label for _id, label in ctx.devices_found)
    return f"the main window opened and found its devices ({names}) without importing torch"


def check_decode(ctx: Context) -> str:
    if ctx.samples is None:
        raise NotAvailable("skipped: needs samples")
    imaging = _need("desktop.core.imaging")
    import numpy as np

    failures, n_frames, n_dicom = [], 0, 0
    for path in sorted(p for p in ctx.samples.iterdir() if p.is_file()):
        try:
            image = imaging.read_image(path)
            frames = [np.asarray(image.display(frame=i)) for i in range(image.n_frames)]
        except Exception as exc:  # every sample must decode: report all failures, not the first
            failures.append(f"{path.name}: {exc}")
            continue
        bad = [f"{f.dtype} {f.shape}" for f in frames if f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3]
        if bad:
            failures.append(f"{path.name}: display() gave {bad[0]}, not RGB uint8")
            continue
        ctx.images[str(path)] = frames[0]
        n_frames += len(frames)
        n_dicom += path.suffix.lower() == ".dcm"
    if failures:
        raise AssertionError("; ".join(failures))
    if not ctx.images:
        raise AssertionError(f"no image files found in {ctx.samples}")
    return f"{len(ctx.images)} images, {n_frames} frames decoded ({n_dicom} DICOM)"


# -- presets with seeded random weights, written as their authors publish them ----------------------

# Forward passes run on one preset per task; the rest are built and loaded only.
FORWARD = {"detection": "heartformer", "classification": "oasis-resnet18", "captioning": "roco-captioner"}
_OLD_DENSENET = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))([12])\.(weight|bias|running_mean|running_var)$")


def _tiny_vocab(path: Path) -> Path:
    """A WordPiece vocabulary with BERT's special ids ([PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102)."""
    words = [f"[unused{i}]" for i in range(100)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words[0] = "[PAD]"
    words += ["the", "chest", "heart", "lung", "normal", "shows", "a", "of", "with", "no", "image", "ct"]
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    return path


def _random_module(card, options: dict):
    """The preset's torch module with seeded random weights, from the engine's own builders."""
    import torch

    torch.manual_seed(0)
    if card.architecture == "roco-captioner":
        from models.captioning.architecture import ResNetGraphCaptioner

        n_words = len(Path(options["vocab"]).read_text(encoding="utf-8").splitlines())
        return ResNetGraphCaptioner(vocab_size=n_words)
    if card.architecture.startswith("rfdetr"):  # the engine's variant table, rfdetr's own builder
        import rfdetr

        from models.detection.rfdetr import VARIANTS

        # named classes: one slot each plus the background slot; COCO-pretrained files have 91 slots
        n_classes = len(card.class_names) or 90
        built = getattr(rfdetr, VARIANTS[card.architecture])(num_classes=n_classes, pretrain_weights=None,
                                                             device="cpu")
        return built.model.model
    if card.architecture.startswith("effdet"):
        from models.detection.efficientdet import build

        return build(len(card.class_names) or 7)
    from models.registry import _loader

    try:  # classifiers: the engine's loader builds the network when given no weights file
        return _loader(card.architecture)(card, None, torch.device("cpu"), **options).torch_module
    except ModuleNotFoundError as exc:
        raise NotAvailable(f"not available: {exc}") from exc


def _published(card, module) -> tuple[str, object]:
    """(how to save, object to save) in the layout the preset's published weights file has."""
    sd = {k: v.detach().clone().contiguous() for k, v in module.state_dict().items()}
    arch = card.architecture
    if arch == "chexnet":  # 2017 DataParallel checkpoint with the old DenseNet names
        old = {}
        for k, v in sd.items():
            m = _OLD_DENSENET.match(k)
            key = f"{m.group(1)}.{m.group(2)}.{m.group(3)}" if m else k
            old["module.densenet121." + key.replace("classifier.", "classifier.0.")] = v
        return "torch", {"state_dict": old}
    if arch.startswith("rfdetr"):
        return ("safetensors", sd) if str(card.weights).endswith(".safetensors") else ("torch", {"model": sd})
    if arch.startswith("effdet"):  # Lightning checkpoint of the DetBench under `network.`
        return "torch", {"state_dict": {"network." + k: v for k, v in sd.items()}}
    return "torch", sd  # plain state dicts: Qing, OASIS, the ROCO captioner


def _build_and_load(card, folder: Path):
    import torch

    import models

    options = {}
    if card.task == "segmentation":  # a Hugging Face folder, not one file: a tiny one of its architecture
        from models.segmentation.tiny import write_tiny_for_card

        return models.load_model(card.name, weights=str(write_tiny_for_card(card, folder / "weights")), device="cpu")
    if card.architecture == "roco-captioner":
        options["vocab"] = str(_tiny_vocab(folder / "vocab.txt"))
    if card.extra.get("backbone_weights"):  # the temporal head needs its backbone's checkpoint too
        from models.classification.temporal import build_imagenet_backbone

        # torchvision's ImageNet file (fc 1000x512), the temporal model's feature extractor
        torch.save(build_imagenet_backbone(card.extra["backbone"]).state_dict(),
                   folder / card.extra["backbone_weights"])
        options["backbone_weights"] = str(folder / card.extra["backbone_weights"])
    kind, obj = _published(card, _random_module(card, options))
    path = folder / Path(card.weights or f"{card.name}.pth").name
    if kind == "safetensors":
        from safetensors.torch import save_file

        save_file(obj, str(path))
    else:
        torch.save(obj, path)
    del obj
    return models.load_model(card.name, weights=str(path), device="cpu", **options)


def check_presets(ctx: Context) -> str:
    registry = _need("models.registry")
    cards = registry.list_presets()
    if not cards:
        raise AssertionError("no presets found in resources/presets")
    failures, loaded, skipped = [], [], []
    for card in cards:
        required = card.extra.get("requires")
        if required and importlib.util.find_spec(required) is None:
            skipped.append(f"{card.name} (optional {required} not installed)")
            continue
        folder = ctx.workdir / "weights" / card.name
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        try:
            model = _build_and_load(card, folder)
        except Exception as exc:
            failures.append(f"{card.name}: {type(exc).__name__}: {exc}")
            continue
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        loaded.append(f"{card.name} {time.perf_counter() - start:.0f} s")
        if FORWARD.get(card.task) == card.name:
            ctx.models[card.name] = model
        registry.clear_cache()  # keep memory flat: only the models used below stay alive
    if failures:
        raise AssertionError("; ".join(failures) + f" (built and loaded: {', '.join(loaded) or 'none'})")
    return f"built and loaded {len(loaded)}: {', '.join(loaded)}" + (
        f"; skipped {', '.join(skipped)}" if skipped else "")


def check_detection(ctx: Context) -> str:
    name, model = _model_for(ctx, "detection")
    dets = model.detect(_small_rgb(ctx), threshold=0.0)
    if dets.xyxy.ndim != 2 or dets.xyxy.shape[1:] != (4,) or len(dets.class_names) != len(dets):
        raise AssertionError(f"{name} returned malformed detections: {dets.xyxy.shape}")
    return f"{name}: {len(dets)} boxes"


def check_classification(ctx: Context) -> str:
    name, model = _model_for(ctx, "classification")
    probs = model.classify(_small_rgb(ctx))
    if set(probs) != set(model.class_names) or not all(0.0 <= p <= 1.0 for p in probs.values()):
        raise AssertionError(f"{name} returned {probs}")
    top = max(probs, key=probs.get)
    return f"{name}: top {top} {probs[top]:.2f}"


def check_caption(ctx: Context) -> str:
    name, model = _model_for(ctx, "captioning")
    text = model.caption(_small_rgb(ctx), max_len=8, beam_size=1)
    if not isinstance(text, str):
        raise AssertionError(f"{name} returned {type(text).__name__}, not text")
    return f"{name}: {text[:40]!r}"


def check_gradcam(ctx: Context) -> str:
    saliency = _need("models.saliency")
    if not hasattr(saliency, "explain"):
        raise NotAvailable("not available: models.saliency.explain")
    name, model = _model_for(ctx, "classification")
    rgb = _small_rgb(ctx)
    heat = saliency.explain(model, rgb, method="gradcam", target=None)
    if heat.shape != rgb.shape[:2] or not (heat.min() >= 0.0 and heat.max() <= 1.0):
        raise AssertionError(f"{name}: heat map {heat.shape} range [{heat.min()}, {heat.max()}]")
    return f"{name}: {heat.shape[1]}x{heat.shape[0]} map"


def check_coco_export(ctx: Context) -> str:
    if ctx.samples is None or not ctx.images:
        raise NotAvailable("skipped: needs decoded samples")
    store_mod = _need("desktop.core.store")
    exchange = _need("desktop.core.exchange")
    from pycocotools.coco import COCO

    expected = {}
    with store_mod.open_store(ctx.samples) as store:
        for i, (path, rgb) in enumerate(sorted(ctx.images.items())):
            h, w = rgb.shape[:2]
            image_id = store.ensure_image(Path(path).name, w, h)
            store.add_box(image_id, "finding" if i % 2 else "device", w * 0.25, h * 0.25, w * 0.5, h * 0.4)
            expected[Path(path).name] = (w * 0.25, h * 0.25, w * 0.5, h * 0.4)
        store.flush()
        out = exchange.export_coco(store, ctx.workdir / "export", keep_paths=True)
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools chats on stdout
        coco = COCO(str(out))  # read back by a second tool
    got = {coco.imgs[a["image_id"]]["file_name"]: tuple(a["bbox"]) for a in coco.dataset["annotations"]}
    if got != expected:
        raise AssertionError(f"{out.name} read back by pycocotools differs: {len(got)} boxes, expected {len(expected)}")
    return f"{out.name}: {len(coco.imgs)} images, {len(got)} boxes, {len(coco.cats)} categories (pycocotools)"


def check_train_entry(ctx: Context) -> str:
    import subprocess

    cmd = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m", "desktop"]
    out = subprocess.run([*cmd, "train", "--help"], capture_output=True, text=True, timeout=120)
    if out.returncode != 0 or "usage" not in out.stdout.lower():
        last = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        raise AssertionError(f"`{' '.join(cmd)} train --help` exited {out.returncode}: {last[0][-300:]}")
    return f"`{Path(cmd[0]).name}{' -m desktop' if len(cmd) > 1 else ''} train` starts"


def check_models_folder(ctx: Context) -> str:
    from models.resources import user_models_dir

    folder = user_models_dir().resolve()
    bundle = Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)).resolve()
    if getattr(sys, "frozen", False) and (folder == bundle or bundle in folder.parents):
        raise AssertionError(f"the models folder {folder} is inside the app bundle {bundle}")
    return str(folder)


def check_offline(ctx: Context) -> str:
    if ctx.network_attempts:
        raise AssertionError("tried to reach the network: " + ", ".join(ctx.network_attempts[:5]))
    return "no network access was attempted"


CHECKS: list[tuple[str, Callable[[Context], str]]] = [
    ("samples", check_samples),
    ("main-window", check_main_window),
    ("lazy-torch", check_lazy_torch),
    ("decode", check_decode),
    ("presets", check_presets),
    ("detection", check_detection),
    ("classification", check_classification),
    ("caption", check_caption),
    ("gradcam", check_gradcam),
    ("coco-export", check_coco_export),
    ("train-entry", check_train_entry),
    ("models-folder", check_models_folder),
    ("offline", check_offline),
]


def run_checks(workdir: Path, only: set[str] | None = None, echo: Callable[[str], None] = print) -> list[Result]:
    """Run the checks (all, or those named in `only`) in order; returns one Result per check."""
    ctx = Context(workdir=workdir)
    results = []
    with block_network(ctx.network_attempts):
        for name, check in CHECKS:
            if only is not None and name not in only:
                continue
            start = time.perf_counter()
            try:
                detail, ok = check(ctx), True
            except NotAvailable as exc:
                detail, ok = str(exc), False
            except Exception as exc:
                detail, ok = f"{type(exc).__name__}: {exc}", False
                if os.environ.get("LOUPE_SELFTEST_TRACEBACK"):
                    traceback.print_exc()
            result = Result(name, ok, detail, time.perf_counter() - start)
            results.append(result)
            echo(result.line())
    return results


def run_self_test(only: set[str] | None = None) -> int:
    """Entry of `loupe --self-test`: 0 when every check passes, 1 otherwise."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from desktop import __version__

    print(f"Loupe {__version__} self-test ({'frozen' if getattr(sys, 'frozen', False) else 'source'}, "
          f"Python {sys.version.split()[0]})", flush=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="loupe-selftest-") as tmp:
        results = run_checks(Path(tmp), only)
    failed = [r.name for r in results if not r.ok]
    total = time.perf_counter() - start
    if failed:
        print(f"self-test FAILED ({len(failed)} of {len(results)}: {', '.join(failed)}) in {total:.0f} s")
        return 1
    print(f"self-test passed ({len(results)} checks) in {total:.0f} s")
    return 0
