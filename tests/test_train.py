import numpy as np
import pytest

from digitnet import Callback, TrainingDiverged, fit, mlp
from digitnet.data import mnist


@pytest.fixture
def data(tiny_mnist):
    return mnist.load("mnist", tiny_mnist)


def test_fit_learns_and_reports_each_epoch(data):
    net = mlp([784, 30, 10], rng=0)
    seen = []

    class Record(Callback):
        def on_epoch_end(self, result, network):
            seen.append(result)

    history = fit(net, data.train.x, data.train.y, epochs=3, batch_size=10, lr=3.0, rng=0,
                  validation=(data.validation.x, data.validation.y), callbacks=[Record()])
    assert seen == history.epochs and [r.epoch for r in seen] == [0, 1, 2]
    assert seen[-1].total == 100 and seen[-1].accuracy > 0.9
    assert seen[-1].loss < seen[0].loss


def test_same_seed_same_weights(data):
    def train():
        net = mlp([784, 10, 10], rng=1)
        fit(net, data.train.x, data.train.y, epochs=1, batch_size=7, lr=1.0, rng=2)
        return [p.copy() for p, _ in net.parameters()]

    for a, b in zip(train(), train()):
        np.testing.assert_array_equal(a, b)


def test_callback_can_stop_training(data):
    class StopAfterOne(Callback):
        def on_epoch_end(self, result, network):
            return True

    history = fit(mlp([784, 10]), data.train.x, data.train.y, epochs=5, callbacks=[StopAfterOne()])
    assert len(history.epochs) == 1


@pytest.mark.parametrize("cost", ["ce", "bce"])
def test_overflowing_weights_stop_training_with_a_clear_error(data, cost):
    """No NumPy warning escapes (warnings are errors here): only TrainingDiverged."""
    net = mlp([784, 30, 10], "relu", cost, rng=0)
    with pytest.raises(TrainingDiverged, match="smaller"):
        fit(net, data.train.x, data.train.y, epochs=3, batch_size=10, lr=1e37, rng=0)


def test_float64_training(data):
    net = mlp([784, 10], dtype=np.float64, rng=0)
    before = net.predict(data.validation.x)
    history = fit(net, data.train.x, data.train.y, epochs=2,
                  validation=(data.validation.x, data.validation.y))
    assert net.parameters()[0][0].dtype == np.float64
    assert history.epochs[1].loss < history.epochs[0].loss
    assert history.epochs[-1].correct > (before == data.validation.y).sum()


def test_blas_threads_one_thread_only_for_small_dense_batches():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from digitnet.recipes import build_network
    from digitnet.train import blas_threads

    def threads():
        return {p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"}

    dense = mlp([784, 128, 64, 10], "relu", "ce", init="he", rng=0)
    cnn = build_network(dict(model="cnn", channels=[2, 3], hidden=5, activation="relu", cost="ce",
                             init="he"), np.random.default_rng(0))
    before = threads()
    if before == {1}:
        pytest.skip("BLAS runs on one thread here anyway")
    with blas_threads(dense, 32):
        assert threads() == {1}
    for network, batch in ((dense, 128), (cnn, 32)):
        with blas_threads(network, batch):
            assert threads() == before
