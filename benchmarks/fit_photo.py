"""Training digits photographed: the front end's output on phone photos of paper, to train on.

    python -m benchmarks.fit_photo --images photo0.npz [photo1.npz ...] [--train DIR]
                                   [--epochs 2] [--lr 0.005] [--members 0 1 2 3 4]

Each of MNIST's first 50,000 *training* digits (validation and test are never seen) is
written on paper and photographed by a simulator of its own (``photograph`` below: it
shares no code with ``benchmarks/realworld.py``, whose pictures measure the result), the
picture encoded as a user's file would be, and given to ``digitnet.data.frontend.to_mnist``
as ``digitnet predict`` gives it. What the front end makes of it, 784 floats as the network
sees them, is the training image; ``--images`` keeps them (outside the repository), the
i-th file made with seed 1000 i. A picture in which the front end finds no digit is left
out (and counted).

With ``--train DIR``, each of the shipped ensemble's five networks is trained ``--epochs``
further at the starting rate ``--lr`` (its own recipe otherwise: the cnn recipe's cosine
schedule and affine distortions) on MNIST's 50,000 training digits and the photographed
ones together, in ``DIR``, and the five are written as ``src/digitnet/models/photo.npz``
(float16): the network that answers for photos of paper (``digitnet.pretrained.PHOTO``).

The simulator's conditions: paper of any tint and brightness, lit unevenly (a gradient, a
vignette, a soft or hard-edged shadow), sometimes ruled or squared; black, blue, grey,
red or pencil ink, thin to a marker's width, pressed unevenly; the digit anywhere in the
frame at 8-70% of its height, slanted and turned a little; the camera's blur (focus or
motion), perspective, sensor noise, a low resolution, JPEG or PNG; a few as light
writing on a dark board.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

INKS = {"black": (0.08, 0.08, 0.10), "blue": (0.12, 0.20, 0.62), "navy": (0.10, 0.12, 0.30),
        "grey": (0.35, 0.35, 0.37), "red": (0.65, 0.10, 0.12), "pencil": (0.42, 0.42, 0.45)}
INK_WEIGHTS = (0.4, 0.25, 0.1, 0.1, 0.05, 0.1)


def photograph(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """A training digit (784 floats in [0, 1]) written on paper and photographed:
    the picture's encoded bytes."""
    from PIL import Image, ImageFilter

    height = int(rng.integers(60, 360))
    width = int(height * rng.uniform(0.8, 1.8))
    size = max(10, int(height * rng.uniform(0.08, 0.7)))
    size = min(size, width - 4)

    # the digit's ink at its size: slanted, turned, thinner or thicker
    img = Image.fromarray((digit.reshape(28, 28) * 255).astype(np.uint8))
    side = max(4, int(round(28 * size / 20)))  # MNIST's digit is 20 of its 28 pixels
    big = 112  # worked on at 4x MNIST's scale, then brought to its size
    img = img.resize((big, big), Image.BICUBIC)
    shear = rng.normal(0, 0.12)
    img = img.transform(img.size, Image.AFFINE, (1, shear, -shear * big / 2, 0, 1, 0),
                        Image.BICUBIC)
    img = img.rotate(rng.normal(0, 5), Image.BICUBIC)
    # a MNIST pixel is 4 here: a 5x5 filter moves each edge by half of one
    width_change = rng.choice(["none", "thin", "thick", "marker"], p=(0.45, 0.2, 0.2, 0.15))
    if width_change == "thin":
        img = img.filter(ImageFilter.MinFilter(3))
    elif width_change == "thick":
        img = img.filter(ImageFilter.MaxFilter(5))
    elif width_change == "marker":
        img = img.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.MaxFilter(5))
    alpha = np.asarray(img.resize((side, side), Image.LANCZOS), np.float32) / 255
    alpha = np.clip(alpha * rng.uniform(1.0, 1.6), 0, 1)  # a pen's ink saturates
    pressure = 1 - rng.uniform(0, 0.35) * _smooth(rng, alpha.shape, 3)
    alpha *= pressure

    # where it is written
    top = int(rng.integers(-side // 8, max(1, height - side + side // 8)))
    left = int(rng.integers(-side // 8, max(1, width - side + side // 8)))
    canvas = np.zeros((height, width), np.float32)
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + side, height), min(left + side, width)
    canvas[t0:t1, l0:l1] = alpha[t0 - top:t1 - top, l0 - left:l1 - left]

    board = rng.random() < 0.06
    if board:  # chalk on a dark board
        paper_rgb = rng.uniform(0.08, 0.3) * np.array(rng.choice(
            [(1, 1, 1), (0.7, 0.9, 0.75), (0.8, 0.85, 1.0)]), np.float32)
        ink_rgb = np.array((0.9, 0.9, 0.88), np.float32) * rng.uniform(0.7, 1.0)
    else:
        tint = rng.choice([(1, 1, 1), (1, 0.97, 0.88), (0.95, 0.97, 1.0), (1, 0.95, 0.8),
                           (0.92, 1, 0.92), (0.97, 0.93, 0.93)])
        paper_rgb = np.array(tint, np.float32) * rng.uniform(0.6, 0.97)
        ink_rgb = np.array(INKS[rng.choice(list(INKS), p=INK_WEIGHTS)], np.float32)
    rgb = np.ones((height, width, 3), np.float32) * paper_rgb
    if not board and rng.random() < 0.3:
        rgb = _paper_lines(rgb, rng)
    rgb = rgb * (1 - canvas[..., None]) + ink_rgb * canvas[..., None]

    # the light
    light = _lighting(rng, height, width)
    rgb *= light[..., None]
    rgb += rng.uniform(0, 0.08) * _smooth(rng, (height, width), 6)[..., None]  # texture

    out = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    # the camera
    if rng.random() < 0.25:
        out = _perspective(out, rng)
    if rng.random() < 0.15:
        out = out.filter(_motion(rng))
    blur = rng.uniform(0, 1.4) * max(1.0, size / 40)
    if blur > 0.3:
        out = out.filter(ImageFilter.GaussianBlur(blur))
    arr = np.asarray(out, np.float32) / 255
    arr = arr + rng.normal(0, rng.uniform(0, 0.05), arr.shape).astype(np.float32)
    out = Image.fromarray((np.clip(arr, 0, 1) * 255).astype(np.uint8))
    if rng.random() < 0.1:  # a low-resolution picture, made larger
        f = rng.uniform(0.3, 0.6)
        small = out.resize((max(8, int(width * f)), max(8, int(height * f))), Image.BILINEAR)
        out = small.resize((width, height), Image.BILINEAR)
    if rng.random() < 0.2:
        out = out.convert("L")
    buf = io.BytesIO()
    if rng.random() < 0.75:
        out.save(buf, "JPEG", quality=int(rng.integers(35, 95)))
    else:
        out.save(buf, "PNG")
    return buf.getvalue()


def _smooth(rng, shape, cells):
    """Smooth noise in [0, 1] of ``shape``: a coarse random grid, enlarged."""
    from PIL import Image

    grid = rng.random((cells, cells)).astype(np.float32)
    img = Image.fromarray(grid, mode="F").resize((shape[1], shape[0]), Image.BICUBIC)
    return np.clip(np.asarray(img), 0, 1)


def _lighting(rng, height, width):
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    yy, xx = yy / height - 0.5, xx / width - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    light = 1 + rng.uniform(0, 0.5) * (np.cos(angle) * xx + np.sin(angle) * yy)
    light *= 1 - rng.uniform(0, 0.5) * (xx ** 2 + yy ** 2) * 2  # vignette
    kind = rng.choice(["none", "soft", "hard"], p=(0.55, 0.25, 0.2))
    if kind != "none":
        a = rng.uniform(0, 2 * np.pi)
        edge = np.cos(a) * xx + np.sin(a) * yy - rng.uniform(-0.35, 0.35)
        softness = rng.uniform(0.08, 0.25) if kind == "soft" else rng.uniform(0.003, 0.02)
        shade = 1 / (1 + np.exp(-edge / softness))
        light *= 1 - rng.uniform(0.25, 0.6) * shade
    return np.clip(light, 0.15, 1.3).astype(np.float32)


def _paper_lines(rgb, rng):
    height, width, _ = rgb.shape
    gap = int(rng.integers(10, 40))
    colour = np.array(rng.choice([(0.55, 0.7, 0.9), (0.6, 0.6, 0.65), (0.5, 0.75, 0.6)]),
                      np.float32)
    strength = rng.uniform(0.3, 0.9)
    thick = int(rng.integers(1, 3))
    mask = np.zeros((height, width), np.float32)
    for y in range(int(rng.integers(0, gap)), height, gap):
        mask[y:y + thick] = strength
    if rng.random() < 0.4:  # squared
        for x in range(int(rng.integers(0, gap)), width, gap):
            mask[:, x:x + thick] = strength
    return rgb * (1 - mask[..., None]) + rgb * colour * mask[..., None]


def _perspective(img, rng):
    from PIL import Image

    w, h = img.size
    d = rng.uniform(0, 0.12, 8) * np.array([w, h] * 4)
    quad = (d[0], d[1], d[2], h - d[3], w - d[4], h - d[5], w - d[6], d[7])
    return img.transform((w, h), Image.QUAD, quad, Image.BICUBIC,
                         fillcolor=img.getpixel((0, 0)))


def _motion(rng):
    from PIL import ImageFilter

    n = 5
    k = np.zeros((n, n), np.float32)
    if rng.random() < 0.5:
        k[n // 2, :] = 1
    else:
        k[:, n // 2] = 1
    if rng.random() < 0.3:
        k = np.eye(n, dtype=np.float32)
    return ImageFilter.Kernel((n, n), k.ravel().tolist(), scale=float(k.sum()))


def _make(args):
    start, stop, seed, digits = args
    from digitnet.data.frontend import to_mnist
    from digitnet.errors import DigitnetError

    out, kept, lost = [], [], 0
    for i in range(start, stop):
        rng = np.random.default_rng([seed, i])
        try:
            out.append(to_mnist(photograph(digits[i - start], rng)))
            kept.append(i)
        except DigitnetError:
            lost += 1
    return np.array(out, np.float32).reshape(-1, 784), kept, lost


def photographed(x: np.ndarray, seed: int, jobs: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Every row of ``x`` photographed and seen through the front end: (images, which
    rows were kept, how many were lost as "no digit")."""
    chunk = 500
    tasks = [(s, min(s + chunk, len(x)), seed, x[s:s + chunk]) for s in range(0, len(x), chunk)]
    with ProcessPoolExecutor(jobs) as pool:
        parts = list(pool.map(_make, tasks))
    images = np.concatenate([p[0] for p in parts])
    kept = np.concatenate([np.array(p[1], int) for p in parts])
    return images, kept, sum(p[2] for p in parts)


def make(out: Path, seed: int, jobs: int) -> None:
    """Photograph MNIST's first 50,000 training digits once (seed ``seed``) into ``out``."""
    from digitnet.data import mnist

    train = mnist.load("mnist", os.environ.get("DIGITNET_DATA")).train
    start = time.time()
    images, kept, lost = photographed(train.x, seed, jobs)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, x=np.round(np.clip(images, 0, 1) * 255).astype(np.uint8),
             y=train.y[kept].astype(np.uint8))
    print(f"{out}: {len(kept)} photographed training digits, {lost} with no digit found "
          f"({time.time() - start:.0f} s)", flush=True)


def fine_tune(member: int, images: list[Path], work: Path, epochs: int, lr: float) -> Path:
    """The shipped ensemble's network ``member`` trained ``epochs`` further at rate ``lr``
    on MNIST's training digits and the photographed ones in ``images``."""
    from digitnet.data import mnist
    from digitnet.io import load_model, save_model
    from digitnet.pretrained import MODELS_DIR
    from digitnet.training import session
    from digitnet.training.settings import from_recipe

    shipped = load_model(MODELS_DIR / "ensemble.npz")
    start = work / f"shipped{member}.npz"
    save_model(start, shipped.members[member])
    trained = shipped.metadata["training"]["member_training"][member]
    arch = {k: trained[k] for k in ("channels", "hidden", "convs", "batchnorm") if k in trained}
    data = mnist.load("mnist", os.environ.get("DIGITNET_DATA"))
    photos = [np.load(path) for path in images]
    x = np.concatenate([data.train.x, *[p["x"].astype(np.float32) / 255 for p in photos]])
    y = np.concatenate([data.train.y, *[p["y"].astype(np.int64) for p in photos]])
    both = mnist.Dataset(name="mnist", train=mnist.Split(x, y), validation=data.validation,
                         test=data.test, classes=data.classes, source=data.source)
    settings = from_recipe("cnn", dict(arch, start_from=str(start), epochs=epochs, lr=lr))
    out = work / f"photo{member}.npz"
    result = session.run(settings, out=out, data=both, recipe="cnn", seed=80 + member)
    print(f"{out}: MNIST validation {result.validation} of {result.n_validation} "
          f"({len(x)} training images)", flush=True)
    return out


def assemble(members: list[Path], command: str) -> Path:
    """The fine-tuned networks as one ensemble, stored as float16: models/photo.npz."""
    from digitnet.io import load_model, save_model
    from digitnet.nn.ensemble import Ensemble
    from digitnet.pretrained import MODELS_DIR, PHOTO

    networks = [load_model(path) for path in members]
    out = MODELS_DIR / PHOTO
    save_model(out, Ensemble(networks), {
        "classes": [str(d) for d in range(10)],
        "training": {"recipe": "ensemble", "command": command,
                     "member_training": [_without_folders(n.metadata.get("training"))
                                         for n in networks]}},
        half=True)
    return out


def _without_folders(value):
    """``value`` with every path in its strings cut to the file's name (a model carries
    no folder of the machine that trained it)."""
    if isinstance(value, dict):
        return {k: _without_folders(v) for k, v in value.items()}
    if isinstance(value, str) and "/" in value:
        return " ".join(os.path.basename(w) if "/" in w else w for w in value.split(" "))
    return value


def main(argv=None):
    from benchmarks import recorded_command

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=Path, nargs="+", required=True,
                        help="photographed training digits (.npz, outside the repository): "
                             "made when missing, the i-th with seed i")
    parser.add_argument("--train", metavar="DIR", type=Path,
                        help="then train the five networks in DIR and write models/photo.npz")
    parser.add_argument("--members", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.005)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    for seed, path in enumerate(args.images):
        if not path.exists():
            make(path, 1000 * seed, args.jobs)
    if args.train:
        args.train.mkdir(parents=True, exist_ok=True)
        trained = [fine_tune(i, args.images, args.train, args.epochs, args.lr)
                   for i in args.members]
        if sorted(args.members) == [0, 1, 2, 3, 4]:
            print(assemble(trained, recorded_command("fit_photo", argv)))


if __name__ == "__main__":
    main()
