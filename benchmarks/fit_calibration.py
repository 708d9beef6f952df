"""Fit the shipped models' confidences to the chance of being right, or measure them.

    python -m benchmarks.fit_calibration [--model ensemble] [--numbers 1500] [--digits 10000]
    python -m benchmarks.fit_calibration --split test [--numbers 1500]

Fitting (``--split validation``, the default) sees only the validation digits, the last
10,000 of MNIST's training file, which no shipped network was trained on:

- digits: the validation digits as MNIST gives them, and the same digits drawn as a user
  would (``data.synthetic.drawing``) and brought to MNIST form by ``to_mnist``; the
  temperature that maximises their likelihood (``calibration.fit_temperature``);
- numbers: ``--numbers`` numbers of 2 to 8 validation digits, every other one with
  touching pairs (p = 0.3 per gap), and a third as many of 2 to 6 digits touching as a
  pen makes them touch (``data.touching``), read by ``digitnet.read.read_number``; a logistic
  regression of "the whole string is right" on ``calibration.number_features``, and a
  Platt map of each digit's confidence where the reading has the right length;
- pictures: ``--photo-digits`` and ``--photo-numbers`` of each validation family of
  ``benchmarks.realworld`` (phone photos of paper, scans, canvas exports, chalk; numbers
  apart, touching, photographed), in the digits' and the numbers' fits alike;
- numbers on forms and askew: ``--layout-numbers`` pictures per form and condition of
  ``benchmarks.bench_forms`` (its three validation sets) and per angle and kind of
  ``benchmarks.bench_tilt``, new pictures (from index FRESH) of the same recipes;
- numbers in a hand that is not MNIST's: ``--pen-numbers`` pictures per number family of
  ``benchmarks.bench_pen`` (digits drawn from a pen's strokes; crowded writing too), from
  index PEN_FRESH.

It writes the result into src/digitnet/models/calibration.json, keyed by the model's
name and the SHA-256 of its file. Re-run it whenever the model or ``read`` changes
(about 2-5 minutes per 1,000 numbers on a busy 2-core machine; ``--readings`` keeps what
was read, to fit again without reading again).

``--split test`` changes nothing: it measures the calibration written, once, on sets
made the same way from MNIST's TEST digits, with conditions never fitted on added
(numbers of 9 to 12 digits, touching pairs at p = 0.6, and realworld's test-only families:
ruled and squared paper, pencil, motion blur, tilted camera, low-resolution scans, and
numbers in such conditions; the frozen test sets of bench_forms, bench_tilt and bench_pen), and
prints the expected calibration errors (15 bins) and the accuracy against coverage of
``read``.
"""

import argparse
import json
import os
import time

import numpy as np

from benchmarks import recorded_command

SEEDS = {"validation": 0, "test": 1}
#: The shares of numbers accepted in the accuracy-against-coverage table.
SHARES = (1.0, 0.99, 0.98, 0.97, 0.95, 0.9, 0.8, 0.7, 0.5)


def number_sets(model, split, n, rng, test, cache=None):
    """{name: (raw readings, truths)}: numbers of 2-8 digits apart and with touching
    pairs, and for the test split also conditions never fitted on. With ``cache`` (a
    JSON file), the readings are taken from it if it exists, else written to it."""
    from digitnet.calibration import compose_numbers, read_answers

    if cache and os.path.exists(cache):
        return load_readings(cache)

    conditions = {"2-8 digits, apart or touching (p 0.3)": ((0.0, 0.3), (2, 8), n)}
    if not test:  # touching as a pen makes them touch: not in the test sets' conditions
        conditions["2-6 digits, touching as a pen writes"] = (None, (2, 6), n // 3)
    else:
        conditions["2-8 digits, touching p 0.6"] = ((0.6,), (2, 8), n // 3)
        conditions["9-12 digits, apart or touching (p 0.3)"] = ((0.0, 0.3), (9, 12), n // 3)
    sets = {}
    for name, (touching, lengths, count) in conditions.items():
        start = time.perf_counter()
        composed = (compose_numbers(split.x, split.y, count, rng, touching, lengths) if touching
                    else pen_touching(split.x, split.y, count, rng, lengths))
        sets[name] = read_answers(model, composed)
        print(f"  read {count} numbers ({name}) in {time.perf_counter() - start:.0f} s", flush=True)
    _keep(cache, {name: [[_saved(r) for r in readings], truths] for name, (readings, truths) in sets.items()})
    return sets


def pen_touching(x, y, n, rng, lengths):
    """``n`` numbers of ``lengths`` digits whose neighbours touch as a pen makes them touch
    (``data.touching``: every pair of two digits, each gap of longer ones with p 0.4)."""
    from digitnet.data.touching import touching_number

    for _ in range(n):
        k = int(rng.integers(lengths[0], lengths[1] + 1))
        idx = rng.integers(0, len(x), k)
        image = touching_number(x[idx], rng, touching=1.0 if k == 2 else 0.4)[0]
        yield image, "".join(str(int(d)) for d in y[idx])


def photo_sets(model, split_name, singles, numbers, cache=None, photo=None):
    """The frozen picture families of ``benchmarks.realworld`` (phone photos of paper,
    scans, canvas exports, chalk; numbers apart, touching and photographed), ``singles``
    digits and ``numbers`` numbers per family: ({family: (raw probabilities, labels,
    found)}, {family: (raw readings, truths)}). With ``cache`` (a JSON file), each family
    is kept there as soon as it is done, and taken from there when it is in it. ``photo``
    answers for the photos of paper, as with ``digitnet predict`` (the default model's)."""
    from benchmarks import realworld
    from digitnet.calibration import read_answers

    saved = _kept(cache, {"digits": {}, "numbers": {}})
    source = realworld.digits_of(split_name)
    for family in realworld.families(split_name):
        if family in saved["digits"] or family in saved["numbers"]:
            continue
        start = time.perf_counter()
        if family in realworld.NUMBERS + realworld.NUMBERS_TEST_ONLY:
            items = realworld.pictures(split_name, family, numbers, source)
            readings, truths = read_answers(model, items)
            saved["numbers"][family] = [[_saved(r) for r in readings], truths]
        else:
            items = realworld.pictures(split_name, family, singles, source)
            p, found = _predicted(model, [data for data, _ in items], photo)
            saved["digits"][family] = [p.tolist(), [y for _, y in items], found.tolist()]
        print(f"  {family}: {len(items)} pictures in {time.perf_counter() - start:.0f} s", flush=True)
        _keep(cache, saved)
    return ({k: (np.array(p, np.float32), np.array(y), np.array(found, bool))
             for k, (p, y, found) in saved["digits"].items()}, _readings(saved["numbers"]))


#: The first index of ``bench_pen``'s validation pictures fitted on: beyond the ones
#: ``tune_sequence`` chose ``read``'s constants on (0-1899).
PEN_FRESH = 2000


def pen_sets(model, split_name, n, cache=None):
    """{name: (raw readings, truths)} of numbers in a hand that is not MNIST's
    (``bench_pen``: digits drawn from a pen's strokes), ``n`` per number family: for
    validation its families from PEN_FRESH on, crowded writing too (made with the
    validation seed); for test its frozen test families, whole (``n`` is then ignored).
    With ``cache`` (a JSON file), each set is kept there when done."""
    from benchmarks import bench_pen

    families = [f for f in bench_pen.FAMILIES[split_name] if f.endswith("-number")]
    if split_name == "validation":
        families.append("crowded-number")
    first, n = (PEN_FRESH, n) if split_name == "validation" else (0, bench_pen.NUMBERS)
    makers = {f"pen {family.removesuffix('-number')}": (lambda i, f=family: bench_pen.make(f, split_name, i))
              for family in families}
    return _read_sets(model, makers, range(first, first + n), cache)


def _read_sets(model, makers, indices, cache=None):
    """{name: (raw readings, truths)} of the pictures ``make(i)`` for each ``i`` of
    ``indices``, for each (name, make) of ``makers``; with ``cache`` (a JSON file), each
    set is kept there when done, and taken from there when it is in it."""
    from digitnet.calibration import read_answers

    saved = _kept(cache, {})
    for name, make in makers.items():
        if name in saved:
            continue
        start = time.perf_counter()
        readings, truths = read_answers(model, (make(i) for i in indices))
        saved[name] = [[_saved(r) for r in readings], truths]
        print(f"  {name}: {len(indices)} pictures in {time.perf_counter() - start:.0f} s", flush=True)
        _keep(cache, saved)
    return _readings(saved)


#: The first index of the form and tilt pictures fitted on: beyond the ones
#: ``bench_forms`` and ``bench_tilt`` tuned the front end on (0 to NUMBERS - 1), whose
#: readings are a little better than a new picture's.
FRESH = 1000


def layout_sets(model, split_name, n, cache=None):
    """{name: (raw readings, truths)} of numbers written on forms (``bench_forms``: a
    printed line, a comb of boxes, a frame; scanned and photographed) and photographed
    askew (``bench_tilt``: apart and touching, at each angle), ``n`` pictures per form,
    condition, kind and angle. For validation, ``bench_forms``' three validation sets
    and ``bench_tilt``'s, the pictures from FRESH on; for test, the frozen test sets
    themselves, whole (``n`` is then ignored). With ``cache`` (a JSON file), each set is
    kept there when done."""
    from benchmarks import bench_forms, bench_tilt, realworld

    digits = realworld.digits_of(split_name)
    first, n = (FRESH, n) if split_name == "validation" else (0, bench_forms.NUMBERS)
    assert bench_forms.NUMBERS == bench_tilt.NUMBERS
    makers = {}
    for suffix in ("", "-b", "-c"):
        split = split_name + suffix
        for form in bench_forms.FORMS[split]:
            for condition in bench_forms.CONDITIONS:
                makers[f"form {form}, {condition}{f' ({suffix[1:]})' if suffix else ''}"] = (
                    lambda i, s=split, f=form, c=condition: bench_forms.make(s, f, c, i, digits))
    for kind in bench_tilt.KINDS:
        for angle in bench_tilt.ANGLES[split_name]:
            makers[f"tilted {angle} degrees, {kind}"] = (
                lambda i, k=kind, a=angle: bench_tilt.make(split_name, k, a, i, digits))
    return _read_sets(model, makers, range(first, first + n), cache)


def _predicted(model, pictures, photo=None):
    """(raw probabilities, found) of encoded pictures through ``to_mnist``, as ``digitnet
    predict`` answers (a photo of paper by ``photo``, the network for photos, when given): a
    picture in which no digit is found is a wrong answer, at confidence 0."""
    from digitnet.pretrained import confidences

    inputs = [_front_end(data) for data in pictures]
    found = np.array([x is not None for x in inputs])
    blank = (np.zeros(784, np.float32), False)
    x, photos = zip(*[blank if x is None else x for x in inputs])
    return confidences(model, photo, np.stack(x), list(photos)), found


def _front_end(data):
    """(``to_mnist(data)``, whether it is a photo of paper), or None where it finds no digit
    (or cannot read the picture)."""
    from digitnet.data.preprocess import to_mnist_seen
    from digitnet.errors import ImageError

    try:
        x, seen = to_mnist_seen(data)
    except ImageError:
        return None
    return x, seen.surface


def synthetic_digits(model, x, y, rng, cache=None):
    """{name: (raw probabilities, labels, found)} of ``calibration.digit_inputs``, and the
    same as ``digitnet serve`` answers them (an ensemble's shortcut), kept in / taken
    from ``cache`` (an .npz file)."""
    from digitnet import calibration

    if cache and os.path.exists(cache):
        with np.load(cache, allow_pickle=False) as saved:
            names = sorted({k.rsplit("|", 1)[0] for k in saved.files})
            return {name: (saved[name + "|p"], saved[name + "|y"], np.ones(len(saved[name + "|y"]), bool))
                    for name in names}
    inputs = calibration.digit_inputs(x, rng)
    sets = {name: (model.confidences(v), y) for name, v in inputs.items()}
    sets.update(server_sets(model, inputs, y))
    if cache:
        np.savez(cache, **{f"{name}|{part}": value for name, (p, y_) in sets.items()
                           for part, value in (("p", p), ("y", y_))})
    return {name: (p, y_, np.ones(len(y_), bool)) for name, (p, y_) in sets.items()}


def _saved(reading):
    """A reading's JSON form, with the evidence calibration weighs (``Reading.as_dict``
    leaves it out)."""
    return reading and {**reading.as_dict(), "evidence": reading.evidence}


def _kept(cache, empty):
    """What ``_keep`` kept in the JSON file ``cache``, or ``empty`` if there is none."""
    if not (cache and os.path.exists(cache)):
        return empty
    with open(cache, encoding="utf-8") as f:
        return json.load(f)


def _keep(cache, saved):
    """``saved`` written to the JSON file ``cache`` (if any) whole or not at all: a run
    stopped half-way leaves the sets done so far."""
    if not cache:
        return
    with open(cache + ".part", "w", encoding="utf-8") as f:
        json.dump(saved, f)
    os.replace(cache + ".part", cache)


def load_readings(cache):
    with open(cache, encoding="utf-8") as f:
        return _readings(json.load(f))


def _readings(saved):
    """{name: (readings, truths)} from their JSON form (``Reading.as_dict``)."""
    from digitnet.read import Digit, Reading

    def reading(d):
        return d and Reading(d["text"], [Digit(x["digit"], x["confidence"], tuple(x["box"]))
                                         for x in d["digits"]], d["confidence"], d.get("evidence", {}))

    return {name: ([reading(d) for d in readings], truths) for name, (readings, truths) in saved.items()}


def fit(digits, numbers):
    """The Calibration fitted on the validation answers."""
    from digitnet.calibration import Calibration, Logistic, fit_temperature, logit, number_features

    probabilities = np.concatenate([p[found] for p, _, found in digits.values()])
    labels = np.concatenate([y[found] for _, y, found in digits.values()])
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
    """Print the expected calibration errors, before and after, and read's coverage.
    Returns the pooled answers: {"predict" / "read": {"raw" / "calibrated": (confidence, right)}}."""
    from digitnet.calibration import Calibration, coverage, expected_calibration_error, number_answers

    raw = Calibration()
    pooled = {"before": [], "after": []}
    for name, (p, y, found) in digits.items():
        errors = []
        for when, c in (("before", raw), ("after", calibration)):
            q = c.digits(p)
            # a picture in which no digit is found: a wrong answer at confidence 0
            answers = (np.where(found, q.max(axis=1), 0.0), (q.argmax(axis=1) == y) & found)
            pooled[when].append(answers)
            errors.append(100 * expected_calibration_error(*answers))
        print(f"predict, {name} ({len(y)} digits, {100 * answers[1].mean():.2f}% right): "
              f"ECE {errors[0]:.2f}% raw, {errors[1]:.2f}% calibrated")
    pooled_answers = {"predict": {}, "read": {}}
    for when, label in (("before", "raw"), ("after", "calibrated")):
        conf, right = (np.concatenate(a) for a in zip(*pooled[when]))
        pooled_answers["predict"][label] = conf, right
        print(f"predict, all digits: ECE {100 * expected_calibration_error(conf, right):.2f}% ({when})")
    if not any(truths for _, truths in numbers.values()):  # (--numbers 0 ...: digits only)
        return pooled_answers
    answers = {"before": [], "after": []}
    for name, (readings, truths) in numbers.items():
        if not truths:
            continue
        errors = []
        for when, c in (("before", raw), ("after", calibration)):
            conf, right = number_answers(c, readings, truths)
            answers[when].append((conf, right))
            errors.append(100 * expected_calibration_error(conf, right))
        print(f"read, {name} ({len(truths)} numbers, {100 * right.mean():.2f}% exact): "
              f"ECE {errors[0]:.2f}% raw, {errors[1]:.2f}% calibrated")
    for when, label in (("before", "raw"), ("after", "calibrated")):
        conf, right = (np.concatenate(a) for a in zip(*answers[when]))
        pooled_answers["read"][label] = conf, right
        print(f"read, all numbers: ECE {100 * expected_calibration_error(conf, right):.2f}% ({when})")
    print("read, accuracy against coverage (calibrated, all numbers):")
    print("| accepted | threshold | numbers accepted | exactly right among them |")
    print("| ---: | ---: | ---: | ---: |")
    for share, threshold, kept, good in coverage(conf, right, SHARES):
        print(f"| {100 * share:.1f}% | {threshold:.4f} | {kept} | {good} ({100 * good / kept:.2f}%) |")
    return pooled_answers


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ensemble", help="a shipped model's name (default ensemble)")
    parser.add_argument("--split", choices=sorted(SEEDS), default="validation")
    parser.add_argument("--digits", type=int, default=10_000, help="digits per set (default 10,000)")
    parser.add_argument("--numbers", type=int, default=1500, help="numbers to read (default 1,500)")
    parser.add_argument("--photo-digits", type=int, default=300,
                        help="pictures per single-digit family of benchmarks.realworld (default 300)")
    parser.add_argument("--photo-numbers", type=int, default=100,
                        help="pictures per number family of benchmarks.realworld (default 100)")
    parser.add_argument("--layout-numbers", type=int, default=100,
                        help="pictures per form and condition of benchmarks.bench_forms and per "
                        "angle and kind of benchmarks.bench_tilt (default 100; 0: none)")
    parser.add_argument("--pen-numbers", type=int, default=150,
                        help="pictures per number family of benchmarks.bench_pen, a hand that is "
                        "not MNIST's (default 150; 0: none; test: its frozen sets, whole)")
    parser.add_argument("--plot", metavar="FILE.png", help="also draw the reliability diagrams there")
    parser.add_argument("--readings", metavar="FILE.json",
                        help="keep the raw readings in FILE (outside the repository), and take them "
                        "from it when it exists: to fit again without reading again")
    args = parser.parse_args(argv)

    from digitnet import calibration
    from digitnet.data import mnist
    from digitnet.pretrained import NAMES, photo_model, resolve_model, shipped_by_name

    if args.model not in NAMES:
        parser.error(f"--model is one of the shipped models: {', '.join(NAMES)}")
    model = resolve_model(args.model)
    data = mnist.load("mnist", os.environ.get("DIGITNET_DATA"))
    split = data.validation if args.split == "validation" else data.test
    # the digits and the numbers each from their own stream: either may come from a cache
    digit_rng, number_rng = (np.random.default_rng([SEEDS[args.split], k]) for k in (0, 1))
    print(f"{args.model}, {args.split} digits:", flush=True)
    x, y = split.x[:args.digits], split.y[:args.digits]
    cache = args.readings and args.readings.removesuffix(".json")
    digits = synthetic_digits(model, x, y, digit_rng, cache and cache + ".digits.npz")
    served = {name: digits.pop(name) for name in list(digits) if name.endswith("served")}
    numbers = number_sets(model, split, args.numbers, number_rng, args.split == "test", args.readings)
    if args.photo_digits or args.photo_numbers:
        photo_digits, photo_numbers = photo_sets(model, args.split, args.photo_digits,
                                                 args.photo_numbers, cache and cache + ".photos.json",
                                                 photo_model(args.model))
        digits.update({f"pictures: {k}": v for k, v in photo_digits.items()})
        numbers.update({f"pictures: {k}": v for k, v in photo_numbers.items()})
    if args.layout_numbers:
        layouts = layout_sets(model, args.split, args.layout_numbers, cache and cache + ".layouts.json")
        numbers.update({f"pictures: {k}": v for k, v in layouts.items()})
    if args.pen_numbers:
        pens = pen_sets(model, args.split, args.pen_numbers, cache and cache + ".pens.json")
        numbers.update({f"pictures: {k}": v for k, v in pens.items()})
    if args.split == "validation":
        fitted = fit(digits, numbers)
        command = recorded_command("fit_calibration", argv)
        calibration.save(args.model, shipped_by_name(args.model), fitted,
                         {"fitted_on": f"{args.digits} validation digits as given and drawn, "
                                       f"{args.photo_digits} pictures per family of benchmarks.realworld; "
                                       f"{args.numbers} numbers of validation digits (and a third as many "
                                       f"touching as a pen writes), "
                                       f"{args.photo_numbers} pictures per number family, "
                                       f"{args.layout_numbers} per form, condition and angle of "
                                       f"bench_forms and bench_tilt, {args.pen_numbers} per number "
                                       f"family of bench_pen",
                          "command": command.strip()})
        print(f"temperature {fitted.temperature:.4f}; written to {calibration.FILE}")
    else:
        fitted = calibration.for_model(args.model)
        if not fitted.fitted:
            parser.error(f"no calibration of {args.model} to measure: fit one on validation first")
    pooled = report(fitted, digits, numbers)
    if args.plot:
        from digitnet import plots

        digits_of = "MNIST test digits" if args.split == "test" else "validation digits"
        panels = [(f"{command}, {digits_of}", pooled[command]) for command in ("predict", "read")
                  if pooled[command]]
        print(f"Saved {plots.reliability(panels, args.plot)}")
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
