"""The real thing: build the Linux bundle from a clean copy of the tree and run its --self-test.

Slow (a PyInstaller build of torch, Qt and transformers): excluded from the default run; CI runs it
(or packaging/check_linux_build.sh, the same) when packaging/ changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux spec check")
def test_linux_bundle_built_in_a_clean_directory_passes_its_self_test(tmp_path):
    pytest.importorskip("PyInstaller")
    out = subprocess.run(["bash", str(ROOT / "packaging" / "check_linux_build.sh"), str(tmp_path)],
                         capture_output=True, text=True, timeout=3500,
                         env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home")})
    tail = (out.stdout + out.stderr)[-4000:]
    figures = json.loads((tmp_path / "figures.json").read_text()) if (tmp_path / "figures.json").exists() else {}
    assert out.returncode == 0, tail
    assert figures["self_test_rc"] == 0, tail
    assert "self-test passed" in out.stdout, tail
    # the bundle is self-contained: no file links back into the build machine's environment
    bundle = tmp_path / "dist" / "Loupe"
    escaping = [p for p in bundle.rglob("*") if p.is_symlink() and not p.resolve().is_relative_to(bundle.resolve())]
    assert escaping == []
