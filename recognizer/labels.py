"""The label sets of the three models, in EMNIST byclass order."""

import string

DIGITS = list(string.digits)
UPPER = list(string.ascii_uppercase)
LOWER = list(string.ascii_lowercase)
BYCLASS = DIGITS + UPPER + LOWER
"""EMNIST byclass order: 0-9 are 0-9, A-Z are 10-35, a-z are 36-61."""

MODEL_LABELS = {
    "digits": DIGITS,
    "letters": UPPER + LOWER,
    "characters": BYCLASS,
}


DOTTED = ("i", "j")
"""The letters written with a dot."""

STEMS = ("i", "j", "l", "I", "J", "1")
"""What an i or j reads as with its dot left out: the only characters a dot may sit on."""


def fold_case(label: str) -> str:
    """The label with case ignored, for case-insensitive accuracy (c and C count as one)."""
    return label.lower()


def has_dots(labels: list[str]) -> bool:
    """Whether any of ``labels`` is written with a dot (i, j). Only then may ink well above a
    character be its dot; for the other models it is a speck, and is left out of the crop."""
    return not set(DOTTED).isdisjoint(labels)


def keeps_dot(with_dot: str, without_dot: str) -> bool:
    """Whether ink above a character is its dot, from the model's readings with it and without it.

    Above a letter shrunk by a speck, the model often reads an i: a speck is a dot only when the
    letter under it, read alone, is the stem of an i or j. (In dusty scans, keeping every candidate
    dot read 60% of validation writers' letters; keeping it only over a stem, 68%.)
    """
    return with_dot in DOTTED and without_dot in STEMS
