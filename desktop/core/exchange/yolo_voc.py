"""YOLO txt (with its classes file) and Pascal VOC XML (labelImg's format): import and export."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from desktop.core.exchange.coco_export import box_rows, selected_images
from desktop.core.exchange.errors import ExchangeError
from desktop.core.exchange.importer import Parsed, ParsedBox, Problem
from desktop.core.exchange.paths import path_problem
from desktop.core.exchange.progress import Created, counted
from desktop.core.store import AnnotationStore

CLASS_FILES = ("classes.txt", "obj.names", "classes.names")


# -- YOLO ----------------------------------------------------------------------------------------
def parse_yolo(path: Path, sizes_of) -> Parsed:
    """`path` is a folder of label files (or one label file) with `classes.txt` in it or beside
    it. Each line is `class cx cy w h`, normalised to the image size. `sizes_of(stem)` gives an
    image's (rel_path, (width, height)) or None."""
    out = Parsed()
    files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
    folder = path if path.is_dir() else path.parent
    classes_file = next((folder / n for n in CLASS_FILES if (folder / n).is_file()), None)
    if classes_file is None:
        out.problems.append(Problem(str(path), "file", f"no classes file ({', '.join(CLASS_FILES)}) found"))
        return out
    try:
        classes = [ln.strip() for ln in classes_file.read_text(encoding="utf-8-sig").splitlines() if ln.strip()]
    except UnicodeDecodeError as exc:
        out.problems.append(Problem(str(classes_file), f"byte {exc.start}", "cannot read the class names: the "
                                    "file is not UTF-8 text (save it as UTF-8)"))
        return out
    except OSError as exc:
        out.problems.append(Problem(str(classes_file), "file", f"cannot read: {exc.strerror or exc}"))
        return out
    for f in files:
        if f.name in CLASS_FILES:
            continue
        refused = path_problem(f.name)
        if refused:
            out.problems.append(Problem(str(f), "file", refused))
            continue
        found = sizes_of(f.stem)
        if found is None:
            out.problems.append(Problem(str(f), "file", f"unknown image: no image named {f.stem}.* in the folder"))
            continue
        rel, (width, height) = found
        try:
            lines = f.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            out.problems.append(Problem(str(f), "file", f"cannot read: {exc}"))
            continue
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            parts = line.split()
            try:
                if len(parts) != 5:
                    raise ValueError
                k, cx, cy, w, h = int(parts[0]), *map(float, parts[1:])
            except ValueError:
                out.problems.append(Problem(str(f), f"line {n}", f"expected 'class cx cy w h', got {line!r}"))
                continue
            if not 0 <= k < len(classes):
                out.problems.append(Problem(str(f), f"line {n}",
                                            f"unknown category: class {k} (the classes file has {len(classes)})"))
                continue
            out.boxes.append(ParsedBox(rel, classes[k], (cx - w / 2) * width, (cy - h / 2) * height,
                                       w * width, h * height, where=f"line {n}", file=str(f)))
    return out


def one_file_per_image(images, names: dict[int, str] | None, kind: str) -> None:
    """Refuse an export in which two images would write one label file (IM0002 of two patients'
    folders): the second would overwrite the first's boxes."""
    seen: dict[str, str] = {}
    for image_id, rel, _w, _h in images:
        stem = Path(names[image_id] if names else rel).stem
        if stem in seen:
            raise ExchangeError(f"{rel} and {seen[stem]} would both be written as {stem}.{kind}, and one "
                                f"would overwrite the other's boxes; export COCO or a Roboflow split instead, "
                                f"or rename one of them")
        seen[stem] = rel


def export_yolo(store: AnnotationStore, out_dir: Path, only_reviewed: bool = False, progress=None,
                created: Created | None = None) -> Path:
    """`progress` (progress.py) counts the label files written; `created` records them."""
    created = created if created is not None else Created()
    images = selected_images(store, only_reviewed)
    one_file_per_image(images, None, "txt")
    created.mkdir(out_dir)
    cats = store.categories()
    index = {c.id: i for i, c in enumerate(cats)}
    created.file(out_dir / "classes.txt").write_text("".join(f"{c.name}\n" for c in cats), encoding="utf-8")
    per_image: dict[int, list[str]] = {}
    dims = {i: (w, h) for i, _r, w, h in images}
    for image_id, cat, x, y, w, h, _s, _src in box_rows(store):
        if image_id in dims:
            iw, ih = dims[image_id]
            per_image.setdefault(image_id, []).append(
                f"{index[cat]} {(x + w / 2) / iw:.6f} {(y + h / 2) / ih:.6f} {w / iw:.6f} {h / ih:.6f}\n")
    for image_id, rel, _w, _h in counted(images, len(images), progress, "images written", every=1):
        created.file(out_dir / f"{Path(rel).stem}.txt").write_text("".join(per_image.get(image_id, [])),
                                                                   encoding="utf-8")
    return out_dir


# -- Pascal VOC ----------------------------------------------------------------------------------
def parse_voc(path: Path) -> Parsed:
    out = Parsed()
    files = sorted(path.glob("*.xml")) if path.is_dir() else [path]
    for f in files:
        try:
            root = ET.parse(f).getroot()
        except ET.ParseError as exc:
            line, col = exc.position
            out.problems.append(Problem(str(f), f"line {line}, column {col}", f"bad XML: {exc}"))
            continue
        except OSError as exc:
            out.problems.append(Problem(str(f), "file", f"cannot read: {exc}"))
            continue
        name = (root.findtext("filename") or "").strip()
        if not name:
            out.problems.append(Problem(str(f), "<filename>", "missing the image's file name"))
            continue
        out.images.append(name)
        try:
            out.sizes[name] = (int(float(root.findtext("size/width"))), int(float(root.findtext("size/height"))))
        except (TypeError, ValueError):
            pass  # the size is read from the image itself
        for n, obj in enumerate(root.iter("object"), start=1):
            where = f"object #{n}"
            label = (obj.findtext("name") or "").strip()
            if not label:
                out.problems.append(Problem(str(f), where, "unknown category: <name> is empty"))
                continue
            try:
                x1, y1, x2, y2 = (float(obj.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax"))
            except (TypeError, ValueError):
                out.problems.append(Problem(str(f), where, "bndbox needs numeric xmin, ymin, xmax, ymax"))
                continue
            out.boxes.append(ParsedBox(name, label, x1, y1, x2 - x1, y2 - y1, where=where, file=str(f)))
    return out


def export_voc(store: AnnotationStore, out_dir: Path, only_reviewed: bool = False, keep_paths: bool = False,
               progress=None, created: Created | None = None) -> Path:
    """One XML per image; images are named `img<id>` (no folder) unless `keep_paths` (naming.py).
    `progress` (progress.py) counts the files written; `created` records them."""
    from desktop.core.exchange.coco_export import private_names

    created = created if created is not None else Created()
    created.mkdir(out_dir)
    names = {c.id: c.name for c in store.categories()}
    per_image: dict[int, list] = {}
    for image_id, cat, x, y, w, h, _s, _src in box_rows(store):
        per_image.setdefault(image_id, []).append((names[cat], x, y, w, h))
    images = selected_images(store, only_reviewed)
    private = private_names(store, images, keep_paths)
    one_file_per_image(images, private, "xml")
    for image_id, rel, width, height in counted(images, len(images), progress, "images written", every=1):
        root = ET.Element("annotation")
        if private is None:
            ET.SubElement(root, "folder").text = str(Path(rel).parent)
            ET.SubElement(root, "filename").text = Path(rel).name
        else:
            rel = private[image_id]
            ET.SubElement(root, "filename").text = rel
        size = ET.SubElement(root, "size")
        for k, v in (("width", width), ("height", height), ("depth", 3)):
            ET.SubElement(size, k).text = str(v)
        for name, x, y, w, h in per_image.get(image_id, []):
            obj = ET.SubElement(root, "object")
            ET.SubElement(obj, "name").text = name
            ET.SubElement(obj, "difficult").text = "0"
            box = ET.SubElement(obj, "bndbox")
            for k, v in (("xmin", x), ("ymin", y), ("xmax", x + w), ("ymax", y + h)):
                ET.SubElement(box, k).text = repr(float(v))
        ET.indent(root)
        ET.ElementTree(root).write(created.file(out_dir / f"{Path(rel).stem}.xml"), encoding="utf-8",
                                   xml_declaration=True)
    return out_dir
