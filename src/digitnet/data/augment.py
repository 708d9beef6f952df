"""Data augmentation for 28x28 digits, vectorised over the whole mini-batch.

Each transformation maps output pixel coordinates back into the source image and
samples it bilinearly (pixels outside the image are 0, the background):

- random affine: rotation, scaling and shift (a digit written a little tilted,
  larger or off-centre);
- elastic distortion (Simard, Steinkraus & Platt, 2003): a random displacement field
  smoothed by a Gaussian of width ``sigma`` and scaled by ``alpha``, like the
  oscillations of a hand;
- a random pen width: the strokes made thicker (a marker) or thinner (a fine pen) by
  up to a pixel each side, by greyscale dilation or erosion over the four neighbours,
  blended for fractions of a pixel. This one does not resample the image.
"""

import numpy as np

SIZE = 28


def _sample(images, rows, cols):
    """Bilinear sample of ``images`` (n, H, W) at float coordinates (n, H, W)."""
    n, h, w = images.shape
    r0 = np.floor(rows).astype(np.intp)
    c0 = np.floor(cols).astype(np.intp)
    fr = (rows - r0).astype(images.dtype)
    fc = (cols - c0).astype(images.dtype)
    padded = np.pad(images, ((0, 0), (1, 2), (1, 2)))  # zeros outside
    r0 = np.clip(r0 + 1, 0, h + 1)
    c0 = np.clip(c0 + 1, 0, w + 1)
    base = np.arange(n)[:, None, None] * padded.shape[1] * padded.shape[2]
    flat = padded.reshape(-1)
    idx = base + r0 * padded.shape[2] + c0
    top = flat[idx] * (1 - fc) + flat[idx + 1] * fc
    bottom = flat[idx + padded.shape[2]] * (1 - fc) + flat[idx + padded.shape[2] + 1] * fc
    return top * (1 - fr) + bottom * fr


def _gaussian_smooth(fields, sigma):
    """Smooth each (H, W) field with a Gaussian of width ``sigma`` (via the FFT)."""
    h, w = fields.shape[-2:]
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    transfer = np.exp(-2 * (np.pi * sigma) ** 2 * (fy ** 2 + fx ** 2))
    return np.fft.irfft2(np.fft.rfft2(fields) * transfer, s=(h, w))


def _neighbours(images, reduce):
    """``reduce`` (np.maximum or np.minimum) of each pixel and its four neighbours."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    out = images.copy()
    for dr, dc in ((0, 1), (2, 1), (1, 0), (1, 2)):
        reduce(out, padded[:, dr:dr + SIZE, dc:dc + SIZE], out=out)
    return out


def pen_width(images, change):
    """``images`` (n, 28, 28) with strokes thickened by ``change`` pixels each side where
    positive, thinned where negative (one entry per image, each in [-1, 1])."""
    t = np.asarray(change, dtype=images.dtype)[:, None, None]
    thicker = _neighbours(images, np.maximum)
    thinner = _neighbours(images, np.minimum)
    return np.where(t > 0, images + t * (thicker - images), images - t * (thinner - images))


class Augment:
    """A random transformation of a batch of flattened 28x28 images.

    Parameters
    ----------
    rotate : float
        Maximum rotation in degrees (uniform in [-rotate, rotate]).
    scale : float
        Maximum relative change of size (uniform in [1 - scale, 1 + scale]).
    shift : float
        Maximum shift in pixels, each axis.
    elastic : (alpha, sigma) or None
        Strength and smoothness of the elastic distortion (Simard et al. use 34, 4).
    pen : (thinner, thicker) or None
        The range of the change of the pen's width, in pixels each side (uniform in
        [-thinner, thicker], each at most 1).
    """

    def __init__(self, rotate=10.0, scale=0.1, shift=2.0, elastic=None, pen=None):
        self.rotate, self.scale, self.shift, self.elastic = rotate, scale, shift, elastic
        self.pen = pen

    def __call__(self, x, rng):
        n = len(x)
        images = x.reshape(n, SIZE, SIZE)
        if self.pen:
            images = pen_width(images, rng.uniform(-self.pen[0], self.pen[1], n))
        angle = np.deg2rad(rng.uniform(-self.rotate, self.rotate, n))
        zoom = rng.uniform(1 - self.scale, 1 + self.scale, n)
        shift = rng.uniform(-self.shift, self.shift, (n, 2))
        centre = (SIZE - 1) / 2
        grid_r, grid_c = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) - centre
        cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
        z = zoom[:, None, None]
        # inverse map: output pixel -> source pixel
        rows = (cos * grid_r - sin * grid_c) / z + centre - shift[:, 0, None, None]
        cols = (sin * grid_r + cos * grid_c) / z + centre - shift[:, 1, None, None]
        if self.elastic:
            alpha, sigma = self.elastic
            # Simard et al.: uniform(-1, 1) displacements, convolved with a Gaussian of
            # width sigma (unit gain), scaled by alpha
            fields = alpha * _gaussian_smooth(rng.uniform(-1, 1, (n, 2, SIZE, SIZE)), sigma)
            rows = rows + fields[:, 0]
            cols = cols + fields[:, 1]
        out = _sample(images, rows, cols)
        return out.reshape(n, -1).astype(x.dtype, copy=False)

    def config(self):
        return {"rotate": self.rotate, "scale": self.scale, "shift": self.shift,
                "elastic": list(self.elastic) if self.elastic else None,
                "pen": list(self.pen) if self.pen else None}
