"""Recovery files: edits that could not be saved, written next to the store and put back on the
next open (decision 0111).

Each waiting edit carries a plain record of what it does (`add_box`, `update_box`, `accept`,
`add_measurement`, `update_measurement`, `image_labels`, `image`, the teaching edits `teaching.case`,
`teaching.answer`, `teaching.finish`, or a `batch` of them); a recovery file is those records as JSON. On the
next open they are replayed through the store's own methods, all in ONE transaction, and the file
is renamed `*.replayed` (kept, so what happened can be checked). A box a record names that no
longer exists is skipped and counted, never guessed.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from desktop.core.store.errors import StoreError, StoreWriteError

PATTERN = "annotations.recovery-*.json"
FORMAT = "loupe-unsaved-edits"


def recovery_path(db_path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return db_path.parent / f"annotations.recovery-{stamp}-{os.getpid()}.json"


def write_recovery(db_path: Path, records: list[dict], reason: str | None, fallback: Path | None = None) -> Path:
    """Write the records beside the store (or in `fallback` when that fails); the path written."""
    doc = {"format": FORMAT, "version": 1, "database": str(db_path), "saved": time.time(),
           "host": socket.gethostname(), "reason": reason, "edits": records}
    text = json.dumps(doc, indent=1)
    errors = []
    for target in [recovery_path(db_path)] + ([fallback / recovery_path(db_path).name] if fallback else []):
        tmp = target.with_suffix(".json.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
            return target
        except OSError as exc:
            errors.append(f"{target}: {exc.strerror or exc}")
            try:
                tmp.unlink()
            except OSError:
                pass
    raise StoreWriteError("could not write a recovery file: " + "; ".join(errors), len(records))


def find_recovery(db_path: Path, fallback: Path | None = None) -> list[Path]:
    """The recovery files waiting to be replayed. A file claimed by a process that died while
    replaying it (its transaction rolled back) gets its name back first."""
    places = [db_path.parent] + ([fallback] if fallback and fallback != db_path.parent else [])
    found = []
    for place in places:
        if not place.is_dir():
            continue
        for claimed in place.glob(PATTERN + ".replaying-*"):
            pid = claimed.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not _alive(int(pid)):
                try:
                    os.replace(claimed, claimed.with_name(claimed.name.rsplit(".replaying-", 1)[0]))
                except OSError:
                    pass
        found.extend(sorted(place.glob(PATTERN)))
    return found


def _alive(pid: int) -> bool:
    from desktop.core.store.instances import _alive as alive

    return pid == os.getpid() or alive(pid)


def count_edits(records) -> int:
    """Edits as the user made them: a command's changes written together count once."""
    return len(records)


def replay_file(store, path: Path, original: Path | None = None) -> str:
    """Replay one recovery file into `store` (one transaction); returns the message for the user.
    `path` may be the file claimed under a temporary name; `original` is its real name, restored
    when the replay fails and suffixed `.replayed` when it succeeds."""
    original = original or path

    def put_back() -> None:
        if path != original:
            try:
                os.replace(path, original)
            except OSError:
                pass

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") != FORMAT or not isinstance(doc.get("edits"), list):
            raise ValueError("not a Loupe recovery file")
    except (OSError, ValueError) as exc:
        put_back()
        return f"{original}: cannot read this recovery file ({exc}); it was left as it is"
    records = doc["edits"]
    skipped: list[str] = []
    handles: dict[int, int] = {}
    try:
        with store.batch():
            for record in records:
                _replay(store, record, handles, skipped)
    except StoreError as exc:
        put_back()
        return (f"{original}: the unsaved edits could not be put back ({exc}); the file is kept and tried "
                "again next time")
    os.replace(path, original.with_name(original.name + ".replayed"))
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(doc.get("saved") or 0))
    message = (f"{count_edits(records) - len(skipped)} unsaved edit(s) from {when}, kept in the recovery "
               f"file {original.name}, were saved into the annotations")
    if skipped:
        message += f"; {len(skipped)} could not be applied: " + "; ".join(skipped[:5])
    return message


def _replay(store, record: dict, handles: dict[int, int], skipped: list[str]) -> None:
    kind = record.get("edit")
    if kind == "batch":
        for item in record["items"]:
            _replay(store, item, handles, skipped)
        return

    def real(box_id: int) -> int | None:
        box_id = handles.get(box_id, box_id)
        if box_id < 0 or store.conn.execute("SELECT 1 FROM boxes WHERE id = ?", (box_id,)).fetchone() is None:
            return None
        return box_id

    if kind == "add_box":
        new = store.add_box(record["image_id"], record["category"], record["x"], record["y"], record["w"],
                            record["h"], source=record["source"], model=record["model"], score=record["score"],
                            state=record["state"], locked=record["locked"], refined_by=record.get("refined_by"))
        handles[record["handle"]] = new
    elif kind == "update_box":
        box_id = real(record["box"])
        if box_id is None:
            skipped.append(f"box {record['box']} no longer exists")
            return
        store.update_box(box_id, **record["fields"])
    elif kind == "accept":
        ids = [i for i in (real(b) for b in record["ids"]) if i is not None]
        now = time.time()
        store.conn.executemany("UPDATE boxes SET state = 'accepted', modified = ? WHERE id = ?",
                               [(now, i) for i in ids])
    elif kind == "add_measurement":
        new = store.add_measurement(record["image_id"], record["kind"], record["points"], frame=record["frame"],
                                    result=record["result"], label=record["label"])
        handles[record["handle"]] = new
    elif kind == "update_measurement":
        mid = handles.get(record["measurement"], record["measurement"])
        if mid < 0 or store.conn.execute("SELECT 1 FROM measurements WHERE id = ?", (mid,)).fetchone() is None:
            skipped.append(f"measurement {record['measurement']} no longer exists")
            return
        store.update_measurement(mid, **record["fields"])
    elif kind == "image_labels":
        store.set_image_labels(record["image_id"], {n: p for n, p in record["labels"]})
    elif kind == "image" and record.get("column") in ("review_status", "caption", "patient_key"):
        store._update_image(record["image_id"], record["column"], record["value"], "image")
    elif kind == "teaching.case":
        from desktop.core.teaching.cases import replay

        replay(store, record, skipped)
    elif kind in ("teaching.answer", "teaching.finish", "teaching.delete_learner"):
        from desktop.core.teaching.quiz import replay

        replay(store, record, skipped)
    else:
        skipped.append(f"unknown edit {kind!r}")
