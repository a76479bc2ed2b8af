"""Start-up time to the first window, from source and (when built) from the bundle, side by side
with the issue's goal: first window < 3 s warm, torch not imported before a model loads.

    .venv/bin/python tests/benchmarks/bench_startup.py [--bundle packaging/dist] [--runs 3]

Cold = the first start (with the bundle: its files evicted from the page cache on Linux); warm =
median of the next runs. The probe (packaging/rthooks/startup_probe.py) stamps the time one event-loop
turn after MainWindow.show() and exits.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))

from build import bundle_paths, measure_startup, platform_env, tree_size  # noqa: E402

GOAL_WARM_S = 3.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bundle", type=Path, default=ROOT / "packaging" / "dist", help="PyInstaller dist folder")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()

    probe = str(ROOT / "packaging" / "rthooks" / "startup_probe.py")
    source_cmd = [sys.executable, "-c",
                  "import runpy, sys; runpy.run_path(sys.argv[1]); from desktop.cli import main; sys.exit(main([]))",
                  probe]
    rows = [("source (python -m desktop)", measure_startup(source_cmd, None, args.runs, platform_env()), None)]
    folder, gui, _ = bundle_paths(args.bundle)
    if gui.exists():
        rows.append((f"bundle ({folder.name})", measure_startup([str(gui)], folder, args.runs, platform_env()),
                     tree_size(folder)[0] / 1e6))
    else:
        print(f"(no bundle at {folder}: build it with packaging/build.py to compare)")

    print(f"\n{'':28} {'cold s':>8} {'warm s':>8} {'goal warm':>10} {'torch at window':>16} {'size MB':>9}")
    for name, fig, size in rows:
        print(f"{name:28} {fig['cold_s']:8.2f} {fig['warm_s']:8.2f} {'< ' + str(GOAL_WARM_S):>10} "
              f"{'YES' if fig['torch_at_first_window'] else 'no':>16} {'' if size is None else f'{size:9.0f}'}")
    print(f"(cold: {rows[-1][1]['cold_kind']}; {os.cpu_count()} CPUs; QT_QPA_PLATFORM="
          f"{platform_env().get('QT_QPA_PLATFORM', os.environ.get('QT_QPA_PLATFORM', 'native'))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
