"""Teaching-case figures (run: .venv/bin/python tests/benchmarks/bench_teaching.py).

- building the search index over 5,000 cases (the first search), and a two-word search after it,
  FTS5 vs the LIKE fallback
- one field edit (a keystroke in the case form: one transaction plus its index row), median
- scoring one answer with 20 expert boxes and 20 marks
- the Cases dock listing all 5,000 cases, a search finding a third of them, and one (offscreen Qt)
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from desktop.core.store import open_store  # noqa: E402
from desktop.core.teaching import CaseBook, Mark, score_case  # noqa: E402
from desktop.core.teaching import search as search_module  # noqa: E402

N = 5000
WORDS = ("pneumonia effusion fracture nodule mass pneumothorax consolidation atelectasis cardiomegaly "
         "sarcoidosis lymphoma metastases granuloma emphysema fibrosis").split()
FILLER = [f"word{i}" for i in range(3000)]  # the rest of a report's vocabulary


def timed(fn, repeat=20):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(tmp)
        ids = store.bulk_ensure_images([(f"f{i:05d}.png", 64, 64) for i in range(N)])
        book = CaseBook(store)
        with store.batch():
            for image_id in sorted(ids.values()):
                book.create([image_id], diagnosis=rng.choice(WORDS).title(),
                            keywords=rng.sample(WORDS, 3), findings=" ".join(rng.choices(FILLER, k=40) + rng.choices(WORDS, k=2)),
                            history=" ".join(rng.choices(FILLER, k=20)))
        t0 = time.perf_counter()
        book.search("pneumonia")
        print(f"index built on the first search, {N} cases: {time.perf_counter() - t0:.3f} s")
        fts = timed(lambda: book.search("pneumonia effusion"))
        n_fts = len(book.search("pneumonia effusion"))
        original = search_module.has_fts5
        search_module.has_fts5 = lambda: False
        like = timed(lambda: book.search("pneumonia effusion"))
        n_like = len(book.search("pneumonia effusion"))
        search_module.has_fts5 = original
        print(f"two-word search: FTS5 {fts * 1000:.2f} ms ({n_fts} cases), LIKE {like * 1000:.2f} ms ({n_like} cases)")
        from desktop.core.teaching.search import _stale

        stale = timed(lambda: _stale(store.conn))
        print(f"of which the staleness check (every search): {stale * 1000:.2f} ms")
        cid = book.cases()[0].id
        text = iter(range(10**6))
        edit = timed(lambda: book.update(cid, "findings", f"typing {next(text)}"), repeat=200)
        print(f"one field edit (a keystroke), median: {edit * 1000:.2f} ms")
        expert = [Mark("A", rng.uniform(0, 500), rng.uniform(0, 500), 40, 40) for _ in range(20)]
        learner = [Mark("A", m.x + rng.uniform(-8, 8), m.y + rng.uniform(-8, 8), 40, 40) for m in expert]
        score = timed(lambda: score_case(expert, learner), repeat=50)
        print(f"scoring 20 expert boxes against 20 marks: {score * 1000:.2f} ms")
        store.close()
        dock_figures(Path(tmp))


def dock_figures(tmp: Path) -> None:
    """The Cases dock in a real (offscreen) window over a folder of 5,000 cases."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    import desktop.ui.extensions as extensions
    from desktop.ui.main_window import MainWindow

    extensions.EXTENSIONS = ["desktop.ui.editor:install", "desktop.ui.teaching:install"]
    app = QApplication.instance() or QApplication([])
    folder = tmp / "dock"
    folder.mkdir()
    Image.new("L", (64, 64)).save(folder / "a.png")
    win = MainWindow(settings=QSettings(str(tmp / "settings.ini"), QSettings.IniFormat))
    win.show()
    win.open_folder(folder)
    end = time.monotonic() + 20
    while win.box_editor.store is None and time.monotonic() < end:
        app.processEvents()
    store = win.box_editor.store
    ids = store.bulk_ensure_images([(f"x{i}.png", 64, 64) for i in range(N)])
    book = CaseBook(store)
    with store.batch():
        for i, image_id in enumerate(ids.values()):
            book.create([image_id], diagnosis=("Pneumonia", "Fracture", "Effusion")[i % 3], keywords=[f"k{i}"])
    panel = win.teaching
    for query in ("", "effusion", f"k{N - 1}"):
        panel.search.setText(query)
        t = timed(panel.refresh_list, repeat=5)
        print(f"Cases dock, search {query!r}: {len(panel.visible_ids())} cases listed in {t * 1000:.0f} ms")
    win.close()


if __name__ == "__main__":
    main()
