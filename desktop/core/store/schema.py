"""The store's SQLite schema and its migrations.

`PRAGMA user_version` holds the schema version. Each entry of MIGRATIONS moves the database from
version i to i + 1 in one transaction; a database newer than this code is refused (see errors).
"""

from __future__ import annotations

import sqlite3

from desktop.core.store.errors import StoreError

# Review states of a box. A person's box is "drawn"; a model's box starts "unreviewed" and becomes
# "accepted" (unchanged) or "modified" (moved/resized/relabelled). Deletion is the `deleted` flag, so
# a deleted prediction is kept and the corrections can be exported and measured.
BOX_STATES = ("drawn", "unreviewed", "accepted", "modified")
REVIEW_STATUSES = ("unreviewed", "in_progress", "done")

MIGRATIONS: list[str] = [
    # 0 -> 1: the first schema
    """
    CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        rel_path TEXT NOT NULL UNIQUE,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        file_size INTEGER,
        content_hash TEXT,
        patient_key TEXT,
        review_status TEXT NOT NULL DEFAULT 'unreviewed',
        caption TEXT NOT NULL DEFAULT '',
        modified REAL NOT NULL DEFAULT 0
    );
    CREATE INDEX images_hash ON images(content_hash);
    CREATE TABLE categories (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        color TEXT NOT NULL,
        key INTEGER,
        ord INTEGER NOT NULL
    );
    CREATE TABLE boxes (
        id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        category_id INTEGER NOT NULL REFERENCES categories(id),
        x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
        source TEXT NOT NULL,                 -- 'person' or 'model'
        model TEXT,                           -- the model's name when source = 'model'
        score REAL,
        state TEXT NOT NULL,                  -- one of BOX_STATES
        deleted INTEGER NOT NULL DEFAULT 0,
        locked INTEGER NOT NULL DEFAULT 0,
        orig_category_id INTEGER,             -- a prediction as the model gave it, for corrections
        orig_x REAL, orig_y REAL, orig_w REAL, orig_h REAL,
        created REAL NOT NULL,
        modified REAL NOT NULL
    );
    CREATE INDEX boxes_image ON boxes(image_id);
    CREATE TABLE image_labels (
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        probability REAL,
        PRIMARY KEY (image_id, name)
    );
    """,
    # 1 -> 2: box ids come from SQLite inside the write transaction and are never reused, so an id
    # another window holds can never name a different box (decision 0112). SQLite cannot add
    # AUTOINCREMENT to a table, so the table is rebuilt with the same columns in the same order.
    """
    CREATE TABLE boxes_v2 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        category_id INTEGER NOT NULL REFERENCES categories(id),
        x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
        source TEXT NOT NULL,
        model TEXT,
        score REAL,
        state TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0,
        locked INTEGER NOT NULL DEFAULT 0,
        orig_category_id INTEGER,
        orig_x REAL, orig_y REAL, orig_w REAL, orig_h REAL,
        created REAL NOT NULL,
        modified REAL NOT NULL
    );
    INSERT INTO boxes_v2 SELECT * FROM boxes;
    DROP TABLE boxes;
    ALTER TABLE boxes_v2 RENAME TO boxes;
    CREATE INDEX boxes_image ON boxes(image_id);
    """,
    # 2 -> 3: a box's outline refined by a segmentation model (issue 16; decision 0125): the model's
    # name. The box before the refinement is what the undo command keeps; a prediction's original
    # box stays in orig_x.. as before, so the corrections export can count refined boxes beside moved ones.
    """
    ALTER TABLE boxes ADD COLUMN refined_by TEXT;
    """,
    # 3 -> 4: measurements (ruler, angle, region of interest), a kind of annotation of their own:
    # never boxes, never in a COCO export (decision 0135). points: JSON [[x, y], ...] in image
    # pixels. result: JSON of what was measured (value, unit, note, statistics, the spacing used).
    """
    CREATE TABLE measurements (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        frame INTEGER NOT NULL DEFAULT 0,
        kind TEXT NOT NULL,
        points TEXT NOT NULL,
        result TEXT NOT NULL DEFAULT '{}',
        label TEXT NOT NULL DEFAULT '',
        deleted INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL,
        modified REAL NOT NULL
    );
    CREATE INDEX measurements_image ON measurements(image_id);
    """,
    # 4 -> 5: teaching cases and quiz results (decision 0140). A case is one image or a patient's
    # group of images with structured text; differential and keywords are JSON lists. The search
    # index (FTS5 when this Python's SQLite has it) is derived from these rows and built on first
    # use by desktop.core.teaching.search, so this migration runs on any SQLite. A learner's quiz
    # marks live in quiz_marks, never in boxes.
    """
    CREATE TABLE cases (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        title TEXT NOT NULL DEFAULT '',
        history TEXT NOT NULL DEFAULT '',
        findings TEXT NOT NULL DEFAULT '',
        diagnosis TEXT NOT NULL DEFAULT '',
        discussion TEXT NOT NULL DEFAULT '',
        differential TEXT NOT NULL DEFAULT '[]',
        keywords TEXT NOT NULL DEFAULT '[]',
        difficulty INTEGER,                   -- 1 (very easy) .. 5 (very hard), NULL: not set
        deleted INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL,
        modified REAL NOT NULL
    );
    CREATE TABLE case_images (
        case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        ord INTEGER NOT NULL,
        PRIMARY KEY (case_id, image_id)
    );
    CREATE INDEX case_images_image ON case_images(image_id);
    CREATE TABLE quiz_sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        learner TEXT NOT NULL,
        labels TEXT NOT NULL DEFAULT '[]',    -- the label set the educator chose (JSON list)
        case_ids TEXT NOT NULL DEFAULT '[]',  -- the cases in the order shown (JSON list)
        started REAL NOT NULL,
        finished REAL
    );
    CREATE TABLE quiz_answers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id INTEGER NOT NULL REFERENCES quiz_sessions(id) ON DELETE CASCADE,
        case_id INTEGER NOT NULL,             -- no cascade: results outlive a deleted case
        diagnosis_expected TEXT NOT NULL,
        diagnosis_given TEXT NOT NULL,
        diagnosis_correct INTEGER,            -- NULL when the case has no diagnosis
        expert_boxes INTEGER NOT NULL,
        learner_marks INTEGER NOT NULL,
        hits INTEGER NOT NULL,
        misses INTEGER NOT NULL,
        false_marks INTEGER NOT NULL,
        mean_iou REAL,                        -- NULL without hits
        per_label TEXT NOT NULL,              -- JSON {label: {expert, learner, hits, misses, false_marks, iou_sum}}
        seconds REAL,
        submitted REAL NOT NULL
    );
    CREATE INDEX quiz_answers_session ON quiz_answers(session_id);
    CREATE INDEX quiz_answers_case ON quiz_answers(case_id);
    CREATE TABLE quiz_marks (
        answer_id INTEGER NOT NULL REFERENCES quiz_answers(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL,
        label TEXT NOT NULL,
        x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
        matched_iou REAL                      -- the IoU of the expert box it hit, NULL: a false mark
    );
    CREATE INDEX quiz_marks_answer ON quiz_marks(answer_id);
    """,
    # 5 -> 6: model runs and each image's uncertainty in a run (the review queue, decision 0130);
    # a prediction box knows the run that made it (the corrections dashboard counts per run).
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        model TEXT NOT NULL,                  -- the model's name, as boxes.model
        task TEXT NOT NULL,                   -- 'detection' | 'classification'
        method TEXT NOT NULL,                 -- the uncertainty's definition (models.uncertainty.METHODS)
        params TEXT NOT NULL DEFAULT '{}',    -- JSON: threshold, band, passes, ...
        origin TEXT NOT NULL,                 -- 'window' | 'cli'
        started REAL NOT NULL,
        finished REAL
    );
    CREATE TABLE image_scores (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        uncertainty REAL NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (run_id, image_id)
    );
    CREATE INDEX image_scores_image ON image_scores(image_id);
    ALTER TABLE boxes ADD COLUMN run_id INTEGER REFERENCES runs(id);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def check_version(conn: sqlite3.Connection, db_path: str) -> int:
    """The database's schema version; a database newer than this code is refused."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{db_path}: annotation store has schema version {version}, newer than this Loupe "
            f"understands ({SCHEMA_VERSION}); update Loupe to open it"
        )
    return version


def migrate(conn: sqlite3.Connection, db_path: str) -> int:
    """Bring the database to SCHEMA_VERSION; returns the version it had before."""
    version = check_version(conn, db_path)
    for target in range(version + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] >= target:  # another window did it
                conn.execute("COMMIT")
                continue
            for statement in MIGRATIONS[target - 1].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return version
