"""Pins the result of short seeded training runs, so that an optimisation that
changes the math is caught. Measured before the speed work; float32 rounding may
move the last digits, nothing more."""

import os

import numpy as np
import pytest

from digitnet import fit, mlp
from digitnet.data import mnist

DATA = os.environ.get("DIGITNET_DATA")

PINNED = [
    # sizes, activation, cost, init, batch size, eta -> (loss, correct) per epoch, sum |w|
    (([784, 30, 10], "sigmoid", "quadratic", "normal", 10, 3.0),
     [(0.331914495241642, 1405), (0.15577907954156398, 1611)], 19050.69140625),
    (([784, 128, 64, 10], "relu", "ce", "he", 32, 0.1),
     [(0.7245947693824768, 1633), (0.30729443216323854, 1781)], 5131.201171875),
]


@pytest.mark.skipif(not DATA, reason="set DIGITNET_DATA to the MNIST folder")
@pytest.mark.parametrize("settings,epochs,weight_sum", PINNED)
def test_short_seeded_run_is_unchanged(settings, epochs, weight_sum):
    sizes, activation, cost, init, batch_size, lr = settings
    data = mnist.load("mnist", DATA)
    net = mlp(sizes, activation, cost, init=init, rng=0)
    history = fit(net, data.train.x[:5000], data.train.y[:5000], epochs=2, batch_size=batch_size,
                  lr=lr, rng=0, validation=(data.validation.x[:2000], data.validation.y[:2000]))
    for result, (loss, correct) in zip(history.epochs, epochs, strict=True):
        assert result.loss == pytest.approx(loss, rel=1e-4)
        assert abs(result.correct - correct) <= 3
    total = float(sum(np.abs(p).sum() for p, _ in net.parameters()))
    assert total == pytest.approx(weight_sum, rel=1e-4)
