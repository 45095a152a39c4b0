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


def fold_case(label: str) -> str:
    """The label with case ignored, for case-insensitive accuracy (c and C count as one)."""
    return label.lower()


def has_dots(labels: list[str]) -> bool:
    """Whether any of ``labels`` is written with a dot (i, j). Only then may ink well above a
    character be its dot; for the other models it is a speck, and is left out of the crop."""
    return not {"i", "j"}.isdisjoint(labels)
