"""digitnet.training: a run from settings without the command line, and the one settings
schema that the command line and checkpoints share."""

import numpy as np
import pytest

from digitnet import training
from digitnet.cli import build_parser
from digitnet.errors import DigitnetError
from digitnet.io import load_model
from digitnet.recipes import RECIPES
from digitnet.training.settings import SETTINGS
from helpers import run, seed_run_checkpoint


def test_a_run_from_settings_is_the_run_digitnet_train_makes(tmp_path, tiny_mnist, capsys):
    settings = training.from_recipe("relu", {"epochs": 2})
    result = training.run(settings, out=tmp_path / "lib.npz", recipe="relu", data_dir=tiny_mnist)
    code, _, err = run(capsys, "train", "--recipe", "relu", "--epochs", 2, "--data", tiny_mnist,
                       "--out", tmp_path / "cli.npz", "--quiet")
    assert code == 0, err
    ours, theirs = load_model(tmp_path / "lib.npz"), load_model(tmp_path / "cli.npz")
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[name], value)
    assert result.interrupted is None and [e.epoch for e in result.epochs] == [0, 1]
    assert ours.metadata["metrics"]["test_accuracy"] == result.test_accuracy == \
        theirs.metadata["metrics"]["test_accuracy"]
    assert ours.metadata["training"]["epochs"] == 2
    assert ours.metadata["training"]["command"] == \
        f"digitnet train --recipe relu --epochs 2 --data {tiny_mnist} --out {tmp_path / 'lib.npz'}"
    assert not (tmp_path / "lib.ckpt.npz").exists()  # removed once the model is saved


def test_a_library_run_records_the_command_that_makes_it_again(tmp_path, tiny_mnist, capsys):
    from digitnet.training.session import RunSpec, equivalent_command

    settings = training.from_recipe("cnn", {"channels": [4], "batchnorm": True, "nesterov": False,
                                            "epochs": 1, "lr": 0.01})
    command = equivalent_command(RunSpec(settings, "cnn", seed=5, data_dir=str(tiny_mnist)),
                                 tmp_path / "a.npz")
    assert command.startswith("digitnet train --recipe cnn --channels 4 --batchnorm --epochs 1 ")
    assert "--no-nesterov" in command and "--seed 5" in command
    code, _, err = run(capsys, *command.split()[1:], "--quiet")
    assert code == 0, err
    again = training.run(settings, out=tmp_path / "b.npz", recipe="cnn", seed=5, data_dir=tiny_mnist)
    np.testing.assert_array_equal(load_model(tmp_path / "a.npz").predict_proba(np.ones((1, 784))),
                                  again.network.predict_proba(np.ones((1, 784))))


def test_run_refuses_to_overwrite_an_unfinished_run(tmp_path, tiny_mnist):
    seed_run_checkpoint(tmp_path / "m.ckpt.npz", tiny_mnist)
    before = (tmp_path / "m.ckpt.npz").read_bytes()
    with pytest.raises(DigitnetError, match="holds an unfinished run"):
        training.run(training.from_recipe("seed", {"epochs": 1}), out=tmp_path / "m.npz",
                     data_dir=tiny_mnist)
    assert (tmp_path / "m.ckpt.npz").read_bytes() == before


def test_every_overridable_setting_is_one_flag_of_digitnet_train():
    train = build_parser().commands["train"]
    flags = {action.dest for action in train._actions}
    assert set(training.OVERRIDES) <= flags
    assert not (set(SETTINGS) - set(training.OVERRIDES)) & flags  # from the data or the recipe
    assert all(set(recipe) <= set(SETTINGS) for recipe in RECIPES.values())


def test_overrides_replace_the_recipe_and_none_means_not_given():
    settings = training.from_recipe("relu", {"epochs": 3, "lr": None})
    assert settings["epochs"] == 3 and settings["lr"] == RECIPES["relu"]["lr"]
    assert RECIPES["relu"]["epochs"] == 20  # the recipe itself is untouched


def test_sgd_settings_are_refused_with_adam_and_a_recipes_are_dropped():
    settings = training.from_recipe("mlp", {"optimizer": "adam"})
    assert "momentum" not in settings and "nesterov" not in settings
    with pytest.raises(DigitnetError, match="--momentum is for --optimizer sgd"):
        training.from_recipe("mlp", {"optimizer": "adam", "momentum": 0.5})


@pytest.mark.parametrize("overrides,message", [
    ({"sizes": [10, 10]}, "--sizes must start with 784"),
    ({"channels": [8]}, "--channels is for CNN recipes"),
    ({"dropout": 1.0}, "--dropout must be in"),
    ({"average_from": 30}, "nothing would be averaged"),
])
def test_contradictory_settings_are_refused(overrides, message):
    with pytest.raises(DigitnetError, match=message):
        training.from_recipe("seed", overrides)


def test_an_unknown_setting_or_recipe_is_refused():
    with pytest.raises(ValueError, match="unknown training settings: colour"):
        training.resolve(RECIPES["seed"], {"colour": "blue"})
    with pytest.raises(DigitnetError, match="unknown recipe"):
        training.from_recipe("lenet")
