"""A line of writing photographed askew, turned level before it is read.

A phone held a little crooked over a postcode tilts the whole line: at 10 degrees the
digits of a six-digit number stand a digit's height apart from one end to the other,
and the lattice, which reads columns of a band ``LINE_HEIGHT`` rows high, sees them
small and stacked. ``level`` finds the angle at which the writing's ink lies in the
narrowest band (from its ``BAND[0]`` to its ``BAND[1]`` quantile of rows, weighted by
ink) and turns the ink by it, when the writing is a line of digits (at least
``WIDE`` times as wide as that band) tilted by ``LEVEL_MIN`` degrees or more. A digit
alone, or a line already level, is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Lines tilted by less than this many degrees are read as they are; the angle is looked
#: for within LEVEL_MAX degrees either way, on a copy at most WORK pixels long.
LEVEL_MIN = 2.0
LEVEL_MAX = 30.0
WORK = 256
#: The band the writing lies in: these quantiles of its ink's rows.
BAND = (0.01, 0.99)
#: Writing turned level is a line of digits: at least this many times as long as its band
#: is high (about three digits or more; the band of two was often narrowest far askew),
#: and turning it narrows that band at least GAIN times.
WIDE = 2.2
GAIN = 1.05


@dataclass(frozen=True)
class Turn:
    """How ``level`` turned a picture's ink: ``degrees`` counter-clockwise (as Pillow's
    ``rotate``), the crop of the picture turned (``left``, ``top``, ``width``,
    ``height``) and the size of the turned ink (``size``: width, height)."""
    degrees: float
    left: int
    top: int
    width: int
    height: int
    size: tuple

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Another array of the picture's size (a digit's ink alone) turned the same way."""
        crop = values[self.top:self.top + self.height, self.left:self.left + self.width]
        return _rotate(crop, self.degrees)

    def to_image(self, x, y):
        """Points (x, y) of the turned ink -> the same points in the picture's pixels."""
        t = np.radians(self.degrees)
        dx, dy = np.asarray(x, float) - self.size[0] / 2, np.asarray(y, float) - self.size[1] / 2
        return (self.left + self.width / 2 + dx * np.cos(t) - dy * np.sin(t),
                self.top + self.height / 2 + dx * np.sin(t) + dy * np.cos(t))


def level(values: np.ndarray, box, page: float = 0.0) -> tuple[np.ndarray, Turn | None]:
    """The ink ``values`` (H, W) of a picture, whose writing is in ``box`` (top, bottom,
    left, right), turned level: (ink, Turn), or (``values``, None) when it is level, not a
    line, or too faint to say. ``page``: the angle the page is turned by, told by its
    ruling (``frontend.Seen.turn``): the writing, along the ruling, is turned by that."""
    top, bottom, left, right = box
    margin = max(bottom - top, right - left) // 2 + 2  # room for the turned corners' ink
    top, left = max(0, top - margin), max(0, left - margin)
    bottom, right = min(values.shape[0], bottom + margin), min(values.shape[1], right + margin)
    crop = values[top:bottom, left:right]
    degrees = page or skew(crop)
    if degrees is None or abs(degrees) < LEVEL_MIN:
        return values, None
    turned = _rotate(crop, degrees)
    return turned, Turn(degrees, left, top, crop.shape[1], crop.shape[0],
                        (turned.shape[1], turned.shape[0]))


def skew(ink: np.ndarray) -> float | None:
    """The angle (degrees, counter-clockwise) that turns the line of writing in ``ink``
    level, or None when the writing is not a line (narrower than ``WIDE`` bands)."""
    factor = max(1.0, max(ink.shape) / WORK)
    if factor > 1:
        from PIL import Image

        size = (max(1, round(ink.shape[1] / factor)), max(1, round(ink.shape[0] / factor)))
        ink = np.asarray(Image.fromarray(np.asarray(ink, np.float32), "F")
                         .resize(size, Image.Resampling.BOX), dtype=np.float32)
    ys, xs = np.nonzero(ink > 0.25 * max(float(ink.max()), 1e-6))
    if len(ys) < 20:
        return None
    weights = ink[ys, xs].astype(float)
    dx, dy = xs - xs.mean(), ys - ys.mean()

    def bands(degrees):  # the band at each angle, all at once
        t = np.radians(degrees)[:, None]
        return _spread(dy * np.cos(t) - dx * np.sin(t), weights)

    coarse = np.arange(-LEVEL_MAX, LEVEL_MAX + 0.5, 1.0)
    best = coarse[int(np.argmin(bands(coarse)))]
    fine = best + np.arange(-1.0, 1.01, 0.25)
    best = float(fine[int(np.argmin(bands(fine)))])
    if abs(best) > LEVEL_MAX - 1:  # no narrowest band within the search: not a line
        return None
    t = np.radians(np.array([best]))[:, None]
    length = _spread(dx * np.cos(t) + dy * np.sin(t), weights, (0.0, 1.0))[0]
    narrow, flat = bands(np.array([best, 0.0]))
    return best if length >= WIDE * narrow and flat >= GAIN * narrow else None


def _spread(values, weights, quantiles=BAND):
    """The distance between two weighted quantiles of each row of ``values`` (angles, points)."""
    order = np.argsort(values, axis=1)
    cumulative = np.cumsum(weights[order], axis=1)
    cumulative /= cumulative[:, -1:]
    low = (cumulative < quantiles[0]).sum(axis=1)
    high = np.minimum((cumulative < quantiles[1]).sum(axis=1), values.shape[1] - 1)
    rows = np.arange(len(values))
    return values[rows, order[rows, high]] - values[rows, order[rows, low]]


def _rotate(values: np.ndarray, degrees: float) -> np.ndarray:
    """``values`` turned by ``degrees``, bicubic: bilinear blurred a touching pair's thin
    join, and fewer tilted touching numbers were read (BENCHMARKS.md, "Tilted lines turned
    bicubic")."""
    from PIL import Image

    turned = Image.fromarray(np.asarray(values, np.float32), "F").rotate(
        degrees, Image.Resampling.BICUBIC, expand=True)
    return np.clip(np.asarray(turned, dtype=np.float32), 0.0, None)
