"""Grouping a folder's images into per-patient sequences for the temporal model.

Plain functions over (path, patient, date) tuples: the desktop reads patient and date from DICOM
(PatientID, StudyDate) or from the file name with a pattern the user gives; models never read DICOM.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from natsort import natsort_keygen

from models.errors import LoupeError

_natural = natsort_keygen()


def parse_name(path, pattern: str) -> tuple[str, str]:
    """(patient, date) from a file name with a regex holding the named groups `patient` and `date`,
    e.g. r"(?P<patient>OAS2_\\d+)_MR(?P<date>\\d+)"."""
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise LoupeError(f"file-name pattern {pattern!r} is not a valid regular expression: {exc}") from exc
    if not {"patient", "date"} <= set(rx.groupindex):
        raise LoupeError(f"file-name pattern {pattern!r} needs the named groups (?P<patient>...) and (?P<date>...)")
    m = rx.search(Path(path).name)
    if not m:
        raise LoupeError(f"{path}: the file name does not match the pattern {pattern!r}")
    return m.group("patient"), m.group("date")


def group_by_patient(items: Iterable[tuple]) -> dict[str, list]:
    """{patient: [path, ...]} with each patient's paths in ascending date order (natural order, so
    "day2" comes before "day10"; DICOM StudyDate YYYYMMDD sorts as it should)."""
    groups: dict[str, list[tuple]] = {}
    for path, patient, date in items:
        groups.setdefault(str(patient), []).append((path, str(date)))
    return {p: [path for path, _ in sorted(v, key=lambda t: (_natural(t[1]), _natural(str(t[0]))))]
            for p, v in groups.items()}


def history(items: Iterable[tuple], path) -> list:
    """The paths of `path`'s patient up to and including `path`, ascending: the temporal model's input."""
    items = list(items)
    for p, patient, _ in items:
        if str(p) == str(path):
            seq = group_by_patient(items)[str(patient)]
            return seq[: [str(s) for s in seq].index(str(path)) + 1]
    raise LoupeError(f"{path} is not among the grouped images")
