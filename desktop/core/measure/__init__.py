"""What the viewer's tools compute, without Qt: the pixel probe, distances, angles and the
statistics of a region of interest over an image's modality values (decision 0135).

    from desktop.core.measure import distance, angle, roi_stats, probe
    distance(image.spacing, (x0, y0), (x1, y1))        # Reading(value, unit, note)
    roi_stats(image, frame, "ellipse", (x, y, w, h))   # RoiStats(mean, sd, min, max, n, area, ...)

Points are in image pixel coordinates: x along the columns, y along the rows, (0, 0) the top-left
corner of the first pixel, so pixel (row i, column j) covers [j, j+1) x [i, i+1) and its centre is
(j + 0.5, i + 0.5).
"""

from desktop.core.measure.geometry import (
    KINDS,
    Reading,
    RoiStats,
    angle,
    distance,
    measure,
    roi_mask,
    roi_stats,
)
from desktop.core.measure.probe import ProbeReading, modality_unit, probe

__all__ = ["KINDS", "Reading", "RoiStats", "angle", "distance", "measure", "roi_mask", "roi_stats",
           "ProbeReading", "modality_unit", "probe"]
