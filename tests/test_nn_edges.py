"""Edge cases of the core: training and evaluation modes, degenerate shapes and
settings, ties, scalars. Each of these was once wrong."""

import numpy as np
import pytest

from digitnet import fit, load_model, save_model
from digitnet.errors import ModelFileError
from digitnet.nn import Network, losses
from digitnet.nn import functional as F
from digitnet.nn.conv import Conv2D, Flatten, MaxPool2D, Reshape
from digitnet.nn.layers import Linear, ReLU
from digitnet.nn.optim import SGD
from digitnet.nn.regularization import BatchNorm, Dropout
from digitnet.train import Callback, EarlyStopping


def dropout_net(seed=0):
    rng = np.random.default_rng(seed)
    return Network([Linear(6, 8, "he", rng), BatchNorm(8), ReLU(), Dropout(0.5, rng=rng),
                    Linear(8, 3, "he", rng)], losses.SoftmaxCrossEntropy(), (6,))


def test_a_hand_written_training_loop_trains_with_dropout_and_batch_statistics():
    net = dropout_net()
    x = np.random.default_rng(1).standard_normal((16, 6)).astype(np.float32)
    y = F.one_hot(np.arange(16) % 3, 3)
    net.loss_and_gradients(x, y)  # the tutorials' loop: no train() call before it
    SGD(net.parameters(), 0.1).step()
    assert net.layers[3].mask is not None                 # dropout dropped
    assert np.abs(net.layers[1].running_mean).sum() > 0   # running statistics moved


def test_predicting_keeps_the_mode_it_found(tmp_path):
    net = dropout_net()
    x = np.ones((4, 6), np.float32)
    net.train(True)
    first = net.predict_proba(x)
    assert all(layer.training for layer in net.layers)
    np.testing.assert_array_equal(net.predict_proba(x), first)  # evaluation: no dropout
    net.train(False)
    net.predict_proba(x)
    assert not any(layer.training for layer in net.layers)
    save_model(tmp_path / "m.npz", net.train(True))
    assert not any(layer.training for layer in load_model(tmp_path / "m.npz").layers)


def test_a_callback_that_predicts_mid_epoch_leaves_training_on():
    x = np.random.default_rng(0).random((60, 784), np.float32)
    labels = np.arange(60) % 10
    net = Network([Linear(784, 16, "he", np.random.default_rng(0)), ReLU(),
                   Dropout(0.5, rng=np.random.default_rng(1)),
                   Linear(16, 10, "he", np.random.default_rng(2))], losses.SoftmaxCrossEntropy(), (784,))
    seen = []

    class Peek(Callback):
        def on_batch_end(self, epoch, batch, loss):
            net.predict(x[:5])
            seen.append(net.layers[2].training)

    fit(net, x, labels, epochs=1, batch_size=20, lr=0.1, rng=0, callbacks=[Peek()])
    assert seen and all(seen)


def test_relu_changes_a_gradient_it_is_given_only_inside_a_network():
    relu = ReLU()
    relu.forward(np.array([[1.0, -1.0]]))
    grad = np.ones((1, 2))
    np.testing.assert_array_equal(relu.backward(grad), [[1.0, 0.0]])
    np.testing.assert_array_equal(grad, [[1.0, 1.0]])


def test_max_pool_gives_a_tied_maximum_its_gradient_once():
    pool = MaxPool2D(2)
    x = np.array([[[[3.0, 3.0, 1.0, 5.0],
                    [3.0, 3.0, 5.0, 0.0]]]])
    pool.forward(x)
    dx = pool.backward(np.array([[[[1.0, 2.0]]]]))
    np.testing.assert_array_equal(dx, [[[[1.0, 0.0, 0.0, 2.0],
                                          [0.0, 0.0, 0.0, 0.0]]]])
    torch = pytest.importorskip("torch")
    t = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(t, 2).backward(torch.tensor([[[[1.0, 2.0]]]], dtype=t.dtype))
    np.testing.assert_array_equal(dx, t.grad.numpy())


@pytest.mark.parametrize("make, message", [
    (lambda: MaxPool2D(0), "invalid pooling size"),
    (lambda: Conv2D(1, 2, 3, init="bogus"), "unknown initialisation"),
    (lambda: BatchNorm(0), "invalid BatchNorm"),
    (lambda: BatchNorm(3, eps=-1.0), "invalid BatchNorm"),
    (lambda: BatchNorm(3, momentum=2.0), "invalid BatchNorm")])
def test_impossible_settings_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_windows_larger_than_the_input_are_refused():
    with pytest.raises(ValueError, match="pooling window does not fit a 3x3 input"):
        MaxPool2D(4).forward(np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="5x5 kernel does not fit a 3x3 input"):
        Conv2D(1, 1, 5, rng=np.random.default_rng(0)).forward(np.zeros((1, 1, 3, 3), np.float32))


def cnn(pool=2):
    rng = np.random.default_rng(0)
    return Network([Reshape((1, 6, 6)), Conv2D(1, 2, 3, padding=1, rng=rng), ReLU(),
                    MaxPool2D(pool), Flatten(), Linear(18, 3, "he", rng)],
                   losses.SoftmaxCrossEntropy(), (36,))


def test_model_files_with_impossible_layers_are_one_line_errors(tmp_path):
    from test_fuzz import rewrite_config

    for size, message in [(0, "invalid pooling size"), (7, "does not fit")]:
        path = tmp_path / f"pool{size}.npz"
        save_model(path, cnn())
        rewrite_config(path, lambda net, size=size: [layer.update(size=size) for layer in net["layers"]
                                                     if layer["type"] == "MaxPool2D"])
        with pytest.raises(ModelFileError, match=message):
            load_model(path)


def test_negative_running_variance_in_a_model_file_is_refused(tmp_path):
    net = dropout_net()
    net.layers[1].running_var[...] = -1.0
    save_model(tmp_path / "bn.npz", net)
    with pytest.raises(ModelFileError, match="negative variances"):
        load_model(tmp_path / "bn.npz")


def test_batch_norm_refuses_to_train_on_one_example_and_fit_skips_it():
    net = dropout_net()
    with pytest.raises(ValueError, match="more than one value per feature"):
        net.loss_and_gradients(np.ones((1, 6), np.float32), F.one_hot([1], 3))
    x = np.random.default_rng(3).standard_normal((21, 6)).astype(np.float32)
    labels = np.arange(21) % 3
    before = net.layers[1].running_var.copy()
    history = fit(net, x, labels, epochs=2, batch_size=10, lr=0.1, rng=0)  # 10 + 10 + 1
    assert len(history.epochs) == 2 and np.isfinite(history.epochs[-1].loss)
    assert not np.allclose(net.layers[1].running_var, before)
    assert (net.layers[1].running_var > 0.05).all()  # no batch of one shrank it


def test_early_stopping_needs_validation_data():
    net = dropout_net()
    x = np.zeros((10, 6), np.float32)
    with pytest.raises(ValueError, match="early stopping watches validation accuracy"):
        fit(net, x, np.zeros(10, int), epochs=1, callbacks=[EarlyStopping()])


@pytest.mark.parametrize("labels", [[0, -1], [0, 3], [0.5, 1.0]])
def test_labels_outside_the_classes_are_refused(labels):
    with pytest.raises(ValueError, match="labels must be whole numbers from 0 to 2"):
        F.one_hot(np.array(labels), 3)


def test_sigmoid_of_scalars_and_integers():
    assert F.sigmoid(0.0) == 0.5 and isinstance(F.sigmoid(0.0), float)
    assert F.sigmoid(np.float32(0)).dtype == np.float32
    np.testing.assert_allclose(F.sigmoid(np.array([0, 1])), [0.5, 1 / (1 + np.exp(-1))])
    assert F.sigmoid(np.array(-1000.0)) == 0.0


def test_a_cnn_with_batch_norm_trains_on_every_example():
    # fit dropped a last mini-batch of one example for any network with BatchNorm; over
    # channels (n x h x w values each) one image is enough, and none is dropped
    from digitnet.train import _normalises_features

    rng = np.random.default_rng(0)
    net = Network([Reshape((1, 6, 6)), Conv2D(1, 2, 3, padding=1, rng=rng), BatchNorm(2), ReLU(),
                   MaxPool2D(2), Flatten(), Linear(18, 3, "he", rng)], losses.SoftmaxCrossEntropy(), (36,))
    assert not _normalises_features(net) and _normalises_features(dropout_net())
    seen = []

    class Count(Callback):
        def on_batch_end(self, epoch, batch, loss):
            seen.append(batch)

    x = rng.random((21, 36)).astype(np.float32)
    fit(net, x, np.arange(21) % 3, epochs=1, batch_size=10, lr=0.01, rng=0, callbacks=[Count()])
    assert seen == [0, 1, 2]
