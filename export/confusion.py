"""A small confusion-matrix picture for the model card, drawn with Pillow alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    """Counts (n, n): rows are true classes, columns predicted classes."""
    m = np.zeros((n, n), dtype=np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def save_confusion_png(matrix: np.ndarray, labels: list[str], path: str | Path, title: str = "") -> None:
    """Row-normalised heat map; the diagonal is blue, errors red, darker for more.

    The colour of an off-diagonal cell grows with the square root of its share,
    so that rare confusions (1-2%) still show.
    """
    n = len(labels)
    cell = 12 if n > 20 else 32
    margin = 18
    top = 30
    size = (margin + n * cell + 4, top + margin + n * cell + 4)
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=10 if n > 20 else 14)
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    for i in range(n):
        for j in range(n):
            v = share[i, j]
            if i == j:
                colour = (int(255 - 200 * v), int(255 - 150 * v), 255)
            else:
                s = min(1.0, np.sqrt(v) * 2)
                colour = (255, int(255 - 230 * s), int(255 - 230 * s))
            x, y = margin + j * cell, top + margin + i * cell
            draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=colour)
        draw.text((2, top + margin + i * cell), labels[i], fill="black", font=font)
        draw.text((margin + i * cell + 2, top + 2), labels[i], fill="black", font=font)
    draw.text(
        (margin, 2),
        title + "   (rows: true, columns: predicted)",
        fill="black",
        font=ImageFont.load_default(size=12),
    )
    image.save(path, optimize=True)
