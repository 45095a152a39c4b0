"""Augmentation that imitates how real input differs from the preprocessed training images.

The shared preprocessing already crops, scales and centres every drawing, so
what is left to imitate is what it cannot undo: a slightly slanted or rotated
hand, a glyph a little off centre or off size, and strokes thicker or thinner
than average. Images are never flipped: a flip turns b into d and p into q.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def stroke_thickness(images: tf.Tensor, strength: float = 0.7) -> tf.Tensor:
    """Make each image's strokes randomly thicker (grey dilation) or thinner (erosion)."""
    n = tf.shape(images)[0]
    t = tf.random.uniform((n, 1, 1, 1), -strength, strength)
    dilated = tf.nn.max_pool2d(images, 3, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
    return tf.where(t > 0, images + t * (dilated - images), images - t * (eroded - images))


def geometric(rotation_deg: float = 10.0, shear: float = 0.15, zoom: float = 0.1, shift_px: float = 2.0):
    """A keras pipeline of small rotations, shears, zooms and shifts."""
    return keras.Sequential(
        [
            keras.layers.RandomRotation(rotation_deg / 360.0, fill_mode="constant"),
            keras.layers.RandomShear(x_factor=shear, y_factor=shear / 2, fill_mode="constant"),
            keras.layers.RandomZoom((-zoom, zoom), fill_mode="constant"),
            keras.layers.RandomTranslation(shift_px / 28.0, shift_px / 28.0, fill_mode="constant"),
        ],
        name="augment",
    )


def make_augmenter(seed: int, **kwargs):
    """Return a function that augments a batch of float images (N, 28, 28, 1) in [0, 1]."""
    keras.utils.set_random_seed(seed)
    geo = geometric(**kwargs)

    def augment(images: tf.Tensor, labels: tf.Tensor):
        images = geo(images, training=True)
        images = stroke_thickness(images)
        return tf.clip_by_value(images, 0.0, 1.0), labels

    return augment
