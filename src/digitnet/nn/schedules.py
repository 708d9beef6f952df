"""Learning-rate schedules: functions of the epoch (a float: 2.5 is half-way
through epoch 2) returning the factor by which the base learning rate is multiplied."""

import math


def constant():
    return lambda epoch: 1.0


def step(every, gamma=0.1):
    """Multiply by ``gamma`` every ``every`` epochs."""
    return lambda epoch: gamma ** int(epoch // every)


def cosine(epochs, warmup=0.0, floor=0.0):
    """Linear warm-up over ``warmup`` epochs, then a cosine decay to ``floor`` at ``epochs``."""
    def factor(epoch):
        if warmup and epoch < warmup:
            return (epoch + 1e-3) / warmup
        progress = min(1.0, (epoch - warmup) / max(epochs - warmup, 1e-9))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
    return factor


def get(name, epochs, warmup=0.0):
    if name in (None, "constant"):
        return constant()
    if name == "cosine":
        return cosine(epochs, warmup)
    if name.startswith("step"):
        return step(max(1, epochs // 3))
    raise ValueError(f"unknown schedule {name!r}; choose constant, step or cosine")
