"""Searching the folder's teaching cases by keyword, diagnosis or any of their text (no Qt).

With SQLite's FTS5 (in Python's sqlite3 on every platform Loupe ships for; `has_fts5()` checks)
the search uses a full-text index `cases_fts`, one row per case holding its text fields, and
`cases_fts_rows`, the `modified` time each row was built from. The index is derived data
(decision 0140): it is created on the first search, every case edit updates its row in the same
transaction, and a search first re-indexes any case whose row is missing or older than the case
(a case edited by a Loupe whose SQLite lacks FTS5), so it never answers from stale text. Words
match as prefixes ("pneumo" finds "pneumothorax"), all words must match, best matches first
(BM25, diagnosis and keywords weighted higher).

Without FTS5, or on a read-only store whose index is missing or stale, the same query runs as
LIKE '%word%' on each field (substring match, in id order).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence

from desktop.core.store.errors import StoreError

INDEXED = ("title", "history", "findings", "diagnosis", "discussion", "differential", "keywords")
# BM25 weights in INDEXED order: a word in the diagnosis or keywords ranks a case higher
_WEIGHTS = (2.0, 1.0, 1.0, 4.0, 1.0, 2.0, 4.0)
_WORD = re.compile(r"\w+", re.UNICODE)
_CREATE = ("CREATE VIRTUAL TABLE IF NOT EXISTS cases_fts USING fts5(" + ", ".join(INDEXED)
           + ", tokenize = 'unicode61 remove_diacritics 2')")
_fts5: bool | None = None


def has_fts5() -> bool:
    """Whether this Python's SQLite has the FTS5 extension."""
    global _fts5
    if _fts5 is None:
        conn = sqlite3.connect(":memory:")
        try:
            conn.execute("CREATE VIRTUAL TABLE t USING fts5(a)")
            _fts5 = True
        except sqlite3.OperationalError:
            _fts5 = False
        finally:
            conn.close()
    return _fts5


def words(query: str) -> list[str]:
    return _WORD.findall(query or "")


def search(store, query: str, fields: Sequence[str] | None = None, limit: int | None = None) -> list[int]:
    """Ids of the (not deleted) cases whose text holds every word of `query`; all cases (by id)
    for an empty query."""
    fields = tuple(fields) if fields else INDEXED
    bad = [f for f in fields if f not in INDEXED]
    if bad:
        raise StoreError(f"cases cannot be searched by {bad[0]!r}; search by {', '.join(INDEXED)}")
    terms = words(query)
    conn = store.conn
    if not terms:
        sql = "SELECT id FROM cases WHERE deleted = 0 ORDER BY id" + (f" LIMIT {int(limit)}" if limit else "")
        return [r[0] for r in conn.execute(sql)]
    if _index_ready(store):
        return _fts_search(conn, terms, fields, limit)
    return _like_search(conn, terms, fields, limit)


def search_method(store) -> str:
    """"fts5" or "like": how `search` answers on this store now."""
    return "fts5" if _index_ready(store) else "like"


def reindex_case(conn: sqlite3.Connection, case_id: int) -> None:
    """Bring the index row of one case in line (inside the edit's transaction). Without an index,
    or without FTS5 in this Python, it does nothing: the next search with FTS5 catches up."""
    if not _has_index(conn):
        return
    try:
        _write_rows(conn, [case_id])
    except sqlite3.OperationalError:  # "no such module: fts5": the index is caught up later
        pass


# -- internals -------------------------------------------------------------------------------
def _has_index(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'cases_fts_rows'").fetchone() is not None


def _stale(conn: sqlite3.Connection) -> list[int]:
    """Cases whose index row is missing or older than the case (the cheap sums first)."""
    if conn.execute("SELECT COUNT(*), TOTAL(modified) FROM cases").fetchone() == conn.execute(
            "SELECT COUNT(*), TOTAL(modified) FROM cases_fts_rows").fetchone():
        return []
    return [r[0] for r in conn.execute(
        "SELECT c.id FROM cases c LEFT JOIN cases_fts_rows f ON f.id = c.id "
        "WHERE f.id IS NULL OR f.modified IS NOT c.modified")]


def _index_ready(store) -> bool:
    """Make the index exist and be current when this store can; False means use LIKE."""
    if not has_fts5():
        return False
    conn = store.conn
    try:
        exists = _has_index(conn)
        stale = _stale(conn) if exists else None
    except sqlite3.OperationalError:
        return False
    if exists and not stale:
        return True
    if store.read_only:
        return False

    def op(c: sqlite3.Connection) -> None:
        c.execute(_CREATE)
        c.execute("CREATE TABLE IF NOT EXISTS cases_fts_rows (id INTEGER PRIMARY KEY, modified REAL NOT NULL)")
        _write_rows(c, _stale(c))
        c.execute("DELETE FROM cases_fts WHERE rowid NOT IN (SELECT id FROM cases)")
        c.execute("DELETE FROM cases_fts_rows WHERE id NOT IN (SELECT id FROM cases)")

    try:
        store.writer.write(op, "the teaching-case search index", queue=False, ordered=False)
    except (StoreError, sqlite3.Error):
        return False  # locked or not writable now: this search uses LIKE
    return True


def _write_rows(conn: sqlite3.Connection, ids: Sequence[int]) -> None:
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        marks = ",".join("?" * len(chunk))
        conn.execute(f"DELETE FROM cases_fts WHERE rowid IN ({marks})", chunk)
        conn.execute(f"INSERT OR REPLACE INTO cases_fts_rows(id, modified) SELECT id, modified FROM cases "
                     f"WHERE id IN ({marks})", chunk)
        conn.execute(
            f"INSERT INTO cases_fts(rowid, {', '.join(INDEXED)}) "
            "SELECT id, title, history, findings, diagnosis, discussion, "
            "(SELECT group_concat(value, '; ') FROM json_each(differential)), "
            "(SELECT group_concat(value, '; ') FROM json_each(keywords)) "
            f"FROM cases WHERE id IN ({marks})", chunk)


def _fts_search(conn, terms: list[str], fields: Sequence[str], limit: int | None) -> list[int]:
    expr = " ".join(f'"{t}"*' for t in terms)
    if tuple(fields) != INDEXED:
        expr = "{" + " ".join(fields) + "} : (" + expr + ")"
    weights = ", ".join(str(w) for w in _WEIGHTS)
    sql = (f"SELECT c.id FROM cases_fts JOIN cases c ON c.id = cases_fts.rowid "
           f"WHERE cases_fts MATCH ? AND c.deleted = 0 ORDER BY bm25(cases_fts, {weights}), c.id"
           + (f" LIMIT {int(limit)}" if limit else ""))
    return [r[0] for r in conn.execute(sql, (expr,))]


def _like_search(conn, terms: list[str], fields: Sequence[str], limit: int | None) -> list[int]:
    clauses, params = [], []
    for term in terms:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append("(" + " OR ".join(f"{f} LIKE ? ESCAPE '\\'" for f in fields) + ")")
        params += [pattern] * len(fields)
    sql = (f"SELECT id FROM cases WHERE deleted = 0 AND {' AND '.join(clauses)} ORDER BY id"
           + (f" LIMIT {int(limit)}" if limit else ""))
    return [r[0] for r in conn.execute(sql, params)]
