"""Training augmentation: it changes how a character is written, never which character it is."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="training needs requirements-train.txt")

from helpers import load_mnist_sample  # noqa: E402
from training.augment import (  # noqa: E402
    class_strength,
    elastic_warp,
    make_augmenter,
    random_affine,
    stroke_thickness,
)

IMAGES = tf.constant(load_mnist_sample()[0][:64, ..., None].astype(np.float32) / 255)


def centroid(images: np.ndarray) -> np.ndarray:
    ys, xs = np.indices(images.shape[1:3])
    mass = images[..., 0].sum((1, 2))
    return np.stack([(images[..., 0] * ys).sum((1, 2)) / mass, (images[..., 0] * xs).sum((1, 2)) / mass], 1)


def test_every_distortion_is_the_identity_at_zero_strength():
    zero = tf.zeros(64)
    np.testing.assert_allclose(elastic_warp(IMAGES, zero).numpy(), IMAGES.numpy(), atol=1e-6)
    np.testing.assert_allclose(random_affine(IMAGES, zero, shift_px=0.0).numpy(), IMAGES.numpy(), atol=1e-5)
    np.testing.assert_allclose(stroke_thickness(IMAGES, 0.0).numpy(), IMAGES.numpy(), atol=1e-6)


def test_elastic_warp_bends_strokes_a_little_and_keeps_the_ink():
    tf.random.set_seed(0)
    warped = elastic_warp(IMAGES, tf.ones(64), alpha=1.5).numpy()
    original = IMAGES.numpy()
    assert warped.shape == original.shape and 0 <= warped.min() and warped.max() <= 1
    changed = np.abs(warped - original).mean((1, 2, 3)) > 0.01
    assert changed.mean() > 0.9, "a warp must move the strokes"
    ink_ratio = warped.sum((1, 2, 3)) / original.sum((1, 2, 3))
    assert np.all((ink_ratio > 0.6) & (ink_ratio < 1.5)), "no stroke may vanish or smear"
    moved = np.hypot(*(centroid(warped) - centroid(original)).T)
    assert moved.mean() < 1.2 and moved.max() < 4, "the character stays about where it was"


def test_look_alike_classes_get_half_the_geometric_distortion():
    assert class_strength(list("0oO1lIab")).tolist() == [0.5] * 6 + [1.0, 1.0]


def test_augmenter_keeps_labels_shape_and_range():
    augment = make_augmenter(list("0123456789"), elastic=1.0)
    labels = tf.constant(load_mnist_sample()[1][:64].astype(np.int64))
    images, out_labels = augment(IMAGES, labels)
    assert images.shape == IMAGES.shape and np.array_equal(out_labels.numpy(), labels.numpy())
    assert 0 <= images.numpy().min() and images.numpy().max() <= 1
    assert not np.allclose(images.numpy(), IMAGES.numpy())
