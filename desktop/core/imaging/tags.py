"""DICOM tags as rows for the inspector: tag, keyword, name, VR, value, and whether it is PHI
(private tags, odd groups, always are: decision 0117)."""

from __future__ import annotations

from desktop.core.phi import is_phi, is_private_tag

_MAX_VALUE_CHARS = 200


def _value_text(elem) -> str:
    if elem.VR == "SQ":
        return f"sequence of {len(elem.value)} item(s)"
    if elem.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN"):
        try:
            return f"<{len(elem.value)} bytes>"
        except TypeError:
            return "<binary>"
    text = str(elem.value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[:_MAX_VALUE_CHARS] + "…"


def dicom_tags(ds, depth: int = 0, inside_phi: bool = False) -> list[dict]:
    """Every element (nested sequence items indented with '>'), pixel data left out."""
    rows = []
    elements = list(ds.file_meta) + list(ds) if depth == 0 and hasattr(ds, "file_meta") else list(ds)
    for elem in elements:
        if elem.tag == 0x7FE00010:
            continue
        keyword = elem.keyword or ""
        private = is_private_tag(elem.tag)
        phi = inside_phi or private or is_phi(keyword, elem.VR)
        rows.append({
            "tag": f"({elem.tag.group:04X},{elem.tag.element:04X})",
            "keyword": keyword,
            "name": (">" * depth) + (elem.name or keyword),
            "vr": elem.VR,
            "value": _value_text(elem),
            "phi": phi,
            "private": private,
        })
        if elem.VR == "SQ" and depth < 2:
            for item in elem.value:
                rows.extend(dicom_tags(item, depth + 1, phi))
    return rows
