"""Errors whose messages are written for the person using the app.

Both subclass ``ValueError`` so callers can catch bad input in one place, and
their text can be shown to a user as it is.
"""


class NoInkError(ValueError):
    """The image is blank: an empty canvas, or nothing that stands out from the background."""


class InvalidImageError(ValueError):
    """The input is not a usable image: not an image at all, truncated, too large, or of a bad shape."""
