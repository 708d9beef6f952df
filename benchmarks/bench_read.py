"""Accuracy of reading users' handwriting, on pictures composed from MNIST test digits.

    python -m benchmarks.bench_read [--numbers 1000] [--model MODEL]

1. single digits drawn as a user would (black on white, random size and position,
   anti-aliased), through the MNIST-style preprocessing, against the same digits as
   MNIST gives them;
2. `read` on numbers of 2 to 8 digits with random spacing and size: exact-string
   accuracy with separated digits, and with touching pairs (each neighbouring pair
   touches with probability 0.3).
Everything here was tuned on validation digits; this runs on the test set.
"""

import argparse
import os
import time

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1000)
    parser.add_argument("--digits", type=int, default=10_000)
    parser.add_argument("--model")
    args = parser.parse_args(argv)

    from digitnet.data import mnist
    from digitnet.data.preprocess import to_mnist_seen
    from digitnet.data.synthetic import drawing, number
    from digitnet.nn.network import for_inference
    from digitnet.pretrained import confidences, photo_model, resolve_model
    from digitnet.read import read_number

    model = resolve_model(args.model)
    test = mnist.load("mnist", os.environ.get("DIGITNET_DATA")).test
    rng = np.random.default_rng(0)
    n = min(args.digits, len(test))
    start = time.perf_counter()
    drawn, photos = zip(*[to_mnist_seen(drawing(test.x[i], rng)) for i in range(n)])
    per_image = (time.perf_counter() - start) / n
    as_mnist = (model.predict(test.x[:n]) == test.y[:n]).mean()
    # as `digitnet predict` answers: a drawing the front end takes for a photo of paper
    # goes to the default model's network for photos
    p = confidences(model, photo_model(args.model), np.stack(drawn), [s.surface for s in photos])
    as_drawn = (p.argmax(axis=1) == test.y[:n]).mean()
    print(f"model: {model.metadata.get('training', {}).get('recipe')} "
          f"(test accuracy {model.metadata.get('metrics', {}).get('test_accuracy')})")
    print(f"single digits, {n} test digits: as MNIST gives them {100 * as_mnist:.2f}%, "
          f"drawn by a user and preprocessed {100 * as_drawn:.2f}% "
          f"({1000 * per_image:.1f} ms per image to preprocess)")
    reader = for_inference(model)  # as `digitnet read` classifies the pieces
    for touching in (0.0, 0.3):
        correct, digits_total, start = 0, 0, time.perf_counter()
        for _ in range(args.numbers):
            k = int(rng.integers(2, 9))
            idx = rng.integers(0, len(test), k)
            image, _ = number(test.x[idx], rng, touching=touching)
            truth = "".join(map(str, test.y[idx]))
            correct += read_number(image, reader).text == truth
            digits_total += k
        seconds = (time.perf_counter() - start) / args.numbers
        kind = "separated digits" if not touching else "touching pairs included (p = 0.3 per gap)"
        print(f"read, {args.numbers} numbers of 2-8 digits, {kind}: "
              f"{100 * correct / args.numbers:.1f}% exact ({1000 * seconds:.0f} ms per number)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
