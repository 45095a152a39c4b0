"""Where the ink is: a 0-1 ink map from any picture, whatever its polarity, paper or light.

Dark ink on light paper, light ink on a dark screen, the alpha of a transparent
canvas, a phone photo lit unevenly (measured against a paper surface fitted to
the border), one with the hard edge of a shadow across it (measured against the
paper around each pixel) or one that shows the desk around the sheet (measured
on the sheet only). The lines of ruled paper and of forms are taken out last (``lines.py``).
"""

from __future__ import annotations

import numpy as np

from recognizer.errors import InvalidImageError, NoInkError
from recognizer.preprocess.crop import runs
from recognizer.preprocess.lines import without_form_lines, without_printed_lines
from recognizer.preprocess.strokes import windowed

MIN_CONTRAST = 0.08
"""Below this difference between ink and background (on a 0-1 scale, about 20 grey levels), once any
grain is smoothed away (see without_grain), the image counts as blank."""

PAPER_FLOOR = 0.15
"""Ink fainter than this fraction of the strongest ink is paper texture or JPEG noise, and is dropped."""

UNEVEN_LIGHT = 0.04
"""Paper whose brightness changes by more than this (0-1 scale) across the image is lit unevenly,
as in a phone photo: the ink is then measured against the fitted paper, not one level."""

NOISE_MARGIN = 12.0
"""Ink must stand this many times the paper's grain (its noise, read on the border) above the paper.
Fainter ink, a pencil photographed in poor light, is first smoothed until it does: otherwise the
grain itself crosses the ink threshold all over the page, and the crop takes in the whole picture."""

MAX_SMOOTHING = 9
"""The widest box (in pixels) that faint, grainy ink is smoothed with."""

_BORDER_SAMPLES = 4000

FLAT_TOLERANCE, FLAT_SHARE, FLAT_SURFACE, FLAT_OVERSHOOT, FLAT_SAMPLE = 1, 0.5, 0.01, 0.3, 256
FLAT_MIDDLE = (0.15, 0.85)
"""A picture is clean (``flat_background``) when at least FLAT_SHARE of its border lies within
FLAT_TOLERANCE grey levels (of 255) of one level; no more than the ringing of a resize or a JPEG
(FLAT_OVERSHOOT of the ink's contrast) lies on the far side of it from the ink; no level well in
between (FLAT_MIDDLE of the way from the background to the ink) covers FLAT_SURFACE of the picture
in wide patches; and the ink is strokes, not a solid surface, with nothing far from their cores.
Judged on a copy about FLAT_SAMPLE pixels on its shorter side, and no more than twice that on its
longer side (a wide line of writing is judged on a copy, not whole: issue 26's time). The grain of
a photo (3 grey levels or more) leaves under a third of its border that close to one level."""

_CURVE_RIDGE = np.array([0, 0, 0, 1e-3, 1e-3, 1e-3])

SHEET_CONTRAST, PAPER_AREA, PAPER_FILL = 0.2, 0.15, 0.85
"""A photo shows a sheet on a darker desk when a region this much brighter than the paper level read
from the border (0-1 scale) covers at least this share of the image, and this share of its own
bounding box and of each of the box's edges."""


SHEET_POOL, SHEET_MARKS, SHEET_GATHERED, SHEET_SOLID = 160, 2.0, 0.25, 0.15
SHEET_CORNER, SHEET_BEYOND, SHEET_GRAIN = 0.05, 0.5, 3.0
"""A sheet found on a desk is read alone unless it reaches a corner of the picture (to within
SHEET_CORNER of its height and width), and the marks beside it are SHEET_MARKS times as deep as those
on it, lie within SHEET_GATHERED of the picture's longer side, and are not one solid blob (more than
SHEET_SOLID of them deep inside it); judged on a copy of about SHEET_POOL pixels on its shorter side
(``written_on``). A sheet cut at a corner by the photo's edge must have the desk beyond its other
edges: no more than SHEET_BEYOND of a strip there as bright as paper; and a wide strip of desk along
one side must have a grain SHEET_GRAIN times the paper's (``cut_sheet``)."""

GRAIN_SIDE, GRAIN_FLOOR = 300, 0.002
"""A desk's grain is measured on a copy about GRAIN_SIDE pixels on the sheet's shorter side; paper
smoother than GRAIN_FLOOR (half a grey level) counts as that smooth (``_grained``)."""

SHADOW_STEP, SHADOW_BORDER, SHADOW_MIN_SIDE = 0.1, 0.05, 64
"""A hard shadow across light paper (a phone or a hand between the lamp and the page) is a step in
the paper's brightness, which no smooth surface follows: when the fitted paper misses the border by
more than SHADOW_STEP (0-1 scale) along at least SHADOW_BORDER of it, in a photo at least
SHADOW_MIN_SIDE pixels on each side, the paper is read around each pixel instead (``local_paper``).
Below that, the window (a fifth of the side) is under 13 px, no wider than a stroke."""

SHADOW_WINDOW = 5
"""In a shadowed photo, strokes up to 1/SHADOW_WINDOW of its shorter side wide are read as ink;
anything wider, such as the shadow, as paper."""


def as_float_image(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as float32 in [0, 1], keeping its shape.

    uint8 is divided by 255 and uint16 by 65535. Floats already in [0, 1] stay
    as they are; floats above 1 are taken to be on a 0-255 scale.
    """
    a = np.asarray(image)
    if a.size == 0:
        raise InvalidImageError("The image is empty (it has no pixels).")
    if a.dtype == bool:
        return a.astype(np.float32)
    if a.dtype in (np.uint8, np.uint16):
        f = a.astype(np.float32)
        f /= 255.0 if a.dtype == np.uint8 else 65535.0  # in place: a second full-size array doubles the time
        return f
    if np.issubdtype(a.dtype, np.integer):
        return np.clip(a, 0, 255).astype(np.float32) / 255.0
    if np.issubdtype(a.dtype, np.floating):
        f = a.astype(np.float32)
        if not np.isfinite(f).all():
            raise InvalidImageError("The image contains NaN or infinite values.")
        if f.max() > 1.0:
            f = f / 255.0
        return np.clip(f, 0.0, 1.0)
    raise InvalidImageError(f"Unsupported pixel type {a.dtype}; use uint8, uint16 or float.")


def _check_shape(a: np.ndarray) -> np.ndarray:
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (2, 3, 4)):
        if min(a.shape[:2]) < 1:
            raise InvalidImageError("The image is empty (it has no pixels).")
        return a
    raise InvalidImageError(
        f"Expected a greyscale, RGB or RGBA image, got an array of shape {tuple(a.shape)}."
    )


def ink_map(image: np.ndarray) -> np.ndarray:
    """Return where the ink is: float32 (H, W), 1 for full ink and 0 for background.

    - An image with real transparency (a sketchpad layer, a transparent PNG) is
      read by its alpha channel: whatever is painted is ink, whatever colour.
    - Otherwise the background is the median of the border pixels, and ink is
      whatever departs from it the most, darker or lighter. So dark-on-light
      scans and white-on-black MNIST both work.

    Raises ``NoInkError`` when nothing stands out from the background.
    """
    a = _check_shape(np.asarray(image))
    channels = 1 if a.ndim == 2 else a.shape[2]
    if channels in (2, 4):
        alpha = as_float_image(a[:, :, -1])
        if alpha.min() < 0.98:
            return _normalise_contrast(alpha)
        a = a[:, :, :-1]
        channels -= 1
    if a.ndim == 2 and a.dtype == np.uint8:
        grey = a  # the commonest decode; judged clean (or not) before any float copy of it is made
    else:
        grey = as_float_image(a)
        if channels == 3:
            grey = grey @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        elif grey.ndim == 3:
            grey = grey[:, :, 0]
    background = flat_background(grey)
    grey = as_float_image(grey) if grey.dtype == np.uint8 else grey
    if background is not None:  # a clean picture: none of the photo rules below has anything to do
        grey -= background  # in place: grey is a copy made here (as_float_image), never the caller's
        return _ink_from(grey)
    level = paper_level(grey)
    sheet = desk_sheet(grey, level)  # a sheet's edge on a desk is a step too: it is looked for first
    if sheet is not None and written_on(grey, sheet):
        try:  # the ink on the sheet alone; a sheet with nothing on it falls back to the whole photo
            on_sheet = np.ascontiguousarray(grey[sheet])
            ink = np.zeros_like(grey)
            ink[sheet] = _ink_from(paper_departure(on_sheet, paper_level(on_sheet)))
            return ink
        except NoInkError:
            pass
    return _ink_from(paper_departure(grey, level))


def flat_background(grey: np.ndarray) -> float | None:
    """The background's level (0-1) if the picture is clean, else None.

    A clean picture (a canvas export, an edited or cropped picture, a clean scan) holds two levels
    only, a flat background and the ink (``two_levels``), and its ink is strokes: not a solid surface
    (a sheet, on a desk as dark as the ink), with nothing far from their cores (a desk's grain). A
    photo's grain and uneven light are not flat, a sheet brighter than its desk lies on the far side of
    the desk's level from the ink, and a shadow is a third level. Such pictures are left to the photo
    rules.
    """
    two = two_levels(grey)
    if two is None:
        return None
    level, across = two
    if _solid_share(across > 0.5, max(min(across.shape) // 4, max(across.shape) // 8)) > FLAT_SURFACE:
        return None  # "ink" too solid for strokes: a sheet, on a desk as dark as the ink
    if _away_from_strokes(across) > FLAT_SURFACE:
        return None  # marks that are not the soft edge of a stroke: a desk's grain, say
    return level


def two_levels(grey: np.ndarray) -> tuple[float, np.ndarray] | None:
    """The level (0-1) of a flat background, and the picture from it (0) to the ink (1) on a copy
    about FLAT_SAMPLE pixels on its shorter side (and at most twice that on its longer), if the picture
    holds those two levels only; else None.

    At least FLAT_SHARE of the border lies within FLAT_TOLERANCE of one level, the ink lies all on one
    side of it, and between the two there is no third flat surface (a shadow's dimmed paper): only
    the soft edges of the strokes, spread over every level in between.
    """
    to_255 = 1.0 if grey.dtype == np.uint8 else 255.0  # grey is float 0-1, or uint8 (the same answers)
    ys, xs = _border_pixels(grey.shape)
    values = grey[ys, xs]
    border = np.round(values * to_255)
    near = np.convolve(np.bincount(border.astype(np.intp), minlength=256), np.ones(2 * FLAT_TOLERANCE + 1))
    if near.max() < FLAT_SHARE * len(border):
        return None
    centre = int(near.argmax()) - FLAT_TOLERANCE  # "full" convolution: shifted by the tolerance
    background = np.abs(border - centre) <= FLAT_TOLERANCE
    level = float(np.median(border[background]))
    lo, hi = float(grey.min()) * to_255, float(grey.max()) * to_255
    ink = lo if level - lo > hi - level else hi  # the ink's darkest or lightest, away from the level
    if abs(ink - level) < MIN_CONTRAST * 255:
        return None  # blank, or nearly: the photo path says so, after smoothing any grain
    step = max(1, min(grey.shape) // FLAT_SAMPLE, max(grey.shape) // (2 * FLAT_SAMPLE))
    across = (np.round(grey[::step, ::step] * to_255) - level) / (ink - level)  # 0: background, 1: ink
    if float(np.percentile(across, 0.1)) < -FLAT_OVERSHOOT:
        return None  # something on the far side of the background: a sheet brighter than the desk
    if _third_surface(across, 2 * FLAT_TOLERANCE / abs(ink - level)):
        return None  # a shadow's dimmed paper, say
    return float(np.median(values[background])) * to_255 / 255, across


def _third_surface(across: np.ndarray, tolerance: float) -> bool:
    """Whether ``across`` (0 at the background, 1 at the ink) holds a third surface: a level well
    between the two (FLAT_MIDDLE), to within ``tolerance``, that covers FLAT_SURFACE of the picture
    in patches wider than an eighth of it (a shadow's dimmed paper). The soft edges of strokes spread
    evenly over the levels, and the flat patches of a small picture blown up are small. (Near the
    ink's level a stroke's core wavers, and is no surface either.)"""
    low, high = FLAT_MIDDLE
    bins = max(1, int(np.ceil((high - low) / tolerance)))
    counts, edges = np.histogram(across, bins=bins, range=FLAT_MIDDLE)
    pairs = counts[:-1] + counts[1:]
    if len(pairs) == 0 or pairs.max() < FLAT_SURFACE * across.size:
        return False
    k = int(pairs.argmax())
    surface = (across >= edges[k]) & (across <= edges[k + 2])
    return _solid_share(surface, min(across.shape) // 8) > FLAT_SURFACE


def _away_from_strokes(across: np.ndarray) -> float:
    """The share of the marks in ``across`` (0 at the background, 1 at the ink) that lie away from the
    strokes' cores, further than a tenth of the picture: a stroke's soft edge lies beside its core."""
    marks = across > 0.3
    near_core = windowed((across > 0.75).view(np.uint8), max(3, min(across.shape) // 10), np.maximum)
    return float(np.count_nonzero(marks & (near_core == 0))) / max(1, int(np.count_nonzero(marks)))


def _solid_share(mask: np.ndarray, size: int) -> float:
    """The share of the picture that ``mask`` still covers once worn away by a ``size`` square: what
    of it is a solid surface, not strokes or specks."""
    return float(np.count_nonzero(windowed(mask.view(np.uint8), max(3, size), np.minimum))) / mask.size


def desk_sheet(grey: np.ndarray, level: float | np.ndarray) -> tuple[slice, slice] | None:
    """Where a sheet lies in a photo that shows the desk under it, or None: one cut by the photo's edge
    (``cut_sheet``) first, since the ``level`` read from the border (``paper_level``) may follow a part
    of it; otherwise one with the desk all round it (``paper_region``)."""
    return cut_sheet(grey) or paper_region(grey - level)


def written_on(grey: np.ndarray, sheet: tuple[slice, slice]) -> bool:
    """Whether the character is on the ``sheet`` that ``cut_sheet`` or ``paper_region`` found, not beside
    it. It is, unless the sheet reaches a corner of the picture (``_holds_a_corner``), and the darkest
    marks beside it lie SHEET_MARKS times as far below their surface's median brightness as those on it
    do (``_darkest_marks``), and lie together, as a character's strokes do, within SHEET_GATHERED of the
    picture's longer side, and are strokes, not one solid blob (``_one_solid_blob``).

    The lit side of a shadow's edge can pass for a sheet, with the character in the shadow beside it
    and only a wedge of the shadow's blurred edge on the "sheet", which was then read as the ink. That
    lit side is the picture cut by a straight edge, so it always holds a corner of the picture, where a
    sheet with the desk showing all round it holds none. A plain desk is plain next to the ink on a
    sheet (its marks at most 0.17 times as deep, in 400 photos of the evaluation's desk kind); but the
    grain of a wooden desk, or a pen lying on it, can be twice as deep as faint pencil on the sheet,
    and is spread over the desk or along the sheet (the darkest marks spanning 0.34-0.83 of the
    picture, against 0.10-0.18 for the shadows' characters, in two scratch probes). A coin on the desk
    is as deep and as compact as a character, but solid; a paper clip's loops are strokes, and only
    the corner tells them apart. Judged on a min-pooled copy (under 2 x SHEET_POOL pixels on its
    shorter side), where thin strokes keep their darkness; the sheet's own edge is left out.
    """
    if not _holds_a_corner(sheet, grey.shape):
        return True
    f = max(1, min(grey.shape) // SHEET_POOL)
    small = min_pooled(grey, f)
    (top, bottom), (left, right) = ((s.start // f, s.stop // f) for s in sheet)
    dy, dx = (bottom - top) // 15 + 1, (right - left) // 15 + 1
    beside = np.ones(small.shape, bool)
    beside[max(0, top - dy) : bottom + dy, max(0, left - dx) : right + dx] = False
    if beside.sum() < SHEET_POOL:  # too little beside the sheet to tell
        return True
    low, depth = _darkest_marks(small[beside])
    if depth < SHEET_MARKS * _darkest_marks(small[top:bottom, left:right])[1]:
        return True
    ys, xs = np.nonzero(beside & (small <= low))  # where the darkest marks beside it lie
    span = int(max(np.ptp(ys), np.ptp(xs))) + 1
    if span >= SHEET_GATHERED * max(small.shape):
        return True
    return _one_solid_blob(beside & (small <= low + depth / 2), (ys, xs), span)


def _one_solid_blob(marks: np.ndarray, darkest: tuple[np.ndarray, np.ndarray], span: int) -> bool:
    """Whether the ``marks`` around the ``darkest`` ones, which lie within ``span``, are one solid blob,
    as a coin or a blot is, rather than a character's strokes: more than SHEET_SOLID of them survive
    when they are worn away by a square a third of ``span`` across. (Of the marks of 25 characters in
    a shadow beside a "sheet", 0-7% survive; of 10 coins beside a sheet, 29-65%.)"""
    ys, xs = darkest
    pad = span // 4
    near = marks[max(0, ys.min() - pad) : ys.max() + pad + 1, max(0, xs.min() - pad) : xs.max() + pad + 1]
    core = box_blur(near.astype(np.float32), max(3, span // 3) | 1) > 0.999
    return float(core.sum()) > SHEET_SOLID * max(1, int(near.sum()))


def _holds_a_corner(box: tuple[slice, slice], shape: tuple[int, int]) -> bool:
    """Whether ``box`` reaches one of the top and bottom edges of a picture of ``shape`` and one of its
    left and right edges."""
    top, bottom, left, right = _edges_reached(box, shape)
    return (top or bottom) and (left or right)


def _edges_reached(box: tuple[slice, slice], shape: tuple[int, int]) -> list[bool]:
    """Whether ``box`` reaches the picture's top, bottom, left and right edges, each to within
    SHEET_CORNER of the picture's size that way."""
    h, w = shape
    return [gap <= SHEET_CORNER * n for gap, n in zip(_gaps(box, shape), (h, h, w, w))]


def _gaps(box: tuple[slice, slice], shape: tuple[int, int]) -> list[int]:
    """How far ``box`` lies from the top, bottom, left and right edges of a picture of ``shape``."""
    (top, bottom), (left, right) = ((s.start, s.stop) for s in box)
    return [top, shape[0] - bottom, left, shape[1] - right]


def min_pooled(grey: np.ndarray, factor: int) -> np.ndarray:
    """The darkest pixel of each ``factor`` x ``factor`` block (a last partial block is dropped): a small
    copy in which thin dark strokes keep their darkness. Strided slices, several times faster than a
    reshaped ``min``."""
    h, w = grey.shape[0] // factor * factor, grey.shape[1] // factor * factor
    small = grey[:h:factor, :w:factor].copy()
    for row in range(factor):
        for col in range(factor):
            np.minimum(small, grey[row:h:factor, col:w:factor], out=small)
    return small


def _darkest_marks(values: np.ndarray) -> tuple[float, float]:
    """The brightness of the darkest marks (the darkest 0.5%), and their depth: how far they lie below
    the typical (median) brightness."""
    low, typical = np.percentile(values, [0.5, 50])
    return float(low), float(typical - low)


def paper_departure(grey: np.ndarray, level: float | np.ndarray) -> np.ndarray:
    """How much each pixel departs from the paper (``level``, from ``paper_level``); or, when a hard
    shadow's edge crosses the paper, from the paper around it (``shadowed_departure``). A lit side
    taken for a sheet on a desk may still hold a corner of the shadow, so its sheet is checked too."""
    return shadowed_departure(grey) if hard_shadow(grey, level) else grey - level


def _ink_from(departure: np.ndarray) -> np.ndarray:
    """Ink from the departure from the paper: darker or lighter, whichever is larger; normalised.

    Works in place on ``departure``.
    """
    ink = without_grain(departure)
    if -float(ink.min()) >= float(ink.max()):  # the ink departs most in the darker direction
        np.negative(ink, out=ink)
    return without_form_lines(without_printed_lines(_normalise_contrast(ink)))


def without_grain(departure: np.ndarray) -> np.ndarray:
    """``departure`` smoothed with a box just wide enough for its ink to stand NOISE_MARGIN times the
    paper's grain above it; unchanged (the same array) when it already does, as clean scans, drawings
    and every training image do.

    The grain is the spread of the border pixels (1.4826 times their median absolute deviation, which
    ink touching the border does not sway). The ink's strength is the largest departure either way,
    less the 4 grains by which noise alone lifts the largest of many pixels. A box of k x k pixels
    divides the grain by k and leaves strokes wider than k much as they were.
    """
    border = departure[_border_pixels(departure.shape)]
    grain = 1.4826 * float(np.median(np.abs(border - np.median(border))))
    if grain <= 0:
        return departure
    strength = max(float(departure.max()), -float(departure.min())) - 4 * grain
    size = int(np.ceil(NOISE_MARGIN * grain / max(strength, grain)))
    size = min(size | 1, MAX_SMOOTHING, max(1, min(departure.shape) // 8) | 1)
    return box_blur(departure, size) if size > 1 else departure


def box_blur(image: np.ndarray, size: int) -> np.ndarray:
    """The mean over a ``size`` x ``size`` box (odd) around each pixel, edges repeated: two running sums."""
    out = np.asarray(image, np.float64)
    half = size // 2
    for axis in (0, 1):
        padded = np.pad(out, [(half, half) if a == axis else (0, 0) for a in (0, 1)], mode="edge")
        sums = np.cumsum(padded, axis=axis)
        sums = np.insert(sums, 0, 0.0, axis=axis)
        n = out.shape[axis]
        upper = np.take(sums, np.arange(size, size + n), axis=axis)
        lower = np.take(sums, np.arange(0, n), axis=axis)
        out = (upper - lower) / size
    return out.astype(np.float32)


def _border_pixels(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of up to _BORDER_SAMPLES pixels spread along the edges: top, bottom, left, right."""
    h, w = shape
    rows = [np.zeros(w, int), np.full(w, h - 1), np.arange(h), np.arange(h)]
    cols = [np.arange(w), np.arange(w), np.zeros(h, int), np.full(h, w - 1)]
    ys, xs = np.concatenate(rows), np.concatenate(cols)
    step = max(1, len(ys) // _BORDER_SAMPLES)
    return ys[::step], xs[::step]


def paper_region(departure: np.ndarray) -> tuple[slice, slice] | None:
    """Where a sheet of paper lies in a photo that also shows what it lies on (a desk), or None.

    ``departure`` is the image minus the paper level read from its border, which
    there is the desk. The sheet is then a large, solid region much brighter than
    that: at least PAPER_AREA of the image, filled to PAPER_FILL within its
    bounding box and along each edge of it, which a character's strokes never are,
    however fat. (Uneven light is not a sheet: the fitted level already follows it.)
    A small margin is trimmed off the sheet's edges, where its own edge and shadow lie.
    """
    h, w = departure.shape
    if min(h, w) < 32:
        return None
    bright = float(np.percentile(departure[:: max(1, h // 200), :: max(1, w // 200)], 90))
    if bright < SHEET_CONTRAST:
        return None
    mask = departure > bright / 2
    rows, cols = mask.mean(axis=1), mask.mean(axis=0)
    r = np.flatnonzero(rows > 0.5 * rows.max())
    c = np.flatnonzero(cols > 0.5 * cols.max())
    top, bottom, left, right = int(r[0]), int(r[-1]) + 1, int(c[0]), int(c[-1]) + 1
    area = (bottom - top) * (right - left)
    box = mask[top:bottom, left:right]
    if area < PAPER_AREA * h * w or area == h * w or box.mean() < PAPER_FILL:
        return None
    rim = max(1, min(bottom - top, right - left) // 25)  # a sheet is bright all along its edges
    edges = [box[:rim].ravel(), box[-rim:].ravel(), box[:, :rim].ravel(), box[:, -rim:].ravel()]
    if min(float(e.mean()) for e in edges) < PAPER_FILL:  # a blob of fat strokes is not
        return None
    dy, dx = max(1, (bottom - top) // 30), max(1, (right - left) // 30)
    return slice(top + dy, bottom - dy), slice(left + dx, right - dx)


def cut_sheet(grey: np.ndarray) -> tuple[slice, slice] | None:
    """A sheet that the photo's edge cuts at one corner, with the desk showing along the other two
    sides, or on three sides, with a strip of desk along the fourth; or None. The border is then
    partly desk and partly sheet, and the level that ``paper_level`` reads from it follows neither,
    so ``paper_region`` finds no sheet against it, or only a part of it. Against the typical
    brightness of the border's darker part (the desk) the sheet stands out. It is looked for before
    ``paper_region`` with the usual level.

    The lit side of a lamp's fall or of a shadow's edge may pass for a sheet against that level too.
    So the sheet must reach exactly two adjacent sides of the picture, or three with a strip of desk
    along the fourth that is narrower than the shadow path's window or has a grain (``_grained``): a
    wider, smooth one may be the shadowed side of a shadow parallel to a side, and that path reads it
    as shade. And beyond its edges that are not at
    the picture's edge the desk must show: no more than SHEET_BEYOND of a strip just beyond each is
    brighter than halfway between desk and sheet. Beyond the box that ``paper_region`` makes of a
    slanting lit side, the lit paper goes on (65-100% of each strip, in 26 shadow photos that passed
    the other tests), where a desk's grain does not (0-28%, in 30 cut sheets of the evaluation's
    clutter kind).
    """
    ys, xs = _border_pixels(grey.shape)
    border = grey[ys, xs]
    darkest, lightest = np.percentile(border, [5, 95])
    if lightest - darkest < SHEET_CONTRAST:  # the border is all one surface
        return None
    desk = np.median(border[border < (darkest + lightest) / 2])  # the typical of its darker part
    sheet = paper_region(grey - float(desk))
    if sheet is None:
        return None
    reached = _edges_reached(sheet, grey.shape)  # top, bottom, left, right
    if all(reached) or not _holds_a_corner(sheet, grey.shape):  # all four sides, or no corner
        return None
    inner = [edge for edge in range(4) if not reached[edge]]  # the edges where the desk shows
    (top, bottom), (left, right) = ((s.start, s.stop) for s in sheet)
    dy, dx = max(1, (bottom - top) // 28), max(1, (right - left) // 28)  # paper_region's trim, about
    trims = (dy, dy, dx, dx)
    gaps = _gaps(sheet, grey.shape)
    if len(inner) == 1 and gaps[inner[0]] - trims[inner[0]] >= min(grey.shape) / SHADOW_WINDOW:
        desk_strip = grey[_beyond(sheet, grey.shape, inner[0], 2 * trims[inner[0]])]
        if not _grained(desk_strip, grey[sheet]):
            return None  # cut on three sides, and the strip along the fourth too wide for plain desk
    halfway = (float(desk) + float(np.median(grey[sheet]))) / 2
    for edge in inner:
        beyond = grey[_beyond(sheet, grey.shape, edge, 2 * trims[edge], 3 * trims[edge])]
        if beyond.size == 0 or float((beyond > halfway).mean()) > SHEET_BEYOND:
            return None
    return sheet


def _beyond(
    box: tuple[slice, slice], shape: tuple[int, int], edge: int, near: int, far: int | None = None
) -> tuple[slice, slice]:
    """The strip beyond ``box``'s ``edge`` (0-3: top, bottom, left, right), from ``near`` to ``far``
    pixels out (None: to the picture's edge), as long as that edge."""
    (top, bottom), (left, right) = ((s.start, s.stop) for s in box)
    far = max(shape) if far is None else far
    return [
        (slice(max(0, top - far), max(0, top - near)), slice(left, right)),
        (slice(bottom + near, bottom + far), slice(left, right)),
        (slice(top, bottom), slice(max(0, left - far), max(0, left - near))),
        (slice(top, bottom), slice(right + near, right + far)),
    ][edge]


def _grained(surface: np.ndarray, paper: np.ndarray) -> bool:
    """Whether ``surface`` has a grain SHEET_GRAIN times as strong as ``paper``'s (0-1 scale): told
    apart from a shadow's dimmed paper, which is as smooth as the lit paper beside it.

    The grain is the typical departure of a lightly blurred copy from a heavily blurred one, the
    light blur taking out the pixels' noise and the heavy one the desk's shading; on copies of about
    GRAIN_SIDE pixels on the paper's shorter side. The strips of desk along the sheets of a scratch
    probe on grained desks (grain 10-40 grey levels) had 3.9 to 31 times the paper's; shadows parallel
    to a side, in the evaluation's shadow kind, 0.91 to 1.23 times.
    """
    step = max(1, min(paper.shape) // GRAIN_SIDE)

    def grain(values: np.ndarray) -> float:
        small = values[::step, ::step]
        return float(np.median(np.abs(box_blur(small, 3) - box_blur(small, GRAIN_SIDE // 8 | 1))))

    return surface.size > 0 and grain(surface) > SHEET_GRAIN * max(grain(paper), GRAIN_FLOOR)


def paper_level(grey: np.ndarray) -> float | np.ndarray:
    """The background's brightness, read from the image's border.

    Usually one level: the median of the border pixels. When the light falls
    unevenly (a photo lit from one side, a darker corner), a smooth surface
    (a quadratic in x and y) fitted to the border instead, so that the darker
    side of the paper does not pass for ink. Ink that touches the border is
    left out of the fit by keeping only the better-fitting half of the pixels.
    """
    h, w = grey.shape
    ys, xs = _border_pixels(grey.shape)
    values = grey[ys, xs].astype(np.float64)
    level = float(np.median(values))
    if min(h, w) < 8 or float(np.ptp(values)) <= UNEVEN_LIGHT:
        return level
    scale = float(max(h, w))
    y, x = ys / scale, xs / scale
    design = np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], axis=1)
    keep = np.abs(values - level) <= np.percentile(np.abs(values - level), 50)
    for _ in range(3):
        kept = design[keep]
        # Least squares through the 6x6 normal equations (lstsq costs five times more here), with
        # a small ridge on the curved terms: when the pixels kept are on two opposite edges only,
        # the curvature across them is unknown, and the flattest surface is the safe guess.
        normal = kept.T @ kept + np.diag(_CURVE_RIDGE) * len(kept)
        try:
            coef = np.linalg.solve(normal, kept.T @ values[keep])
        except np.linalg.LinAlgError:
            return level
        error = np.abs(values - design @ coef)
        keep = error <= np.percentile(error, 50)
    coarse = _quadratic(coef, np.linspace(0, h - 1, 33), np.linspace(0, w - 1, 33), scale)
    if float(np.ptp(coarse)) <= UNEVEN_LIGHT:  # checked on a coarse grid first: most pages are evenly lit
        return level
    return _quadratic(coef, np.arange(h), np.arange(w), scale)


def hard_shadow(grey: np.ndarray, level: float | np.ndarray) -> bool:
    """Whether the paper has a shadow's hard edge across it: ``level`` (``paper_level``'s) misses the
    border, and the pixels a little inside it, by more than SHADOW_STEP along one stretch of at least
    SHADOW_BORDER of the border, and the picture holds more than two levels (``two_levels``).

    One stretch, because the lines of ruled paper and the ink that touches the border miss it at
    points; and a little inside as well, because a shadow reaches in where a printed line that runs
    along the border does not. (A fat stroke along the border may still count; the local paper
    reads strokes narrower than its window as the fitted one does.) A flat background and ink, and
    nothing else, hold no shadow: what misses the level there is ink, such as the strokes of a tiny
    crop blown up, which reach its edges wider than the local paper's window and were read as paper.
    That also keeps light ink on a dark background off this path.
    """
    h, w = grey.shape
    if min(h, w) < SHADOW_MIN_SIDE:
        return False
    ys, xs = _border_pixels(grey.shape)
    inset = min(h, w) // 25
    inside = np.clip(ys, inset, h - 1 - inset), np.clip(xs, inset, w - 1 - inset)
    missed = _misses(grey, level, ys, xs) & _misses(grey, level, *inside)
    longest = max((run.end - run.start + 1 for run in runs(missed)), default=0)
    return longest >= SHADOW_BORDER * len(ys) and two_levels(grey) is None


def _misses(grey: np.ndarray, level: float | np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Whether ``level`` misses each pixel at (``ys``, ``xs``) by more than SHADOW_STEP."""
    fitted = level[ys, xs] if isinstance(level, np.ndarray) else level
    return np.abs(grey[ys, xs] - fitted) > SHADOW_STEP


def shadowed_departure(grey: np.ndarray) -> np.ndarray:
    """How much darker than its paper each pixel is, as a fraction of the paper's brightness (a
    shadow dims ink and paper alike), in grey levels of the lit paper; for a photo with a hard shadow.

    Where a shadow narrows to a point at the picture's edge, its tip is narrower than the window,
    and ``local_paper`` takes it for ink. It is as much darker than the lit paper as the shadow is
    (the ratio of the border's two paper levels), its local paper is the lit one, and it is solid:
    such solid patches are paper, and so is any such pixel near the picture's edge, where a sloping
    edge of the shadow leaves thin slivers. Near the picture's edge, where a blurred edge meets it, so
    is anything whose paper reads lit and that lies between the shadow's brightness and the paper's.
    All of that is done when the shadow is clearly lighter than the darkest ink. Otherwise (faint
    pencil is lighter than most shadows) only what joins a patch like the shadow at the picture's
    edge is paper (``_reaching``): a stroke may be like the shadow too, but it does not reach the
    edge through such patches. (A stroke that runs along the shadow's edge can have the shadow's paper
    for its own, and a ratio like the shadow's: it is not a tip, and is kept.)

    The local paper, a closing, sits on the peaks of the photo's grain, so it is lowered by the typical
    gap between it and the photo. Otherwise every pixel reads a little darker than its paper, most of
    all in the shadow, where the same grain is a larger fraction of the paper: as deep as faint pencil.
    """
    size = (min(grey.shape) // SHADOW_WINDOW) | 1
    paper = local_paper(grey, size)
    paper = paper - float(np.median(paper[::3, ::3] - grey[::3, ::3]))  # most pixels are paper: its grain
    ratio = grey / np.maximum(paper, 1e-3)
    values = grey[_border_pixels(grey.shape)]
    lit = float(np.percentile(values, 90))
    shade = values[values < lit - SHADOW_STEP]
    dim = float(np.median(shade)) / lit if len(shade) else 0.0
    lit_paper = paper > lit * (1 + dim) / 2
    like_shade = (np.abs(ratio - dim) < SHADOW_STEP) & lit_paper
    solid = max(3, min(grey.shape) // 40) | 1
    tip = windowed(windowed(like_shade.astype(np.float32), solid, np.minimum), solid, np.maximum) > 0
    rim = np.ones_like(tip)  # within half a window of the picture's edge, where the edge is
    rim[size // 2 : -(size // 2), size // 2 : -(size // 2)] = False  # repeated outwards, even slivers
    half_lit = (ratio > dim - SHADOW_STEP) & (ratio < 1 - SHADOW_STEP) & lit_paper
    shadow_like = (tip & like_shade) | (rim & (like_shade | half_lit))
    if dim - float(ratio.min()) > 2 * SHADOW_STEP:  # a shadow clearly lighter than the ink
        ratio[shadow_like] = 1.0
    else:  # ink lighter than the shadow, or about as dark: only what joins the shadow at the edge
        ratio[_reaching(like_shade & rim, shadow_like, solid)] = 1.0
    return (ratio - 1.0) * lit


def _reaching(seeds: np.ndarray, mask: np.ndarray, step: int, most: int = 16) -> np.ndarray:
    """The parts of ``mask`` joined to ``seeds`` through ``mask``, grown ``step`` pixels at a time, at
    most ``most`` times. For a shadow's tips, steps of a fortieth of the picture's shorter side: 16 of
    them reach two fifths into it, twice as far as a tip (narrower than the window, a fifth) can."""
    grown = seeds & mask
    for _ in range(most):
        more = (windowed(grown.astype(np.float32), step, np.maximum) > 0) & mask
        if np.array_equal(more, grown):
            break
        grown = more
    return grown


def local_paper(grey: np.ndarray, size: int) -> np.ndarray:
    """The paper's brightness around each pixel, under dark ink: a grey-level closing (the brightest
    level within a ``size`` x ``size`` window, then the darkest within one around that). Strokes
    narrower than ``size`` vanish from it, and a shadow's edge, wider, stays where it is."""
    return windowed(windowed(grey, size, np.maximum), size, np.minimum)


def _quadratic(coef: np.ndarray, ys: np.ndarray, xs: np.ndarray, scale: float) -> np.ndarray:
    """The fitted paper surface at rows ``ys`` and columns ``xs``, as float32 (len(ys), len(xs))."""
    c0, cx, cy, cxx, cyy, cxy = (float(c) for c in coef)
    y = np.asarray(ys, np.float32) / scale
    x = np.asarray(xs, np.float32) / scale
    surface = np.outer(cxy * y, x)  # in place from here: one full-size array, three passes
    surface += (c0 + cy * y + cyy * y * y)[:, None]
    surface += (cx * x + cxx * x * x)[None, :]
    return surface


def _normalise_contrast(ink: np.ndarray) -> np.ndarray:
    """Scale ink so the strongest is 1, and drop the faint paper texture below PAPER_FLOOR."""
    strongest = float(ink.max())
    if strongest < MIN_CONTRAST:
        raise NoInkError("The image is blank: draw or upload a character first.")
    ink = ink.astype(np.float32, copy=False)  # in place from here: the same steps, no temporaries
    np.divide(ink, np.float32(strongest), out=ink)
    np.subtract(ink, np.float32(PAPER_FLOOR), out=ink)
    np.divide(ink, np.float32(1.0 - PAPER_FLOOR), out=ink)
    return np.clip(ink, 0.0, 1.0, out=ink)
