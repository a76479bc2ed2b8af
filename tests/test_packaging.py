"""The packaging's rules and files, checked cheaply (the real build is tests/test_packaging_build.py)."""

from __future__ import annotations

import glob
import json
import os
import plistlib
import re
import subprocess
import sys
from pathlib import Path, PureWindowsPath

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))

import build  # noqa: E402  (packaging/build.py)
import bundle_rules  # noqa: E402
from macos.info_plist import info_plist  # noqa: E402


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF libraries: Linux only")
def test_no_library_torch_links_against_is_dropped_from_a_cpu_bundle():
    """A CUDA torch cannot import without the libraries it links to: none of them may be filtered out."""
    pytest.importorskip("PyInstaller")
    from PyInstaller.depend import bindepend

    torch_lib = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages" / "torch" / "lib"
    libs = [f for f in glob.glob(str(torch_lib / "*.so*")) if bundle_rules.keep_binary(Path(f).name)]
    if not libs:
        pytest.skip(f"no torch libraries at {torch_lib}")
    linked = {name for lib in libs for name, _ in bindepend.get_imports(lib)}
    dropped = sorted(n for n in linked if not bundle_rules.keep_binary(n))
    assert dropped == [], f"the bundle would drop libraries torch needs to import: {dropped}"
    # and the rule does drop what it is for
    for gpu_only in ("libcudnn_engines_precompiled.so.9", "libtorch_cuda_linalg.so", "libcusolver.so.12"):
        assert not bundle_rules.keep_binary(gpu_only)


def test_excluded_modules_are_not_ones_the_app_imports():
    runtime = {"torch", "torchvision", "PySide6", "pydicom", "transformers", "rfdetr", "captum", "pycocotools",
               "safetensors", "numpy", "PIL", "cv2", "platformdirs", "natsort", "pyqtgraph", "scipy", "timm"}
    excluded = set(bundle_rules.EXCLUDED_MODULES + bundle_rules.CUDA_PACKAGES)  # whole names: torch.utils.x is fine
    assert runtime.isdisjoint(excluded)


def test_icons_are_rendered_from_our_drawing_and_readable_by_pillow(tmp_path):
    from make_icons import make_icons
    from PIL import Image

    out = make_icons(tmp_path)
    with Image.open(out["ico"]) as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])
    with Image.open(out["icns"]) as icns:
        assert (512, 512, 2) in icns.info["sizes"] or (1024, 1024) in {s[:2] for s in icns.info["sizes"]}
    with Image.open(out["png64"]) as png:
        rgba = png.convert("RGBA")
        assert rgba.getpixel((0, 0))[3] == 0  # transparent corner (rounded square)
        assert rgba.getpixel((32, 32))[3] == 255  # the drawing itself


def test_info_plist_declares_bundle_id_version_high_dpi_and_folder_documents():
    import desktop

    data = plistlib.loads(plistlib.dumps(info_plist(desktop.__version__)))  # must serialise as a plist
    assert data["CFBundleIdentifier"] == "org.loupe-app.Loupe"
    assert data["CFBundleShortVersionString"] == desktop.__version__
    assert data["NSHighResolutionCapable"] is True
    assert ["public.folder"] in [d["LSItemContentTypes"] for d in data["CFBundleDocumentTypes"]]


def test_installer_script_packs_the_folder_build_py_writes():
    iss = (PACKAGING / "windows" / "loupe.iss").read_text(encoding="utf-8")
    bundle_dir = re.search(r'#define BundleDir "([^"]+)"', iss).group(1)
    packed = (PACKAGING / "windows" / Path(*PureWindowsPath(bundle_dir).parts)).resolve()
    folder, gui, cli = build.bundle_paths(PACKAGING / "dist")
    if sys.platform != "darwin":
        assert packed == folder.resolve()
    assert "Directory\\shell\\Loupe\\command" in iss  # "Open in Loupe" on project folders
    assert re.search(r'Filename: "\{app\}\\loupe-cli.exe"; Parameters: "--self-test"', iss)


def test_ci_builds_both_installers_on_tags_and_smoke_tests_each():
    yaml = pytest.importorskip("yaml")
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "build-installers.yml").read_text(encoding="utf-8"))
    triggers = wf[True]  # YAML reads the key `on` as True
    assert triggers["push"]["tags"] == ["v*"]
    assert "packaging/**" in triggers["pull_request"]["paths"]
    jobs = wf["jobs"]
    assert jobs["macos"]["runs-on"].startswith("macos-14")  # arm64
    assert jobs["windows"]["runs-on"].startswith("windows")
    for name in ("linux-spec-check", "macos", "windows"):
        script = "\n".join(step.get("run", "") for step in jobs[name]["steps"])
        assert "--self-test" in script or "check_linux_build.sh" in script, name


def test_tree_size_counts_files_per_package(tmp_path):
    internal = tmp_path / "Loupe" / "_internal"
    (internal / "torch" / "lib").mkdir(parents=True)
    (internal / "torch" / "lib" / "libtorch.so").write_bytes(b"x" * 3000)
    (internal / "libpython3.11.so").write_bytes(b"x" * 500)
    (tmp_path / "Loupe" / "Loupe").write_bytes(b"x" * 100)
    total, parts = build.tree_size(tmp_path / "Loupe")
    assert total == 3600
    assert parts == {"torch": 3000, "(top-level libraries)": 500, "(executables)": 100}


@pytest.mark.gui
def test_startup_probe_sees_the_first_window_without_torch(tmp_path):
    """Opening the app (the real start path: run_app, main window, panels) must not import torch."""
    for module in ("desktop.ui.app", "desktop.ui.main_window"):
        if not (ROOT / (module.replace(".", "/") + ".py")).exists():
            pytest.skip(f"{module} is not there yet")
    probe = tmp_path / "probe.json"
    code = ("import runpy, sys; runpy.run_path(sys.argv[1]);"
            "from desktop.cli import main; sys.exit(main([]))")
    env = dict(os.environ, LOUPE_STARTUP_PROBE=str(probe), QT_QPA_PLATFORM="offscreen",
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    out = subprocess.run([sys.executable, "-c", code, str(PACKAGING / "rthooks" / "startup_probe.py")],
                         env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert probe.exists(), f"no window was shown (exit {out.returncode}): {out.stderr[-2000:]}"
    result = json.loads(probe.read_text())
    assert result["torch"] is False, ("opening the main window imported torch (it must load with a model only), "
                                      f"from: {result['torch_importer']}")


def test_torchvision_operator_libraries_are_collected():
    """torchvision loads nms & co. from *_stable.so by path: the hook must collect every one of them."""
    import importlib.util
    import runpy

    pytest.importorskip("PyInstaller")
    spec = importlib.util.find_spec("torchvision")  # without importing torch
    if spec is None:
        pytest.skip("torchvision is not installed")
    torchvision_dir = Path(spec.origin).parent
    expected = {p.name for p in torchvision_dir.iterdir() if p.suffix in {".so", ".dylib", ".dll", ".pyd"}}
    hook = runpy.run_path(str(PACKAGING / "hooks" / "hook-torchvision.py"))
    collected = {Path(src).name for src, dest in hook["binaries"] if dest == "torchvision"}
    assert expected and expected <= collected
