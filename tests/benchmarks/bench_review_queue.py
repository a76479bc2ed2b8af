"""Review queue figures (decision 0131): at 10, 10,000 and 100,000 listed images, the time to order
the image list by a run's uncertainty (one sort + reset + relayout), a step (`neighbour` + select,
what D and Space do to the list) in that order beside the same step in folder order, and N
(`first_in_queue` over a ranking whose first 90% are reviewed, the worst case of a finished day).

    .venv/bin/python tests/benchmarks/bench_review_queue.py [--sizes 10,10000,100000]

No files are decoded: the list alone, as tests/test_viewer_scale.py measures it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:9.2f} ms"


def measure(app, n: int) -> dict:
    from desktop.ui.viewer.image_list import ImageListPanel

    panel = ImageListPanel()
    panel.resize(300, 700)
    panel.show()
    root = "/data/scans"
    paths = [f"{root}/img{i:06d}.png" for i in range(n)]
    panel.model.reset(root)
    for start in range(0, n, 5000):
        panel.model.append(paths[start:start + 5000])
    app.processEvents()
    rng = random.Random(0)
    scores = {p: rng.random() for p in paths}

    def steps(k=50) -> float:
        here = panel.visible_paths()[n // 2]
        times = []
        for _ in range(min(k, n // 2 - 1) or 1):
            t = time.perf_counter()
            nxt = panel.neighbour(here, +1)
            panel.select_path(nxt)
            panel.view.viewport().repaint()
            times.append(time.perf_counter() - t)
            here = nxt
        return statistics.median(times)

    out = {"folder_step": steps()}
    t = time.perf_counter()
    panel.set_order_scores(scores)
    app.processEvents()
    out["sort"] = time.perf_counter() - t
    out["ordered_step"] = steps()
    ranked = sorted(scores, key=lambda p: -scores[p])
    done = {p: "done" for p in ranked[: int(n * 0.9)]}
    panel.set_review_statuses(done)
    t = time.perf_counter()
    target, lead = panel.first_in_queue(ranked)
    out["n_key"] = time.perf_counter() - t
    assert target == ranked[int(n * 0.9)] if n > 1 else True
    t = time.perf_counter()
    panel.first_in_queue(ranked, skip=target, start=lead)
    out["n_again"] = time.perf_counter() - t
    panel.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,10000,100000")
    args = parser.parse_args()
    from desktop.ui.app import make_app

    app = make_app()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {n: measure(app, n) for n in sizes}
    print(f"{'images':<44}" + "".join(f"{n:>14,}" for n in sizes))
    for key, label in (("sort", "order by uncertainty (sort + reset + layout)"),
                       ("folder_step", "step in folder order (median; baseline)"),
                       ("ordered_step", "step in uncertainty order (median)"),
                       ("n_key", "N with 90% of the ranking reviewed (first)"),
                       ("n_again", "N again (from where the first stopped)")):
        print(f"{label:<44}" + "".join(f"{ms(results[n][key]):>14}" for n in sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
