"""Accuracy on pictures as people really make them, per family of conditions (issue 23).

    python -m benchmarks.bench_photos --split validation   # tune on this
    python -m benchmarks.bench_photos --split test         # the frozen held-out sets

Pictures come from ``benchmarks/realworld.py`` (seeded; see its docstring for the
families): single digits are recognised as ``digitnet predict`` does (the image's bytes
through ``to_mnist``, then the default model), numbers read as ``digitnet read`` does.
A picture in which the front end finds no digit counts as wrong. The test sets are frozen:
``FROZEN`` holds the SHA-256 of each family's pictures at the default sizes, checked on
every run (a different Pillow or libjpeg may encode differently: the run says so).
"""

from __future__ import annotations

import argparse
import time
from typing import NamedTuple

import numpy as np

from benchmarks import realworld

#: Pictures per family at the frozen sizes.
SINGLES = 500
NUMBERS = 200

#: SHA-256 of each family's pictures (``realworld.checksum``) at SINGLES / NUMBERS, made
#: on 2026-12-03 (Pillow 13.0.0, NumPy 2.4.6) before any tuning of the front end. The
#: generator (benchmarks/realworld.py), these sizes and these sums are not to change.
#: The families of conditions combined (``mixed``, ``mixed-hard``) were added on
#: 2026-12-06, frozen likewise before any tuning for them.
FROZEN: dict = {
    "validation": {
        "clean": "8e249c49a21db93e712c8cdd40942cfc8adc91f0eaffdf16f7f1fe125e48b119",
        "canvas": "e6cbb748a4d9323abbd0e1b0ea2ec6ddcc1c7c8401b8eb48e7db420410a9e356",
        "chalk": "e045808d544557326f16966976f2c22640ef356ce460993e6691e4ab9c1a1153",
        "photo": "2da5638f0d01af794051d552229e96be84dbb0f5663213c535c88afe1d040977",
        "shadow": "3d66c699b26df1fd5bd25838d004a979f2c48bc679d75443869fa991f90ec57b",
        "small": "52a44841de3ad3585a22f3a6d336b965e8262cbc570787be418206c808cdf726",
        "marker": "09b7da475810d4245d936eb26b948914a2513826e3422837d3019c59b5542b1a",
        "fine": "045cf55f6d6cccb13ebd19e870caa15f39204effd2d59282032bb4dff02047f6",
        "mixed": "d3b651c09619dca5822946b0d78d87bb080f60fd5d4fee52594c74a4cd34e8ff",
        "apart": "0e7a1f28c6dfeaa506760725bdf376cfac79724e8cd0c1e9c1c849d6e603bf1a",
        "touching": "b089254c9946a7200a2f02c9a06215d1252eba2da2f84abc0bc5301f15b2ba1b",
        "num-photo": "6183f7336a27e31228aa3021c0c225742a62047c24f7ff4db3bc187215544a42",
    },
    "test": {
        "clean": "96ead3e328d6302f280d97ed3009494df15260fa6835a278f9b083b4730c68f0",
        "canvas": "0309d415506e49d27deb14f9e0976f62d2893cec5c33b090c7aa1ef54cb36fd1",
        "chalk": "b95fb8dff6a592d7279ae5308c1d605e24225c10d7335a01cabe91c8762d43d0",
        "photo": "707ab79ec41d61200155acb49188460acdfd896377027b837afc22b5f90dfddd",
        "shadow": "5dcbed39ae2a8fe1ff7e18f3b4da6289a4be8d52bd330de4fec15936b4b8ee33",
        "small": "42e835bd5b58eec924c8bb55c4e7c83b703c2ed497ffe018a234beaec4b4f58e",
        "marker": "e942e72edd4439ae308a603b31e48d7b811615a3ca9055f68f5e124f45e714a5",
        "fine": "a7b1c98f8760a0d2e20a406e5584ef7ca8ddb4e20fe8c84ad954baa6a447070d",
        "ruled": "f9c1ac5bdb6066db0dffb8c0e314192dcd6c1a5c526901ad2223aded5f609883",
        "squared": "8ebe2a212db2a6ad17099590ec20b04d133391b53f844f6fdb1a04c18f1a1a8d",
        "pencil": "adcc06516cc3bc55779c82af0bc5797ac3245db43c0f96fef28a77b8925e573d",
        "motion": "dd518cf95a9796a1853e0c6fcd9eae9b2569a5e6e5bba5d32a4217514d3ec452",
        "tilted": "029a920d781c5b236f82ebe7fbc3aa78944a03f22de428065f9668f0dd81f149",
        "lowres": "98473b0f346e6bf7147fcb4dd66ad73b13904178b8d2afd18186f42817d48199",
        "mixed": "f004b23f5706ec56c90917cd6bf2fcac0f36a676c53603c7e62e5395341d71cc",
        "mixed-hard": "7593890f5084d02f8a88f3789810044a16c99ec13f1c601c8a1ceddaae394090",
        "apart": "649bce2de3165ac0c123e603c250b2939684bd4c863729d3d6d767ee58970adf",
        "touching": "16985893098b7a3f4f55ab251a27422d2dc6afc7c4d44f7c0c77bd3c70e52916",
        "num-photo": "cc2cb5151c73d8e09906be80d7bde69800897c7ed8d4179073ba02d9a9235053",
        "num-hard": "892ee3a89f02c26f6d96a20398b8524f1cbd695973489316adce3c3b22c5ddc3",
    },
}


def score_singles(items, model, photo=None):
    """(correct, no digit found, seconds of front end per picture) as ``digitnet predict``:
    ``photo`` (the network for photos of paper, or None) answers for the photos."""
    from digitnet.data.preprocess import to_mnist_seen
    from digitnet.errors import ImageError
    from digitnet.pretrained import confidences

    inputs, found, photos, start = [], [], [], time.perf_counter()
    for data, _ in items:
        try:
            x, seen = to_mnist_seen(data)
            inputs.append(x)
            photos.append(seen.surface)
            found.append(True)
        except ImageError:
            inputs.append(np.zeros(784, np.float32))
            photos.append(False)
            found.append(False)
    seconds = (time.perf_counter() - start) / max(1, len(items))
    predicted = confidences(model, photo, np.stack(inputs), photos).argmax(axis=1)
    truth = np.array([label for _, label in items])
    found = np.array(found)
    return int(((predicted == truth) & found).sum()), int((~found).sum()), seconds


class Scored(NamedTuple):
    """``score_numbers``' answer: how many read exactly, how many with no digit found, the
    seconds per picture; with a calibration, each answer's calibrated confidence and
    whether it was right."""
    correct: int
    missing: int
    seconds: float
    confidences: list
    rights: list


def score_numbers(items, reader, calibrated=None) -> Scored:
    """``items`` read as ``digitnet read`` reads them (``Scored``); with ``calibrated`` (a
    ``calibration.Calibration``), each answer's calibrated confidence too."""
    from digitnet.errors import ImageError
    from digitnet.read import read_number

    correct = missing = 0
    confidences, rights = [], []
    start = time.perf_counter()
    for data, label in items:
        try:
            reading = read_number(data, reader)
        except ImageError:
            missing += 1
            continue
        correct += reading.text == label
        if calibrated is not None:
            confidences.append(calibrated.number_confidence(reading))
            rights.append(reading.text == label)
    return Scored(correct, missing, (time.perf_counter() - start) / max(1, len(items)), confidences, rights)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("validation", "test"), default="validation")
    parser.add_argument("--singles", type=int, default=SINGLES, help="pictures per digit family")
    parser.add_argument("--numbers", type=int, default=NUMBERS, help="pictures per number family")
    parser.add_argument("--families", help="comma-separated families (default: all of the split's)")
    parser.add_argument("--model", help="model file (default: the shipped default)")
    parser.add_argument("--photo-model", help="the network for photos of paper (default: the "
                        "shipped one with the default model; 'none': the model answers alone)")
    parser.add_argument("--save", metavar="DIR", help="also write the pictures to DIR (to look at)")
    parser.add_argument("--checksums", action="store_true",
                        help="print each family's SHA-256 as a FROZEN entry and stop")
    args = parser.parse_args(argv)

    from digitnet.io import load_model
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import photo_model, resolve_model

    chosen = realworld.families(args.split)
    if args.families:
        unknown = set(args.families.split(",")) - set(chosen)
        if unknown:
            parser.error(f"no such families in {args.split}: {', '.join(sorted(unknown))}")
        chosen = tuple(f for f in chosen if f in args.families.split(","))
    digits = realworld.digits_of(args.split)
    model = None if args.checksums else resolve_model(args.model)
    reader = None if model is None else for_inference(model)
    if args.photo_model:
        photo = None if args.photo_model == "none" else load_model(args.photo_model)
    else:
        photo = photo_model(args.model)
    totals = {"photo-style": [0, 0], "mixed": [0, 0], "numbers": [0, 0]}
    print(f"split: {args.split}; family, pictures, accuracy (exact for numbers), "
          "no digit found, ms per picture")
    for family in chosen:
        is_number = family in realworld.NUMBERS + realworld.NUMBERS_TEST_ONLY
        n = args.numbers if is_number else args.singles
        items = realworld.pictures(args.split, family, n, digits)
        digest = realworld.checksum(items)
        if args.checksums:
            print(f'    "{family}": "{digest}",')
            continue
        if args.save:
            _save(args.save, family, items)
        frozen = FROZEN[args.split].get(family)
        check = "" if n != (NUMBERS if is_number else SINGLES) or frozen is None else (
            "  frozen: ok" if frozen == digest else "  FROZEN CHECKSUM DIFFERS")
        correct, missing, seconds = (score_numbers(items, reader)[:3] if is_number
                                     else score_singles(items, model, photo))
        print(f"{family:10s} {n:5d} {100 * correct / n:7.2f}% {missing:4d} {1000 * seconds:7.1f}{check}",
              flush=True)
        group = ("numbers" if is_number else "photo-style" if family in realworld.PHOTO_STYLE
                 else "mixed" if family in realworld.MIXED + realworld.MIXED_TEST_ONLY else None)
        if group:
            totals[group][0] += correct
            totals[group][1] += n
    for group, (correct, n) in totals.items():
        if n:
            print(f"{group} overall: {100 * correct / n:.2f}% of {n}")
    return 0


def family_pictures(make, singles: int, numbers: int):
    """``pictures(split, family, digits=None)`` of a family benchmark: ``make(family, split,
    index, x, y)`` for ``numbers`` pictures of a ``...-number`` family, ``singles`` of
    another, from the split's digits (or ``digits``)."""
    def pictures(split: str, family: str, digits=None):
        x, y = digits if digits is not None else realworld.digits_of(split)
        n = numbers if family.endswith("-number") else singles
        return [make(family, split, i, x, y) for i in range(n)]

    return pictures


def run_families(name: str, description: str, families: dict, pictures, frozen: dict, argv=None,
                 epilog: str | None = None):
    """The command line of a benchmark of families of pictures (bench_desk, bench_circled,
    bench_spaced, bench_strays, bench_notebook):
    each family of ``families[split]`` (``pictures(split, family, digits)``), checked
    against its SHA-256 in ``frozen[split]``, answered as ``digitnet predict`` (digits) or,
    for a family named ``...-number``, as ``digitnet read``; one line a family."""
    parser = argparse.ArgumentParser(description=description, epilog=epilog)
    parser.add_argument("--split", choices=tuple(families), default="validation")
    parser.add_argument("--model")
    parser.add_argument("--save", help="write the pictures to this folder too")
    parser.add_argument("--print-checksums", action="store_true",
                        help="print each set's SHA-256 as a FROZEN entry and stop")
    args = parser.parse_args(argv)

    from digitnet import calibration
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import photo_model, resolve_model

    digits = realworld.digits_of(args.split)
    model = resolve_model(args.model)
    calibrated = calibration.for_model(args.model)
    photo = photo_model(args.model)
    reader = for_inference(model)
    for family in families[args.split]:
        items = pictures(args.split, family, digits)
        digest = realworld.checksum(items)
        if args.print_checksums:
            print(f'        "{family}": "{digest}",')
            continue
        if family in frozen[args.split] and frozen[args.split][family] != digest:
            raise SystemExit(f"{name}: the {args.split} set {family} is not the frozen one "
                             "(another Pillow or NumPy?)")
        if args.save:
            _save(args.save, family, items)
        start = time.perf_counter()
        sure = ""
        if family.endswith("-number"):
            scored = score_numbers(items, reader, calibrated)
            right = scored.correct
            if calibrated.fitted and scored.confidences:  # how sure the answers are, calibrated
                ece = calibration.expected_calibration_error(scored.confidences, scored.rights)
                sure = f"; mean confidence {100 * np.mean(scored.confidences):.1f}%, ECE {100 * ece:.1f}%"
        else:
            right = score_singles(items, model, photo)[0]
        print(f"{args.split} {family}: {right} / {len(items)} right "
              f"({100 * right / len(items):.1f}%{sure}; {time.perf_counter() - start:.0f} s)", flush=True)
    return 0


def _save(directory, family, items):
    from pathlib import Path

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    for i, (data, label) in enumerate(items):
        ext = "png" if data[:4] == b"\x89PNG" else "jpg"
        (out / f"{family}-{i:04d}-{label}.{ext}").write_bytes(data)


if __name__ == "__main__":
    raise SystemExit(main())
