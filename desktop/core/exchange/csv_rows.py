"""What the box-list CSV importers share (NIH's `BBox_List_2017.csv`, the chest X-ray EfficientDet
authors' CSV): reading the file as UTF-8 CSV, checking its header, and the rows' common checks
(blank lines skipped, too few columns, a box that is not four numbers), each problem reported with
the file and the line."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

from desktop.core.exchange.importer import Parsed, Problem


def read_rows(path: Path, out: Parsed, header_ok: Callable[[list[str]], bool], not_it: str) -> list[list[str]]:
    """The file's rows after its header; [] (with the problem in `out`) when it cannot be read or
    its first row fails `header_ok` (`not_it` says what the header must be)."""
    src = str(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        out.problems.append(Problem(src, "file", f"cannot read as CSV: {exc}"))
        return []
    if not rows or not header_ok(rows[0]):
        out.problems.append(Problem(src, "line 1", not_it))
        return []
    return rows[1:]


def box_rows(path: Path, rows: list[list[str]], out: Parsed, columns: int,
             box_at: int) -> Iterator[tuple[str, list[str], tuple[float, float, float, float]]]:
    """(where, row, (x, y, w, h)) of each row that is not blank, has `columns` cells and four
    numbers from cell `box_at`; the others are reported in `out` (line numbers count the header)."""
    src = str(path)
    for n, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"line {n}"
        if len(row) < columns:
            out.problems.append(Problem(src, where, f"expected {columns} columns, found {len(row)}"))
            continue
        cells = row[box_at:box_at + 4]
        try:
            x, y, w, h = (float(v) for v in cells)
        except ValueError:
            out.problems.append(Problem(src, where, f"box {cells} is not four numbers"))
            continue
        yield where, row, (x, y, w, h)
