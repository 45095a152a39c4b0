"""CTC decoding in NumPy: from the line model's scores per step to text, with each character's
confidence, runners-up and steps. No TensorFlow.

The line model scores every 4-pixel step of a line over its alphabet and a blank (the last class).
Best-path decoding takes the best class at each step, merges repeats and drops blanks: what the
keras-io handwriting example does, and enough for a model with no language model to consult.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DecodedCharacter:
    """One character read: its label, confidence, runners-up and the steps (first, last) it spans."""

    label: str
    confidence: float
    top_k: list[tuple[str, float]]
    steps: tuple[int, int]


def softmax(logits: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
    """Probabilities per step (T, C); classes not ``allowed`` (a boolean mask) get none."""
    z = np.asarray(logits, dtype=np.float64)
    if allowed is not None:
        z = np.where(allowed, z, -np.inf)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def best_path(
    logits: np.ndarray, alphabet: str, allowed: np.ndarray | None = None, top_k: int = 5
) -> tuple[str, list[DecodedCharacter]]:
    """The text read from (T, len(alphabet) + 1) logits, blank last, and each character read.

    A character's confidence is its best step's probability; its runners-up come from that step,
    blank left out and the rest renormalised.
    """
    probs = softmax(logits, allowed)
    blank = len(alphabet)
    best = probs.argmax(axis=1)
    characters: list[DecodedCharacter] = []
    start = 0
    for t in range(1, len(best) + 1):
        if t < len(best) and best[t] == best[start]:
            continue
        if best[start] != blank:
            peak = start + int(probs[start:t, best[start]].argmax())
            characters.append(_character(probs[peak], alphabet, (start, t - 1), top_k))
        start = t
    text = "".join(c.label for c in characters)
    return text, characters


def _character(step: np.ndarray, alphabet: str, steps: tuple[int, int], top_k: int) -> DecodedCharacter:
    labels = step[:-1] / max(float(step[:-1].sum()), 1e-12)
    order = np.argsort(-labels, kind="stable")[:top_k]
    top = [(alphabet[i], float(labels[i])) for i in order if labels[i] > 0]
    best = int(step[:-1].argmax())
    return DecodedCharacter(alphabet[best], float(step[best]), top, steps)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions, one each."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def character_error_rate(truths: list[str], readings: list[str]) -> float:
    """Edits needed to turn the readings into the truths, over the truths' characters (0-1+)."""
    edits = sum(edit_distance(t, r) for t, r in zip(truths, readings))
    return edits / max(1, sum(len(t) for t in truths))
