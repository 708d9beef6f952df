"""Connectionist temporal classification (CTC): a cost for reading sequences without
knowing where each symbol is.

A network gives, at each of T steps (e.g. the columns of a line of writing), scores over
C classes, one of which is the ``blank`` ("no symbol here"). A path picks one class per
step; collapsing repeats and then dropping blanks turns a path into a label sequence
("--11-2" -> "12"). P(label | input) is the sum of the probabilities of every path that
collapses to it, computed by dynamic programming over the extended label l' (the label
with a blank before, between and after its symbols: 2 S + 1 states), as in Graves,
Fernandez, Gomez and Schmidhuber (2006), "Connectionist Temporal Classification", ICML:

- forward variables (their eq. 6-7): alpha_t(s), the probability of the paths' first
  t + 1 steps ending in state s, y_t(l'_s) [alpha_{t-1}(s) + alpha_{t-1}(s-1) +
  alpha_{t-1}(s-2)], the last term only where l'_s is not blank and differs from l'_{s-2};
- backward variables (eq. 10-11, here without the emission at t): beta_t(s), the
  probability of the rest of the path after step t given state s at step t;
- P(l | x) = alpha_{T-1}(S'-1) + alpha_{T-1}(S'-2) (eq. 8), and the gradient of -ln P
  with respect to the unnormalised scores u (eq. 16): y_t(k) - sum over the states s
  with l'_s = k of alpha_t(s) beta_t(s) / P.

Everything is in log space (products of many probabilities underflow), vectorised over
the batch and the label positions; the only Python loop runs over the T steps.
"""

from __future__ import annotations

import numpy as np

from .functional import log_softmax

NEG = -np.inf


def _extended(labels, label_lengths, blank):
    """The extended labels (n, 2 S + 1), blank at even positions, and where the skip
    from s - 2 to s is allowed (a symbol that differs from the one two states before)."""
    n, s = labels.shape
    ext = np.full((n, 2 * s + 1), blank, dtype=np.int64)
    ext[:, 1::2] = labels
    skip = np.zeros(ext.shape, dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return ext, skip


def _shift(a, k):
    """``a`` (n, S') moved k states to the right along axis 1, -inf filled in."""
    out = np.full_like(a, NEG)
    out[:, k:] = a[:, :-k]
    return out


def _check(log_probs, labels, input_lengths, label_lengths, blank):
    n, t, c = log_probs.shape
    if labels.ndim != 2 or len(labels) != n or input_lengths.shape != (n,) or label_lengths.shape != (n,):
        raise ValueError("labels must be (n, S), input_lengths and label_lengths (n,) for "
                         f"scores of shape {log_probs.shape}")
    if not 0 <= blank < c:
        raise ValueError(f"blank {blank} is not one of the {c} classes")
    if (input_lengths < 1).any() or (input_lengths > t).any():
        raise ValueError(f"input lengths must lie in 1..{t}")
    if (label_lengths < 0).any() or (label_lengths > labels.shape[1]).any():
        raise ValueError(f"label lengths must lie in 0..{labels.shape[1]}")


def ctc_loss(logits, labels, input_lengths=None, label_lengths=None, blank: int = 0,
             gradient: bool = True):
    """-ln P(label | input) of each sequence of a batch, and its gradient.

    Parameters
    ----------
    logits : array (n, T, C)
        Unnormalised scores of the C classes at each of T steps (softmax is applied here).
    labels : int array (n, S)
        The label sequences, padded on the right (padding is ignored).
    input_lengths : int array (n,), optional
        How many of the T steps each sequence has (default all).
    label_lengths : int array (n,), optional
        How many symbols each label has (default S).
    blank : int
        The class that means "no symbol".
    gradient : bool
        Whether to compute the gradient too (the backward pass doubles the work).

    Returns
    -------
    losses : array (n,)
        -ln P(label | input); inf where no path can give the label (too few steps).
    grad : array (n, T, C) or None
        d losses[i] / d logits[i] (zero beyond each input's length; zero where the loss
        is inf).
    """
    logits = np.asarray(logits)
    labels = np.asarray(labels, dtype=np.int64).reshape(len(logits), -1)
    n, t, _ = logits.shape
    input_lengths = np.full(n, t) if input_lengths is None else np.asarray(input_lengths, np.int64)
    label_lengths = (np.full(n, labels.shape[1]) if label_lengths is None
                     else np.asarray(label_lengths, np.int64))
    _check(logits, labels, input_lengths, label_lengths, blank)
    log_probs = log_softmax(logits.astype(np.float64, copy=False))
    ext, skip = _extended(labels, label_lengths, blank)
    rows = np.arange(n)[:, None]
    emit = log_probs[rows, :, ext].transpose(0, 2, 1)  # (n, T, S'): ln y_t(l'_s)
    alpha = _forward(emit, skip, input_lengths)
    last = 2 * label_lengths  # the final blank; the final symbol is last - 1
    end = alpha[np.arange(n), input_lengths - 1]
    log_p = np.logaddexp(end[np.arange(n), last],
                         np.where(last > 0, end[np.arange(n), np.maximum(last - 1, 0)], NEG))
    if not gradient:
        return -log_p, None
    beta = _backward(emit, skip, input_lengths, last)
    with np.errstate(invalid="ignore"):  # -inf - -inf where no path gives the label
        share = np.exp(alpha + beta - log_p[:, None, None])  # (n, T, S'): P(state s at t | label)
    share[~np.isfinite(log_p)] = 0.0
    grad = np.exp(log_probs)
    np.add.at(grad, (rows[:, :, None], np.arange(t)[None, :, None], ext[:, None, :]), -share)
    grad[np.arange(t)[None, :] >= input_lengths[:, None]] = 0.0
    grad[~np.isfinite(log_p)] = 0.0
    return -log_p, grad


def _forward(emit, skip, input_lengths):
    """ln alpha (n, T, S'), steps beyond an input's length holding its last alpha."""
    n, t, states = emit.shape
    alpha = np.full((n, t, states), NEG)
    alpha[:, 0, :2] = emit[:, 0, :2]
    for i in range(1, t):
        prev = alpha[:, i - 1]
        total = np.logaddexp(prev, _shift(prev, 1))
        total = np.where(skip, np.logaddexp(total, _shift(prev, 2)), total)
        alpha[:, i] = np.where((i < input_lengths)[:, None], total + emit[:, i], prev)
    return alpha


def _backward(emit, skip, input_lengths, last):
    """ln beta (n, T, S'): the rest of the path after step t (its emissions only),
    -inf beyond each input's length."""
    n, t, states = emit.shape
    beta = np.full((n, t, states), NEG)
    final = np.full((n, states), NEG)
    final[np.arange(n), last] = 0.0
    symbol = np.flatnonzero(last > 0)  # a label of no symbols ends in its only blank
    final[symbol, last[symbol] - 1] = 0.0
    beta[np.arange(n), input_lengths - 1] = final[np.arange(n)]
    # the skip from s to s + 2 is allowed where the skip into s + 2 is
    into = np.zeros_like(skip)
    into[:, :-2] = skip[:, 2:]
    for i in range(t - 2, -1, -1):
        after = beta[:, i + 1] + emit[:, i + 1]
        total = np.logaddexp(after, _shift_left(after, 1))
        total = np.where(into, np.logaddexp(total, _shift_left(after, 2)), total)
        beta[:, i] = np.where((i < input_lengths - 1)[:, None], total, beta[:, i])
    return beta


def _shift_left(a, k):
    out = np.full_like(a, NEG)
    out[:, :-k] = a[:, k:]
    return out


def log_probability(logits, labels, input_length=None, blank: int = 0) -> np.ndarray:
    """ln P(label | input) of each of several labels (lists of class indices) for one
    input's scores ``logits`` (T, C): -inf where no path gives it."""
    logits = np.asarray(logits)
    if not len(labels):
        return np.zeros(0)
    size = max(1, max(len(label) for label in labels))
    padded = np.zeros((len(labels), size), np.int64)
    for i, label in enumerate(labels):
        padded[i, :len(label)] = label
    lengths = np.asarray([len(label) for label in labels])
    steps = np.full(len(labels), len(logits) if input_length is None else input_length)
    batch = np.broadcast_to(logits, (len(labels), *logits.shape))
    return -ctc_loss(batch, padded, steps, lengths, blank, gradient=False)[0]


def best_path(logits, input_lengths=None, blank: int = 0) -> list:
    """Greedy (best path) decoding: the most likely class at each step, repeats collapsed
    and blanks dropped; one list of class indices per sequence of ``logits`` (n, T, C)."""
    logits = np.asarray(logits)
    n, t, _ = logits.shape
    lengths = np.full(n, t) if input_lengths is None else np.asarray(input_lengths)
    out = []
    for path, length in zip(logits.argmax(axis=2), lengths):
        path = path[:length]
        keep = np.ones(len(path), dtype=bool)
        keep[1:] = path[1:] != path[:-1]
        out.append([int(c) for c in path[keep] if c != blank])
    return out


class CTCCost:
    """The mean CTC cost of a mini-batch, as a ``Network``'s cost: the network's output
    z holds one row of C scores per step (n * T rows, sequence by sequence, as
    ``conv.Columns`` gives them); the targets y (n, S) are the labels, padded with -1.
    Returns (cost, delta = dC/dz), delta (n * T, C) carrying the factor 1/n of a mean;
    a target that no path can give (more symbols than steps allow) costs nothing."""

    activation = "log-softmax"

    def __init__(self, blank: int = 0):
        self.blank = int(blank)

    def output(self, z):
        return log_softmax(z)

    def __call__(self, z, y):
        y = np.asarray(y)
        n = len(y)
        if len(z) % n:
            raise ValueError(f"{len(z)} rows of scores do not split into {n} sequences")
        logits = z.reshape(n, len(z) // n, z.shape[1])
        losses, grad = ctc_loss(logits, np.maximum(y, 0), None, (y >= 0).sum(axis=1), self.blank)
        finite = np.isfinite(losses)
        cost = float(losses[finite].sum()) / n
        return cost, (grad / n).reshape(z.shape).astype(z.dtype)

    def config(self):
        return {"type": "CTCCost", "blank": self.blank}
