"""A read-only folder shows its annotations (issue 14 part 2), and unsaved edits go to a recovery
file that the next open puts back (part 1).

What is simulated: the tests run as root, where chmod does not deny writes. "The folder cannot be
written" is `location.folder_writable` answering False (the probe the store uses); "not even the
-wal/-shm files can be created" is `location.sidecar_creatable` answering False. The read-only
behaviour itself is real: the store is then opened with SQLite's `mode=ro` / `immutable=1` URI, and
SQLite itself refuses every write, root or not."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from desktop.cli import main as cli_main
from desktop.core.store import StoreReadOnlyError, location, open_store
from desktop.core.store.store import open_working_copy
from tests.exchange_helpers import write_png


def _folder_with_annotations(tmp_path):
    folder = tmp_path / "images"
    write_png(folder / "a.png", 64, 48)
    store = open_store(folder)
    image = store.ensure_image("a.png", 64, 48)
    store.add_box(image, "heart", 1, 2, 10, 12)
    store.add_box(image, "lung", 20, 5, 8, 8)
    store.close()
    return folder


def _digest(folder):
    """The database's bytes and what a WAL holds. (As root SQLite may still create empty -wal/-shm
    files beside a mode=ro database; a really read-only folder would not let it. Nothing may be
    written into them.)"""
    db = folder / ".loupe" / "annotations.db"
    wal = db.with_name(db.name + "-wal")
    others = sorted(p.name for p in db.parent.iterdir() if not p.name.endswith(("-wal", "-shm")))
    return hashlib.sha256(db.read_bytes()).hexdigest(), wal.stat().st_size if wal.exists() else 0, others


@pytest.fixture
def read_only(monkeypatch, tmp_path):
    """The folder (made by the test first) cannot be written from now on."""
    folder = _folder_with_annotations(tmp_path)
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(location, "folder_writable", lambda folder: False)
    return folder


def test_read_only_folder_opens_its_own_store_read_only(tmp_path, read_only):
    folder = read_only
    before = _digest(folder)
    store = open_store(folder)
    assert store.path == folder / ".loupe" / "annotations.db" and store.read_only and not store.immutable
    assert "read-only" in store.note
    image = store.image_id("a.png")
    assert [(b.category, b.x) for b in store.boxes(image)] == [("heart", 1.0), ("lung", 20.0)]
    with pytest.raises(StoreReadOnlyError, match="read-only"):
        store.add_box(image, "heart", 5, 5, 5, 5)
    with pytest.raises(StoreReadOnlyError):
        store.set_review_status(image, "done")
    # SQLite itself refuses a write on this connection, whatever the user's rights
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.conn.execute("INSERT INTO categories(name, color, ord) VALUES ('x', '#fff', 9)")
    store.close()
    assert _digest(folder) == before
    assert not (tmp_path / "data").exists()  # no empty store made elsewhere


def test_immutable_when_not_even_the_wal_files_can_be_made(tmp_path, monkeypatch, read_only):
    folder = read_only
    monkeypatch.setattr(location, "sidecar_creatable", lambda db: False)
    store = open_store(folder)
    assert store.read_only and store.immutable
    assert store.box_count() == 2
    with pytest.raises(StoreReadOnlyError):
        store.update_box(1, x=3)
    store.close()


def test_cli_export_of_a_read_only_folder_has_its_annotations_and_names_the_store(tmp_path, read_only, capsys):
    folder = read_only
    out = tmp_path / "out.json"
    assert cli_main(["export", str(folder), "--format", "coco", "--out", str(out)]) == 0
    coco = json.loads(out.read_text())
    assert len(coco["annotations"]) == 2
    captured = capsys.readouterr()
    assert f"annotations: {folder / '.loupe' / 'annotations.db'} (read-only)" in captured.err
    # the images are named img<id>, and the mapping back cannot be kept beside a read-only store:
    # said, where before the export succeeded without a word
    assert [im["file_name"] for im in coco["images"]] == ["img000001.png"]
    assert not (folder / ".loupe" / "export-names.csv").exists()
    assert "export-names.csv could not be written (the folder is read-only)" in captured.out
    assert "--keep-paths" in captured.out


def test_every_private_name_export_of_a_read_only_folder_says_the_names_cannot_be_mapped_back(tmp_path, read_only):
    from desktop.core.exchange.transfer import export_annotations
    from desktop.core.store import open_store

    warnings = []
    with open_store(read_only) as store:
        export_annotations(store, tmp_path / "voc", "voc", warnings=warnings)
        export_annotations(store, tmp_path / "kept.json", "coco", keep_paths=True, warnings=warnings)
    assert len(warnings) == 1 and "could not be written (the folder is read-only)" in warnings[0]


def test_cli_import_into_a_read_only_store_is_refused_and_writes_nothing(tmp_path, read_only, capsys):
    folder = read_only
    coco = {"images": [{"id": 1, "file_name": "a.png", "width": 64, "height": 48}],
            "categories": [{"id": 1, "name": "heart"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [3, 3, 5, 5]}]}
    (tmp_path / "in.json").write_text(json.dumps(coco))
    before = _digest(folder)
    code = cli_main(["import", str(folder), str(tmp_path / "in.json"), "--format", "coco"])
    err = capsys.readouterr().err
    assert code == 2
    assert "is read-only" in err and "nothing was imported" in err and "Traceback" not in err
    assert _digest(folder) == before
    assert not (tmp_path / "data").exists()


def test_edits_can_go_to_a_copy_named_as_such(tmp_path, read_only):
    folder = read_only
    before = _digest(folder)
    copy = open_working_copy(folder)
    assert "copy-of-read-only-folder" in copy.path.name and str(copy.path).startswith(str(tmp_path / "data"))
    assert "copy" in copy.note and not copy.read_only
    image = copy.image_id("a.png")
    copy.add_box(image, "heart", 30, 30, 4, 4)
    copy.close()
    again = open_working_copy(folder)  # the copy is kept, not made again over the edits
    assert again.box_count() == 3
    again.close()
    assert _digest(folder) == before


def test_unsaved_edits_go_to_a_recovery_file_and_come_back_on_the_next_open(tmp_path):
    store = open_store(tmp_path)
    store.start_background()
    image = store.ensure_image("a.png", 100, 100)
    kept = store.add_box(image, "heart", 1, 1, 5, 5)
    lock = sqlite3.connect(store.path, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # another program holds the write lock until after we quit
    new = store.add_box(image, "lung", 10, 10, 5, 5)
    store.update_box(new, w=7)  # an edit of a box that was never saved: by its provisional id
    store.update_box(kept, x=2)
    store.set_review_status(image, "done")
    assert store.pending == 4
    message = store.close(wait=0.2)
    files = list((tmp_path / ".loupe").glob("annotations.recovery-*.json"))
    assert len(files) == 1 and str(files[0]) in message and "4 edit(s)" in message
    lock.execute("ROLLBACK")
    lock.close()
    assert open_store(tmp_path, busy_timeout_ms=50).close() is None  # nothing to say on a plain close

    # the first open after the lock was released replayed the file
    assert not list((tmp_path / ".loupe").glob("annotations.recovery-*.json"))
    assert len(list((tmp_path / ".loupe").glob("*.replayed"))) == 1
    again = open_store(tmp_path)
    boxes = {b.category: (b.x, b.w) for b in again.boxes(image)}
    assert boxes == {"heart": (2.0, 5.0), "lung": (10.0, 7.0)}
    assert again.review_status(image) == "done"
    again.close()


def test_the_recovery_message_is_given_on_the_open_that_replays(tmp_path):
    store = open_store(tmp_path)
    image = store.ensure_image("a.png", 100, 100)
    lock = sqlite3.connect(store.path, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    store.writer.retries = 0
    store.conn.execute("PRAGMA busy_timeout = 1")
    store.add_box(image, "heart", 1, 1, 5, 5)
    store.save_recovery()
    assert store.pending == 0
    lock.execute("ROLLBACK")
    store.close()
    again = open_store(tmp_path)
    assert len(again.recovered) == 1 and "1 unsaved edit(s)" in again.recovered[0]
    assert again.box_count() == 1
    again.close()


def test_a_recovery_file_claimed_by_a_process_that_died_is_replayed_later(tmp_path):
    store = open_store(tmp_path)
    image = store.ensure_image("a.png", 100, 100)
    store.close()
    from desktop.core.store.recovery import write_recovery

    path = write_recovery(store.path, [{"edit": "image", "image_id": image, "column": "caption", "value": "kept"}],
                          "the disk is full")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    claimed = path.with_name(f"{path.name}.replaying-{int(dead.stdout)}")  # it died mid-replay
    os.replace(path, claimed)
    again = open_store(tmp_path)
    assert again.caption(image) == "kept" and "1 unsaved edit(s)" in again.recovered[0]
    again.close()
