"""Confidences that are the chance of being right.

A network's highest probability is not the chance that its answer is right (the shipped
ensemble averages five softmaxes, and is less sure than it is right), and ``read``'s
product of its digits' confidences is no chance at all (a number that drops a digit may
score 0.99). Each is mapped here, after the fact, to a calibrated one:

- a digit (``predict``, the API): temperature scaling, ``softmax(log(p) / T)``, with the
  one ``T`` that maximises the likelihood of validation digits (Guo et al. 2017); the
  answer (the argmax) never changes;
- a number (``read``): a logistic regression of whether the whole string is right, from
  its digits' confidences and what the segmentation left in the reading (how many
  digits, how wide each is against the writing's height, how many touch or overlap,
  whether the sequence reader's own path was read rather than a chain's);
- a digit of a number: a logistic (Platt) map of its raw confidence.

The fitted parameters live in ``models/calibration.json`` (``benchmarks/fit_calibration.py``
writes it), keyed by the shipped model's name with the SHA-256 of its file: a model that
is not the one calibrated (a user's own, or a retrained one) keeps its raw confidences.
The models' outputs themselves are untouched.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

#: The calibration of the shipped models, beside them.
FILE = Path(__file__).parent / "models" / "calibration.json"
#: Bins of the expected calibration error.
BINS = 15
#: What a number's logistic regression reads, in this order (``number_features``).
NUMBER_FEATURES = ("log_product", "min_logit", "second_logit", "digits", "widest", "narrowest",
                   "overlaps", "height_spread", "margin", "least_whole", "most_several",
                   "sequence_lead", "turned", "photo", "form", "spelled")
#: A reading's segmentation margin and its sequence reader's lead (``read.evidence``) are
#: clipped to +-MARGIN: beyond it, a rival is out of the question (or there is none).
MARGIN = 10.0
#: The degrees a writing was turned level (``read.level`` turns up to 30) are clipped to this.
TURNED = 30.0
#: Logits of a probability are clipped to this range (float32 softmaxes reach 1.0 exactly).
LOGIT_RANGE = (-12.0, 16.0)
#: The most a reading made to have the length asked for (``read_number``'s ``length``)
#: is trusted: on validation 31 of 89 such readings were right, and capped at this their
#: mean confidence is that share, 0.35 (BENCHMARKS.md, "Numbers of a known length").
FORCED = 0.4
#: The most a reading is trusted whose field's pattern the lean of its slashes chose from
#: others its digits fit alike ("1115": 11/5 or 1/15; ``read_number``'s ``pattern`` with
#: "d?"): on validation 20 of 23 such dates were right (BENCHMARKS.md, "Dates of one-digit
#: days and months").
PATTERN_CHOICE = 0.85
#: The most a reading is trusted that was read with a digit fewer or more than its best
#: reading to keep its check digit (``read_number``'s ``check``; ``decode._other_length``):
#: 8 of 11 such readings of 1,600 validation numbers were right.
CHECK_LENGTH = 0.7
#: How often a wrong reading keeps its check digit (``read_number``'s ``check``): the
#: chance that a reading which keeps it as read is right is then p / (p + (1 - p) x this),
#: p its chance before. On validation 1 of 27 wrong readings kept it (a digit dropped); of
#: 0.02, 0.05 and 0.1, 0.05 gave the readings read with a check the least calibration
#: error, 0.92% against 4.25% without (BENCHMARKS.md, "Check digits").
CHECK_KEPT_WRONG = 0.05
#: How often a wrong reading is still a date (``check`` "dmy", "mdy", "ymd"): a misread
#: digit of the year's last two, or of a day's units, keeps most dates dates. On 600
#: validation dates (``bench_marks``' short dates) 10 of the 16 wrong readings were; of 0.2
#: to 1, 0.5 gave the least calibration error, 0.83% against 1.39% with no weight
#: (BENCHMARKS.md, "A date's calendar").
DATE_KEPT_WRONG = 0.5
#: The same for a time of the 24-hour clock (``check`` "hm"). On 600 validation times
#: (``bench_marks --times``) 9 of the 13 wrong readings were still times, but the number's
#: calibration is underconfident on these short numbers (0.937 on average, 97.8% right),
#: and the weight makes up for both: of 0.1 to 1, 0.2 brings the mean confidence to the
#: share right (0.980), calibration error 1.24% against 4.15% without the rule.
TIME_KEPT_WRONG = 0.2


def expected_calibration_error(confidence, correct, bins: int = BINS) -> float:
    """The expected calibration error: over ``bins`` equal-width bins of confidence, the
    mean of |accuracy - mean confidence| weighted by the bin's share of the answers."""
    _, confidences, accuracies, counts = reliability(confidence, correct, bins)
    if not counts.sum():
        raise ValueError("no answers to measure")
    used = counts > 0
    gaps = np.abs(accuracies[used] - confidences[used])
    return float((gaps * counts[used]).sum() / counts.sum())


def reliability(confidence, correct, bins: int = BINS):
    """The reliability diagram's data: (bin edges (bins + 1), mean confidence, accuracy and
    number of answers in each bin; the first two NaN in an empty bin)."""
    confidence = np.asarray(confidence, dtype=np.float64).ravel()
    correct = np.asarray(correct, dtype=np.float64).ravel()
    if len(confidence) != len(correct):
        raise ValueError(f"{len(confidence)} confidences for {len(correct)} answers")
    edges = np.linspace(0.0, 1.0, bins + 1)
    # a confidence on an edge belongs to the bin below it, 0 to the first (as Guo et al.)
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    counts = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidences = np.bincount(index, confidence, bins) / counts
        accuracies = np.bincount(index, correct, bins) / counts
    return edges, confidences, accuracies, counts


def logit(p):
    """log(p / (1 - p)), clipped to LOGIT_RANGE."""
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore"):
        value = np.log(p) - np.log1p(-p)
    return np.clip(np.nan_to_num(value, nan=0.0), *LOGIT_RANGE)


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


def scale_temperature(probabilities, temperature: float) -> np.ndarray:
    """``softmax(log(p) / T)`` of each row of ``probabilities`` (rows summing to one)."""
    z = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), 1e-300, None)) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(probabilities, labels, bounds=(0.05, 20.0)) -> float:
    """The temperature that minimises the negative log-likelihood of ``labels`` under
    ``scale_temperature(probabilities, T)`` (golden-section search on log T; the
    likelihood is unimodal in it)."""
    labels = np.asarray(labels)
    rows = np.arange(len(labels))

    def nll(log_t):
        return -np.log(scale_temperature(probabilities, math.exp(log_t))[rows, labels] + 1e-300).mean()

    lo, hi = math.log(bounds[0]), math.log(bounds[1])
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(a), nll(b)
    while hi - lo > 1e-4:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(b)
    return float(math.exp((lo + hi) / 2))


@dataclass
class Logistic:
    """P(right) = sigmoid(weights . (x - mean) / scale + bias)."""

    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x, y, l2: float = 1e-2, steps: int = 50) -> Logistic:
        """Maximum likelihood with an L2 penalty ``l2`` on the weights of the standardised
        features (Newton's method: the problem is small and convex)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale == 0] = 1.0
        a = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
        w = np.zeros(a.shape[1])
        penalty = np.full(a.shape[1], l2 * len(x))
        penalty[-1] = 0.0  # the bias is not pulled towards 0
        for _ in range(steps):
            p = sigmoid(a @ w)
            gradient = a.T @ (p - y) + penalty * w
            hessian = (a * (p * (1 - p))[:, None]).T @ a + np.diag(penalty + 1e-9)
            step = np.linalg.solve(hessian, gradient)
            w -= step
            if np.abs(step).max() < 1e-9:
                break
        return cls(w[:-1], float(w[-1]), mean, scale)

    def __call__(self, x) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        return sigmoid((x - self.mean) / self.scale @ self.weights + self.bias)

    def as_dict(self) -> dict:
        return {"weights": self.weights.tolist(), "bias": self.bias, "mean": self.mean.tolist(),
                "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> Logistic:
        return cls(np.asarray(d["weights"], float), float(d["bias"]), np.asarray(d["mean"], float),
                   np.asarray(d["scale"], float))


def number_features(reading) -> np.ndarray:
    """What a number's logistic regression reads from a ``read.Reading`` (NUMBER_FEATURES):
    the log of its digits' product of confidences, the two lowest digit logits, the number
    of digits, the widest and narrowest digit against the median height, the share of
    neighbours whose boxes overlap (cut or touching), how much the heights vary, and the
    segmentation's evidence (``read.evidence``: the lead of the chain read over the best of
    another length, clipped to +-MARGIN; the judge's least log P(whole) and the pair
    reader's largest P(several digits) among its pieces; the sequence reader's lead of the
    string read over the best other candidate, clipped to +-MARGIN; how many degrees the
    writing was turned level, up to TURNED; whether the picture was a photo of paper, and
    whether a form's print was taken out of it (``frontend.Seen``); whether the string was
    spelled by the sequence reader, no chain of the lattice reading it (a reading without
    evidence counts as sure of its segmentation, level, and none of these)."""
    digits = reading.digits
    if not digits:
        raise ValueError("a reading without digits has no confidence")
    confidences = np.array([d.confidence for d in digits], dtype=np.float64)
    logits = np.sort(logit(confidences))
    boxes = np.array([d.box for d in digits], dtype=np.float64)
    widths = boxes[:, 2] - boxes[:, 0]
    heights = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    height = float(np.median(heights))
    overlaps = float(np.mean(boxes[1:, 0] < boxes[:-1, 2])) if len(digits) > 1 else 0.0
    evidence = getattr(reading, "evidence", None) or {}
    return np.array([max(float(np.log(np.clip(confidences, 1e-12, 1)).sum()), -30.0),
                     logits[0], logits[1] if len(logits) > 1 else LOGIT_RANGE[1], len(digits),
                     widths.max() / height, widths.min() / height, overlaps,
                     heights.std() / height,
                     float(np.clip(evidence.get("margin", MARGIN), -MARGIN, MARGIN)),
                     float(evidence.get("least_whole", 0.0)), float(evidence.get("most_several", 0.0)),
                     float(np.clip(evidence.get("sequence_lead", MARGIN), -MARGIN, MARGIN)),
                     min(float(evidence.get("turned", 0.0)), TURNED),
                     float(evidence.get("photo", 0.0)), float(evidence.get("form", 0.0)),
                     float(evidence.get("spelled", 0.0))])


@dataclass
class Calibration:
    """The maps from a model's raw confidences to calibrated ones; the identity for a
    model that was not calibrated (``temperature`` 1, no regressions)."""

    temperature: float = 1.0
    number: Logistic | None = None
    digit_in_number: tuple | None = None  # (a, b): sigmoid(a * logit(p) + b)

    @property
    def fitted(self) -> bool:
        return self.number is not None

    def digits(self, probabilities) -> np.ndarray:
        """Calibrated probabilities (n, classes) for raw ones; the same argmax."""
        probabilities = np.asarray(probabilities)
        if self.temperature == 1.0:
            return probabilities
        return scale_temperature(probabilities, self.temperature).astype(probabilities.dtype)

    def digit_in_number_confidence(self, confidence: float) -> float:
        if self.digit_in_number is None:
            return confidence
        a, b = self.digit_in_number
        return float(sigmoid(a * logit(confidence) + b))

    def number_confidence(self, reading) -> float:
        """The chance that ``reading``'s whole string is right: 0 for a reading that does
        not have the length it was asked for or breaks its check digit past mending, at
        most FORCED for one made to have the length, at
        most PATTERN_CHOICE for one whose pattern the lean of its slashes chose, at most
        CHECK_LENGTH for one read at another length to keep its check digit; surer for one
        that keeps its check digit as read (CHECK_KEPT_WRONG) or is a date or a time
        (DATE_KEPT_WRONG, TIME_KEPT_WRONG)."""
        evidence = getattr(reading, "evidence", None) or {}
        if evidence.get("off_length") or evidence.get("check_failed"):
            return 0.0
        if self.number is None:
            return reading.confidence
        p = float(self.number(number_features(reading))[0])
        if evidence.get("check_kept"):
            p = p / (p + (1 - p) * CHECK_KEPT_WRONG)
        if evidence.get("date_kept"):
            p = p / (p + (1 - p) * DATE_KEPT_WRONG)
        if evidence.get("time_kept"):
            p = p / (p + (1 - p) * TIME_KEPT_WRONG)
        if evidence.get("pattern_choice"):
            p = min(p, PATTERN_CHOICE)
        if evidence.get("check_length"):
            p = min(p, CHECK_LENGTH)
        return min(p, FORCED) if evidence.get("forced") else p

    def reading(self, reading, min_confidence: float = 0.0):
        """``reading`` with calibrated confidences, its digits below ``min_confidence``
        marked unsure."""
        digits = [replace(d, confidence=c, unsure=c < min_confidence)
                  for d, c in ((d, self.digit_in_number_confidence(d.confidence))
                               for d in reading.digits)]
        return replace(reading, digits=digits, confidence=self.number_confidence(reading))

    def as_dict(self) -> dict:
        return {"temperature": self.temperature,
                "number": self.number.as_dict() if self.number else None,
                "number_features": list(NUMBER_FEATURES),
                "digit_in_number": list(self.digit_in_number) if self.digit_in_number else None}

    @classmethod
    def from_dict(cls, d: dict) -> Calibration:
        if d.get("number") and d.get("number_features") != list(NUMBER_FEATURES):
            raise ValueError("the calibration's number features are not this digitnet's")
        return cls(float(d["temperature"]),
                   Logistic.from_dict(d["number"]) if d.get("number") else None,
                   tuple(d["digit_in_number"]) if d.get("digit_in_number") else None)


def file_digest(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_all(file=FILE) -> dict:
    """Every calibration in ``file``: {model name: {"sha256": ..., ...}}; {} without one."""
    try:
        with open(file, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def for_model(path) -> Calibration:
    """The calibration of the model file at ``path`` (None: the default shipped model),
    if ``calibration.json`` holds one for exactly that file; else the identity."""
    from .pretrained import default_model_path, shipped_by_name

    path = Path(shipped_by_name(path) if path is not None else default_model_path() or "")
    entry = load_all().get(path.stem)
    if entry is None or not path.is_file() or file_digest(path) != entry.get("sha256"):
        return Calibration()
    return Calibration.from_dict(entry)


def save(name: str, model_path, calibration: Calibration, notes: dict, file=FILE) -> None:
    """Write ``calibration`` for the model ``name`` (the file at ``model_path``) into
    ``file``, keeping the other models' entries."""
    from .io import atomic_write

    entries = load_all(file)
    entries[name] = {"sha256": file_digest(model_path), **calibration.as_dict(), **notes}
    with atomic_write(file, suffix=".json") as tmp:
        Path(tmp).write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")


# -- the answers calibration is fitted and measured on -------------------------------


def digit_inputs(x, rng) -> dict:
    """{name: 28x28 inputs} of the digits ``x`` as given (MNIST form), and drawn as a user
    would (``data.synthetic.drawing``) then brought to MNIST form by ``to_mnist``."""
    from .data.preprocess import to_mnist
    from .data.synthetic import drawing

    return {"as given": x, "drawn": np.stack([to_mnist(drawing(row, rng)) for row in x])}


def digit_sets(model, x, y, rng) -> dict:
    """{name: (raw probabilities, labels)} of ``digit_inputs``."""
    return {name: (model.confidences(inputs), y) for name, inputs in digit_inputs(x, rng).items()}


def compose_numbers(x, y, n: int, rng, touching=(0.0, 0.3), lengths=(2, 8)):
    """``n`` numbers composed of the digits ``x`` (labels ``y``) as ``data.synthetic.number``
    writes them, of ``lengths`` digits (inclusive), each gap touching with a probability
    taken in turn from ``touching``: yields (Pillow image, true string)."""
    from .data.synthetic import number

    for i in range(n):
        k = int(rng.integers(lengths[0], lengths[1] + 1))
        idx = rng.integers(0, len(x), k)
        image, _ = number(x[idx], rng, touching=touching[i % len(touching)])
        yield image, "".join(str(int(d)) for d in y[idx])


def read_answers(model, numbers):
    """``read_number`` with ``model`` (rearranged for inference as ``digitnet read`` does) on
    each (image, truth) of ``numbers``: the raw readings (None where nothing was found) and
    the truths."""
    from .errors import ImageError
    from .nn.network import for_inference
    from .read import read_number

    model = for_inference(model)
    readings: list = []
    truths = []
    for image, truth in numbers:
        try:
            readings.append(read_number(image, model))
        except ImageError:
            readings.append(None)
        truths.append(truth)
    return readings, truths


def number_answers(calibration: Calibration, readings, truths):
    """(calibrated confidence, right) of each reading; one that found nothing is a wrong
    answer given with confidence 0."""
    confidence = np.array([calibration.number_confidence(r) if r else 0.0 for r in readings])
    right = np.array([bool(r) and r.text == t for r, t in zip(readings, truths)])
    return confidence, right


def coverage(confidence, right, shares=(1.0, 0.99, 0.98, 0.95, 0.9, 0.8)):
    """For each share of answers to accept: (share, threshold, accepted, right among them),
    accepting the most confident first (the threshold is the lowest confidence accepted)."""
    order = np.argsort(-np.asarray(confidence), kind="stable")
    rows = []
    for share in shares:
        k = max(1, int(round(share * len(order))))
        kept = order[:k]
        rows.append((share, float(confidence[kept[-1]]), k, int(np.asarray(right)[kept].sum())))
    return rows
