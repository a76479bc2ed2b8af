"""Every kind of bad input in tests/bad_input_corpus.py through the real entry points: read_image and
display, `loupe import`, `load_model`, and the window's folder open. Each must end in a message
naming the file and the reason, within a time limit: no traceback, nothing written to the store, no
pickle payload run (issue 14, part 5)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import time
from pathlib import Path

import pytest
from bad_input_corpus import build_corpus
from exchange_helpers import write_png

from desktop.core.imaging import ImageReadError, read_image
from models.errors import LoupeError

IMAGE_SECONDS, IMPORT_SECONDS, WEIGHTS_SECONDS = 5.0, 10.0, 20.0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    return root, build_corpus(root)


def _of(corpus, entry):
    return [k for k in corpus[1] if k.entry == entry]


def _check_all(kinds, check):
    """Run `check(kind)` on every kind; fail once, listing every kind that went wrong."""
    failures = []
    for kind in kinds:
        try:
            check(kind)
        except AssertionError as exc:
            failures.append(f"{kind.name}: {exc}")
    assert not failures, f"{len(failures)} of {len(kinds)} kinds failed:\n" + "\n".join(failures)


def test_the_corpus_covers_sixty_kinds_in_every_family(corpus):
    kinds = corpus[1]
    assert len(kinds) >= 60
    families = {"image": 0, "dicom": 0, "folder": 0, "coco": 0, "csv": 0, "yolo": 0, "voc": 0, "weights": 0}
    for k in kinds:
        if k.entry == "image":
            families["dicom" if k.path.suffix == ".dcm" else "image"] += 1
        elif k.entry == "import":
            families[{"coco-results": "coco", "nih-csv": "csv", "authors-csv": "csv"}.get(k.fmt, k.fmt)] += 1
        else:
            families[k.entry] += 1
    assert all(n >= 3 for n in families.values()), families


@pytest.mark.timeout(300)
def test_every_bad_image_is_refused_with_its_reason_or_shown_with_a_note(corpus):
    def check(kind):
        start = time.perf_counter()
        try:
            image = read_image(kind.path)
            shown = image.display()
        except ImageReadError as exc:
            assert not kind.opens, f"refused: {exc}"
            assert kind.path.name in str(exc), str(exc)
            assert kind.reason.lower() in exc.reason.lower(), exc.reason
        except Exception as exc:  # anything else would reach the user as a traceback
            raise AssertionError(f"{type(exc).__name__}: {exc}") from exc
        else:
            assert kind.opens, "opened, but it should have been refused"
            assert shown.dtype.name == "uint8" and shown.ndim == 3
            assert kind.reason in " ".join(str(v) for v in image.meta.values()), image.meta
        assert time.perf_counter() - start < IMAGE_SECONDS, f"took {time.perf_counter() - start:.1f} s"

    _check_all(_of(corpus, "image"), check)


def _target_folder(root: Path, kind) -> Path:
    folder = root / "targets" / kind.name.replace(":", "_")
    write_png(folder / "a.png", 50, 40)
    write_png(folder / "b.png", 30, 30, seed=1)
    if "link" in kind.name:  # a film in the folder that is a link to another patient's file
        os.symlink(root / "outside.png", folder / "link.png")
    return folder


@pytest.mark.timeout(300)
def test_every_bad_import_is_refused_by_loupe_import_and_writes_nothing(corpus):
    from desktop.cli import main
    from desktop.core.store import open_store

    root = corpus[0]

    def check(kind):
        folder = _target_folder(root, kind)
        before = sorted(p.name for p in folder.iterdir())
        err, out = io.StringIO(), io.StringIO()
        start = time.perf_counter()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
                rc = main(["import", str(folder), str(kind.path), "--format", kind.fmt])
        except Exception as exc:  # main lets only what is not a LoupeError through: a traceback
            raise AssertionError(f"{type(exc).__name__}: {exc}") from exc
        elapsed = time.perf_counter() - start
        text = err.getvalue()
        assert rc == 2, f"exit {rc}: {out.getvalue()}{text}"
        assert "Traceback" not in text
        assert (kind.names or kind.path.name) in text, text
        assert kind.reason.lower() in text.lower(), text
        assert elapsed < IMPORT_SECONDS, f"took {elapsed:.1f} s"
        with open_store(folder) as store:
            written = (store.image_count(), store.box_count(include_deleted=True), len(store.categories()))
        assert written == (0, 0, 0), f"the store holds (images, boxes, categories) {written}"
        assert sorted(p.name for p in folder.iterdir() if p.name != ".loupe") == before

    _check_all(_of(corpus, "import"), check)


@pytest.mark.timeout(300)
def test_every_bad_weights_file_is_refused_by_load_model_and_no_payload_runs(corpus):
    import torchvision  # noqa: F401 - imported before the clock starts

    from models import load_model

    def check(kind):
        start = time.perf_counter()
        try:
            load_model("chexnet", weights=kind.path, device="cpu")
        except LoupeError as exc:
            text = str(exc)
            assert str(kind.path) in text or kind.path.name in text, text
            assert kind.reason.lower() in text.lower(), text
        except Exception as exc:
            raise AssertionError(f"{type(exc).__name__}: {exc}") from exc
        else:
            raise AssertionError("loaded")
        assert time.perf_counter() - start < WEIGHTS_SECONDS, f"took {time.perf_counter() - start:.1f} s"
        if kind.payload is not None:
            assert not kind.payload.exists(), "the pickle payload ran"

    _check_all(_of(corpus, "weights"), check)


@pytest.mark.gui
@pytest.mark.timeout(300)
def test_the_window_opens_every_bad_folder_and_image_with_a_message(qtbot, corpus, tmp_path, monkeypatch):
    from viewer_helpers import make_window

    from desktop.ui.viewer.image_list import ErrorRole

    win = make_window(qtbot, tmp_path, monkeypatch)

    def check_folder(kind):
        win.open_folder(kind.path)
        if kind.name == "folder:missing":
            text = win.notifications.history[-1][1]
        else:
            qtbot.waitUntil(lambda: bool(win.notifications.history) and str(kind.path.resolve()) in
                            win.notifications.history[-1][1], timeout=10000)
            level, text, details = win.notifications.history[-1]
            text = f"{text}\n{details or ''}"
        assert kind.names in text and kind.reason in text, text

    _check_all(_of(corpus, "folder"), check_folder)

    films = tmp_path / "bad_films"
    films.mkdir()
    images = [k for k in _of(corpus, "image") if k.path.is_file() and not k.path.is_symlink()]
    for k in images:
        shutil.copyfile(k.path, films / f"{k.name.split(':')[1]}{k.path.suffix}")
    win.open_folder(films)
    qtbot.waitUntil(lambda: len(win.image_paths()) == len(images), timeout=20000)

    def check_image(kind):
        path = str(films.resolve() / f"{kind.name.split(':')[1]}{kind.path.suffix}")
        start = time.perf_counter()
        shown = win.show_image(path)
        assert time.perf_counter() - start < IMAGE_SECONDS
        assert shown == kind.opens, f"shown={shown}"
        if not kind.opens:
            level, text, details = win.notifications.history[-1]
            assert os.path.basename(path) in text and kind.reason.lower() in details.lower(), details
            row = win.image_list.model.row_of[path]
            reason = win.image_list.model.index(row, 0).data(ErrorRole)
            assert reason and kind.reason.lower() in reason.lower(), reason
        else:
            assert win.current_image() is not None

    _check_all(images, check_image)
