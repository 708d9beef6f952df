"""An ensemble trained as several complete runs from consecutive seeds (the ``members``
setting), each saved beside the ensemble's file and reused when already there, then
averaged into one model file."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..checkpoint import default_path
from ..errors import DigitnetError
from ..io import load_model, read_config, save_model
from ..nn.ensemble import Ensemble
from ..train import evaluate
from .session import RunSpec, command_line, data_fingerprint, prepare_data

#: What a member's recorded training holds beside its settings, seed, dtype and data.
_NOT_SETTINGS = ("data", "train_images", "seconds", "digitnet_version", "command", "resumed",
                 "environment", "members")  # a member resumed before this fix recorded --members


@dataclass
class EnsembleResult:
    """``status`` is non-zero when a member's training stopped (interrupted): nothing is
    saved then. Otherwise the counts of digits the ensemble got right."""

    status: int = 0
    validation: int | None = None
    n_validation: int = 0
    test: int | None = None
    n_test: int = 0


def fail(message: str):
    raise DigitnetError(message)


def member_paths(out: str | Path, members: int) -> list[str]:
    """``model.npz`` -> ``model.member0.npz``, ``model.member1.npz``, ..."""
    stem = str(out).removesuffix(".npz")
    return [f"{stem}.member{i}.npz" for i in range(members)]


def member_settings(settings: dict) -> dict:
    """The settings of one member: the ensemble's, one network."""
    return {k: v for k, v in settings.items() if k != "members"}


def check_member(path: str, expected: dict) -> None:
    """Reuse the member file ``path`` only if it was trained as this run would train it."""
    training = read_config(path).get("training")
    recorded = {k: v for k, v in training.items() if k not in _NOT_SETTINGS} \
        if isinstance(training, dict) else None
    if recorded != json.loads(json.dumps(expected)):
        differ = sorted(k for k in set(expected) | set(recorded or {})
                        if (recorded or {}).get(k) != expected.get(k))
        fail(f"{path} is a member trained with other settings or data ({', '.join(differ)}); "
             f"delete it to train it again, or choose another --out")


def check_resumable(out: str | Path, paths: list[str]) -> None:
    """Resuming an ensemble continues its members: there must be one to continue, and
    ``out``'s own checkpoint (a single run) is not one of them."""
    single = default_path(out)
    if single.exists():
        fail(f"{single} is the checkpoint of a single run, not of an ensemble's members: "
             f"resume it without --members (and without --recipe ensemble)")
    if not any(Path(p).exists() or default_path(p).exists() for p in paths):
        fail(f"--resume: no member of this ensemble to continue ({default_path(paths[0])}, "
             f"...); start without --resume")


def check_settings(settings: dict) -> None:
    """Refuse what an ensemble's members cannot share."""
    if settings.get("start_from"):
        fail("--start-from gives one network's weights; train an ensemble's members one at a "
             "time with it, then join them with digitnet ensemble")


def train(spec: RunSpec, out: str | Path, data, train_member: Callable[[int, str, int], int | None],
          reused: Callable[[int, str], None] = lambda i, path: None,
          explicit_sizes: bool = False) -> EnsembleResult:
    """Train (or reuse) each member with ``train_member(i, path, seed)``, which returns
    a non-zero status if the member's run stopped, then save their average to ``out``."""
    settings = spec.settings
    check_settings(settings)
    members = settings["members"]
    paths = member_paths(out, members)
    single = member_settings(settings)
    data = prepare_data(data, single, explicit_sizes)
    fingerprint = data_fingerprint(data)["train_sha256"]
    start = time.perf_counter()
    for i, path in enumerate(paths):
        if Path(path).exists():
            check_member(path, {"recipe": spec.recipe, **single, "seed": spec.seed + i,
                                "dtype": spec.dtype, "data_sha256": fingerprint})
            reused(i, path)
            continue
        status = train_member(i, path, spec.seed + i)
        if status:
            return EnsembleResult(status)
    ensemble = Ensemble([load_model(p) for p in paths])
    val = evaluate(ensemble, data.validation.x, data.validation.y) if len(data.validation) else None
    test = evaluate(ensemble, data.test.x, data.test.y)
    save_model(out, ensemble, {
        "classes": data.classes,
        "training": {"recipe": spec.recipe, **settings, "seed": spec.seed,
                     "member_seeds": [spec.seed + i for i in range(members)],
                     "seconds": round(time.perf_counter() - start, 2),
                     "command": command_line()},
        "metrics": {"validation_accuracy": val / len(data.validation) if val is not None else None,
                    "test_accuracy": test / len(data.test) if len(data.test) else None,
                    "member_validation_accuracy": [
                        read_config(p)["metrics"]["validation_accuracy"] for p in paths]},
    })
    return EnsembleResult(0, val, len(data.validation), test, len(data.test))
