"""Build Loupe's one-folder bundle with PyInstaller and print its figures.

    python packaging/build.py                      icons, bundle, size, start-up times
    python packaging/build.py --self-test          ... then run `--self-test` on the bundle
    python packaging/build.py --skip-build         only measure an existing bundle
    python packaging/build.py --dist DIR --work DIR

Prints: the bundle size (MB, and the biggest parts), the build time, and the time from starting the
executable to its first window on screen: cold (the bundle's files evicted from the page cache on
Linux; elsewhere the first run after the build) and warm (median of the next runs). The goal is a
first window in < 3 s warm with torch not yet imported. Installers (.dmg, Inno Setup) are made from
the bundle by packaging/macos/make_dmg.sh and packaging/windows/loupe.iss.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "loupe.spec"


def bundle_paths(dist: Path) -> tuple[Path, Path, Path]:
    """(bundle to measure, GUI executable, console executable) for this OS."""
    if sys.platform == "darwin":
        app = dist / "Loupe.app"
        exe = app / "Contents" / "MacOS" / "Loupe"
        return app, exe, exe
    folder = dist / "Loupe"
    if sys.platform == "win32":
        return folder, folder / "Loupe.exe", folder / "loupe-cli.exe"
    return folder, folder / "Loupe", folder / "Loupe"


def tree_size(path: Path) -> tuple[int, dict[str, int]]:
    """Total bytes of regular files under `path`, and bytes per top-level package in the bundle."""
    total, parts = 0, {}
    internal = next((p for p in path.rglob("_internal") if p.is_dir()), path)
    for f in path.rglob("*"):
        if f.is_file() and not f.is_symlink():
            size = f.stat().st_size
            total += size
            try:
                rel = f.relative_to(internal).parts
                key = rel[0] if len(rel) > 1 else "(top-level libraries)"
            except ValueError:
                key = "(executables)"
            parts[key] = parts.get(key, 0) + size
    return total, parts


def evict_from_cache(path: Path) -> bool:
    """Drop the bundle's files from the page cache (Linux, no privileges needed)."""
    if not hasattr(os, "posix_fadvise"):
        return False
    for f in path.rglob("*"):
        if f.is_file() and not f.is_symlink():
            try:
                fd = os.open(f, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return True


def time_to_first_window(cmd: list[str], env_extra: dict[str, str] | None = None, timeout: float = 180) -> dict:
    """Start `cmd` with the start-up probe on; seconds until its first window was shown."""
    with tempfile.TemporaryDirectory(prefix="loupe-startup-") as tmp:
        probe = Path(tmp) / "probe.json"
        env = dict(os.environ, LOUPE_STARTUP_PROBE=str(probe), **(env_extra or {}))
        # Do not reopen a folder remembered from a previous session: start as a new user would.
        env.setdefault("XDG_CONFIG_HOME", str(Path(tmp) / "config"))
        start = time.time()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if not probe.exists():
            raise RuntimeError(f"{cmd[0]} exited {proc.returncode} without showing a window:\n"
                               f"{(proc.stderr or proc.stdout)[-2000:]}")
        data = json.loads(probe.read_text())
        return {"seconds": data["t"] - start, "torch": data["torch"]}


def measure_startup(cmd: list[str], bundle: Path | None, warm_runs: int = 3, env_extra=None) -> dict:
    evicted = evict_from_cache(bundle) if bundle is not None else False
    cold = time_to_first_window(cmd, env_extra)
    warm = [time_to_first_window(cmd, env_extra) for _ in range(warm_runs)]
    return {
        "cold_s": cold["seconds"],
        "cold_kind": "page cache evicted" if evicted else "first run",
        "warm_s": statistics.median(w["seconds"] for w in warm),
        "torch_at_first_window": cold["torch"] or any(w["torch"] for w in warm),
    }


def platform_env() -> dict[str, str]:
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        return {"QT_QPA_PLATFORM": "offscreen"}
    return {}


def build(dist: Path, work: Path) -> float:
    sys.path.insert(0, str(ROOT / "packaging"))
    from make_icons import make_icons

    make_icons(ROOT / "packaging" / "build" / "icons")
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level=WARN",
           "--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    subprocess.run(cmd, check=True, cwd=ROOT)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dist", type=Path, default=ROOT / "packaging" / "dist")
    p.add_argument("--work", type=Path, default=ROOT / "packaging" / "build" / "work")
    p.add_argument("--skip-build", action="store_true", help="measure an existing bundle")
    p.add_argument("--self-test", action="store_true", help="run the bundle's --self-test afterwards")
    p.add_argument("--warm-runs", type=int, default=3)
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = p.parse_args(argv)

    figures: dict = {"platform": sys.platform}
    if not args.skip_build:
        figures["build_s"] = build(args.dist, args.work)
    bundle, gui, cli = bundle_paths(args.dist)
    if not gui.exists():
        print(f"build.py: no bundle at {bundle} (run without --skip-build)", file=sys.stderr)
        return 2
    total, parts = tree_size(bundle)
    figures["bundle_mb"] = total / 1e6
    figures.update(measure_startup([str(gui)], bundle, args.warm_runs, platform_env()))

    print(f"\nLoupe bundle ({sys.platform}): {bundle}")
    if "build_s" in figures:
        print(f"  build time            {figures['build_s']:8.0f} s")
    print(f"  bundle size           {figures['bundle_mb']:8.0f} MB")
    for name, size in sorted(parts.items(), key=lambda kv: -kv[1])[:8]:
        print(f"      {name:<28} {size / 1e6:8.0f} MB")
    print(f"  first window, cold    {figures['cold_s']:8.2f} s   ({figures['cold_kind']})")
    print(f"  first window, warm    {figures['warm_s']:8.2f} s   (goal < 3 s; median of {args.warm_runs})")
    print(f"  torch imported before the first window: {'YES (should be lazy)' if figures['torch_at_first_window'] else 'no'}")

    status = 0
    if args.self_test:
        start = time.perf_counter()
        proc = subprocess.run([str(cli), "--self-test"], env=dict(os.environ, **platform_env()))
        figures["self_test_s"] = time.perf_counter() - start
        figures["self_test_rc"] = proc.returncode
        print(f"  self-test             {'passed' if proc.returncode == 0 else 'FAILED'} in {figures['self_test_s']:.0f} s")
        status = proc.returncode
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return status


if __name__ == "__main__":
    sys.exit(main())
