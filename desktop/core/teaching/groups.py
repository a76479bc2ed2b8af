"""A patient's group of images, for a case made of several films (no Qt).

The patient is known as `desktop.core.sequences` knows it for the temporal model: the DICOM
PatientID (and StudyDate for the order), or a ChestX-ray14 name `<patient>_<visit>.png`; any other
file is a patient of its own. Only the image's own folder is searched for DICOM (a PACS folder
holds a study or a patient; reading every header of a large tree would stall the window), so the
group is found in a fraction of a second.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from models.errors import LoupeError

_NIH = re.compile(r"^(\d{8})_(\d{3})")


def patient_group(path: str, among: Iterable[str]) -> list[str]:
    """`path` and the other images of its patient among `among`, oldest first (then by name)."""
    from desktop.core.imaging.formats import is_dicom_path
    from desktop.core.sequences import patient_and_date

    path = os.path.abspath(str(path))
    among = [os.path.abspath(str(p)) for p in among]
    name = os.path.basename(path)
    m = _NIH.match(name)
    if m:
        found = [(n.group(2), p) for p in among if (n := _NIH.match(os.path.basename(p))) and n.group(1) == m.group(1)]
        group = [p for _visit, p in sorted(found)]
        return group if path in group else [path] + group
    if not is_dicom_path(path):
        return [path]
    try:
        patient, _date = patient_and_date(path)
    except LoupeError:
        return [path]
    if patient == path:  # no PatientID: a patient of its own
        return [path]
    folder = os.path.dirname(path)
    dated = []
    for p in among:
        if os.path.dirname(p) != folder or not is_dicom_path(p):
            continue
        try:
            other, date = patient_and_date(p)
        except LoupeError:
            continue
        if other == patient:
            dated.append((date, os.path.basename(p), p))
    group = [p for _d, _n, p in sorted(dated)]
    return group if path in group else [path] + group
