"""Model runs and each image's uncertainty in a run (the review queue; decision 0130).

A run is one pass of a model over some images, started by the window's Models dock or by
`loupe detect|classify --store`. Its row says which model, which definition of uncertainty and
with which parameters (threshold, band, passes); `image_scores` holds one number per image. The
prediction boxes a detector run writes carry its id (`boxes.run_id`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Run:
    id: int
    model: str
    task: str
    method: str
    params: dict
    origin: str  # "window" | "cli"
    started: float
    finished: float | None
    scored: int  # images with a score in this run

    @property
    def label(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.started))
        how = (", Monte Carlo dropout" if self.method == "mc-dropout-entropy" else "") + (
            ", command line" if self.origin == "cli" else "")
        return f"run {self.id}: {self.model} · {when}{how} · {self.scored} image{'s' if self.scored != 1 else ''}"


_RUN_SELECT = ("SELECT r.id, r.model, r.task, r.method, r.params, r.origin, r.started, r.finished, "
               "(SELECT COUNT(*) FROM image_scores s WHERE s.run_id = r.id) FROM runs r")


def _run(row) -> Run:
    try:
        params = json.loads(row[4] or "{}")
    except ValueError:
        params = {}
    return Run(row[0], row[1], row[2], row[3], params, row[5], row[6], row[7], row[8])


class RunsMixin:
    conn: sqlite3.Connection

    def begin_run(self, model: str, task: str, method: str, params: dict | None = None,
                  origin: str = "window") -> int:
        """A new run's id (written at once; a store that cannot be written raises)."""
        now = time.time()
        text = json.dumps(params or {}, sort_keys=True)

        def op(conn: sqlite3.Connection) -> int:
            return conn.execute("INSERT INTO runs(model, task, method, params, origin, started) "
                                "VALUES (?,?,?,?,?,?)", (model, task, method, text, origin, now)).lastrowid

        return self.writer.write(op, f"a run of {model}", queue=False)

    def latest_run_like(self, model: str, task: str, method: str, params: dict | None = None) -> int | None:
        """The newest run of the same model, task, method and parameters (to continue it), or None."""
        row = self.conn.execute("SELECT id FROM runs WHERE model = ? AND task = ? AND method = ? AND params = ? "
                                "ORDER BY id DESC LIMIT 1",
                                (model, task, method, json.dumps(params or {}, sort_keys=True))).fetchone()
        return row[0] if row else None

    def finish_run(self, run_id: int) -> None:
        now = time.time()
        self.writer.write(lambda conn: conn.execute("UPDATE runs SET finished = ? WHERE id = ?", (now, run_id)),
                          "end of a run", queue=False)

    def set_image_score(self, run_id: int, image_id: int, uncertainty: float, detail: dict | None = None) -> None:
        text = json.dumps(detail or {}, sort_keys=True)
        self.writer.write(lambda conn: conn.execute(
            "INSERT OR REPLACE INTO image_scores(run_id, image_id, uncertainty, detail) VALUES (?,?,?,?)",
            (run_id, image_id, float(uncertainty), text)), "an image's uncertainty", queue=False)

    def runs(self) -> list[Run]:
        """Every run, newest first."""
        return [_run(r) for r in self.conn.execute(f"{_RUN_SELECT} ORDER BY r.id DESC")]

    def run(self, run_id: int) -> Run | None:
        row = self.conn.execute(f"{_RUN_SELECT} WHERE r.id = ?", (run_id,)).fetchone()
        return _run(row) if row else None

    def latest_scored_run(self) -> Run | None:
        """The newest run that scored at least one image."""
        row = self.conn.execute(f"{_RUN_SELECT} WHERE EXISTS (SELECT 1 FROM image_scores s WHERE "
                                "s.run_id = r.id) ORDER BY r.id DESC LIMIT 1").fetchone()
        return _run(row) if row else None

    def image_scores(self, run_id: int) -> dict[str, float]:
        """rel_path -> uncertainty of every image the run scored (one query)."""
        return dict(self.conn.execute(
            "SELECT i.rel_path, s.uncertainty FROM image_scores s JOIN images i ON i.id = s.image_id "
            "WHERE s.run_id = ?", (run_id,)))

    def image_score(self, run_id: int, image_id: int) -> tuple[float, dict] | None:
        row = self.conn.execute("SELECT uncertainty, detail FROM image_scores WHERE run_id = ? AND image_id = ?",
                                (run_id, image_id)).fetchone()
        return (row[0], json.loads(row[1] or "{}")) if row else None
