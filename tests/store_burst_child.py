"""Edits through the real store API in bursts, for the two-process test (run as a script, or
imported and called in the test's own process).

Each process adds its own boxes (x = 100000 * tag + k, so a box's maker and number are known from
the row), changes the width of a box it made (by the id the store gave it), and changes the height
of a box the OTHER process made (by the id it read from the database). It returns every edit it
made: the final database must hold exactly those, each on the box it was made on."""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path


def work(folder: str, tag: int, partner: int, n: int, background: bool = False, seed: int = 0,
         hold: bool = False) -> list:
    from desktop.core.store import open_store

    rng = random.Random(seed)
    store = open_store(folder)
    if background:
        store.start_background()
    image = store.ensure_image("a.png", 1000000, 1000000)
    go = Path(folder) / "go"
    if tag == 2:  # the child: say it is ready, then start together with the test's process
        (Path(folder) / "ready").touch()
        deadline = time.monotonic() + 60
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
    else:
        go.touch()
    log = []
    mine = []
    for k in range(n):
        x = float(100000 * tag + k)
        box = store.add_box(image, "heart", x, float(k), 5.0, 5.0)
        mine.append((box, x))
        log.append(("add", x))
        own, own_x = rng.choice(mine)
        width = float(6 + (k % 7))
        store.update_box(own, w=width)
        log.append(("w", own_x, width))
        # the other's newest box half of the time: ids that just collided are the newest ones
        order = "id DESC" if k % 2 else "random()"
        theirs = store.conn.execute(f"SELECT id, x FROM boxes WHERE x >= ? AND x < ? ORDER BY {order} LIMIT 1",
                                    (100000.0 * partner, 100000.0 * (partner + 1))).fetchone()
        if theirs is not None:
            height = float(100 * tag + k % 50 + 1)
            store.update_box(theirs[0], h=height)
            log.append(("h", theirs[1], height))
        if hold and k % 10 == 9:
            # a burst in one transaction that holds the write lock a while: the other process's
            # edits have to wait, and its waiting new boxes meet ids taken meanwhile
            with store.batch():
                for j in range(3):
                    x = float(100000 * tag + n + 3 * k + j)
                    box = store.add_box(image, "heart", x, 0.0, 5.0, 5.0)
                    mine.append((box, x))
                    log.append(("add", x))
                time.sleep(0.03)
    if not store.wait_saved(20):
        raise SystemExit(f"edits still waiting: {store.pending}")
    store.close()
    return log


if __name__ == "__main__":
    folder, tag, partner, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(work(folder, tag, partner, n, seed=tag, hold=True)))
