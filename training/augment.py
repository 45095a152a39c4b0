"""Augmentation that imitates how real input differs from the preprocessed training images.

The shared preprocessing already crops, scales and centres every drawing, so
what is left to imitate is what it cannot undo: a slanted or rotated hand, a
glyph a little off centre or off size, and strokes thicker or thinner than
average. Images are never flipped: a flip turns b into d and p into q.

It is class-aware: classes told apart mainly by their shape's proportions
(0 / o / O, 1 / l / I) get half the geometric distortion, so that augmentation
does not turn one into the other.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

FRAGILE = set("0oO1lI")
"""Classes whose identity rests on aspect ratio and slant more than on topology."""


def class_strength(labels: list[str]) -> np.ndarray:
    """Geometric augmentation strength per class index: 0.5 for FRAGILE classes, 1 otherwise."""
    return np.array([0.5 if c in FRAGILE else 1.0 for c in labels], dtype=np.float32)


def stroke_thickness(images: tf.Tensor, strength: float = 0.7) -> tf.Tensor:
    """Make each image's strokes randomly thicker (grey dilation) or thinner (erosion)."""
    n = tf.shape(images)[0]
    t = tf.random.uniform((n, 1, 1, 1), -strength, strength)
    dilated = tf.nn.max_pool2d(images, 3, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
    return tf.where(t > 0, images + t * (dilated - images), images - t * (eroded - images))


def random_affine(
    images: tf.Tensor,
    strength: tf.Tensor,
    rotation_deg: float = 10.0,
    shear: float = 0.2,
    zoom: float = 0.1,
    shift_px: float = 2.0,
) -> tf.Tensor:
    """Rotate, shear, zoom (each axis on its own) and shift each image by its own random amount.

    ``strength`` (N,) scales rotation, shear and zoom per image. One projective
    transform op does it all, which is cheaper than a chain of keras layers.
    """
    n = tf.shape(images)[0]

    def uniform(scale):
        return tf.random.uniform((n,), -1.0, 1.0) * scale

    angle = uniform(math.radians(rotation_deg)) * strength
    sh = uniform(shear) * strength
    zx, zy = 1.0 + uniform(zoom) * strength, 1.0 + uniform(zoom) * strength
    tx, ty = uniform(shift_px), uniform(shift_px)
    cos, sin = tf.cos(angle), tf.sin(angle)
    # Output -> input map A = R(angle) @ [[1, sh], [0, 1]] @ diag(zx, zy), about the image centre.
    a00, a01 = cos * zx, (cos * sh - sin) * zy
    a10, a11 = sin * zx, (sin * sh + cos) * zy
    c = 13.5
    transforms = tf.stack(
        [
            a00,
            a01,
            c - a00 * c - a01 * c + tx,
            a10,
            a11,
            c - a10 * c - a11 * c + ty,
            tf.zeros((n,)),
            tf.zeros((n,)),
        ],
        axis=1,
    )
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )


def elastic_warp(images: tf.Tensor, strength: tf.Tensor, alpha: float = 1.5, grid: int = 3) -> tf.Tensor:
    """Bend each image by its own smooth random displacement field (Simard et al., 2003).

    Affine maps keep straight strokes straight; hands do not. A (grid x grid)
    field of normal displacements with standard deviation ``alpha`` pixels
    (times ``strength`` (N,)) is smoothly upsampled to the image and sampled
    bilinearly: the curl of a tail, the bulge of a loop, how far a bar overhangs.
    """
    n, h, w = tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[2]
    coarse = tf.random.normal((n, grid, grid, 2)) * alpha * tf.reshape(strength, (-1, 1, 1, 1))
    field = tf.image.resize(coarse, (h, w), method="bicubic")
    ys, xs = tf.meshgrid(tf.range(h, dtype=tf.float32), tf.range(w, dtype=tf.float32), indexing="ij")
    sy, sx = ys[None] + field[..., 0], xs[None] + field[..., 1]
    padded = tf.pad(images[..., 0], [[0, 0], [1, 1], [1, 1]])  # outside the image is background
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    sy, sx = tf.clip_by_value(sy + 1, 0, hf + 1 - 1e-3), tf.clip_by_value(sx + 1, 0, wf + 1 - 1e-3)
    y0, x0 = tf.floor(sy), tf.floor(sx)
    dy, dx = sy - y0, sx - x0
    batch = tf.broadcast_to(tf.reshape(tf.range(n), (-1, 1, 1)), (n, h, w))

    def at(yy, xx):
        yy = tf.minimum(tf.cast(yy, tf.int32), h + 1)
        xx = tf.minimum(tf.cast(xx, tf.int32), w + 1)
        return tf.gather_nd(padded, tf.stack([batch, yy, xx], -1))

    out = ((1 - dy) * ((1 - dx) * at(y0, x0) + dx * at(y0, x0 + 1))
           + dy * ((1 - dx) * at(y0 + 1, x0) + dx * at(y0 + 1, x0 + 1)))
    return out[..., None]


def make_augmenter(labels: list[str], elastic: float = 0.0, elastic_share: float = 0.5, **kwargs):
    """Return a function that augments a batch (float images (N, 28, 28, 1) in [0, 1], labels).

    ``elastic`` > 0 bends a random ``elastic_share`` of the images with
    :func:`elastic_warp` (that many pixels of displacement); the others keep
    their exact shape, which the clean MNIST test set rewards.
    """
    strengths = tf.constant(class_strength(labels))

    def augment(images: tf.Tensor, y: tf.Tensor):
        strength = tf.gather(strengths, tf.cast(y, tf.int32))
        if elastic > 0:
            chosen = tf.cast(tf.random.uniform(tf.shape(strength)) < elastic_share, tf.float32)
            images = elastic_warp(images, strength * chosen, elastic)
        images = random_affine(images, strength, **kwargs)
        images = stroke_thickness(images)
        return tf.clip_by_value(images, 0.0, 1.0), y

    return augment
