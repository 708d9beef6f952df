"""digitnet ensemble: several model files averaged into one."""


def add_parser(sub):
    from .common import path, positive_int

    p = sub.add_parser("ensemble", help="average several trained models into one model file")
    p.add_argument("models", nargs="+", type=path, metavar="MODEL", help="model files (.npz), same classes")
    p.add_argument("--out", required=True, type=path, help="the ensemble's model file")
    p.add_argument("--best", type=positive_int, metavar="N",
                   help="keep the N members that together score best on the validation split "
                        "(added one at a time, best first); the test set is only reported")
    p.add_argument("--half", action="store_true", help="store the weights as float16 (half the size)")
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist", "idx"], default="mnist")
    p.add_argument("--data", metavar="PATH", type=path,
                   help="IDX folder, CSV file or folder of class folders")
    p.add_argument("--test", metavar="PATH", type=path, help="with a CSV file or class folders: the test set")
    return p


def choose(probabilities, labels, n):
    """Indices of ``n`` members chosen greedily: each time the one whose addition makes
    the averaged probabilities most accurate on ``labels`` (ties: the earlier file)."""
    import numpy as np

    chosen, total = [], np.zeros_like(probabilities[0])
    for _ in range(min(n, len(probabilities))):
        scores = [(-1 if i in chosen else int(((total + p).argmax(axis=1) == labels).sum()), -i)
                  for i, p in enumerate(probabilities)]
        best = -max(scores)[1]
        chosen.append(best)
        total = total + probabilities[best]
    return chosen


def run(args):
    import shlex
    import sys

    from ..data.mnist import Split
    from ..io import load_model, save_model, trained_on_validation
    from ..nn.ensemble import Ensemble
    from ..train import evaluate
    from .common import check_output, fail, load_data

    check_output("--out", args.out, args.models, clash="one of the models being averaged")
    models = [load_model(path) for path in args.models]
    members = [m for model in models for m in getattr(model, "members", [model])]
    # how each member was trained: a file's training, or its entry in an ensemble file's
    trainings = [t for model in models for t in _trainings(model)]
    if len({m.n_outputs for m in members}) != 1:
        fail("the models have different numbers of outputs: they cannot be averaged")
    data = load_data(args)
    if len(data.classes) != members[0].n_outputs:
        fail(f"the models have {members[0].n_outputs} outputs, the data {len(data.classes)} classes")
    validation = data.validation
    trained_on_it = [path for path, model in zip(args.models, models)
                     if trained_on_validation(getattr(model, "metadata", {}))]
    if trained_on_it:
        if args.best:
            fail(f"--best chooses on the validation split, and {trained_on_it[0]} was trained "
                 "on it (--full): choose among models trained without --full")
        # accuracy on it would only measure what the members learnt
        validation = Split(validation.x[:0], validation.y[:0])
    picked = list(range(len(members)))
    if args.best:
        if not len(validation):
            fail("--best needs a validation split")
        picked = choose([m.predict_proba(validation.x) for m in members], validation.y, args.best)
    ensemble = Ensemble([members[i] for i in picked])
    val = evaluate(ensemble, validation.x, validation.y) if len(validation) else None
    test = evaluate(ensemble, data.test.x, data.test.y) if len(data.test) else None
    sources = [path for path, model in zip(args.models, models)
               for _ in getattr(model, "members", [model])]
    save_model(args.out, ensemble, {
        "classes": data.classes,
        "training": {"recipe": "ensemble", "members": [sources[i] for i in picked],
                     "member_training": [trainings[i] for i in picked],
                     "command": shlex.join(["digitnet", *sys.argv[1:]])},
        "metrics": {"validation_accuracy": val / len(validation) if val is not None else None,
                    "test_accuracy": test / len(data.test) if test is not None else None},
    }, half=args.half)
    shown = [f"validation {val} / {len(validation)} ({100 * val / len(validation):.2f}%)"
             if val is not None else "no validation (a member was trained on it, --full)"
             if trained_on_it else "no validation set",
             f"test {test} / {len(data.test)} ({100 * test / len(data.test):.2f}%)"
             if test is not None else "no test set"]
    print(f"Ensemble of {len(picked)} ({', '.join(sources[i] for i in picked)}): "
          f"{'; '.join(shown)}; saved {args.out}")
    return 0


def _trainings(model):
    meta = getattr(model, "metadata", None) or {}
    training = meta.get("training") or {}
    if not hasattr(model, "members"):
        return [training]
    known = training.get("member_training") or []
    if len(known) != len(model.members):  # an ensemble file without them: what it says
        known = [{k: v for k, v in training.items() if k != "member_training"}] * len(model.members)
    return known

