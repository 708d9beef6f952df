"""The settings of a training run: one schema, and the checks every run passes before
any setting reaches a network.

A run's *training settings* (``SETTINGS``) say what to train and how: a recipe of
``digitnet.recipes`` with some keys overridden (``digitnet train`` has one flag per
overridable key, ``--batch-size`` for ``batch_size``). Beside them a run has the few
settings of ``RUN_DEFAULTS``, which a resumed run takes from its checkpoint.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import DigitnetError

#: The settings that belong to a run rather than to its training, and their defaults.
RUN_DEFAULTS: dict[str, Any] = {"recipe": "seed", "seed": 2, "dtype": "float32",
                                "monitor": "validation", "dataset": "mnist"}
_NUMBER = (int, float)


@dataclass(frozen=True)
class Setting:
    """A training setting: its JSON type, and whether a flag of its name overrides it."""

    kind: type | tuple[type, ...]
    flag: bool = True


#: Every training setting, each listed once.
SETTINGS: dict[str, Setting] = {
    "model": Setting(str, flag=False),  # "mlp" or "cnn"
    "sizes": Setting(list), "channels": Setting(list), "kernel": Setting(int),
    "convs": Setting(int), "hidden": Setting(int),
    "outputs": Setting(int, flag=False),  # a CNN's classes, from the data
    "batchnorm": Setting(bool), "activation": Setting(str), "cost": Setting(str),
    "output": Setting(str), "init": Setting(str), "epochs": Setting(int),
    "batch_size": Setting(int), "lr": Setting(_NUMBER), "optimizer": Setting(str),
    "momentum": Setting(_NUMBER), "nesterov": Setting(bool), "weight_decay": Setting(_NUMBER),
    "dropout": Setting(_NUMBER), "schedule": Setting(str),
    "warmup": Setting(int, flag=False),  # epochs of warm-up before the schedule
    "augment": Setting(str), "clip": Setting(_NUMBER), "members": Setting(int),
    "full": Setting(bool), "start_from": Setting(str), "average_from": Setting(int),
}
#: The settings a flag (or a keyword of ``training.run``) may override.
OVERRIDES = tuple(key for key, setting in SETTINGS.items() if setting.flag)
#: Settings that must be present and positive for a run to start at all.
REQUIRED_POSITIVE = ("epochs", "batch_size", "lr")
#: The side of the images a CNN reads.
IMAGE_SIDE = 28
#: Settings that only SGD uses.
SGD_ONLY = ("momentum", "nesterov")


def fail(message: str):
    raise DigitnetError(message)


def resolve(base: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> dict:
    """``base`` (a recipe's settings, or a checkpoint's) with the ``overrides`` that are
    not None, checked. SGD's own settings are refused when given with Adam, and a
    recipe's are dropped then (the run's metadata would record settings that did
    nothing)."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(overrides) - set(OVERRIDES))
    if unknown:
        raise ValueError(f"unknown training settings: {', '.join(unknown)}")
    settings = {**base, **overrides}
    if settings.get("optimizer", "sgd") == "adam":
        for key in SGD_ONLY:
            if overrides.get(key) not in (None, False, 0):
                fail(f"--{key} is for --optimizer sgd; Adam keeps its own moment estimates")
            settings.pop(key, None)
    check(settings)
    return settings


def from_recipe(recipe: str, overrides: Mapping[str, Any] | None = None) -> dict:
    """The settings of recipe ``recipe`` with ``overrides``, checked."""
    from ..recipes import RECIPES

    if recipe not in RECIPES:
        fail(f"unknown recipe {recipe!r}; choose from {', '.join(RECIPES)}")
    return resolve(RECIPES[recipe], overrides)


def check(settings: Mapping[str, Any]) -> None:
    """Refuse settings that contradict each other or could not train."""
    if settings.get("model", "mlp") == "mlp":
        sizes = settings["sizes"]
        if len(sizes) < 2 or sizes[0] != 784:
            fail(f"--sizes must start with 784 inputs and end with one output per class, not {sizes}")
        for flag in ("channels", "kernel", "convs", "hidden", "batchnorm"):
            if settings.get(flag) is not None:
                fail(f"--{flag} is for CNN recipes (cnn, ensemble); this recipe builds an MLP")
    elif settings.get("sizes") is not None:
        fail("--sizes is for MLP recipes; give a CNN --channels and --hidden")
    else:
        check_convolutions(settings["channels"], settings.get("kernel", 3))
    if not 0 <= (settings.get("dropout") or 0) < 1:
        fail(f"--dropout must be in [0, 1), not {settings['dropout']}")
    if not 0 <= (settings.get("momentum") or 0) < 1:
        fail(f"--momentum must be in [0, 1), not {settings['momentum']}")
    if not 0 <= (settings.get("weight_decay") or 0) < math.inf:
        fail(f"--weight-decay must be a non-negative number, not {settings['weight_decay']}")
    average_from = settings.get("average_from")
    if average_from is not None and average_from >= settings["epochs"]:
        fail(f"--average-from {average_from}: the run's last epoch is {settings['epochs'] - 1} "
             f"(--epochs {settings['epochs']}, counted from 0), so nothing would be averaged")


def check_convolutions(channels: list[int], kernel: int) -> None:
    """Each convolution keeps its map's side and the 2x2 pool after it halves it: refuse
    more stages than halve 28 to 1, and a kernel wider than the map it slides over
    (padded, it would still run, but as a huge and pointless computation)."""
    sides = [IMAGE_SIDE >> i for i in range(len(channels))]
    if (IMAGE_SIDE >> len(channels)) < 1:
        most = IMAGE_SIDE.bit_length() - 1
        fail(f"--channels: {len(channels)} convolution stages are too many for a "
             f"{IMAGE_SIDE}x{IMAGE_SIDE} image (each 2x2 pool halves it; at most {most})")
    if kernel % 2 == 0:
        fail(f"--kernel must be odd (a centred k x k window), not {kernel}")
    if kernel > sides[-1]:
        fail(f"--kernel {kernel} is wider than the {sides[-1]}x{sides[-1]} feature maps of "
             f"stage {len(channels)}; use at most {sides[-1] - (sides[-1] % 2 == 0)}")


def fit_outputs(settings: dict, classes: list, explicit_sizes: bool) -> None:
    """Make the output layer one neuron per class of the data."""
    n = len(classes)
    if settings.get("model", "mlp") == "mlp":
        if settings["sizes"][-1] != n:
            if explicit_sizes:
                fail(f"--sizes ends with {settings['sizes'][-1]} outputs, the data has {n} classes")
            settings["sizes"] = [*settings["sizes"][:-1], n]
    else:
        settings["outputs"] = n


def describe(settings: Mapping[str, Any]) -> str:
    """The network in a few words: ``[784, 30, 10] sigmoid/quadratic``."""
    if settings.get("model", "mlp") == "cnn":
        shape = "conv" + "-conv".join(map(str, settings["channels"])) + f"-fc{settings['hidden']}"
        if settings.get("kernel", 3) != 3:
            shape += f" ({settings['kernel']}x{settings['kernel']} kernels)"
        if settings.get("convs", 1) != 1:
            shape += f" ({settings['convs']} convolutions per stage)"
    else:
        shape = str(settings["sizes"])
    return f"{shape} {settings['activation']}/{settings['cost']}"


def _training_problem(training: Mapping[str, Any]) -> str | None:
    for key, value in training.items():
        setting = SETTINGS.get(key)
        if setting is None or value is None:
            continue
        kind = setting.kind
        if type(value) is bool and kind is not bool or not isinstance(value, kind):
            return f"settings.training.{key} is {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"settings.training.{key} is {value!r}"
        if isinstance(value, list) and not all(type(v) is int and v > 0 for v in value):
            return f"settings.training.{key} is {value!r}, not a list of positive whole numbers"
    for key in REQUIRED_POSITIVE:
        if not (type(training.get(key)) in _NUMBER and training[key] > 0):
            return f"settings.training.{key} is {training.get(key)!r}, not a positive number"
    model = training.get("model", "mlp")
    if model not in ("mlp", "cnn"):
        return f"settings.training.model is {model!r}"
    required = ("sizes",) if model == "mlp" else ("channels", "hidden")
    for key in (*required, "activation", "cost", "init"):
        if training.get(key) is None:
            return f"settings.training lacks {key}"
    return None


def checkpoint_problem(saved: Any) -> str | None:
    """What is wrong with the settings document of a checkpoint (edited, or not written
    by a training run), or None: checked before any of it reaches the network."""
    from ..recipes import RECIPES

    if not isinstance(saved, dict):
        return f"its settings are {type(saved).__name__}, not an object"
    training = saved.get("training")
    if not isinstance(training, dict):
        return "its settings.training is not an object"
    problem = _training_problem(training)
    if problem:
        return problem
    for key, kind in (("seed", int), ("data_dir", str), ("test", str), ("log", str)):
        value = saved.get(key)
        if value is not None and (not isinstance(value, kind) or type(value) is bool):
            return f"settings.{key} is {value!r}"
    if type(saved.get("seed", 0)) is int and saved.get("seed", 0) < 0:
        return f"settings.seed is {saved['seed']}"
    for key, choices in (("recipe", RECIPES), ("dtype", ("float32", "float64")),
                         ("monitor", ("validation", "test")),
                         ("dataset", ("mnist", "fashion-mnist", "idx"))):
        if key in saved and saved[key] not in choices:
            return f"settings.{key} is {saved[key]!r}"
    if not isinstance(saved.get("commands", []), list):
        return "settings.commands is not a list"
    try:
        check(dict(training))
    except DigitnetError as e:
        return str(e)
    return None
