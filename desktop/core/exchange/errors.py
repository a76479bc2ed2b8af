"""Errors of import and export; an import's error carries the full report of what is wrong and where."""

from __future__ import annotations

from models.errors import LoupeError


class ExchangeError(LoupeError):
    """An export or import cannot be done; the message names the file and the reason."""


class ImportProblems(ExchangeError):
    """The file has problems; nothing was imported. `report.problems` lists each with its place."""

    def __init__(self, report):
        self.report = report
        lines = [str(p) for p in report.problems[:20]]
        more = len(report.problems) - len(lines)
        if more:
            lines.append(f"... and {more} more")
        super().__init__(f"{report.source}: {len(report.problems)} problem(s); nothing was imported:\n  "
                         + "\n  ".join(lines))
