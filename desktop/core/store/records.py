"""Plain records the store hands out (no database handles inside)."""

from __future__ import annotations

from dataclasses import dataclass

# Distinct, colour-blind-friendly colours (Okabe-Ito, then Tol's bright) given to new categories.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
           "#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB")


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    color: str
    key: int | None  # keyboard key 1-9
    order: int


@dataclass(frozen=True)
class ImageRecord:
    id: int
    rel_path: str
    width: int
    height: int
    file_size: int | None
    content_hash: str | None
    patient_key: str | None
    review_status: str
    caption: str


@dataclass(frozen=True)
class Box:
    id: int
    image_id: int
    category_id: int
    category: str
    x: float
    y: float
    w: float
    h: float
    source: str  # "person" | "model"
    model: str | None
    score: float | None
    state: str  # "drawn" | "unreviewed" | "accepted" | "modified"
    deleted: bool
    locked: bool
    created: float
    modified: float
    refined_by: str | None = None  # the segmentation model that snapped this box to a mask's extent

    @property
    def is_prediction(self) -> bool:
        """A model's box nobody has accepted or edited yet (drawn dashed, with its score)."""
        return self.source == "model" and self.state == "unreviewed"

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.w, self.h)


BOX_COLUMNS = ("b.id, b.image_id, b.category_id, c.name, b.x, b.y, b.w, b.h, b.source, b.model, "
               "b.score, b.state, b.deleted, b.locked, b.created, b.modified, b.refined_by")


def box_from_row(row) -> Box:
    return Box(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9],
               row[10], row[11], bool(row[12]), bool(row[13]), row[14], row[15], row[16])
