"""COCO import (matching images by file name) and the NIH ChestX-ray14 `BBox_List_2017.csv`."""

from __future__ import annotations

import json
import math
from pathlib import Path

from desktop.core.exchange.csv_rows import box_rows, read_rows
from desktop.core.exchange.importer import Parsed, ParsedBox, Problem

_NUM = (int, float)  # exact types: a JSON true/false is not a coordinate


def parent_placeholders(categories: list[dict], annotations: list) -> set:
    """Ids of Roboflow's parent placeholder categories (named as another category's supercategory
    and used by no annotation), e.g. id 0 "RBC-WBC" over "rbc" and "wbc"."""
    names = {c.get("name") for c in categories if isinstance(c, dict)}
    parents = {c.get("supercategory") for c in categories if isinstance(c, dict)
               and c.get("supercategory") not in (None, "", "none") and c.get("supercategory") != c.get("name")}
    candidates = {c.get("id") for c in categories if isinstance(c, dict) and c.get("name") in parents & names}
    if not candidates:  # the usual case: no need to look at every annotation
        return set()
    annotated = {c for a in annotations if type(a) is dict and isinstance(c := a.get("category_id"), (int, str))}
    return candidates - annotated


def parse_coco(path: Path) -> Parsed:
    src = str(path)
    out = Parsed()
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        out.problems.append(Problem(src, f"line {exc.lineno}, column {exc.colno}", f"bad JSON: {exc.msg}"))
        return out
    except RecursionError:
        out.problems.append(Problem(src, "file", "not a COCO file: its JSON is nested too deeply to read "
                                                 "(thousands of levels of [ or {)"))
        return out
    except (OSError, UnicodeDecodeError) as exc:
        out.problems.append(Problem(src, "file", f"cannot read: {exc}"))
        return out
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list)
                                             for k in ("images", "annotations", "categories")):
        out.problems.append(Problem(src, "top level", "not a COCO file: needs lists 'images', "
                                                      "'annotations' and 'categories'"))
        return out
    cats: dict = {}
    cat_at: dict = {}
    for i, c in enumerate(data["categories"]):
        if not isinstance(c, dict) or "id" not in c or not str(c.get("name", "")).strip():
            out.problems.append(Problem(src, f"category #{i}", "a category needs an id and a name"))
            continue
        if not _is_id(c["id"]):
            out.problems.append(Problem(src, f"category #{i}", f"id must be a number or a string, not {c['id']!r}"))
            continue
        if c["id"] in cats:  # a box of this id would get one of two names: refuse, never guess
            out.problems.append(Problem(src, f"category #{i}", f"duplicate category id {c['id']!r} (also category "
                                        f"#{cat_at[c['id']]}, {cats[c['id']]!r}); its boxes could get the wrong label"))
            continue
        cats[c["id"]], cat_at[c["id"]] = str(c["name"]).strip(), i
    images: dict = {}
    image_at: dict = {}
    for i, im in enumerate(data["images"]):
        if not isinstance(im, dict) or "id" not in im or not isinstance(im.get("file_name"), str):
            out.problems.append(Problem(src, f"image #{i}", "an image needs an id and a file_name"))
            continue
        if not _is_id(im["id"]):
            out.problems.append(Problem(src, f"image #{i}", f"id must be a number or a string, not {im['id']!r}"))
            continue
        if im["id"] in images:  # its boxes would land on one of two images: refuse, never guess
            out.problems.append(Problem(src, f"image #{i}", f"duplicate image id {im['id']!r} (also image "
                                        f"#{image_at[im['id']]}, {images[im['id']]!r}); its boxes could land on "
                                        "the wrong image"))
            continue
        images[im["id"]], image_at[im["id"]] = im["file_name"], i
        out.images.append(im["file_name"])
        w, h = im.get("width"), im.get("height")
        if (type(w) in _NUM and type(h) in _NUM and math.isfinite(w) and math.isfinite(h) and 0 < w < 2**31
                and 0 < h < 2**31):
            out.sizes[im["file_name"]] = (int(w), int(h))
        elif w is not None or h is not None:  # a size no image has: read it from the file instead
            out.notes.append(f"{src}, image #{i}: width/height {w!r} x {h!r} are not a size; the size is "
                             "read from the image file")
    anns = data["annotations"]
    skip = parent_placeholders(data["categories"], anns)
    good = {cid: name for cid, name in cats.items() if cid not in skip}
    out.place = lambda i: (f"annotation id {anns[i].get('id', '?')} (#{i})" if isinstance(anns[i], dict)
                           else f"annotation #{i}")
    boxes, problems = out.boxes, out.problems
    num = _NUM
    # the hot loop: plain tuples in ParsedBox's order, the place in the file kept as the index
    for i, a in enumerate(anns):
        try:
            bbox, image_id, cid = a["bbox"], a["image_id"], a["category_id"]
            x, y, w, h = bbox
            fine = (type(bbox) is list and type(x) in num and type(y) in num and type(w) in num
                    and type(h) in num and image_id in images and cid in good
                    and type(image_id) is not bool and type(cid) is not bool)  # true == 1 as a key
        except (TypeError, KeyError, ValueError):
            fine = False
        if fine:
            boxes.append((images[image_id], good[cid], float(x), float(y), float(w), float(h), i, ""))
        else:
            problems.append(Problem(src, out.place(i), _annotation_problem(a, images, good)))
    return out


def _is_id(value) -> bool:
    """An id COCO tools write: an integer (not true/false) or a string; a float only when whole."""
    if type(value) is int or type(value) is str:
        return True
    return type(value) is float and math.isfinite(value) and value.is_integer()


def _annotation_problem(a, images: dict, cats: dict) -> str:
    if not isinstance(a, dict):
        return "not an object"
    bbox = a.get("bbox")
    if not (type(bbox) is list and len(bbox) == 4 and all(type(v) in _NUM for v in bbox)):
        return f"bbox must be [x, y, w, h] numbers, not {bbox!r}"
    try:
        known_image = a.get("image_id") in images and type(a.get("image_id")) is not bool
    except TypeError:  # an unhashable id
        known_image = False
    if not known_image:
        return f"unknown image id {a.get('image_id')!r}"
    return f"unknown category id {a.get('category_id')!r}"


def parse_nih_csv(path: Path) -> Parsed:
    """`Image Index,Finding Label,Bbox [x,y,w,h],,,`: one box per row, pixels of the 1024x1024 image."""
    src = str(path)
    out = Parsed(skip_unknown_images=True)
    rows = read_rows(path, out, lambda head: bool(head) and head[0].strip() == "Image Index",
                     "not the NIH box list: the header must start with 'Image Index,Finding Label,Bbox [x,y,w,h]'")
    for where, row, (x, y, w, h) in box_rows(path, rows, out, columns=6, box_at=2):
        label = row[1].strip()
        if not label:
            out.problems.append(Problem(src, where, "unknown category: the finding label is empty"))
            continue
        out.boxes.append(ParsedBox(row[0].strip(), label, x, y, w, h, where=where))
    return out
