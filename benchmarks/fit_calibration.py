"""Fit the shipped models' confidences to the chance of being right, or measure them.

    python -m benchmarks.fit_calibration [--model ensemble] [--numbers 1500] [--digits 10000]
    python -m benchmarks.fit_calibration --split test [--numbers 1500]

Fitting (``--split validation``, the default) sees only the validation digits, the last
10,000 of MNIST's training file, which no shipped network was trained on:

- digits: the validation digits as MNIST gives them, and the same digits drawn as a user
  would (``data.synthetic.drawing``) and brought to MNIST form by ``to_mnist``; the
  temperature that maximises their likelihood (``calibration.fit_temperature``);
- numbers: ``--numbers`` numbers of 2 to 8 validation digits, every other one with
  touching pairs (p = 0.3 per gap), read by ``digitnet.read.read_number``; a logistic
  regression of "the whole string is right" on ``calibration.number_features``, and a
  Platt map of each digit's confidence where the reading has the right length.

It writes the result into src/digitnet/models/calibration.json, keyed by the model's
name and the SHA-256 of its file. Re-run it whenever the model or ``read`` changes
(about 2-5 minutes per 1,000 numbers on a busy 2-core machine).

``--split test`` changes nothing: it measures the calibration written, once, on sets
made the same way from MNIST's TEST digits, with conditions never fitted on added
(numbers of 9 to 12 digits, and touching pairs at p = 0.6), and prints the expected
calibration errors (15 bins) and the accuracy against coverage of ``read``.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

SEEDS = {"validation": 0, "test": 1}


def number_sets(model, split, n, rng, test, cache=None):
    """{name: (raw readings, truths)}: numbers of 2-8 digits apart and with touching
    pairs, and for the test split also conditions never fitted on. With ``cache`` (a
    JSON file), the readings are taken from it if it exists, else written to it."""
    from digitnet.calibration import compose_numbers, read_answers

    if cache and os.path.exists(cache):
        return load_readings(cache)

    conditions = {"2-8 digits, apart or touching (p 0.3)": ((0.0, 0.3), (2, 8), n)}
    if test:
        conditions["2-8 digits, touching p 0.6"] = ((0.6,), (2, 8), n // 3)
        conditions["9-12 digits, apart or touching (p 0.3)"] = ((0.0, 0.3), (9, 12), n // 3)
    sets = {}
    for name, (touching, lengths, count) in conditions.items():
        start = time.perf_counter()
        sets[name] = read_answers(model, compose_numbers(split.x, split.y, count, rng, touching, lengths))
        print(f"  read {count} numbers ({name}) in {time.perf_counter() - start:.0f} s", flush=True)
    if cache:
        with open(cache, "w", encoding="utf-8") as f:
            json.dump({name: [[r.as_dict() if r else None for r in readings], truths]
                       for name, (readings, truths) in sets.items()}, f)
    return sets


def load_readings(cache):
    from digitnet.read import Digit, Reading

    def reading(d):
        return d and Reading(d["text"], [Digit(x["digit"], x["confidence"], tuple(x["box"]))
                                         for x in d["digits"]], d["confidence"])

    with open(cache, encoding="utf-8") as f:
        return {name: ([reading(d) for d in readings], truths)
                for name, (readings, truths) in json.load(f).items()}


def fit(digits, numbers):
    """The Calibration fitted on the validation answers."""
    from digitnet.calibration import Calibration, Logistic, fit_temperature, logit, number_features

    probabilities = np.concatenate([p for p, _ in digits.values()])
    labels = np.concatenate([y for _, y in digits.values()])
    temperature = fit_temperature(probabilities, labels)
    readings = [(r, t) for rs, ts in numbers.values() for r, t in zip(rs, ts) if r]
    features = np.stack([number_features(r) for r, _ in readings])
    right = np.array([r.text == t for r, t in readings])
    number = Logistic.fit(features, right)
    same_length = [(d.confidence, d.digit == int(c)) for r, t in readings if len(r.text) == len(t)
                   for d, c in zip(r.digits, t)]
    confidence, correct = map(np.array, zip(*same_length))
    platt = Logistic.fit(logit(confidence)[:, None], correct, l2=0.0)
    a = float(platt.weights[0] / platt.scale[0])
    b = float(platt.bias - a * platt.mean[0])
    return Calibration(temperature, number, (a, b))


def report(calibration, digits, numbers):
    """Print the expected calibration errors, before and after, and read's coverage."""
    from digitnet.calibration import Calibration, coverage, expected_calibration_error, number_answers

    raw = Calibration()
    pooled = {"before": [], "after": []}
    for name, (p, y) in digits.items():
        errors = []
        for when, c in (("before", raw), ("after", calibration)):
            q = c.digits(p)
            answers = (q.max(axis=1), q.argmax(axis=1) == y)
            pooled[when].append(answers)
            errors.append(100 * expected_calibration_error(*answers))
        print(f"predict, {name} ({len(y)} digits, {100 * (p.argmax(1) == y).mean():.2f}% right): "
              f"ECE {errors[0]:.2f}% raw, {errors[1]:.2f}% calibrated")
    for when in pooled:
        conf, right = (np.concatenate(a) for a in zip(*pooled[when]))
        print(f"predict, all digits: ECE {100 * expected_calibration_error(conf, right):.2f}% ({when})")
    if not numbers:
        return
    answers = {"before": [], "after": []}
    for name, (readings, truths) in numbers.items():
        errors = []
        for when, c in (("before", raw), ("after", calibration)):
            conf, right = number_answers(c, readings, truths)
            answers[when].append((conf, right))
            errors.append(100 * expected_calibration_error(conf, right))
        print(f"read, {name} ({len(truths)} numbers, {100 * right.mean():.2f}% exact): "
              f"ECE {errors[0]:.2f}% raw, {errors[1]:.2f}% calibrated")
    for when in answers:
        conf, right = (np.concatenate(a) for a in zip(*answers[when]))
        print(f"read, all numbers: ECE {100 * expected_calibration_error(conf, right):.2f}% ({when})")
    print("read, accuracy against coverage (calibrated, all numbers):")
    print("| accepted | threshold | numbers accepted | exactly right among them |")
    print("| ---: | ---: | ---: | ---: |")
    for share, threshold, kept, good in coverage(conf, right):
        print(f"| {100 * share:.0f}% | {threshold:.4f} | {kept} | {good} ({100 * good / kept:.2f}%) |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ensemble", help="a shipped model's name (default ensemble)")
    parser.add_argument("--split", choices=sorted(SEEDS), default="validation")
    parser.add_argument("--digits", type=int, default=10_000, help="digits per set (default 10,000)")
    parser.add_argument("--numbers", type=int, default=1500, help="numbers to read (default 1,500)")
    parser.add_argument("--readings", metavar="FILE.json",
                        help="keep the raw readings in FILE (outside the repository), and take them "
                        "from it when it exists: to fit again without reading again")
    args = parser.parse_args(argv)

    from digitnet import calibration
    from digitnet.data import mnist
    from digitnet.pretrained import NAMES, resolve_model, shipped_by_name

    if args.model not in NAMES:
        parser.error(f"--model is one of the shipped models: {', '.join(NAMES)}")
    model = resolve_model(args.model)
    data = mnist.load("mnist", os.environ.get("DIGITNET_DATA"))
    split = data.validation if args.split == "validation" else data.test
    rng = np.random.default_rng(SEEDS[args.split])
    print(f"{args.model}, {args.split} digits:", flush=True)
    x, y = split.x[:args.digits], split.y[:args.digits]
    inputs = calibration.digit_inputs(x, rng)
    digits = {name: (model.confidences(v), y) for name, v in inputs.items()}
    numbers = number_sets(model, split, args.numbers, rng, args.split == "test", args.readings)
    if args.split == "validation":
        fitted = fit(digits, numbers)
        given = argv if argv is not None else sys.argv[1:]
        command = "python -m benchmarks.fit_calibration " + " ".join(given)
        calibration.save(args.model, shipped_by_name(args.model), fitted,
                         {"fitted_on": f"{args.digits} validation digits as given and drawn; "
                                       f"{args.numbers} numbers of validation digits",
                          "command": command.strip()})
        print(f"temperature {fitted.temperature:.4f}; written to {calibration.FILE}")
    else:
        fitted = calibration.for_model(args.model)
        if not fitted.fitted:
            parser.error(f"no calibration of {args.model} to measure: fit one on validation first")
    report(fitted, digits, numbers)
    served = server_sets(model, inputs, y)
    if served:
        from digitnet.pretrained import SHORTCUT

        print("As the server answers (its ensemble's first network alone where it is at least "
              f"{SHORTCUT} sure), calibrated:")
        report(fitted, served, {})
    return 0


def server_sets(model, inputs, y):
    """{name: (probabilities, labels)} as ``digitnet serve`` computes them, with its shortcut."""
    from digitnet.nn.ensemble import Ensemble
    from digitnet.pretrained import SHORTCUT

    if not getattr(model, "members", None):
        return {}
    served = Ensemble(model.members, shortcut=SHORTCUT)
    return {f"{name}, served": (served.confidences(v), y) for name, v in inputs.items()}


if __name__ == "__main__":
    raise SystemExit(main())
