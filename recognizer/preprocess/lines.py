"""The printed lines of ruled or squared paper, found at any small tilt and taken out of the ink."""

from __future__ import annotations

import numpy as np

from recognizer.preprocess.strokes import resize

LINE_SPAN, LINE_INK, LINE_TILT = 0.95, 0.7, 6.0
"""A thin line with ink along at least LINE_SPAN of it, on the whole at most LINE_INK as dark as the
darkest ink, is a printed line of ruled or squared paper: the pen's strokes are darker, and where a
character's stroke runs the whole width of a tightly cropped picture, it is thicker than a printed
line (see printed_lines). Photos tilt the lines by up to LINE_TILT degrees."""

_TILT_STEP, _TILT_WIDTH = 0.25, 256


def without_printed_lines(ink: np.ndarray) -> np.ndarray:
    """``ink`` with the lines of ruled or squared paper taken out (see LINE_SPAN), in place.

    The lines are found on a small copy, at any tilt up to LINE_TILT. Along each
    one, the ink is then measured against the line's own level, the median of
    its pixels: the printed line falls to nothing, and the pen's strokes across
    it, darker than the line, stay.
    """
    inked = ink > 0
    if inked.any(axis=0).mean() < LINE_SPAN and inked.any(axis=1).mean() < LINE_SPAN:
        return ink  # no ink runs across the whole picture, either way: most pictures
    found = [(image, printed_lines(image)) for image in (ink, ink.T)]  # ink.T is a view of ink
    for image, lines in found:  # both found first: cleaning one kind cuts gaps in the other
        if lines is None:
            continue
        on_line = lines >= 0
        ids, values = lines[on_line], image[on_line]
        levels = np.ones(int(ids.max()) + 1, np.float32)
        for k in np.unique(ids):
            inked = values[(ids == k) & (values > 0)]
            levels[k] = np.median(inked) if inked.size else 1.0
        level = levels[ids]
        faint = level <= LINE_INK
        cleaned = np.clip((values - level) / np.maximum(1.0 - level, 1e-6), 0.0, 1.0)
        image[on_line] = np.where(faint, cleaned, values)
    return ink


def printed_lines(ink: np.ndarray) -> np.ndarray | None:
    """For each pixel, the number of the near-level line of ink it lies on, or -1; None when none.

    Lines are looked for on a copy at most _TILT_WIDTH wide. For each angle up
    to LINE_TILT, the copy's pixels are sorted into bands a pixel wide at that
    angle, and a line is three neighbouring bands with ink in LINE_SPAN of the
    columns they cross (a tilted line steps from band to band), with mostly paper
    two bands away on either side: a pen's stroke along the whole picture, as in
    a tight crop of a 0 or a 7, is thicker than that. The angle whose
    lines hold the most ink wins, the smallest of a tie, and each of its lines
    is kept, with a band more on each side.
    """
    h, w = ink.shape
    if min(h, w) < 32 or (ink > 0).any(axis=0).mean() < LINE_SPAN:
        return None
    scale = min(1.0, _TILT_WIDTH / w)
    small = resize(ink, max(1, round(h * scale)), max(1, round(w * scale))) > 0.02
    ys, xs = np.nonzero(small)
    if not small.shape[1] / 2 <= xs.size <= small.size / 2:  # too little ink, or too much for paper
        return None
    best = None
    for angle in sorted(np.arange(-LINE_TILT, LINE_TILT + 1e-9, _TILT_STEP), key=abs):
        slope = float(np.tan(np.radians(angle)))
        lift = small.shape[1] * max(slope, 0.0) + 2  # keeps every band number, less two, positive
        bands = np.rint(ys - xs * slope + lift).astype(np.int64)
        inked = np.zeros((int(bands.max()) + 5, small.shape[1]), bool)
        inked[bands + 2, xs] = True  # two empty bands before the first, and after the last
        cover = (inked[2:-4] | inked[3:-3] | inked[4:-2]).sum(axis=1)  # cover[k]: bands k, k+1, k+2
        beside = (inked[:-6] | inked[6:]).sum(axis=1)  # bands k - 2 and k + 4: paper beside a thin line
        crossed = _columns_inside(np.arange(len(cover)) + 1 - lift, slope, small.shape)
        full = (cover >= LINE_SPAN * crossed) & (beside <= cover / 2)
        if full.any() and (best is None or cover[full].sum() > best[0]):
            best = int(cover[full].sum()), full, slope, lift
    if best is None:
        return None
    _, full, slope, lift = best
    middle = np.flatnonzero(full) + 1
    kept = np.unique(np.concatenate([middle + k for k in (-2, -1, 0, 1, 2)]))
    kept = kept[kept >= 0]
    number = np.full(len(full) + 4, -1, np.int64)  # -1 also past both ends
    number[kept] = np.cumsum(np.diff(np.concatenate([[-2], kept])) > 1) - 1  # touching bands: one line
    rows = np.arange(h, dtype=np.float32)[:, None] * scale
    columns = np.arange(w, dtype=np.float32)[None, :] * (scale * slope)
    bands = np.rint(rows - columns + lift).astype(np.int64)
    return number[np.clip(bands, 0, len(number) - 1)]


def _columns_inside(starts: np.ndarray, slope: float, shape: tuple[int, int]) -> np.ndarray:
    """How many columns each line y = start + x * slope crosses inside an image of ``shape``; a line
    that leaves it through the top or the bottom counts as long only if it crosses half the width."""
    h, w = shape
    x = np.arange(w)[None, :]
    inside = ((starts[:, None] + x * slope >= 0) & (starts[:, None] + x * slope <= h - 1)).sum(axis=1)
    return np.where(inside >= w / 2, inside, np.inf)
