"""The cheap surfaces: importing the engine does not pull torch or Qt, and the CLI documents itself."""

import subprocess
import sys


def test_importing_models_and_core_is_cheap():
    code = (
        "import sys, models, desktop.core, desktop.cli;"
        "bad=[m for m in ('torch','PySide6') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing the packages pulled in {out.stdout.strip()}"


def test_help_lists_every_subcommand():
    out = subprocess.run([sys.executable, "-m", "desktop", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for name in ("detect", "classify", "caption", "saliency", "import", "export", "train", "eval"):
        assert f"  {name} " in out.stdout
