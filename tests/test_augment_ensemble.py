import numpy as np
import pytest

from digitnet import load_model, save_model
from digitnet.cli import main
from digitnet.data.augment import Augment, pen_width
from digitnet.nn import mlp
from digitnet.nn.ensemble import Ensemble


def digit_batch(n=8):
    images = np.zeros((n, 28, 28), np.float32)
    images[:, 8:20, 12:16] = 1.0  # a "1"
    return images.reshape(n, -1)


def test_identity_augmentation_changes_nothing():
    x = digit_batch()
    out = Augment(rotate=0, scale=0, shift=0)(x, np.random.default_rng(0))
    np.testing.assert_allclose(out, x, atol=1e-6)


@pytest.mark.parametrize("aug", [Augment(), Augment(elastic=(34.0, 4.0)),
                                 Augment(pen=(0.5, 1.0))])
def test_augmentation_is_random_bounded_and_keeps_the_ink(aug):
    x = digit_batch(16)
    rng = np.random.default_rng(1)
    out = aug(x, rng)
    assert out.shape == x.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert not np.allclose(out[0], out[1])  # each image gets its own transformation
    ink = out.sum(axis=1) / x.sum(axis=1)
    assert np.all((ink > 0.3) & (ink < 3.0)), ink


def test_pen_width_thickens_and_thins_the_strokes_by_the_pixels_asked():
    one = digit_batch(4).reshape(4, 28, 28)  # a stroke 4 pixels wide, 12 high
    out = pen_width(one, np.array([0.0, 1.0, 0.5, -1.0]))
    np.testing.assert_array_equal(out[0], one[0])
    # a pixel each side: 6 wide and 14 high, less the four corners the cross misses
    assert out[1].sum() == 6 * 14 - 4 and out[1].max() == 1
    assert out[2].sum() == (one[0].sum() + out[1].sum()) / 2  # half a pixel: blended
    # a pixel thinner each side: 2 wide, 10 high
    assert out[3].sum() == 2 * 10
    assert out[3][8:20, 12].sum() == 0 and out[3][10:18, 13:15].min() == 1


def test_the_pen_augmentation_changes_the_width_of_each_image_its_own_way():
    x = np.repeat(digit_batch(1), 32, axis=0)
    out = Augment(rotate=0, scale=0, shift=0, pen=(0.5, 1.0))(x, np.random.default_rng(3))
    ink = out.sum(axis=1) / x.sum(axis=1)
    assert ink.min() < 0.9 and ink.max() > 1.3 and len(np.unique(ink)) == 32
    assert ink.min() >= 0.5 - 1e-6 and ink.max() <= 80 / 48 + 1e-6


def test_shift_moves_the_digit():
    x = digit_batch(1)
    out = Augment(rotate=0, scale=0, shift=0)(x, np.random.default_rng(0))
    shifted = Augment(rotate=0, scale=0, shift=3)(x, np.random.default_rng(0))
    assert not np.allclose(out, shifted)


def test_ensemble_averages_member_probabilities(tmp_path):
    members = [mlp([784, 8, 10], "relu", "ce", rng=i) for i in range(3)]
    ensemble = Ensemble(members)
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    expected = np.mean([m.predict_proba(x) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict_proba(x), expected, rtol=1e-6)
    np.testing.assert_array_equal(ensemble.predict(x), expected.argmax(1))
    save_model(tmp_path / "e.npz", ensemble, {"metrics": {"test_accuracy": 0.1}})
    loaded = load_model(tmp_path / "e.npz")
    assert isinstance(loaded, Ensemble) and len(loaded.members) == 3
    np.testing.assert_array_equal(loaded.predict_proba(x), ensemble.predict_proba(x))


class Counted:
    """A member whose inputs are recorded, around a real network."""

    def __init__(self, network):
        self.network, self.seen = network, []
        self.input_shape, self.n_outputs = network.input_shape, network.n_outputs

    def confidences(self, x, batch_size=None):
        self.seen.append(len(x))
        return self.network.confidences(x, batch_size)


def test_a_shortcut_lets_the_first_member_answer_alone_when_it_is_sure():
    members = [Counted(mlp([784, 8, 10], "relu", "ce", rng=i)) for i in range(3)]
    x = np.random.default_rng(0).random((40, 784), dtype=np.float32)
    first = members[0].network.confidences(x)
    full = Ensemble(members).predict_proba(x)
    threshold = float(np.median(first.max(axis=1)))  # half the rows sure, half not
    sure = first.max(axis=1) >= threshold
    for m in members:
        m.seen.clear()
    out = Ensemble(members, shortcut=threshold).predict_proba(x)
    np.testing.assert_array_equal(out[sure], first[sure])
    # a smaller batch: other float32 roundings
    np.testing.assert_allclose(out[~sure], full[~sure], rtol=1e-4, atol=1e-7)
    assert members[0].seen == [40] and members[1].seen == members[2].seen == [int((~sure).sum())]
    for m in members:  # all of them sure: the others are not run at all
        m.seen.clear()
    np.testing.assert_array_equal(Ensemble(members, shortcut=1e-9).predict_proba(x), first)
    assert members[1].seen == members[2].seen == []


def test_a_first_member_answering_nan_is_not_sure():
    members = [mlp([4, 3], "relu", "ce", rng=i) for i in range(2)]
    members[0].layers[0].params["weight"][:] = np.nan
    out = Ensemble(members, shortcut=0.5).predict_proba(np.ones((2, 4), np.float32))
    assert np.isnan(out).all()  # the mean, NaN included: not the first's NaN passed off as sure
    with pytest.raises(ValueError, match="probability"):
        Ensemble(members, shortcut=0)
    with pytest.raises(ValueError, match="probability"):
        Ensemble(members, shortcut=1.5)


def test_ensemble_members_must_agree():
    with pytest.raises(ValueError):
        Ensemble([mlp([784, 10]), mlp([100, 10])])
    with pytest.raises(ValueError):
        Ensemble([])


def test_cnn_architecture_flags(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "bn.npz"
    assert main(["train", "--recipe", "cnn", "--channels", "4", "8", "--hidden", "16",
                 "--batchnorm", "--epochs", "1", "--data", str(tiny_mnist), "--out", str(out),
                 "--quiet"]) == 0
    kinds = [layer.config()["type"] for layer in load_model(out).layers]
    assert kinds[:9] == ["Reshape", "Conv2D", "BatchNorm", "ReLU", "MaxPool2D",
                         "Conv2D", "BatchNorm", "ReLU", "MaxPool2D"]
    assert load_model(out).layers[5].out_channels == 8
    assert main(["evaluate", str(out), "--data", str(tiny_mnist)]) == 0
    # an ensemble of members with different layers lists each member's (regression:
    # info showed the first member's layers as everyone's)
    plain = tmp_path / "plain.npz"
    assert main(["train", "--recipe", "cnn", "--channels", "4", "8", "--hidden", "16",
                 "--epochs", "1", "--data", str(tiny_mnist), "--out", str(plain), "--quiet"]) == 0
    mixed = tmp_path / "mixed.npz"
    assert main(["ensemble", str(out), str(plain), "--out", str(mixed),
                 "--data", str(tiny_mnist)]) == 0
    capsys.readouterr()
    assert main(["info", str(mixed)]) == 0
    text = capsys.readouterr().out
    assert "each:" not in text and "Layers 0:" in text and "Layers 1:" in text
    assert "BatchNorm" in text.split("Layers 0:")[1].splitlines()[0]
    assert "BatchNorm" not in text.split("Layers 1:")[1].splitlines()[0]
    # architecture flags of the other kind of network are refused in one line
    for argv in (["--recipe", "mlp", "--channels", "4"], ["--recipe", "relu", "--batchnorm"],
                 ["--recipe", "cnn", "--sizes", "784", "10"]):
        assert main(["train", *argv, "--data", str(tiny_mnist),
                     "--out", str(tmp_path / "x.npz")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "MLP" in err, err
    assert not (tmp_path / "x.npz").exists()


def test_kernel_flag_builds_k_by_k_convolutions_that_keep_the_size(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "k5.npz"
    assert main(["train", "--recipe", "cnn", "--channels", "4", "8", "--hidden", "16",
                 "--kernel", "5", "--epochs", "1", "--data", str(tiny_mnist), "--out", str(out)]) == 0
    assert "(5x5 kernels)" in capsys.readouterr().out
    net = load_model(out)
    convs = [layer for layer in net.layers if layer.config()["type"] == "Conv2D"]
    assert [(c.kernel_size, c.padding) for c in convs] == [(5, 2), (5, 2)]
    assert net.layers[-1].in_features == 16 and net.forward(np.zeros((2, 784), np.float32)).shape == (2, 10)
    for argv in (["--recipe", "cnn", "--kernel", "4"], ["--recipe", "mlp", "--kernel", "5"]):
        assert main(["train", *argv, "--data", str(tiny_mnist), "--out", str(tmp_path / "x.npz")]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "kernel" in err, err
    assert not (tmp_path / "x.npz").exists()


def test_convs_flag_stacks_convolutions_before_each_pool(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "vgg.npz"
    assert main(["train", "--recipe", "cnn", "--channels", "4", "8", "--hidden", "16", "--convs", "2",
                 "--batchnorm", "--epochs", "1", "--data", str(tiny_mnist), "--out", str(out)]) == 0
    assert "(2 convolutions per stage)" in capsys.readouterr().out
    net = load_model(out)
    kinds = [layer.config()["type"] for layer in net.layers]
    conv_pool = [k for k in kinds if k in ("Conv2D", "MaxPool2D")]
    assert conv_pool == ["Conv2D", "Conv2D", "MaxPool2D", "Conv2D", "Conv2D", "MaxPool2D"]
    convs = [layer for layer in net.layers if layer.config()["type"] == "Conv2D"]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(1, 4), (4, 4), (4, 8), (8, 8)]
    assert kinds.count("BatchNorm") == 4
    assert net.layers[-1].in_features == 16 and net.forward(np.zeros((2, 784), np.float32)).shape == (2, 10)
    assert main(["train", "--recipe", "mlp", "--convs", "2", "--data", str(tiny_mnist),
                 "--out", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--convs is for CNN recipes" in err, err
    assert not (tmp_path / "x.npz").exists()


def test_cnn_and_ensemble_recipes_train_from_the_cli(tiny_mnist, tmp_path, capsys):
    out = tmp_path / "cnn.npz"
    assert main(["train", "--recipe", "cnn", "--epochs", "1", "--data", str(tiny_mnist),
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "conv32-conv64-fc128" in text and "Test: " in text
    assert load_model(out).layers[1].config()["type"] == "Conv2D"
    ens = tmp_path / "ens.npz"
    assert main(["train", "--recipe", "ensemble", "--members", "2", "--epochs", "1",
                 "--data", str(tiny_mnist), "--out", str(ens), "--quiet"]) == 0
    loaded = load_model(ens)
    assert isinstance(loaded, Ensemble) and len(loaded.members) == 2
    assert loaded.metadata["training"]["member_seeds"] == [2, 3]
    assert main(["evaluate", str(ens), "--data", str(tiny_mnist), "--json"]) == 0
    assert main(["info", str(ens)]) == 0


def test_full_trains_on_the_validation_split_and_reports_none(tiny_mnist, tmp_path, capsys):
    """--full (the final model, once settings were chosen on validation) trains on the
    validation images too, so it must neither report nor choose anything on them."""
    args = ["--recipe", "cnn", "--channels", "4", "8", "--hidden", "16", "--epochs", "1",
            "--data", str(tiny_mnist)]
    half = tmp_path / "half.npz"
    assert main(["train", *args, "--out", str(half), "--quiet"]) == 0
    full = tmp_path / "full.npz"
    capsys.readouterr()
    assert main(["train", *args, "--full", "--out", str(full)]) == 0
    text = capsys.readouterr().out
    assert "on 600 images" in text and "Validation: none (--full trains on it)" in text
    assert "Epoch 0: loss" in text and "Test: " in text
    meta = load_model(full).metadata
    assert meta["training"]["full"] is True and meta["training"]["train_images"] == 600
    assert meta["metrics"]["validation_accuracy"] is None
    assert load_model(half).metadata["training"]["train_images"] < 600
    # an ensemble with a --full member reports no validation accuracy and cannot choose on it
    ens = tmp_path / "ens.npz"
    assert main(["ensemble", str(half), str(full), "--out", str(ens), "--data", str(tiny_mnist)]) == 0
    assert "no validation (a member was trained on it, --full)" in capsys.readouterr().out
    assert load_model(ens).metadata["metrics"]["validation_accuracy"] is None
    again = tmp_path / "again.npz"
    assert main(["ensemble", str(ens), str(half), "--out", str(again),
                 "--data", str(tiny_mnist)]) == 0  # also when the member is inside an ensemble
    assert load_model(again).metadata["metrics"]["validation_accuracy"] is None
    capsys.readouterr()
    assert main(["info", str(again)]) == 0
    assert "validation_accuracy=none (trained on it, --full)" in capsys.readouterr().out
    assert main(["ensemble", str(half), str(full), "--best", "1", "--out", str(again),
                 "--data", str(tiny_mnist)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--full" in err and "full.npz" in err
    recipe = tmp_path / "recipe.npz"
    assert main(["train", "--recipe", "ensemble", "--members", "2", "--channels", "4", "8",
                 "--hidden", "16", "--epochs", "1", "--full", "--data", str(tiny_mnist),
                 "--out", str(recipe)]) == 0
    assert "no validation (--full trains on it)" in capsys.readouterr().out
    assert load_model(recipe).metadata["metrics"]["validation_accuracy"] is None


def test_shifted_copies_move_the_ink_one_pixel_and_let_zeros_in():
    from benchmarks.shifted_copies import SHIFTS, shifted

    images = np.zeros((1, 28, 28), np.float32)
    images[0, 0, 5] = 1.0  # top edge
    images[0, 14, 27] = 2.0  # right edge
    down_right = shifted(images, 1, 1)
    assert down_right[0, 1, 6] == 1.0 and down_right.sum() == 1.0  # the 2 fell off the edge
    up = shifted(images, -1, 0)
    assert up[0, 13, 27] == 2.0 and up.sum() == 2.0
    assert np.array_equal(shifted(images, 0, 0), images)
    assert len(set(SHIFTS)) == 9 and SHIFTS[0] == (0, 0)
