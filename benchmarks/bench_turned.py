"""A page turned in the photo: writing on ruled or squared paper photographed at an angle.

    python -m benchmarks.bench_turned --split validation   # tune on this
    python -m benchmarks.bench_turned --split test         # the frozen held-out sets

A phone held over a notebook is seldom square to its lines: the page, its ruling and the
writing on it are turned together in the picture. Single digits are answered as ``digitnet
predict`` answers them, numbers (2 to 6 digits written apart, a pair touching in three in
ten) as ``digitnet read``. The families, made from the split's MNIST digits in a pen's
hand (``realworld.pen_ink`` / ``number_ink``), written along the ruling and photographed
(``realworld``'s paper, lines, ink and lighting) with the page turned in the picture by:

- ``ruled`` / ``ruled-number`` and ``squared`` / ``squared-number``: 8 to 30 degrees,
  either way;
- in the test split only, never tuned on: ``steep`` / ``steep-number``: ruled or squared
  paper turned by 30 to 40 degrees; ``blank`` / ``blank-number``: plain paper turned by 8
  to 30 degrees (no lines to tell the angle by).

The writing is written as on the page (a digit leaning up to 12 degrees either way of the
lines, a number along them). Each picture has its own random state (split, family,
index). The test sets are frozen: ``FROZEN`` holds the SHA-256 of each family's pictures,
checked on every run (made before they were read).

With ``--crops``, each picture of the ``ruled`` and ``squared`` families is cropped round
its writing as a phone's crop tool does, square to the picture, as ``bench_crops`` crops
(``snug``: each side 0-8% of the writing's height beyond it; ``one-side``: one side tight,
the others 10-40% beyond), and answered likewise: a crop shows a few of the ruling's
lines, cut off at its edges. (Added after the crops of validation pictures were tuned on;
the test crops, ``FROZEN_CROPS``, were frozen before they were read.)
"""

from __future__ import annotations

import zlib

import numpy as np

from benchmarks import realworld
from benchmarks.bench_photos import family_pictures, run_families

SEEDS = {"validation": 9901, "test": 9902}
FAMILIES = {"validation": ("ruled", "ruled-number", "squared", "squared-number"),
            "test": ("ruled", "ruled-number", "squared", "squared-number",
                     "steep", "steep-number", "blank", "blank-number")}
SINGLES = 200
NUMBERS = 100
#: SHA-256 of each family's pictures at SINGLES / NUMBERS (Pillow 13.0.0, NumPy 2.4.6).
FROZEN: dict = {
    "validation": {
        "ruled": "2547b7d73e195ae1518d4204b0f8a57a76e2bb2bb594e90ebf1cb9132468e112",
        "ruled-number": "d064158f1377e0fe72924caa50622d22fd3159378289ce91c4f472d2a53bb5e2",
        "squared": "fd7cfc8e48e04b740d100468454674952546181063004e8c182ae79e8da7fafd",
        "squared-number": "7c48cfea7c8cf5022e7662afaf89ca1addd59e0ff452b6c0c8ca228972018443",
    },
    "test": {
        "ruled": "ec4dd2b0e12df0392223a57e0292de6910e158a1dcb2c5052dc1ac4d1d23c8a2",
        "ruled-number": "c0159a7f95ab38646a611e138043472b6a74959ff1103dcc1a504a649eb8cc51",
        "squared": "c45a8b7bf5567cd9c68c386646855b3bc1eaf3c6815979e6a3c1636a722c2d24",
        "squared-number": "e1377f9369b049d202c55fe22b053ca358869efe894c53f4b232891f9143eb6e",
        "steep": "9f000a4471c55d71c48f693d72ebdfa1f32e9aa735199bf9d86e332518475421",
        "steep-number": "afb77722addad9581f8e8c61e9a1e46b0f7b7800e1ce35e220b1f4bd064cf8aa",
        "blank": "c3faa73cd95654b7f64d845c1dc3fe82ba9c0aa44a8ea4085036a80f9993795d",
        "blank-number": "69455d2523c74bccc97a54dad6bdc313fb00daafddf093e038c087c6da36ba8f",
    },
}


def _photo(alpha, rng, lines, angle, fraction):
    """``alpha`` written on paper (ruled, squared or plain: ``lines``), the page turned by
    ``angle`` degrees in the picture, photographed: JPEG bytes."""
    from PIL import Image

    w = int(rng.integers(320, 641))
    frame = (int(w * rng.uniform(0.6, 1.0)), w)
    side = int(np.ceil(np.hypot(*frame))) + 4  # the page, large enough to fill the frame turned
    # the writing within the middle of the page, where it stays in the frame however turned
    inner = int(min(frame) * 0.7)
    a = np.zeros((side, side), np.float32)
    placed = realworld._place(alpha, (inner, inner), rng, fraction, margin=0.04)
    top = (side - inner) // 2
    a[top:top + inner, top:top + inner] = placed
    tint = np.array([1.0, 1.0, 1.0]) - rng.uniform(0, 0.12, 3) * np.array([0.3, 0.6, 1.0])
    paper = np.broadcast_to(tint * rng.uniform(0.8, 1.0), (side, side, 3)).astype(np.float32)
    if lines:
        paper = realworld._lines(paper.copy(), rng, squared=lines == "squared")
    ink = np.array(realworld.INKS[("black", "blue", "grey")[rng.integers(3)]]) * rng.uniform(0.7, 1.3)
    a = a * rng.uniform(0.85, 1.0)
    rgb = paper * (1 - a[..., None]) + ink * a[..., None]
    page = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8), "RGB")
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC)
    left, upper = (side - frame[1]) // 2, (side - frame[0]) // 2
    pixels = np.asarray(page.crop((left, upper, left + frame[1], upper + frame[0])), np.float32) / 255
    light = realworld._lighting(frame, rng, rng.uniform(0.1, 0.45), rng.uniform(0.1, 0.5))
    pixels = pixels * light[..., None]
    return realworld.snapshot(pixels, rng)


def make(family: str, split: str, index: int, digits_x: np.ndarray, digits_y: np.ndarray,
         photo=None):
    """Picture ``index`` of ``family``: (encoded bytes, label). (``photo``: what makes
    the photo, ``_photo`` unless told.)"""
    rng = np.random.default_rng([SEEDS[split], zlib.crc32(family.encode()), index])
    kind = family.split("-")[0]
    number = family.endswith("-number")
    alpha, label = realworld.writing_ink(number, rng, digits_x, digits_y)
    if not number:
        alpha = realworld._rotate(alpha, rng.uniform(-12, 12))
    lines = {"ruled": "ruled", "squared": "squared", "blank": None}.get(kind)
    if kind == "steep":
        lines = ("ruled", "squared")[int(rng.integers(2))]
    low, high = (30, 40) if kind == "steep" else (8, 30)
    angle = rng.uniform(low, high) * rng.choice((-1, 1))
    fraction = (0.12, 0.3) if number else (0.12, 0.4)
    return (photo or _photo)(alpha, rng, lines, angle, fraction), label


pictures = family_pictures(make, SINGLES, NUMBERS)

CROPPED = ("ruled", "ruled-number", "squared", "squared-number")
KINDS = ("snug", "one-side")
#: SHA-256 of each family's crops of each kind (``--crops``), made before they were read.
FROZEN_CROPS: dict = {
    "validation": {
        "ruled/snug": "83a1749f5b2111b4093b1debe61f0bf117dfe303c5c0d14e166841cee70bbd48",
        "ruled/one-side": "0e16e3f84901c4fc26b229de41a6d1a7012cf239a8f2e6c14d4450e9af99e7e7",
        "ruled-number/snug": "0f09f298403ddc461b4868deb81f8c3e0caaafde58fce58f9a14de5fd1902721",
        "ruled-number/one-side": "eeceae0437e4bc37301b7d70ad91306a05a0b2b4a9c1a27906249796cc83855c",
        "squared/snug": "81280731ac36f7414df64e7f632e405857be83ccfab8a6d59e68b2bf65e77357",
        "squared/one-side": "d7f2febee948ca8a2d80c5c6f3b0b396b469cc621c2ab5495e742aa7b2a57b16",
        "squared-number/snug": "fba5bf0b4cc380bea35406d10e7c27ad98c4d8d74a9b1af6c8812b5286a582dc",
        "squared-number/one-side": "fa49017b090ef497d7376e58f0ca61ce0493ae3b96ee312bb1a3c1ff2a2d4f62",
    },
    "test": {
        "ruled/snug": "f7ffe8c5d635ad16d236a45b2dce1c70473d907822ee2b37442c14dac3b1316c",
        "ruled/one-side": "24e68564ecdf9a67543fef935795d8540bf3909a5a5182879cbb8bbc5a9f7302",
        "ruled-number/snug": "f9ad826ec50e97853950254edc1b96c98acd1c0fec93710eaae0073e2bc2f870",
        "ruled-number/one-side": "c9e5bf76998a4241f04864051133ac901126ef13f6b41b8aa6d7cc4b51fc4f4f",
        "squared/snug": "6a7bcdf0a183d4f3c64070039cb171c91625272af64f6d26cb2710c43af3ceae",
        "squared/one-side": "afdb69e9568bb3a95e9d766f54c0dafb66c5aa060188289c3b33692f62815fa0",
        "squared-number/snug": "ae168b214a818f12d0b7578d0099bc2e6f7bb9054998c3a55a425438238f03c0",
        "squared-number/one-side": "687464db2db15e54f346b465a7173add5e6f6a5c19d0a68a4b7866318b4122b8",
    },
}


def writing_box(family: str, split: str, index: int, digits) -> tuple:
    """Picture ``index`` of ``family`` (its bytes, its label) and the writing's box (left,
    top, right, bottom) in it: where it differs from the same picture made again from the
    same random state with no ink (by a quarter of the most it differs, or more)."""
    import copy
    import io

    from PIL import Image

    made = {}

    def twice(alpha, rng, *args):
        state = copy.deepcopy(rng.bit_generator.state)
        data = _photo(alpha, rng, *args)
        again = np.random.default_rng()
        again.bit_generator.state = state
        made["blank"] = _photo(np.zeros_like(alpha), again, *args)
        return data

    data, label = make(family, split, index, *digits, photo=twice)

    def grey(encoded):
        return np.asarray(Image.open(io.BytesIO(encoded)).convert("L"), np.float32)

    difference = np.abs(grey(data) - grey(made["blank"]))
    rows, cols = np.nonzero(difference >= 0.25 * difference.max())
    return data, label, (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)


def crops(split: str, family: str, digits) -> dict:
    """The pictures of ``family`` cropped round their writing: {kind: [(bytes, label)]}."""
    from benchmarks.bench_crops import crop

    out: dict = {kind: [] for kind in KINDS}
    for i in range(NUMBERS if family.endswith("-number") else SINGLES):
        data, label, box = writing_box(family, split, i, digits)
        for kind in KINDS:
            rng = np.random.default_rng([SEEDS[split], zlib.crc32(f"{family}/crop/{kind}".encode()), i])
            out[kind].append((crop(data, box, kind, rng), label))
    return out


def main_crops(argv=None):
    import argparse
    import time

    from benchmarks.bench_photos import score_numbers, score_singles
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import photo_model, resolve_model

    parser = argparse.ArgumentParser(description="bench_turned --crops: " + __doc__.splitlines()[0])
    parser.add_argument("--crops", action="store_true")
    parser.add_argument("--split", choices=("validation", "test"), default="validation")
    parser.add_argument("--print-checksums", action="store_true",
                        help="print each set's SHA-256 as a FROZEN_CROPS entry and stop")
    args = parser.parse_args(argv)
    digits = realworld.digits_of(args.split)
    model = resolve_model(None)
    reader, photo = for_inference(model), photo_model(None)
    for family in CROPPED:
        start, row = time.perf_counter(), []
        for kind, items in crops(args.split, family, digits).items():
            digest, name = realworld.checksum(items), f"{family}/{kind}"
            if args.print_checksums:
                print(f'        "{name}": "{digest}",')
                continue
            frozen = FROZEN_CROPS[args.split].get(name)
            if frozen is not None and frozen != digest:
                raise SystemExit(f"bench_turned: the {args.split} crops {name} are not the frozen "
                                 "ones (another Pillow or NumPy?)")
            right = (score_numbers(items, reader).correct if family.endswith("-number")
                     else score_singles(items, model, photo)[0])
            row.append(f"{kind} {right} / {len(items)} ({100 * right / len(items):.1f}%)")
        if row:
            print(f"{args.split} {family} cropped: " + ", ".join(row)
                  + f"; {time.perf_counter() - start:.0f} s", flush=True)
    return 0


def main(argv=None):
    import sys

    if "--crops" in (sys.argv[1:] if argv is None else argv):
        return main_crops(argv)
    return run_families("bench_turned", __doc__.splitlines()[0], FAMILIES, pictures, FROZEN, argv,
                        epilog="--crops: the ruled and squared families cropped round their "
                               "writing instead (--crops --help for its options)")


if __name__ == "__main__":
    raise SystemExit(main())
