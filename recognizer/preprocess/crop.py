"""Where the character is: the box around its ink, less specks of dust and stray dots."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from recognizer.errors import NoInkError

INK_THRESHOLD = 0.35
"""Fraction of the strongest ink above which a pixel counts as ink for cropping."""

SPECK_MASS, SPECK_GAP = 0.2, 0.25
"""Ink with less than SPECK_MASS of all the ink, further from the character than SPECK_GAP of the
character's size, is a speck (dust on a scan, a stray dot on a canvas): it is left out of the crop."""

DOT_GAP, DOT_SLANT = 1.5, 0.5
"""Above the character, a speck may be the dot of an i or j: it is kept up to DOT_GAP of the
character's size above it, and aside by up to DOT_SLANT of its height above, as the dot of a
slanted i is. (This also keeps specks that happen to lie there.)"""

STROKE_LENGTH = 0.25
"""For a model with no i or j, ink above the character is kept that far only if it is a stroke at least
STROKE_LENGTH of the character's size long, as the flag of a 5 written apart is; a dot there is a speck."""


def ink_bbox(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int]:
    """Return (top, bottom, left, right), inclusive, of the pixels above ``threshold``."""
    return _mask_bbox(ink > threshold)


def _mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        raise NoInkError("The image is blank: draw or upload a character first.")
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


class _Run(NamedTuple):
    """A run of lines (rows or columns) with ink in them, between lines without: first, last, ink."""

    start: int
    end: int
    mass: int


def character_box(
    ink: np.ndarray, threshold: float = INK_THRESHOLD, keep_dots: bool = True
) -> tuple[int, int, int, int]:
    """Return (top, bottom, left, right), inclusive, of the character: the ink less any far specks.

    A speck of dust on a scan or a stray dot on the canvas would otherwise
    stretch the crop, and the character would shrink to a few pixels. The
    ink's column profile is split into runs separated by empty columns; the
    heaviest run is the character's core, and each other run joins it, walking
    outwards, if it is heavy or near enough (see SPECK_MASS). Then the same with
    the rows of the columns kept. Ink above the core may be further away (see
    DOT_GAP), once; with ``keep_dots`` False (a model with no i or j) only if it
    is a stroke, as the flag of a 5 is, and not a dot (see STROKE_LENGTH).
    All this twice, because a crop one way can part specks the other way.
    """
    mask = ink > threshold
    top, bottom, left, right = _mask_bbox(mask)
    mask = mask[top : bottom + 1, left : right + 1]
    for _ in range(2):
        columns, rows = runs(_profile(mask, 0)), runs(_profile(mask, 1))
        if len(columns) == len(rows) == 1:  # no empty line across the ink: nothing stands apart
            break
        size = max(_core_length(columns), _core_length(rows))
        core = _heaviest(columns)
        core_top = _rows_with_ink(mask[:, columns[core].start : columns[core].end + 1])[0]
        aside = []
        for c in columns:
            part = mask[:, c.start : c.end + 1]
            rise = core_top - _rows_with_ink(part)[-1]
            reach = _reach_above(part.T, c, size, keep_dots) if rise > 0 else 0.0
            aside.append(max(SPECK_GAP * size, min(DOT_SLANT * rise, reach)))
        c0, c1 = _kept_span(columns, core, aside, SPECK_GAP * size)
        mask = mask[:, c0 : c1 + 1]
        rows = runs(_profile(mask, 1))
        core = _heaviest(rows)
        above_below = [
            _reach_above(mask[r.start : r.end + 1], r, size, keep_dots) if k < core else SPECK_GAP * size
            for k, r in enumerate(rows)
        ]
        r0, r1 = _kept_span(rows, core, above_below, SPECK_GAP * size)
        mask = mask[r0 : r1 + 1]
        top, left = top + r0, left + c0
    rows, columns = _rows_with_ink(mask), _rows_with_ink(mask.T)  # a speck's lines may be left empty
    return top + int(rows[0]), top + int(rows[-1]), left + int(columns[0]), left + int(columns[-1])


def _reach_above(part: np.ndarray, run: _Run, size: int, keep_dots: bool) -> float:
    """How far from the character ink above it may be and still join it: DOT_GAP of its size for a
    dot (when dots are kept) or a stroke, SPECK_GAP otherwise. ``part`` is the run's ink, with the
    run's lines as rows."""
    if keep_dots:
        return DOT_GAP * size
    longest = max(run.end - run.start + 1, _core_length(runs(_profile(part, 0))))
    return (DOT_GAP if longest >= STROKE_LENGTH * size else SPECK_GAP) * size


def runs(profile: np.ndarray) -> list[_Run]:
    """The runs of non-zero values in ``profile`` (ink per row or per column, or any 1-d array)."""
    edges = np.diff(np.concatenate([[0], (profile > 0).astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    cumulative = np.concatenate([[0], np.cumsum(profile)])
    return [_Run(int(a), int(b), int(cumulative[b + 1] - cumulative[a])) for a, b in zip(starts, ends)]


def _profile(mask: np.ndarray, axis: int) -> np.ndarray:
    """Ink pixels in each column (axis 0) or row (axis 1) of ``mask``: summed as int32, twice as fast
    as numpy's default for booleans."""
    return mask.sum(axis=axis, dtype=np.int32)


def _heaviest(runs: list[_Run]) -> int:
    return max(range(len(runs)), key=lambda k: runs[k].mass)


def _core_length(runs: list[_Run]) -> int:
    """Length of the heaviest run: the character's size along that axis, specks aside."""
    core = runs[_heaviest(runs)]
    return core.end - core.start + 1


def _rows_with_ink(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask.any(axis=1))


def _kept_span(runs: list[_Run], core: int, gaps: list[float], near: float) -> tuple[int, int]:
    """First and last line of run ``core`` grown outwards by each run heavy enough or within its gap.

    A gap wider than ``near`` lets in the dot of an i or the flag of a 5, once in all. After it,
    runs must be ``near`` (or heavy), so that specks of dust cannot join one after the other."""
    light = SPECK_MASS * sum(run.mass for run in runs)
    lo, hi = runs[core].start, runs[core].end
    reach = list(gaps)
    for side in (range(core - 1, -1, -1), range(core + 1, len(runs))):
        for k in side:
            run = runs[k]
            gap = lo - run.end - 1 if k < core else run.start - hi - 1
            if run.mass >= light or gap <= reach[k]:
                lo, hi = min(lo, run.start), max(hi, run.end)
                if run.mass < light and gap > near:  # a character has one dot (or flag)
                    reach = [min(r, near) for r in reach]
    return lo, hi


SIZED, APART = 0.6, 0.07
"""The character's ink split where at least APART of its height of empty columns lies between: two
parts that each reach SIZED of its height, up or across, are two characters side by side, not one.
(APART was 0.1; at 0.07, python -m training.check_several_characters flags 379 of its 400 close digit
pairs instead of 360, with the same false alarms, and a second draw, --seed 2, confirms it: 384 instead
of 366, one more of 3,000 single characters flagged, an H whose strokes stand apart.)"""

BESIDE = 0.1
"""A part of the ink left out of the character's box (a block of columns and rows with ink, between
empty ones), with at least BESIDE of the box's ink and half its height: another character beside it.
Dust and an i's dot are far smaller."""


def several_characters(
    ink: np.ndarray, box: tuple[int, int, int, int], threshold: float = INK_THRESHOLD
) -> bool:
    """Whether the picture seems to hold more than one character: a number or a word, say.

    The models read one character, and the crop keeps one: two side by side are squeezed into
    one box, or the lighter is left out as a speck. Either way the reading means little, and the
    app says so. ``box`` is the character's, from character_box.
    """
    top, bottom, left, right = box
    mask = ink > threshold
    kept = mask[top : bottom + 1, left : right + 1]
    height = bottom - top + 1
    groups: list[list[_Run]] = []  # the column runs, split where the gap between them is wide
    for run in runs(_profile(kept, 0)):
        if not groups or run.start - groups[-1][-1].end - 1 >= APART * height:
            groups.append([])
        groups[-1].append(run)

    def character_sized(group: list[_Run]) -> bool:
        rows = _rows_with_ink(kept[:, group[0].start : group[-1].end + 1])
        return max(rows[-1] - rows[0], group[-1].end - group[0].start) + 1 >= SIZED * height

    if sum(character_sized(group) for group in groups) >= 2:
        return True
    kept_mass = np.count_nonzero(kept)
    if np.count_nonzero(mask) - kept_mass < BESIDE * kept_mass:  # the usual case, and a quick test
        return False
    mask[top : bottom + 1, left : right + 1] = False  # what the crop left out
    for columns in runs(_profile(mask, 0)):
        part = mask[:, columns.start : columns.end + 1]
        for rows in runs(_profile(part, 1)):
            if rows.mass >= BESIDE * kept_mass and rows.end - rows.start + 1 >= height / 2:
                return True
    return False
