"""Per-item progress of imports and exports, the same for `loupe import/export` and the dialogs.

An exchange function takes `progress`, a callable `progress(done, total, stage)`: `stage` says what
is counted ("images checked", "boxes written", ...), `done` grows from 0 to `total` within a stage
and always reaches it; `total` 0 means a stage that cannot be counted (reading a file). The
callable may raise to stop the work (the window's Cancel raises JobCancelled from it): an import is
one transaction, so nothing of it is kept; an export removes the files it had created (`Created`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

ProgressFn = Callable[[int, int, str], None]
T = TypeVar("T")

# How many items pass between two calls: a call per box of 100,000 would cost more than the work.
EVERY = 500


def stage(progress: ProgressFn | None, text: str) -> None:
    """A stage that is not counted (reading the file): progress(0, 0, text)."""
    if progress is not None:
        progress(0, 0, text)


def counted(items: Iterable[T], total: int, progress: ProgressFn | None, text: str,
            every: int = EVERY) -> Iterator[T]:
    """The items of `items`, calling progress(done, total, text) before the first, after every
    `every` items and after the last (so done reaches `total` when the items are that many)."""
    if progress is None:
        yield from items
        return
    progress(0, total, text)
    done = 0
    for item in items:
        yield item
        done += 1
        if done % every == 0 and done < total:
            progress(done, total, text)
    progress(done, total, text)


def chunks(rows: list, size: int = EVERY * 10) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


class Created:
    """The files and folders an export creates, so a cancelled or failed export can take them
    away again; what existed before (a file it overwrote, the output folder) is left alone."""

    def __init__(self) -> None:
        self.files: list[Path] = []
        self.dirs: list[Path] = []

    def mkdir(self, path: Path) -> Path:
        missing = []
        p = Path(path)
        while not p.exists() and p != p.parent:
            missing.append(p)
            p = p.parent
        Path(path).mkdir(parents=True, exist_ok=True)
        self.dirs.extend(reversed(missing))
        return Path(path)

    def file(self, path: Path) -> Path:
        """Call before writing `path`: it is removed on undo only if it did not exist."""
        path = Path(path)
        if not path.exists():
            self.files.append(path)
        return path

    def undo(self) -> None:
        for f in reversed(self.files):
            with contextlib.suppress(OSError):
                f.unlink()
        for d in reversed(self.dirs):
            with contextlib.suppress(OSError):
                os.rmdir(d)  # only when empty: never a file that was not ours
        self.files.clear()
        self.dirs.clear()


def terminal_progress(stream) -> ProgressFn | None:
    """The CLI's progress line on a terminal (rewritten in place, ended by a newline when a stage
    ends); None when `stream` is not a terminal (a log gets only the final lines)."""
    if not getattr(stream, "isatty", lambda: False)():
        return None
    state = {"stage": None, "width": 0}

    def show(done: int, total: int, text: str) -> None:
        line = f"{text}: {done:,} / {total:,}" if total else f"{text}…"
        if state["stage"] not in (None, text):
            stream.write("\n")
            state["width"] = 0
        state["stage"] = text
        stream.write("\r" + line.ljust(state["width"]))
        state["width"] = len(line)
        if total and done >= total:
            stream.write("\n")
            state["stage"], state["width"] = None, 0
        stream.flush()

    return show
