"""Resume bookkeeping for long runs: which images a model has already finished in a folder.

One append-only text file per (folder, model): `<folder>/.loupe/runs/<model>.done`, a line per
finished image (its path relative to the folder). Appending a line is cheap and survives a crash
(at worst the last line is cut, and that image runs again). Images that failed are listed in
`<model>.failed` with the reason, and are tried again on the next run, not skipped: the user may
have fixed the file in between.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path


def _key(model_key: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", model_key).strip("._")[:60] or "model"
    digest = hashlib.sha1(model_key.encode("utf-8")).hexdigest()[:8]
    return f"{safe}-{digest}"


class RunLedger:
    def __init__(self, folder: str | os.PathLike, model_key: str):
        self.folder = Path(folder)
        self._root = os.path.abspath(self.folder)
        runs = self.folder / ".loupe" / "runs"
        self.done_file = runs / f"{_key(model_key)}.done"
        self.failed_file = runs / f"{_key(model_key)}.failed"
        self._done: set[str] | None = None

    def _rel(self, path: str | os.PathLike) -> str:
        # abspath, not resolve(): no file-system calls, so 10,000 paths take milliseconds
        p = os.path.abspath(path)
        if p.startswith(self._root + os.sep):
            p = p[len(self._root) + 1:]
        return p.replace(os.sep, "/")

    def done(self) -> set[str]:
        """Relative paths of the images finished in earlier runs."""
        if self._done is None:
            self._done = set()
            if self.done_file.exists():
                text = self.done_file.read_text(encoding="utf-8", errors="replace")
                self._done = {line for line in text.splitlines() if line}
        return set(self._done)

    def is_done(self, path) -> bool:
        return self._rel(path) in self.done()

    def remaining(self, paths: list[str]) -> list[str]:
        """The paths (in their order) not finished yet."""
        done = self.done()
        return [p for p in paths if self._rel(p) not in done]

    def mark_done(self, path) -> None:
        rel = self._rel(path)
        if self._done is None:
            self.done()
        if rel in self._done:
            return
        self._done.add(rel)
        self._append(self.done_file, rel)

    def mark_failed(self, path, reason: str) -> None:
        reason = " ".join(str(reason).split())
        self._append(self.failed_file, f"{self._rel(path)}\t{reason}")

    def failed(self) -> list[tuple[str, str]]:
        if not self.failed_file.exists():
            return []
        rows = []
        for line in self.failed_file.read_text(encoding="utf-8", errors="replace").splitlines():
            rel, _, reason = line.partition("\t")
            if rel:
                rows.append((rel, reason))
        return rows

    def clear(self) -> None:
        """Forget every earlier run of this model here (a fresh, full run)."""
        for f in (self.done_file, self.failed_file):
            f.unlink(missing_ok=True)
        self._done = set()

    @staticmethod
    def _append(file: Path, line: str) -> None:
        file.parent.mkdir(parents=True, exist_ok=True)
        with open(file, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
