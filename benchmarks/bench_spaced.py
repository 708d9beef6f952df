"""Numbers written with their digits far apart, or in groups: what `digitnet read` reads.

    python -m benchmarks.bench_spaced --split validation   # tune on this
    python -m benchmarks.bench_spaced --split test         # the frozen held-out sets

People space digits out (a total on a whiteboard, a code copied into the cells of a
form whose print has not come out, a score "3   2") and write long numbers in groups (an
account "5041 9238", a telephone number). The families, 2-8 digits of the split's MNIST
digits in a pen's hand (``realworld.number_ink``):

- ``spaced``: every neighbour 0.6-2.5 of the writing's height apart (one spacing a
  number, each gap within 20% of it);
- ``groups``: two or three groups of 2-4 digits written as usual (8-40% of the height
  apart), the groups 1.2-3 heights apart;
- in the test split only, never tuned on: ``wide``: digits 2.5-4 heights apart, and
  ``groups-touching``: groups as above, one pair in each touching.

Half of each family is scanned on white (``realworld.scan``), half photographed on paper
in a wide frame (``realworld.photo``). Each picture has its own random state (split,
family, index). The test sets are frozen: ``FROZEN`` holds the SHA-256 of each family's
pictures, checked on every run (made before they were read).
"""

from __future__ import annotations

import zlib

import numpy as np

from benchmarks import realworld
from benchmarks.bench_photos import family_pictures, run_families

SEEDS = {"validation": 7501, "test": 7502}
FAMILIES = {"validation": ("spaced-number", "groups-number"),
            "test": ("spaced-number", "groups-number", "wide-number", "groups-touching-number")}
NUMBERS = 200
#: SHA-256 of each family's pictures (Pillow 13.0.0, NumPy 2.4.6).
FROZEN: dict = {
    "validation": {
        "spaced-number": "710ad73cebb352c8fa8d05727d5d3f9f8c132ec12210867be1c3b4476537f56b",
        "groups-number": "fc08cb55675c8146304d43862576b4c9a3f381744cb6f7b3e579a11b0cb06560",
    },
    "test": {
        "spaced-number": "cdfbd900dcab1cc46a88075637b626cd45e26b3984c99a534156c6a7ddfb8a1a",
        "groups-number": "140fa5c41386bdffce4104adfd72c252af21704730c9e7e57ecd4993d14f4a1f",
        "wide-number": "a9a8472857b176f48d4cfe0fed7df15931d149248e7971fb796c952bab776a08",
        "groups-touching-number": "0038a053e51c3fa824dfba8f12c05e557e11ee68d5210fbc1f09ab5851e49131",
    },
}


def _ink(family: str, rng, digits_x, digits_y):
    """The ink of a number of ``family`` and its digits: (alpha, label)."""
    if family.startswith("groups"):
        sizes = rng.integers(2, 5, int(rng.integers(2, 4)))
        gaps = []
        for size in sizes:
            gaps += [float(g) for g in rng.uniform(0.08, 0.4, size - 1)] + [float(rng.uniform(1.2, 3.0))]
        gaps = gaps[:-1]
    else:
        k = int(rng.integers(2, 7))
        low, high = (2.5, 4.0) if family.startswith("wide") else (0.6, 2.5)
        spacing = rng.uniform(low, high)
        gaps = [float(g) for g in spacing * rng.uniform(0.8, 1.2, k - 1)]
    idx = rng.integers(0, len(digits_y), len(gaps) + 1)
    if family.startswith("groups-touching"):  # one pair touching in each group
        ends = np.flatnonzero(np.array(gaps) >= 1.2)
        starts = np.concatenate([[0], ends + 1])
        stops = np.concatenate([ends, [len(gaps)]])  # a group's last gap index + 1
        parts = []
        for start, stop in zip(starts, stops):
            group = digits_x[idx[start:stop + 1]]
            parts.append(realworld.number_ink(group, rng, touch=True, gaps=gaps[start:stop]))
        alpha = _side_by_side(parts, [gaps[e] for e in ends], rng)
    else:
        alpha = realworld.number_ink(digits_x[idx], rng, gaps=gaps)
    return alpha, "".join(str(int(d)) for d in digits_y[idx])


def _side_by_side(parts, gaps, rng):
    """Groups' ink side by side, brought to the first one's height, ``gaps`` (in that
    height) between them."""
    from PIL import Image

    height = parts[0].shape[0]
    parts = [p if p.shape[0] == height else np.asarray(Image.fromarray(p, "F").resize(
        (max(1, round(p.shape[1] * height / p.shape[0])), height), Image.Resampling.BILINEAR))
        for p in parts]
    width = sum(p.shape[1] for p in parts) + int(sum(gaps) * height) + 1
    page = np.zeros((height, width), np.float32)
    left = 0
    for k, part in enumerate(parts):
        top = (height - part.shape[0]) // 2
        page[top:top + part.shape[0], left:left + part.shape[1]] = part
        left += part.shape[1] + (int(gaps[k] * height) if k < len(gaps) else 0)
    return page


def make(family: str, split: str, index: int, digits_x: np.ndarray, digits_y: np.ndarray):
    """Picture ``index`` of ``family``: (encoded bytes, label)."""
    rng = np.random.default_rng([SEEDS[split], zlib.crc32(family.encode()), index])
    alpha, label = _ink(family, rng, digits_x, digits_y)
    if rng.random() < 0.5:
        return realworld.scan(alpha, rng, digit_fraction=(0.4, 0.8)), label
    w = int(rng.integers(800, 1401))
    frame = (int(w * rng.uniform(0.35, 0.75)), w)
    return realworld.photo(alpha, rng, digit_fraction=(0.08, 0.25), frame=frame), label


pictures = family_pictures(make, 0, NUMBERS)  # (every family is of numbers)


def main(argv=None):
    return run_families("bench_spaced", __doc__.splitlines()[0], FAMILIES, pictures, FROZEN, argv)


if __name__ == "__main__":
    raise SystemExit(main())
