"""Which image paths and label names an import may use: never a file outside the image folder, never
a name that cannot be stored exactly.

A COCO `file_name` of `../other_patient/IM0001.dcm` or `/data/x.png`, or a name that is a link to
a file outside the folder, would register that file in this folder's store; the Roboflow export
would then copy another patient's image into a dataset. Such paths are refused, naming them.
A name that is not valid UTF-8 (kept by Python as surrogate escapes) cannot be stored in SQLite
nor shown by Qt without losing bytes, so it is refused too, and so is a control character in an
image or label name (decision 0116).
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath


def control_characters(text: str) -> list[str]:
    """The control characters in `text` as U+XXXX (NUL, escape, DEL, ...)."""
    return sorted({f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) == "Cc"})


def not_utf8(text: str) -> bool:
    """True for a str holding surrogate escapes (a file name whose bytes are not UTF-8)."""
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def path_problem(image: str) -> str | None:
    """Why the image path `image`, as a file gives it, is refused; None when it may be used."""
    if not_utf8(image):
        shown = os.fsencode(image) if not control_characters(image) else image.encode("utf-8", "replace")
        return f"refused: the file name {shown!r} is not valid UTF-8; rename the file"
    bad = control_characters(image)
    if bad:
        return f"refused: the file name {image!r} contains control characters ({', '.join(bad)})"
    posix, windows = PurePosixPath(image.replace("\\", "/")), PureWindowsPath(image)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or image.startswith(("/", "\\")):
        return f"refused: {image!r} is an absolute path; image paths must stay inside the image folder"
    if ".." in posix.parts:
        return f"refused: {image!r} climbs out of the image folder ('..'); image paths must stay inside it"
    return None


def outside_folder(folder: Path, rel: str) -> str | None:
    """Why `folder/rel` is refused after links are followed (None when it stays inside)."""
    root = Path(os.path.realpath(folder))
    target = Path(os.path.realpath(folder / rel))
    if target == root or root in target.parents:
        return None
    return f"refused: {rel!r} is a link to {target}, outside the image folder"


def label_problem(name: str) -> str | None:
    """Why a label name is refused (None when it is fine)."""
    if not_utf8(name):
        return f"refused: the label {name!r} is not valid text"
    bad = control_characters(name)
    if bad:
        return (f"refused: the label {name!r} contains control characters ({', '.join(bad)}); "
                "fix the name in the file")
    return None
