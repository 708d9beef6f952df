"""Numbers with a check digit: `read --check RULE` on card, routing, barcode and ID numbers.

    python -m benchmarks.bench_checks [--split validation|test] [--numbers 150]

For each rule of ``digitnet.read.checks`` (luhn: 8-16 digits, a card's or an account's;
aba: 9, a US routing number; gtin: 8, 12 or 13, a barcode's; verhoeff: 6-12), numbers of
random digits ending in the digit the rule asks for, each digit an MNIST digit of the split
with that label, written by ``digitnet.data.synthetic.number`` (each neighbouring pair
touching with probability 0.3; on the test split 0.4, and spaced from a wider range).
Each is read as `digitnet read` reads it (calibrated), then with `--check RULE`, then
with `--check RULE --length N` too. Reported: exact readings; readings the check mended;
and at the README's threshold (0.76) the readings accepted and the share of them right.
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
FROZEN = {("test", 150): "5e1153fdb841337af1fe3d3e0aa993162ff2d1d53cc40934c3619f6d61d82a90"}
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

    import digitnet
    from digitnet.data import mnist
    from digitnet.errors import ImageError

    data = mnist.load("mnist", os.environ.get("DIGITNET_DATA"))
    split = data.validation if args.split == "validation" else data.test
    made = pictures(split, args.split, args.numbers)
    digest = checksum(made)
    frozen = FROZEN.get((args.split, args.numbers))
    state = "" if frozen is None else "; frozen: ok" if frozen == digest else "; FROZEN SET CHANGED"
    print(f"{args.split}, {args.numbers} numbers of each rule (sha256 {digest[:12]}{state})")
    print(f"{'rule':>9} {'read':>7} {'--check':>8} {'+length':>8} {'mended':>7} {'right':>6}"
          f"   accepted at {THRESHOLD}, right: read | --check")
    totals = np.zeros(8)
    for rule in LENGTHS:
        counts = np.zeros(8)  # read, checked, with length, mended, mended right, accepted x2, right x2
        accepted = np.zeros((2, 2))
        for _, digits, image in (m for m in made if m[0] == rule):
            try:
                plain = digitnet.read_number(image)
                checked = digitnet.read_number(image, check=rule)
                known = digitnet.read_number(image, check=rule, length=len(digits))
            except ImageError:
                continue
            counts[:3] += [plain.text == digits, checked.text == digits, known.text == digits]
            mended = bool(checked.evidence.get("corrected"))
            counts[3:5] += [mended, mended and checked.text == digits]
            for k, reading in enumerate((plain, checked)):
                if reading.confidence >= THRESHOLD:
                    accepted[k] += [1, reading.text == digits]
        counts[5:] = [accepted[0, 0], accepted[1, 0], 0]
        totals += counts
        n = args.numbers
        print(f"{rule:>9} {100 * counts[0] / n:6.1f}% {100 * counts[1] / n:7.1f}% {100 * counts[2] / n:7.1f}% "
              f"{int(counts[3]):>7} {int(counts[4]):>6}   {int(accepted[0, 0])}, "
              f"{100 * accepted[0, 1] / max(accepted[0, 0], 1):.1f}% | {int(accepted[1, 0])}, "
              f"{100 * accepted[1, 1] / max(accepted[1, 0], 1):.1f}%")
    n = args.numbers * len(LENGTHS)
    print(f"{'all':>9} {100 * totals[0] / n:6.1f}% {100 * totals[1] / n:7.1f}% {100 * totals[2] / n:7.1f}% "
          f"{int(totals[3]):>7} {int(totals[4]):>6}")


if __name__ == "__main__":
    main()
