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

    With ``allowed`` (a boolean mask over the classes), a step writes a character where the model
    puts more weight on some character than on the blank, whichever it is, and the character it
    writes is the best allowed one. So a digits reader writes the 5 that the model, knowing all 62
    characters, half took for an S, where masking the S away would have left only the blank.

    A character's confidence is its best step's probability of a character times that character's
    share of the allowed ones; its runners-up come from that step, renormalised over the allowed.
    """
    probs = softmax(logits)
    blank = len(alphabet)
    if allowed is None:
        allowed = np.ones(blank + 1, bool)
    labels = np.where(allowed[:blank], probs[:, :blank], 0.0)
    if allowed[:blank].all():  # no mask: plain best path, the best class, blank included
        best = probs.argmax(axis=1)
    else:  # a character where any outweighs the blank, and the best allowed one
        writes = probs[:, blank] < 1.0 - probs[:, blank]
        best = np.where(writes, labels.argmax(axis=1), blank)
    characters: list[DecodedCharacter] = []
    start = 0
    for t in range(1, len(best) + 1):
        if t < len(best) and best[t] == best[start]:
            continue
        if best[start] != blank:
            shares = labels[start:t] / np.maximum(labels[start:t].sum(axis=1, keepdims=True), 1e-12)
            weight = (1.0 - probs[start:t, blank]) * shares[:, best[start]]
            peak = int(weight.argmax())
            characters.append(_character(shares[peak], float(weight[peak]), alphabet, (start, t - 1), top_k))
        start = t
    text = "".join(c.label for c in characters)
    return text, characters


def _character(
    shares: np.ndarray, confidence: float, alphabet: str, steps: tuple[int, int], top_k: int
) -> DecodedCharacter:
    order = np.argsort(-shares, kind="stable")[:top_k]
    top = [(alphabet[i], float(shares[i])) for i in order if shares[i] > 0]
    return DecodedCharacter(alphabet[int(shares.argmax())], confidence, top, steps)


def log_likelihood(logits: np.ndarray, text: str, alphabet: str, allowed: np.ndarray | None = None) -> float:
    """log P(text | logits) under CTC, summed over every path that writes ``text`` (the forward
    algorithm), with the classes not ``allowed`` given no probability. -inf where no path fits."""
    probs = softmax(logits, allowed)
    with np.errstate(divide="ignore"):
        logp = np.log(probs)
    blank = len(alphabet)
    if not text:
        return float(logp[:, blank].sum())
    ids = [alphabet.index(c) for c in text]
    states = np.array([blank if s % 2 == 0 else ids[s // 2] for s in range(2 * len(ids) + 1)])
    # a state may skip the blank before it when it writes a character unlike the one two back
    skip = np.zeros(len(states), bool)
    skip[3::2] = states[3::2] != states[1:-2:2]
    alpha = np.full(len(states), -np.inf)
    alpha[: min(2, len(states))] = logp[0, states[:2]]
    for t in range(1, len(logp)):
        stay = alpha
        step = np.concatenate([[-np.inf], alpha[:-1]])
        jump = np.where(skip, np.concatenate([[-np.inf, -np.inf], alpha[:-2]]), -np.inf)
        alpha = np.logaddexp(np.logaddexp(stay, step), jump) + logp[t, states]
    return float(np.logaddexp(alpha[-1], alpha[-2]))


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
