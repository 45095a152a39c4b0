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


def seed_wide(num_classes: int) -> keras.Model:
    """``seed`` with 'same' padding and BatchNorm from the first layer, so that the later
    convolutions see 14x14 and 7x7 maps instead of 13x13 and 6x6: about 230k parameters
    with 62 classes, still under 300 KB as int8."""
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.Conv2D(32, 5, strides=2, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.3),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.BatchNormalization(),
            layers.Conv2D(64, 5, strides=2, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name="seed_wide",
    )


ARCHITECTURES = {"seed": seed, "seed_wide": seed_wide}


def build(name: str, num_classes: int) -> keras.Model:
    if name not in ARCHITECTURES:
        raise SystemExit(f"unknown --arch {name!r}; choose from {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name](num_classes)
