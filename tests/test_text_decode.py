"""CTC best-path decoding, edit distance and character error rate, on hand-made scores (no model)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recognizer.text_decode import best_path, character_error_rate, edit_distance, log_likelihood, softmax

ALPHABET = "ab1 "
BLANK = len(ALPHABET)


def scores(path: str, sure: float = 8.0) -> np.ndarray:
    """Logits (T, classes) whose best class at each step spells ``path``; "-" is the blank."""
    logits = np.zeros((len(path), len(ALPHABET) + 1))
    for t, c in enumerate(path):
        logits[t, BLANK if c == "-" else ALPHABET.index(c)] = sure
    return logits


@pytest.mark.parametrize(
    "path, text",
    [
        ("aaa", "a"),  # repeats merge
        ("a-a", "aa"),  # a blank between parts two of the same
        ("--a--b-", "ab"),  # blanks drop
        ("ab1", "ab1"),
        ("a  b", "a b"),  # a space is a character like any other
        ("-----", ""),
        ("", ""),
        ("aa--aab11", "aab1"),
    ],
)
def test_best_path_merges_repeats_and_drops_blanks(path, text):
    decoded, characters = best_path(scores(path), ALPHABET)
    assert decoded == text
    assert "".join(c.label for c in characters) == text


def test_characters_carry_their_steps_confidence_and_runners_up():
    logits = scores("-aa--b")
    logits[4, ALPHABET.index("1")] = 7.0  # at the b's step, 1 comes second
    logits[5, ALPHABET.index("1")] = 7.0
    _, (a, b) = best_path(logits, ALPHABET, top_k=2)
    assert a.steps == (1, 2) and b.steps == (5, 5)
    probs = softmax(logits)
    assert a.confidence == pytest.approx(probs[1, 0])
    assert b.confidence == pytest.approx(probs[5, 1])
    assert [label for label, _ in b.top_k] == ["b", "1"]
    assert sum(p for _, p in b.top_k) <= 1.0 + 1e-9
    assert all(0.0 < p <= 1.0 for _, p in a.top_k)


def test_confidence_comes_from_the_surest_step():
    logits = scores("aaa")
    logits[1, 0] = 12.0
    _, (a,) = best_path(logits, ALPHABET)
    assert a.confidence == pytest.approx(softmax(logits)[1, 0])


def test_allowed_masks_classes_out():
    logits = scores("a-1-b")
    logits[2, ALPHABET.index("b")] = 6.0  # where 1 is best, b comes next
    allowed = np.array([c != "1" for c in ALPHABET] + [True])
    text, characters = best_path(logits, ALPHABET, allowed)
    assert text == "abb"
    assert all("1" not in {label for label, _ in c.top_k} for c in characters)
    probs = softmax(logits, allowed)
    assert np.allclose(probs.sum(axis=1), 1.0) and (probs[:, ALPHABET.index("1")] == 0).all()


def test_a_character_the_mask_forbids_becomes_the_best_allowed_one_not_a_blank():
    """The model half takes a 1 for a b: masking b away must not leave the blank (a dropped character)."""
    logits = scores("-b-")
    logits[1, ALPHABET.index("1")] = 7.0  # b first, 1 second, the blank far behind
    digits = np.array([c.isdigit() for c in ALPHABET] + [True])
    text, (one,) = best_path(logits, ALPHABET, digits)
    assert text == "1" and one.top_k[0][0] == "1"
    assert 0.0 < one.confidence < 1.0


def _collapse(path: tuple[int, ...]) -> str:
    out, previous = [], None
    for c in path:
        if c != previous and c != BLANK:
            out.append(ALPHABET[c])
        previous = c
    return "".join(out)


@pytest.mark.parametrize("text", ["", "a", "ab", "aa", "1 b"])
def test_log_likelihood_sums_every_path_that_writes_the_text(text):
    logits = np.random.default_rng(len(text)).normal(0, 1, (5, BLANK + 1))
    probs = softmax(logits)
    total = sum(
        np.prod([probs[t, c] for t, c in enumerate(path)])
        for path in itertools.product(range(BLANK + 1), repeat=5)
        if _collapse(path) == text
    )
    assert log_likelihood(logits, text, ALPHABET) == pytest.approx(np.log(total))
    assert log_likelihood(logits[:1], "aa", ALPHABET) == -np.inf  # no room for a blank between


def test_only_digits_allowed_writes_only_digits():
    rng = np.random.default_rng(0)
    allowed = np.array([c.isdigit() for c in ALPHABET] + [True])
    for _ in range(50):
        text, _ = best_path(rng.normal(0, 3, (20, len(ALPHABET) + 1)), ALPHABET, allowed)
        assert set(text) <= {"1"}


@pytest.mark.parametrize(
    "a, b, distance",
    [
        ("", "", 0),
        ("abc", "", 3),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
        ("2026", "2026", 0),
        ("2026", "206", 1),
        ("2026", "20261", 1),
        ("2026", "2036", 1),
        ("ab", "ba", 2),
    ],
)
def test_edit_distance(a, b, distance):
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


@given(st.text("ab1", max_size=8), st.text("ab1", max_size=8), st.text("ab1", max_size=8))
def test_edit_distance_is_a_metric(a, b, c):
    assert (edit_distance(a, b) == 0) == (a == b)
    assert edit_distance(a, b) <= max(len(a), len(b))
    assert edit_distance(a, b) >= abs(len(a) - len(b))
    assert edit_distance(a, c) <= edit_distance(a, b) + edit_distance(b, c)


def test_character_error_rate_is_edits_over_truth_characters():
    assert character_error_rate(["2026", "ab"], ["2026", "ab"]) == 0.0
    assert character_error_rate(["2026", "ab"], ["206", "abc"]) == pytest.approx(2 / 6)
    assert character_error_rate(["ab"], [""]) == 1.0
    assert character_error_rate(["ab"], ["xxxxab"]) == 2.0  # insertions can take it past 1
    assert character_error_rate([], []) == 0.0
