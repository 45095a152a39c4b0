"""The regional writing habits added to extra UniPen training drawings (training/data/styles.py)."""

from __future__ import annotations

import numpy as np

from helpers import FIXTURES
from training.data import unipen
from training.data.styles import STYLES, with_style

RING = [np.array([[50 + 40 * np.cos(t), 100 + 80 * np.sin(t)] for t in np.linspace(0, 2 * np.pi, 40)])]
"""A zero 80 wide and 160 tall, centred on (50, 100), in page coordinates (y down)."""

SEVEN = [np.array([[0.0, 0.0], [80.0, 0.0], [20.0, 160.0]])]
ONE = [np.array([[40.0, 0.0], [40.0, 160.0]])]


def test_characters_without_a_habit_are_unchanged():
    rng = np.random.default_rng(0)
    out = with_style([[[0, 0], [10, 20]], [[5, 5]]], False, "a", rng)
    assert [s.tolist() for s in out] == [[[0, 0], [10, 20]], [[5, 5]]]


def test_slashed_zero_crosses_the_ring_and_overshoots_it():
    for seed in range(10):
        out = with_style(RING, False, "0", np.random.default_rng(seed))
        assert len(out) == 2 and np.array_equal(out[0], RING[0]), "the ring itself is kept"
        slash = out[1]
        (x0, y0), (x1, y1) = slash[0], slash[-1]
        centre_dist = abs((x1 - x0) * (y0 - 100) - (y1 - y0) * (x0 - 50)) / np.hypot(x1 - x0, y1 - y0)
        assert centre_dist < 12, "the slash passes through the middle of the ring"
        assert slash[:, 1].min() < 20 and slash[:, 1].max() > 180, "and overshoots its top and bottom"


def test_crossed_seven_has_a_level_bar_through_its_stem_at_mid_height():
    for seed in range(10):
        bar = with_style(SEVEN, False, "7", np.random.default_rng(seed))[-1]
        assert np.ptp(bar[:, 1]) == 0 and 70 <= bar[0, 1] <= 100
        stem_x = 80 - 60 * bar[0, 1] / 160  # where the stroke from (80, 0) to (20, 160) is at that height
        assert bar[:, 0].min() < stem_x - 10 and bar[:, 0].max() > stem_x + 10


def test_continental_one_starts_lower_left_and_ends_at_the_top():
    for seed in range(10):
        out = with_style(ONE, False, "1", np.random.default_rng(seed))
        flag = out[0]
        assert np.array_equal(flag[-1], [40, 0]), "the up-stroke ends at the top of the one"
        dx, dy = 40 - flag[0, 0], flag[0, 1]
        assert dx > 15 and dy > 25, "and starts below it, to the left"
        assert 20 < np.degrees(np.arctan2(dx, dy)) < 50, "steeply: a flat one is an American seven's top"
        assert any(np.array_equal(s, ONE[0]) for s in out)


def test_y_up_trajectories_get_the_habit_the_right_way_up():
    """UniPen stores some writers with y growing upwards: the one's flag must still start below its top."""
    one_up = [s * (1, -1) for s in ONE]  # the top of the one is now at y = 0, the bottom at y = -160
    flag = with_style(one_up, True, "1", np.random.default_rng(3))[0]
    assert np.array_equal(flag[-1], [40, 0]) and flag[0, 1] < -25


def test_the_input_trajectory_is_not_changed():
    before = [s.copy() for s in RING]
    with_style(RING, False, "0", np.random.default_rng(1))
    assert np.array_equal(RING[0], before[0])


def test_styles_change_only_the_characters_that_have_a_habit():
    """Drawn with ``styles=1``, 0/1/7/Z/z differ from the plain drawing; all others are identical."""
    plain = unipen.load(FIXTURES / "unipen_sample.jsonl.gz", limit=372, seed=1)
    styled = unipen.load(FIXTURES / "unipen_sample.jsonl.gz", limit=372, seed=1, styles=1.0)
    has_habit = np.isin(plain.chars(), list(STYLES))
    same = (plain.x == styled.x).all(axis=(1, 2))
    assert has_habit.sum() >= 20
    assert same[~has_habit].all()
    assert not same[has_habit].any()


def test_habits_narrow_the_styles_to_the_characters_named():
    """With ``habits="07"`` the ones and Zs are drawn plainly, and the zeros and sevens still get a habit."""
    plain = unipen.load(FIXTURES / "unipen_sample.jsonl.gz", limit=372, seed=1)
    styled = unipen.load(FIXTURES / "unipen_sample.jsonl.gz", limit=372, seed=1, styles=1.0, habits="07")
    chars = plain.chars()
    same = (plain.x == styled.x).all(axis=(1, 2))
    named, other_habit = np.isin(chars, ["0", "7"]), np.isin(chars, ["1", "Z", "z"])
    assert named.sum() >= 5 and other_habit.sum() >= 5
    assert not same[named].any()
    assert same[~named].all()
