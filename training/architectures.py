"""The CNNs we can train, by name. ``seed`` is the original system's network, unchanged."""

from __future__ import annotations

import keras
from keras import layers


def seed(num_classes: int) -> keras.Model:
    """The original app's CNN (SPEC.md): about 195k parameters, 2.8M multiply-adds."""
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.Conv2D(32, 5, strides=2, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.4),
            layers.Conv2D(64, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.Conv2D(64, 5, strides=2, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.4),
            layers.Flatten(),
            layers.Dropout(0.4),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name="seed",
    )


def seed_nopool(num_classes: int) -> keras.Model:
    """``seed`` without its first max-pooling, and with BatchNorm after every convolution.

    The first block then sees 28x28 instead of 13x13, which is where thin strokes
    are told apart (this is the layout of the best single Kaggle MNIST CNNs).
    About 205k parameters with 10 classes and 260k with 62: under 300 KB as int8.
    """
    return _unpooled(num_classes, 32, "seed_nopool")


def seed_nopool_wide(num_classes: int) -> keras.Model:
    """``seed_nopool`` with 48 channels in its first, full-resolution block: about 258k parameters.

    The digits model's network: MNIST and pen-drawn digits compete for one
    small network, and the first block is where thin strokes are told apart.
    268 KB as int8.
    """
    return _unpooled(num_classes, 48, "seed_nopool_wide")


def _unpooled(num_classes: int, first: int, name: str) -> keras.Model:
    """The ``seed_nopool`` layout with ``first`` channels in the first block and 64 in the second."""
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(first, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.Conv2D(first, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.Conv2D(first, 5, strides=2, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.4),
            layers.Conv2D(64, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.Conv2D(64, 5, strides=2, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.4),
            layers.Flatten(),
            layers.Dropout(0.4),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name=name,
    )


def seed_head(num_classes: int) -> keras.Model:
    """``seed`` with a wider, less-dropped head, for the 52- and 62-class models.

    In ``seed`` the last convolution sees a 2x2 map, so most of its 5x5 kernel
    never touches data, and its 64 features pass two 40% dropouts in a row
    before the classifier: enough for 10 digits, a bottleneck for 62 look-alike
    characters (``seed`` under-fits them: training accuracy stays below 80%).
    Here the last convolution is 3x3 with 128 channels and one 30% dropout
    follows. Fewer parameters than ``seed`` (about 175k), the same cost.
    """
    return _pooled_with_head(num_classes, 32, "seed_head")


def seed_wide(num_classes: int) -> keras.Model:
    """``seed_head`` with 25% more channels (40 / 80 / 160): about 265k parameters with 62 classes.

    The most that fits the 300 KB int8 budget in this layout, at about 1.6 times
    the compute of ``seed_head``.
    """
    return _pooled_with_head(num_classes, 40, "seed_wide")


def _pooled_with_head(num_classes: int, width: int, name: str) -> keras.Model:
    """The ``seed_head`` layout with ``width`` / 2 ``width`` / 4 ``width`` channels."""
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(width, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(width, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.Conv2D(width, 5, strides=2, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.4),
            layers.Conv2D(2 * width, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.Conv2D(2 * width, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.Conv2D(4 * width, 3, strides=2, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name=name,
    )


ARCHITECTURES = {
    "seed": seed,
    "seed_nopool": seed_nopool,
    "seed_nopool_wide": seed_nopool_wide,
    "seed_head": seed_head,
    "seed_wide": seed_wide,
}


def build(name: str, num_classes: int) -> keras.Model:
    if name not in ARCHITECTURES:
        raise SystemExit(f"unknown --arch {name!r}; choose from {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name](num_classes)
