"""Photos cropped to the writing: accuracy when the digits reach the picture's edge.

    python -m benchmarks.bench_crops --split validation   # tune on this
    python -m benchmarks.bench_crops --split test         # the frozen held-out sets

People crop a phone photo to the number before they send it, and crop it tight: the
writing then touches the picture's edges. Each picture of ``benchmarks/realworld.py``'s
photo-style digit families and number families (the split's own, as ``bench_photos``
makes them: the very same pictures) is cropped round its writing in several ways and
answered as ``digitnet predict`` (digits) or ``digitnet read`` (numbers) answers it; the
uncropped picture is scored too, for reference.

Where the writing is does not come from digitnet: each picture is made a second time
from the same random state with no ink (``realworld`` draws nothing that depends on the
ink), and the writing is where the two differ before encoding (by at least a quarter of
the most they differ). The kinds of crop, in units of the writing's height:

- ``tight``: the writing's box exactly;
- ``snug``: each side 0-8% beyond it;
- ``shaved`` (test only, never tuned on): each side 0-3% inside it, the writing's edge cut;
- ``one-side`` (test only, never tuned on): one side tight, the others 10-40% beyond.

A crop is saved as a phone saves it (JPEG, quality 90). The test sets are frozen:
``FROZEN`` holds the SHA-256 of each family's crops of each kind, checked on every run.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import time
import zlib

import numpy as np

from benchmarks import realworld

SINGLES = 200
NUMBERS = 100
KINDS = {"validation": ("tight", "snug"), "test": ("tight", "snug", "shaved", "one-side")}
#: What ``realworld`` family is cropped, per split: its photo-style digits and numbers.
FAMILIES = {
    "validation": ("photo", "shadow", "small", "marker", "fine", "apart", "num-photo"),
    "test": ("photo", "shadow", "small", "marker", "fine", "ruled", "squared", "pencil",
             "motion", "tilted", "lowres", "apart", "num-photo", "num-hard"),
}

#: SHA-256 of each family's crops of each kind at SINGLES / NUMBERS, made before the
#: front end's handling of crops was tuned (Pillow 13.0.0, NumPy 2.4.6).
FROZEN: dict = {
    "validation": {
        "photo/tight": "33eec1930ca42122e1c6958c5b25513c1f675d6aa36ff484f41f48e5ab040d2c",
        "photo/snug": "3101b6c820e63fd1872677200e391d5ddbf69158035c8513e16dbf23af3464c5",
        "shadow/tight": "97443841745d793b6dd26059b1e32ee9f82e8b2820ec8affa3ed4a4627d905e8",
        "shadow/snug": "17d1282fefb0877e69d27e2eca33864160683c7f9fd0395a852c58fcc2772bef",
        "small/tight": "4ff67599e201631fdcea69a0db4a2fd1c6a36d53505d191c87505c54d8defd66",
        "small/snug": "4256cd218ade465008ba84a76a783978f0267897116d3f798cff158a18886784",
        "marker/tight": "ce2cf9330b249a66a0f0305fb1f9201fd964e918a698f34c13eef667f41c2ca2",
        "marker/snug": "b96b729d64f3059fb4a57ab3986b5f1025772f97ec4ae04f4bc9a6496f63d2e7",
        "fine/tight": "ae38b3edde20ea17bfb1dce31f15f7241838d363435ce21ffc2333e89a8bb72d",
        "fine/snug": "c68ad86006da385c47acc3801808b4e14aae1094ae428726b415ec8a8e6a91bf",
        "apart/tight": "14c1918b8cc15e35308c785069a25db4c1b1eb94b981a0b67fc9acc0abd1012d",
        "apart/snug": "9f0b1405136200f885954a970f5d28f32bab62a210561b9bd69ba92841a6f3df",
        "num-photo/tight": "871b85e574bac419417e790071152b9b93eec6d5f0d7b23d12f71f34adc33644",
        "num-photo/snug": "2c679a194a0bfcf443aebaa4cd58e72e09632113cddcc3388e3d14f3ff08ef9a",
    },
    "test": {
        "photo/tight": "ada80273f6afc5168ffca751c1a08d864691f8744d56a7a7f220cdca9684b1f2",
        "photo/snug": "424f5098f9cb3096d53e9e08da4fa7c05ce70cb157042b167f3c53a1e8f38c34",
        "photo/shaved": "4812cac71774f1708d14a26083b90e22ebec6c0337427f662c4ac7142757c00e",
        "photo/one-side": "ad2c6734f988f71dc00ee71d68598563c05750fe50fbd9b36fd31f013a4dea50",
        "shadow/tight": "969d87d353dfe2cf0652c3cb0f6f236517740152463aeee465c93bdb1b062fac",
        "shadow/snug": "d85fef8aac8fd2d2047605020ca3b3d0f6333a80a5c099a991549609eb9099d2",
        "shadow/shaved": "8208aad655f8bd1cb5191c05ceee43f482920e6a4ea5f6f7cf2b868498f6b7f0",
        "shadow/one-side": "02b32ab25cb10e4900f9c364f6ea99e349725247e6d66cb0b633ec449b7ddbea",
        "small/tight": "e92fe92476874f163b4969cd9a67796b65afadff5ef013af0ff0602caf88d4cb",
        "small/snug": "1e8d15f9dd7f7510de20b7a0cae8a9bd1903b3c82f25d083bb6645a45f5da601",
        "small/shaved": "0ce094d8779d775804941bfd8d4f124cb5cce38413bedca626b15fe86d314d78",
        "small/one-side": "693964f2546cda3d013ef721fd33d07b25e954b2f9c5abf0b26a4564ffa47998",
        "marker/tight": "5d257e93c132a5f329f05a00ad9ee8a60d79b25d8b1fc91ff34c572bdb44bdb9",
        "marker/snug": "b5ebbe503d7006b4d5115ef3d01fa1d05d989b97fd3dbf7bdbfea64f4ec606ba",
        "marker/shaved": "76cbb5b0674dde907ba7e57f22e3c38073675477e65826008ae3b1ac02911d4b",
        "marker/one-side": "931e44d52570a0e69a9325234dc8ec7508ec2ac3597a792f5ac7f5adc8b5ecb5",
        "fine/tight": "8b36b29297b23c179b251b23820aa5e420edc0da6486b823640b0c8ded4523d4",
        "fine/snug": "922bae9a7d614e2239454438f3ddbdee279f1efaefbc8bfc6b2ad5d34844ab9f",
        "fine/shaved": "7021bce717e6cd9d5c349a5e713a32e94dde7c903a479c5907cb83afd0a3dae1",
        "fine/one-side": "8cfd642812b1d4bc381668005e2fbe8beddd307e38370898de9c61096ca8b85d",
        "ruled/tight": "6adac83d74467f91b917922a4820ca16bbd3dbaedfe1327d3000d2189e5396c8",
        "ruled/snug": "88586551dfa48ca69c154b1d1715977b57b73702c13b6ee115d3767c0e312419",
        "ruled/shaved": "6c857f1b489dca376a574a879223cd4e56f07b7973c1ea791701a03968f544cb",
        "ruled/one-side": "ddc5aad5a7a22481643088b0570611e60990407021a4a01ec79042389d9f9553",
        "squared/tight": "5736f0ea7de3c187b0bae8512dc1cfa70946338fa4fb16a66796d39063d9860f",
        "squared/snug": "ce609fd06780447c2dd4ef9120b32881c5f890e2147ba77d651492e67f66e085",
        "squared/shaved": "cb23b46d39842a49976eb40bf11de503bc1fa98dba1406d90d05bbbf0f19b91e",
        "squared/one-side": "488ce794e15bbe43ef75c6cac7aa18feff3753840d50ece64d0d2947f333c636",
        "pencil/tight": "d4c3812679f5304fcc4f97847d2ad3d23dd3f0fd5ff18c9c3e824543b2b655cd",
        "pencil/snug": "253df3324a70321ade4439805b6cae5a2fb2d362f611066adc1cbd5d2e97731f",
        "pencil/shaved": "781779ca7637178ca7e407bf4e86e56d7ec00ff8a1d377d0284da5a0f53997b2",
        "pencil/one-side": "2d4b1d6898a574822498a027d7c5d13a2d6ca9311c1a1d85f82f96891450252d",
        "motion/tight": "48f19f9321aa869cd25a2630624f69731dc290259fefb23c9981b8eccd20f526",
        "motion/snug": "603993ff76a24d51d94f12386c80d2db8fd150c338401bd3fb6490584b9e6187",
        "motion/shaved": "1552e37409703f3218d0bd22d4338a850102a776063ace053c3dffd84976863d",
        "motion/one-side": "f9ac012e193dcc23e3ac3cf6fdc776bb76f80f08f7df33ab321a88856063785d",
        "tilted/tight": "9c0aa9213e4f6716220ce55c830eb3dadc22cca9f5e2590f5b003e6d65cbf98b",
        "tilted/snug": "85daaed5bff915a0c75bbed2ec2b50808e5690c87c313de4fdc9527d22bda3bc",
        "tilted/shaved": "ab7c4093a95201ee7bab0e9dbd82dc3f8594bc2dda77c74900406a14669bc35f",
        "tilted/one-side": "ee3231b25359191fd731be65afe949a63002ab324adbcdbf45550e72b80dd574",
        "lowres/tight": "07cbfa82635df8607f8acbaff154ec93c4d712fc46bef4f42b116a0a63e7b230",
        "lowres/snug": "aed3ac3c4987b1fd52ac0ecf337ae1a2020fd968ac05266f66389255d27dfa9d",
        "lowres/shaved": "2f592fd71745a464cd376406d992364713a5a5c9343b3757c5f0a3724c6c2681",
        "lowres/one-side": "a5e02b43cd5b862f837a7c2a72a944e647ec3f3b215a4970645f1bc8a80416e5",
        "apart/tight": "74cee67eee90247df3d514c864dc7ab27ed88438def8003177265c84fa0b5954",
        "apart/snug": "42ef90fc75d33abc89c81c2ca64043f89491710c99d21de7d2b958a9417d06ef",
        "apart/shaved": "fbf3045ec8e73fc2a3296cf74a17d11c7f33d6d31ec6c457b2274ae1bcb94347",
        "apart/one-side": "39ef606cc490e36e3f55b4c8f97e60d7328459a36343829221c24c78bd0c48b5",
        "num-photo/tight": "786a0fe67554f53f9be6d85711c646976047abc2b669097b88ab8cc80a33cfc5",
        "num-photo/snug": "716c7a08c2d940872d739400d657b0ac041e2e37d5c9376953dac0a9f70b86bb",
        "num-photo/shaved": "6043a9c6d15fc3371d78d91d37f1dd48f4e3cde08a3336de16c356a64baf2fec",
        "num-photo/one-side": "d4f76bd8f9b459fc2881408f3364d39a2818114a7b912f1fe97e5975d8589d11",
        "num-hard/tight": "d17f3212ce4b5073e802eebfd030682d0098d22bc418ec353fde9fe389abea5c",
        "num-hard/snug": "d3718be61ea7701c661d7d86aa5d8abfae1110ed33226588253e4c4af11bc4ac",
        "num-hard/shaved": "f58e02d9bf2431289a71cda22964fe5dbe25daec7d198630cd4c563e5062cc7e",
        "num-hard/one-side": "57345c5111a6ff4f1878fdb328242d8e95735844d5e0f46b5d04a9a8c5eddc62",
    },
}


def writing_box(family: str, split: str, index: int, digits) -> tuple:
    """Picture ``index`` of ``family`` as ``realworld.make`` makes it: (its bytes, its
    label, the writing's box (left, top, right, bottom) in it)."""
    renders: list = []
    real_photo, real_scan, real_encode = realworld.photo, realworld.scan, realworld._encode

    def encode(image, *args, **kwargs):
        renders.append(np.asarray(image.convert("L"), np.float32) / 255)
        return real_encode(image, *args, **kwargs)

    def twice(real):
        def make(alpha, rng, *args, **kwargs):
            state = copy.deepcopy(rng.bit_generator.state)
            data = real(alpha, rng, *args, **kwargs)  # the picture itself, drawn from rng
            blank = np.random.default_rng()
            blank.bit_generator.state = state
            real(np.zeros_like(alpha), blank, *args, **kwargs)
            return data
        return make

    realworld.photo, realworld.scan, realworld._encode = twice(real_photo), twice(real_scan), encode
    try:
        data, label = realworld.make(family, split, index, *digits)
    finally:
        realworld.photo, realworld.scan, realworld._encode = real_photo, real_scan, real_encode
    inked, blank = renders
    difference = np.abs(inked - blank)
    rows, cols = np.nonzero(difference >= 0.25 * difference.max())
    return data, label, (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)


def crop(data: bytes, box: tuple, kind: str, rng: np.random.Generator) -> bytes:
    """The picture ``data`` cropped round the writing's ``box`` as ``kind`` says: JPEG."""
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    left, top, right, bottom = box
    height = bottom - top
    if kind == "tight":
        margins = np.zeros(4)
    elif kind == "snug":
        margins = rng.uniform(0, 0.08, 4)
    elif kind == "shaved":
        margins = -rng.uniform(0, 0.03, 4)
    elif kind == "one-side":
        margins = rng.uniform(0.1, 0.4, 4)
        margins[rng.integers(4)] = 0.0
    else:
        raise ValueError(f"no such kind of crop: {kind!r}")
    m = np.round(margins * height).astype(int)
    region = (max(0, left - m[0]), max(0, top - m[1]), min(image.width, right + m[2]),
              min(image.height, bottom + m[3]))
    out = io.BytesIO()
    image.crop(region).save(out, "JPEG", quality=90)
    return out.getvalue()


def cropped_sets(split: str, family: str, n: int, digits) -> tuple[list, dict]:
    """The first ``n`` pictures of ``family``, as made ([(bytes, label)]), and cropped by
    each kind of the split ({kind: [(bytes, label)]})."""
    made, crops = [], {kind: [] for kind in KINDS[split]}
    for i in range(n):
        data, label, box = writing_box(family, split, i, digits)
        made.append((data, label))
        for kind in KINDS[split]:
            rng = np.random.default_rng([realworld.SEEDS[split], zlib.crc32(f"{family}/{kind}".encode()), i])
            crops[kind].append((crop(data, box, kind, rng), label))
    return made, crops


def checksum(items) -> str:
    h = hashlib.sha256()
    for data, label in items:
        h.update(data)
        h.update(str(label).encode())
    return h.hexdigest()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("validation", "test"), default="validation")
    parser.add_argument("--singles", type=int, default=SINGLES, help="pictures per digit family")
    parser.add_argument("--numbers", type=int, default=NUMBERS, help="pictures per number family")
    parser.add_argument("--families", help="comma-separated families (default: all of the split's)")
    parser.add_argument("--save", metavar="DIR", help="also write the crops to DIR (to look at)")
    parser.add_argument("--checksums", action="store_true",
                        help="print each set's SHA-256 as a FROZEN entry and stop")
    args = parser.parse_args(argv)

    from benchmarks.bench_photos import score_numbers, score_singles
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import photo_model, resolve_model

    chosen = FAMILIES[args.split]
    if args.families:
        unknown = set(args.families.split(",")) - set(chosen)
        if unknown:
            parser.error(f"no such families in {args.split}: {', '.join(sorted(unknown))}")
        chosen = tuple(f for f in chosen if f in args.families.split(","))
    digits = realworld.digits_of(args.split)
    model = None if args.checksums else resolve_model(None)
    reader = None if model is None else for_inference(model)
    photo = None if model is None else photo_model(None)
    kinds = ("as made",) + KINDS[args.split]
    totals = {group: {kind: [0, 0] for kind in kinds} for group in ("digits", "numbers")}
    if not args.checksums:
        print(f"split: {args.split}; accuracy (exact for numbers) per family and crop")
        print(f"{'family':10s} {'pictures':>8s} " + " ".join(f"{k:>9s}" for k in kinds))
    for family in chosen:
        is_number = family in realworld.NUMBERS + realworld.NUMBERS_TEST_ONLY
        n = args.numbers if is_number else args.singles
        start = time.perf_counter()
        made, crops = cropped_sets(args.split, family, n, digits)
        if args.checksums:
            for kind, items in crops.items():
                print(f'        "{family}/{kind}": "{checksum(items)}",')
            continue
        if args.save:
            _save(args.save, family, crops)
        frozen = FROZEN[args.split]
        sizes_frozen = n == (NUMBERS if is_number else SINGLES)
        differs = [kind for kind, items in crops.items() if sizes_frozen
                   and f"{family}/{kind}" in frozen and frozen[f"{family}/{kind}"] != checksum(items)]
        checked = sizes_frozen and all(f"{family}/{kind}" in frozen for kind in crops)
        row = []
        for kind, items in (("as made", made), *crops.items()):
            right = (score_numbers(items, reader).correct if is_number
                     else score_singles(items, model, photo)[0])
            group = totals["numbers" if is_number else "digits"][kind]
            group[0] += right
            group[1] += n
            row.append(f"{100 * right / n:8.1f}%")
        note = ("  FROZEN CHECKSUM DIFFERS: " + ", ".join(differs) if differs
                else "  frozen: ok" if checked else "")
        print(f"{family:10s} {n:8d} " + " ".join(row) + f"  ({time.perf_counter() - start:.0f} s){note}",
              flush=True)
    if not args.checksums:
        for group, by_kind in totals.items():
            if by_kind["as made"][1]:
                print(f"{group + ' overall':10s} {by_kind['as made'][1]:8d} " + " ".join(
                    f"{100 * right / max(1, n):8.1f}%" for right, n in by_kind.values()))
    return 0


def _save(directory, family, crops):
    from pathlib import Path

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    for kind, items in crops.items():
        for i, (data, label) in enumerate(items):
            (out / f"{family}-{kind}-{i:04d}-{label}.jpg").write_bytes(data)


if __name__ == "__main__":
    raise SystemExit(main())
