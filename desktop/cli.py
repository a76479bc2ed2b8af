"""The `loupe` command: the GUI by default, plus headless subcommands.

Each subcommand lives in `desktop/commands/<name>.py` with `add_arguments(parser)` and
`run(args) -> int`; it is imported only when used, so `loupe --help` and the GUI start fast.
Errors meant for the user (`models.errors.LoupeError` and its subclasses) are printed as
`loupe <cmd>: error: <message>` with exit status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help). Order is the order of `loupe --help`.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "detect": ("desktop.commands.detect", "run a detector on images, write a COCO results file"),
    "classify": ("desktop.commands.classify", "run a classifier on images, write probabilities"),
    "caption": ("desktop.commands.caption", "caption images with a radiology captioner"),
    "saliency": ("desktop.commands.saliency", "write a saliency map (overlay PNG, optional .npy)"),
    "import": ("desktop.commands.import_", "import annotations (COCO, COCO results, NIH CSV, authors CSV, YOLO, VOC) into a folder"),
    "export": ("desktop.commands.export", "export a folder (COCO, Roboflow, YOLO, VOC, corrections, measurements, teaching set)"),
    "train": ("desktop.commands.train", "fine-tune a detector or classifier"),
    "eval": ("desktop.commands.eval", "evaluate predictions against ground truth"),
    "corrections": ("desktop.commands.corrections", "how much each model was corrected: CSV and PNG of the dashboard"),
    "refine": ("desktop.commands.refine", "snap model boxes to a segment-anything model's masks (MedSAM, SAM)"),
    "cases": ("desktop.commands.cases", "list or search a folder's teaching cases; export its quiz results (CSV)"),
    "weights": ("desktop.commands.weights", "list the presets' weights files; download one (weights get)"),
    "devices": ("desktop.commands.devices", "list the devices models can run on here (CPU, CUDA GPUs, Apple MPS)"),
}


def _gui_parser() -> argparse.ArgumentParser:
    epilog = "subcommands (loupe SUBCOMMAND --help for each):\n" + "\n".join(
        f"  {name:<12} {help_}" for name, (_, help_) in SUBCOMMANDS.items()
    )
    p = argparse.ArgumentParser(
        prog="loupe",
        description="Loupe: look at medical images and correct what models say about them.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("folder", nargs="?", help="folder of images to open in the app")
    p.add_argument("--samples", action="store_true", help="open the bundled sample folder")
    p.add_argument("--self-test", action="store_true",
                   help="headless smoke test of decoding, models and export; exits 0 when all pass")
    p.add_argument("--version", action="version", version=_version())
    return p


def _version() -> str:
    from desktop import __version__

    return f"loupe {__version__}"


def run_subcommand(name: str, argv: list[str]) -> int:
    from models.errors import LoupeError

    module_name, help_ = SUBCOMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"loupe {name}", description=help_)
    module.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return int(module.run(args) or 0)
    except LoupeError as exc:
        print(f"loupe {name}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"loupe {name}: interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        return run_subcommand(argv[0], argv[1:])
    args = _gui_parser().parse_args(argv)
    if args.self_test:
        from desktop.selftest import run_self_test

        return run_self_test()
    from desktop.ui.app import run_app

    return run_app(folder=args.folder, samples=args.samples)


if __name__ == "__main__":
    sys.exit(main())
