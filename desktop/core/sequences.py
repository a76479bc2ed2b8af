"""A patient's images in date order, for the temporal model (no Qt): what `loupe classify` and the
model panel both run, so the window gives the numbers the CLI gives.

    for path, value, error in classify_in_sequence(model, paths, pattern=None, among=folder_paths):
        ...   # value: {class: probability} over the patient's images up to that one

Patient and date come from DICOM (PatientID, StudyDate; the header only, pixels are not decoded)
or from the file name with a pattern holding the named groups `patient` and `date`; a file with
neither is a patient of its own. Each image is read with `model_input` (decision 0093).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from models.errors import LoupeError


def patient_and_date(path, pattern: str | None = None) -> tuple[str, str]:
    """(patient, date) of `path`: the file-name pattern when given, else the DICOM header, else the
    file is its own patient. Raises LoupeError naming the file."""
    from models.classification.sequences import parse_name

    if pattern:
        return parse_name(path, pattern)
    from desktop.core.imaging.formats import is_dicom_path

    patient = date = ""
    if is_dicom_path(path):
        import pydicom

        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["PatientID", "StudyDate"])
        except Exception as exc:
            from desktop.core.imaging.errors import ImageReadError

            raise ImageReadError(path, f"its DICOM header cannot be read ({exc})") from None
        patient = str(ds.get("PatientID", "") or "")
        date = str(ds.get("StudyDate", "") or "")
    return (patient or str(path)), date


def sequence_items(paths: Iterable, pattern: str | None = None) -> tuple[list[tuple[str, str, str]], dict]:
    """([(path, patient, date)], {path: reason}) for the paths whose patient and date could be read."""
    items, errors = [], {}
    for p in paths:
        try:
            items.append((str(p), *patient_and_date(p, pattern)))
        except LoupeError as exc:
            errors[str(p)] = str(exc)
    return items, errors


def classify_in_sequence(model, paths: Iterable, pattern: str | None = None, among: Iterable | None = None,
                         read: Callable | None = None, logits: bool = False,
                         cancel: Callable[[], bool] | None = None) -> Iterator[tuple[str, object, str | None]]:
    """(path, {class: value} or None, error or None) for each of `paths`, in order: the temporal
    model over the patient's images up to that one (found among `among`, default `paths`), oldest
    first. `logits` gives the raw logits instead of probabilities. Decoded images are kept for the
    patient's next images only."""
    from models.classification.sequences import history

    if read is None:
        from desktop.core.imaging.model_input import model_input as read
    paths = [str(p) for p in paths]
    pool = [str(p) for p in among] if among is not None else paths
    pool += [p for p in paths if p not in set(pool)]
    items, errors = sequence_items(pool, pattern)
    cache: dict[str, object] = {}
    for path in paths:
        if cancel is not None and cancel():
            return
        if path in errors:
            yield path, None, errors[path]
            continue
        try:
            seq = history(items, path)
            for old in [q for q in cache if q not in seq]:
                del cache[old]
            for q in seq:
                if q not in cache:
                    cache[q] = read(q)
            images = [cache[q] for q in seq]
            value = model.logits_sequence(images) if logits else model.classify_sequence(images)
        except LoupeError as exc:
            yield path, None, str(exc)
            continue
        except Exception as exc:  # a model failure on one patient must not end the run
            yield path, None, f"{Path(path).name}: the model failed ({type(exc).__name__}: {exc})"
            continue
        yield path, value, None


def is_temporal(model) -> bool:
    return hasattr(model, "classify_sequence")

