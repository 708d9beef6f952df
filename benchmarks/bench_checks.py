"""Numbers with a check digit: `read --check RULE` on card, routing, barcode and ID numbers.

    python -m benchmarks.bench_checks [--split validation|test] [--numbers 150]

For each rule of ``digitnet.read.checks`` (luhn: 8-16 digits, a card's or an account's;
aba: 9, a US routing number; gtin: 8, 12 or 13, a barcode's; verhoeff: 6-12), numbers of
random digits ending in the digit the rule asks for, each digit an MNIST digit of the split
with that label, written by ``digitnet.data.synthetic.number`` (each neighbouring pair
touching with probability 0.3; on the test split 0.4, and spaced from a wider range).
Each is read as `digitnet read` reads it (calibrated), then with `--check RULE`, then
with `--check RULE --length N` too. Reported: exact readings; readings the check mended;
and at the README's threshold (0.76) the readings accepted and the share of them right;
then, over every rule, the calibration error and the share right among the surest 95%.
The test split's numbers were frozen (``FROZEN``) before any was read.
"""

import argparse
import hashlib
import os

import numpy as np

#: The lengths of each rule's numbers.
LENGTHS = {"luhn": range(8, 17), "aba": (9,), "gtin": (8, 12, 13), "verhoeff": range(6, 13)}
#: SHA-256 of the test split's pictures (``--split test --numbers 150``), taken before
#: any of them was read.
FROZEN = {("test", 150): "93168c691bfb35536cbd304c4a94ee91a2cde610078253cc2f8f3064e49bcd4a"}
THRESHOLD = 0.76


def valid_number(rule: str, rng) -> str:
    """Random digits of one of ``rule``'s lengths, the last the one the rule asks for."""
    from digitnet.read.checks import passes

    n = int(rng.choice(list(LENGTHS[rule])))
    head = "".join(str(d) for d in rng.integers(0, 10, n - 1))
    return next(head + str(d) for d in range(10) if passes(rule, head + str(d)))


def pictures(split, name: str, n: int) -> list:
    """``n`` numbers of each rule: (rule, its digits, Pillow "L" image)."""
    from digitnet.data.synthetic import number

    rng = np.random.default_rng(47 if name == "validation" else 48)
    by_label = [np.flatnonzero(split.y == d) for d in range(10)]
    out = []
    for rule in LENGTHS:
        for _ in range(n):
            digits = valid_number(rule, rng)
            idx = np.array([rng.choice(by_label[int(c)]) for c in digits])
            touching, gap = (0.3, (4, 20)) if name == "validation" else (0.4, (2, 28))
            image, _ = number(split.x[idx], rng, gap=gap, touching=touching)
            out.append((rule, digits, image))
    return out


def checksum(made) -> str:
    digest = hashlib.sha256()
    for rule, digits, image in made:
        digest.update(rule.encode() + digits.encode() + image.tobytes())
    return digest.hexdigest()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["validation", "test"], default="validation")
    parser.add_argument("--numbers", type=int, default=150, help="numbers of each rule")
    args = parser.parse_args(argv)

    from digitnet.data import mnist

    data = mnist.load("mnist", os.environ.get("DIGITNET_DATA"))
    split = data.validation if args.split == "validation" else data.test
    made = pictures(split, args.split, args.numbers)
    digest = checksum(made)
    frozen = FROZEN.get((args.split, args.numbers))
    state = "" if frozen is None else "; frozen: ok" if frozen == digest else "; FROZEN SET CHANGED"
    print(f"{args.split}, {args.numbers} numbers of each rule (sha256 {digest[:12]}{state})")
    print(f"{'rule':>9} {'read':>7} {'--check':>8} {'+length':>8}   mended: right, mean confidence"
          f"   accepted at {THRESHOLD}: right, read | --check")
    rows = {}
    for rule in [*LENGTHS, "all"]:
        if rule != "all":
            rows[rule] = [_read(image, digits, rule) for r, digits, image in made if r == rule]
        got = np.array(rows[rule] if rule != "all" else sum(rows.values(), []), dtype=np.float64)
        # columns: read, --check, --check --length right; mended; confidence of read, of --check
        plain, checked, known, mended, c_plain, c_checked = got.T
        accepted = [(c >= THRESHOLD) for c in (c_plain, c_checked)]
        print(f"{rule:>9} {100 * plain.mean():6.1f}% {100 * checked.mean():7.1f}% {100 * known.mean():7.1f}%"
              f"   {int(mended.sum()):>3}: {int((mended * checked).sum())}, "
              f"{c_checked[mended > 0].mean() if mended.any() else 0:.2f}"
              f"   {int(accepted[0].sum())}: {100 * plain[accepted[0]].mean():.1f}% | "
              f"{int(accepted[1].sum())}: {100 * checked[accepted[1]].mean():.1f}%")
    from digitnet.calibration import expected_calibration_error

    for name, right, confidence in (("read", plain, c_plain), ("--check", checked, c_checked)):
        surest = right[np.argsort(-confidence, kind="stable")[:round(0.95 * len(right))]]
        error = expected_calibration_error(confidence, right)
        print(f"{name}: calibration error (15 bins) {100 * error:.2f}%; "
              f"right among the surest 95% {100 * surest.mean():.2f}%")


def _read(image, digits: str, rule: str) -> list:
    """[read right, --check right, --check --length right, mended, confidence read,
    confidence --check]."""
    import digitnet
    from digitnet.errors import ImageError

    try:
        plain = digitnet.read_number(image)
        checked = digitnet.read_number(image, check=rule)
        known = digitnet.read_number(image, check=rule, length=len(digits))
    except ImageError:
        return [0, 0, 0, 0, 0.0, 0.0]
    return [plain.text == digits, checked.text == digits, known.text == digits,
            bool(checked.evidence.get("corrected")), plain.confidence, checked.confidence]


if __name__ == "__main__":
    main()
