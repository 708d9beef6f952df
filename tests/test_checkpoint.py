"""Checkpoints: saving, loading, and resuming a run exactly (bitwise) where it stopped."""

import os
import signal

import numpy as np
import pytest

from digitnet import Callback, fit, mlp, save_model
from digitnet.checkpoint import (
    Checkpointer,
    catch_interrupts,
    default_path,
    load_checkpoint,
    save_checkpoint,
)
from digitnet.errors import ModelFileError
from digitnet.io import load_model
from digitnet.nn.layers import Layer
from digitnet.nn.optim import SGD
from digitnet.train import Position

N, BATCH = 203, 10  # 21 mini-batches per epoch, the last one short


@pytest.fixture(scope="module")
def xy():
    rng = np.random.default_rng(0)
    return rng.random((N, 784), dtype=np.float32), rng.integers(0, 10, N)


class Momentum(SGD):
    """An optimizer with state, both arrays and plain numbers, as Adam or momentum SGD."""

    def __init__(self, parameters, lr, beta=0.9):
        super().__init__(parameters, lr)
        self.beta, self.steps = beta, 0
        self.velocity = [np.zeros_like(p) for p, _ in self.parameters]

    def step(self):
        self.steps += 1
        for (param, grad), v in zip(self.parameters, self.velocity, strict=True):
            v *= self.beta
            v += grad
            param -= self.lr * v

    def state(self):
        return {"steps": self.steps, "velocity": {str(i): v for i, v in enumerate(self.velocity)}}

    def load_state(self, state):
        self.steps = state["steps"]
        for i, v in enumerate(self.velocity):
            v[...] = state["velocity"][str(i)]


class Noise(Layer):
    """A layer with its own random generator, as dropout has."""

    def __init__(self, seed):
        super().__init__()
        self.rng = np.random.default_rng(seed)

    def forward(self, x):
        return x + self.rng.normal(0, 0.01, x.shape).astype(x.dtype) if self.training else x

    def backward(self, grad):
        return grad


def make_run(seed=5):
    rng = np.random.default_rng(seed)
    net = mlp([784, 20, 10], "relu", "ce", init="he", rng=rng)
    net.layers.insert(1, Noise(seed + 1))
    return net, Momentum(net.parameters(), 0.05), rng


def weights(net):
    return {k: v.copy() for k, v in net.state_dict().items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


class StopAt(Callback):
    def __init__(self, checkpointer, epoch, batch):
        self.checkpointer, self.at = checkpointer, (epoch, batch)

    def on_batch_end(self, epoch, batch, loss):
        if (epoch, batch) == self.at:
            self.checkpointer.interrupt()


@pytest.mark.parametrize("epoch,batch", [(0, 0), (1, 7), (2, 20), (3, 19)])
def test_resume_mid_epoch_gives_bitwise_the_same_run(xy, tmp_path, epoch, batch):
    x, y = xy
    net, opt, rng = make_run()
    reference = fit(net, x, y, epochs=4, batch_size=BATCH, optimizer=opt, rng=rng,
                    validation=(x, y))
    expected = weights(net)

    path = tmp_path / "run.ckpt.npz"
    net, opt, rng = make_run()
    saver = Checkpointer(path, net, opt, rng)
    first = fit(net, x, y, epochs=4, batch_size=BATCH, optimizer=opt, rng=rng,
                validation=(x, y), callbacks=[StopAt(saver, epoch, batch), saver])
    assert first.stopped == Position(epoch, batch + 1, first.stopped.loss_sum,
                                     first.stopped.epoch_rng_state, first.stopped.seconds)
    assert len(first.epochs) == epoch
    saver.save(first.stopped)
    del net, opt, rng, saver

    checkpoint = load_checkpoint(path)
    net, opt, rng = make_run(seed=99)  # different weights and generators until restored
    checkpoint.restore(net, opt, rng)
    assert opt.steps == epoch * 21 + batch + 1
    rest = fit(net, x, y, epochs=4, batch_size=BATCH, optimizer=opt, rng=rng,
               validation=(x, y), resume=checkpoint.position)
    assert_same(weights(net), expected)
    losses = [r.loss for r in checkpoint.history + rest.epochs]
    assert losses == [r.loss for r in reference.epochs]
    assert [r.correct for r in checkpoint.history + rest.epochs] == \
        [r.correct for r in reference.epochs]


def test_epoch_end_checkpoints_hold_each_epoch(xy, tmp_path):
    x, y = xy
    net, opt, rng = make_run()
    path = tmp_path / "c.npz"
    seen = []

    class Look(Callback):
        def on_epoch_end(self, result, network):
            seen.append(load_checkpoint(path).position.epoch)

    saver = Checkpointer(path, net, opt, rng, settings={"lr": 0.05}, data={"n": N})
    fit(net, x, y, epochs=3, batch_size=BATCH, optimizer=opt, rng=rng, callbacks=[saver, Look()])
    assert seen == [1, 2, 3]
    checkpoint = load_checkpoint(path)
    assert checkpoint.position == Position(3)
    assert [r.epoch for r in checkpoint.history] == [0, 1, 2]
    assert checkpoint.settings == {"lr": 0.05} and checkpoint.data == {"n": N}
    assert checkpoint.rng_states["fit"] == rng.bit_generator.state
    assert checkpoint.rng_states["1.rng"] == net.layers[1].rng.bit_generator.state
    assert_same({k[4:]: v for k, v in checkpoint.arrays.items() if k.startswith("net/")},
                weights(net))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz"]  # no temporary left


def test_non_finite_weights_are_never_checkpointed(tmp_path):
    net, opt, rng = make_run()
    saver = Checkpointer(tmp_path / "c.npz", net, opt, rng)
    assert saver.save(Position(0))
    good = (tmp_path / "c.npz").read_bytes()
    net.layers[0].params["weight"][0, 0] = np.inf
    assert not saver.save(Position(1))
    assert (tmp_path / "c.npz").read_bytes() == good and saver.saved == Position(0)


def test_restore_refuses_another_network(tmp_path):
    net, opt, rng = make_run()
    save_checkpoint(tmp_path / "c.npz", net, opt, rng, Position(0), [])
    other = mlp([784, 21, 10], "relu", "ce", rng=0)
    with pytest.raises(ModelFileError, match="different network"):
        load_checkpoint(tmp_path / "c.npz").restore(other)


def test_checkpoints_and_models_are_not_mistaken_for_each_other(tmp_path):
    net, opt, rng = make_run()
    save_checkpoint(tmp_path / "c.npz", net, opt, rng, Position(0), [])
    save_model(tmp_path / "m.npz", mlp([784, 10]))
    with pytest.raises(ModelFileError, match="a training checkpoint, not a model: .* --resume"):
        load_model(tmp_path / "c.npz")
    with pytest.raises(ModelFileError, match="a model file, not a training checkpoint"):
        load_checkpoint(tmp_path / "m.npz")


def test_damaged_checkpoints_raise_one_error_type(tmp_path):
    net, opt, rng = make_run()
    path = tmp_path / "c.npz"
    save_checkpoint(path, net, opt, rng, Position(2, 3, 1.5, rng.bit_generator.state), [])
    data = path.read_bytes()
    for cut in range(0, len(data), max(1, len(data) // 97)):
        path.write_bytes(data[:cut])
        with pytest.raises(ModelFileError):
            load_checkpoint(path)
    with pytest.raises(ModelFileError, match="no such"):
        load_checkpoint(tmp_path / "absent.npz")


def test_default_path_sits_beside_the_model():
    assert str(default_path("runs/model.npz")) == os.path.join("runs", "model.ckpt.npz")
    assert str(default_path("model")) == "model.ckpt.npz"


def test_first_signal_asks_to_stop_second_interrupts():
    saver = Checkpointer("unused.npz", None, None, None)
    before = signal.getsignal(signal.SIGINT)
    with catch_interrupts(saver):
        os.kill(os.getpid(), signal.SIGTERM)
        assert saver.signal == signal.SIGTERM
        assert saver.on_batch_end(0, 0, 1.0)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


def test_resume_with_dropout_adam_and_a_cnn_is_exact(tmp_path):
    """The real layers and optimizers: Dropout draws from its own generator, Adam
    keeps moments and a step count, and a convolution trains; stopped mid-epoch and
    resumed, the weights are still bitwise those of the uninterrupted run."""
    from digitnet.nn import Network, layers, losses
    from digitnet.nn.conv import Conv2D, Flatten, MaxPool2D
    from digitnet.nn.optim import Adam
    from digitnet.nn.regularization import Dropout

    rng0 = np.random.default_rng(1)
    x, y = rng0.random((64, 1, 8, 8), dtype=np.float32), rng0.integers(0, 10, 64)

    def make(seed):
        rng = np.random.default_rng(seed)
        net = Network([Conv2D(1, 4, 3, padding=1, rng=rng), layers.ReLU(), MaxPool2D(2),
                       Flatten(), Dropout(0.3, rng=np.random.default_rng(seed + 1)),
                       layers.Linear(64, 10, "he", rng)], losses.get("ce"), (1, 8, 8))
        return net, Adam(net.parameters(), 1e-2), rng

    net, opt, rng = make(0)
    fit(net, x, y, epochs=3, batch_size=8, optimizer=opt, rng=rng)
    expected = weights(net)

    net, opt, rng = make(0)
    saver = Checkpointer(tmp_path / "c.npz", net, opt, rng)
    stopped = fit(net, x, y, epochs=3, batch_size=8, optimizer=opt, rng=rng,
                  callbacks=[StopAt(saver, 1, 4), saver]).stopped
    saver.save(stopped)
    net, opt, rng = make(7)
    checkpoint = load_checkpoint(tmp_path / "c.npz")
    checkpoint.restore(net, opt, rng)
    assert opt.t == 8 + 5 and "4.rng" in checkpoint.rng_states
    fit(net, x, y, epochs=3, batch_size=8, optimizer=opt, rng=rng, resume=checkpoint.position)
    assert_same(weights(net), expected)
