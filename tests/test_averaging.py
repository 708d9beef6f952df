"""Weight averaging (SWA): the running mean of the weights, batch-norm statistics
gathered again, the training callback and `digitnet train --start-from/--average-from`."""

import numpy as np
import pytest

from digitnet.io import load_model
from digitnet.nn import BatchNorm, Dropout, Linear, Network, ReLU, SoftmaxCrossEntropy, mlp
from digitnet.nn.averaging import WeightAverage, update_batchnorm
from digitnet.train import AverageWeights, Callback, fit
from helpers import one_line_refusal, run


def bn_net(rng=0, dtype=np.float64):
    rng = np.random.default_rng(rng)
    layers = [Linear(6, 5, "he", rng, dtype), BatchNorm(5, dtype=dtype), ReLU(),
              Dropout(0.5, rng=rng), Linear(5, 3, "he", rng, dtype)]
    return Network(layers, SoftmaxCrossEntropy(), (6,))


def test_the_average_is_the_mean_of_the_snapshots():
    net = mlp([4, 3, 2], rng=0, dtype=np.float64)
    average = WeightAverage(net)
    seen = []
    for k in range(3):
        for param, _ in net.parameters():
            param += k + 0.25 * param
        seen.append([param.copy() for param, _ in net.parameters()])
        average.update()
    other = mlp([4, 3, 2], rng=1, dtype=np.float64)
    average.copy_to(other)
    for i, (param, _) in enumerate(other.parameters()):
        np.testing.assert_allclose(param, np.mean([s[i] for s in seen], axis=0), rtol=1e-12)
    # the averaged network itself is untouched until copy_to() without an argument
    np.testing.assert_array_equal(net.parameters()[0][0], seen[-1][0])


def test_copying_an_empty_average_is_refused():
    with pytest.raises(ValueError, match="no weights averaged"):
        WeightAverage(mlp([4, 3, 2], rng=0)).copy_to()


def test_the_average_survives_a_round_trip_through_its_state():
    net = mlp([4, 3, 2], rng=0)
    average = WeightAverage(net)
    average.update()
    net.parameters()[0][0][...] += 1
    average.update()
    again = WeightAverage(net)
    again.load_state(average.state())
    assert again.count == 2
    for a, b in zip(again.means, average.means):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="arrays"):
        WeightAverage(mlp([4, 3, 3, 2], rng=0)).load_state(average.state())


def test_update_batchnorm_gathers_the_plain_mean_and_variance_of_the_data():
    rng = np.random.default_rng(1)
    x = rng.normal(2.0, 3.0, (400, 6))
    net = bn_net()
    norm, dropout = net.layers[1], net.layers[3]
    norm.running_mean[...], norm.running_var[...] = 7.0, 9.0  # stale statistics
    net.train(False)
    before = dropout.rng.bit_generator.state
    update_batchnorm(net, x, batch_size=100)
    z = net.layers[0].forward(x)
    np.testing.assert_allclose(norm.running_mean, z.mean(axis=0), rtol=1e-10)
    # the mean of the four batches' unbiased variances
    batch_vars = [z[i:i + 100].var(axis=0, ddof=1) for i in range(0, 400, 100)]
    np.testing.assert_allclose(norm.running_var, np.mean(batch_vars, axis=0), rtol=1e-10)
    assert norm.momentum == 0.1 and not any(layer.training for layer in net.layers)
    assert dropout.rng.bit_generator.state == before  # dropout did not drop


def test_update_batchnorm_skips_a_last_batch_of_one_example():
    x = np.random.default_rng(2).normal(size=(201, 6))
    net = bn_net()
    update_batchnorm(net, x, batch_size=100)
    z = net.layers[0].forward(x[:200])
    np.testing.assert_allclose(net.layers[1].running_mean, z.mean(axis=0), rtol=1e-10)


def test_fit_with_averaging_ends_on_the_mean_of_the_epochs_weights():
    rng = np.random.default_rng(3)
    x, labels = rng.normal(size=(120, 6)), rng.integers(0, 3, 120)

    class Record(Callback):
        def __init__(self):
            self.snapshots = []

        def on_epoch_end(self, result, network):
            self.snapshots.append([p.copy() for p, _ in network.parameters()])

    net, record = bn_net(), Record()
    fit(net, x, labels, epochs=5, batch_size=20, lr=0.1, rng=0,
        callbacks=[record, AverageWeights(net, x, start=2)])
    for i, (param, _) in enumerate(net.parameters()):
        expected = np.mean([s[i] for s in record.snapshots[2:]], axis=0)
        np.testing.assert_allclose(param, expected, rtol=1e-12)
    h = net.layers[0].forward(x)  # statistics of the averaged weights, not the last ones
    np.testing.assert_allclose(net.layers[1].running_mean, h.mean(axis=0), rtol=1e-10)


# -- digitnet train --start-from / --average-from ------------------------------------

def train(capsys, data, out, *extra):
    return run(capsys, "train", "--data", data, "--recipe", "relu", "--sizes", 784, 16, 10,
               "--out", out, "--quiet", *extra)


@pytest.fixture
def start(tmp_path, tiny_mnist, capsys):
    out = tmp_path / "start.npz"
    code, _, err = train(capsys, tiny_mnist, out, "--epochs", 2)
    assert code == 0, err
    return out


def test_start_from_continues_from_the_models_weights(start, tiny_mnist, tmp_path, capsys):
    out = tmp_path / "tuned.npz"
    code, _, err = train(capsys, tiny_mnist, out, "--epochs", 1, "--lr", 1e-9, "--start-from", start)
    assert code == 0, err
    # with a negligible rate, one epoch leaves the starting weights all but unchanged
    for name, value in load_model(start).state_dict().items():
        np.testing.assert_allclose(load_model(out).state_dict()[name], value, atol=1e-6)
    training = load_model(out).metadata["training"]
    assert training["start_from"] == str(start)
    assert training["start_from_command"] == load_model(start).metadata["training"]["command"]


def test_average_from_saves_the_mean_of_the_epochs(start, tiny_mnist, tmp_path, capsys):
    out, log = tmp_path / "swa.npz", tmp_path / "swa.jsonl"
    code, _, err = train(capsys, tiny_mnist, out, "--epochs", 3, "--start-from", start,
                         "--average-from", 1, "--schedule", "constant")
    assert code == 0, err
    plain = tmp_path / "plain.npz"
    assert train(capsys, tiny_mnist, plain, "--epochs", 3, "--start-from", start)[0] == 0
    # same run but for the averaging: the saved weights differ from the last epoch's
    averaged, last = load_model(out).state_dict(), load_model(plain).state_dict()
    assert any(not np.allclose(averaged[k], last[k]) for k in averaged)
    assert load_model(out).metadata["training"]["average_from"] == 1
    assert not log.exists()


@pytest.mark.parametrize("extra, words", [
    (["--average-from", "3"], ["--average-from 3", "last epoch is 2"]),
    (["--start-from", "missing.npz"], ["--start-from missing.npz", "no such model file"]),
])
def test_bad_averaging_settings_are_one_line(tiny_mnist, tmp_path, capsys, extra, words):
    code, _, err = train(capsys, tiny_mnist, tmp_path / "m.npz", "--epochs", 3, *extra)
    one_line_refusal(code, err, *words)
    assert not (tmp_path / "m.npz").exists()


def test_start_from_another_architecture_is_refused(start, tiny_mnist, tmp_path, capsys):
    code, _, err = run(capsys, "train", "--data", tiny_mnist, "--recipe", "relu", "--sizes",
                       784, 32, 10, "--epochs", 1, "--start-from", start, "--out",
                       tmp_path / "m.npz", "--quiet")
    one_line_refusal(code, err, "--start-from", "shape")


def test_start_from_an_ensemble_is_refused(start, tiny_mnist, tmp_path, capsys):
    ensemble, other = tmp_path / "ens.npz", tmp_path / "other.npz"
    assert train(capsys, tiny_mnist, other, "--epochs", 1, "--seed", 5)[0] == 0
    code, _, err = run(capsys, "ensemble", start, other, "--out", ensemble, "--data", tiny_mnist)
    assert code == 0, err
    code, _, err = train(capsys, tiny_mnist, tmp_path / "m.npz", "--epochs", 1,
                         "--start-from", ensemble)
    one_line_refusal(code, err, "ensemble of 2 networks")


def test_an_ensemble_recipe_refuses_start_from(start, tiny_mnist, tmp_path, capsys):
    code, _, err = train(capsys, tiny_mnist, tmp_path / "m.npz", "--epochs", 1, "--members", 2,
                         "--start-from", start)
    one_line_refusal(code, err, "--start-from", "digitnet ensemble")
