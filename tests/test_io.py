import io
import json
import os
import zipfile

import numpy as np
import pytest

from digitnet import load_model, save_model
from digitnet.errors import ModelFileError
from digitnet.io import CONFIG_KEY, atomic_write, read_config
from digitnet.nn import mlp


@pytest.fixture
def model_path(tmp_path):
    net = mlp([784, 16, 10], "relu", "ce", init="he", rng=0)
    path = tmp_path / "m.npz"
    save_model(path, net, {"metrics": {"test_accuracy": 0.5}})
    return path, net


def test_round_trip_preserves_predictions_and_config(model_path):
    path, net = model_path
    x = np.random.default_rng(1).random((20, 784), dtype=np.float32)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(x), net.predict_proba(x))
    assert loaded.config() == net.config()
    meta = loaded.metadata
    assert meta["format"] == "digitnet-model" and meta["format_version"] == 1
    assert meta["metrics"] == {"test_accuracy": 0.5}
    assert "preprocessing" in meta and "digitnet_version" in meta
    assert read_config(path) == meta


def test_each_architecture_round_trips(tmp_path):
    for kwargs in [dict(activation="sigmoid", cost="quadratic"), dict(activation="tanh", cost="bce"),
                   dict(activation="relu", cost="ce", dtype=np.float64)]:
        net = mlp([784, 8, 8, 10], rng=3, **kwargs)
        save_model(tmp_path / "a.npz", net)
        loaded = load_model(tmp_path / "a.npz")
        assert loaded.dtype == net.dtype
        for (a, _), (b, _) in zip(loaded.parameters(), net.parameters()):
            np.testing.assert_array_equal(a, b)


def test_saved_file_has_normal_permissions(model_path):
    """Regression: mkstemp made model files readable by their owner only."""
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(model_path[0]).st_mode & 0o777 == 0o666 & ~mask


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path, model_path):
    path, _ = model_path
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        with atomic_write(path) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"half")
            raise RuntimeError("crash in the middle")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_missing_folder_is_a_model_file_error(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        save_model(tmp_path / "no" / "m.npz", mlp([2, 2]))


def rewrite(path, mutate):
    """Rewrite a model file with its arrays and config passed through ``mutate``."""
    with np.load(path) as npz:
        arrays = dict(npz)
    config = json.loads(arrays[CONFIG_KEY].tobytes())
    mutate(arrays, config)
    if config is not None:
        arrays[CONFIG_KEY] = np.frombuffer(json.dumps(config).encode(), np.uint8)
    np.savez(path, **arrays)


@pytest.mark.parametrize("mutate,message", [
    (lambda a, c: c.update(format_version=99), "newer"),
    (lambda a, c: c.update(format="something-else"), "not a digitnet model"),
    (lambda a, c: a.update({"0.weight": np.zeros((784, 17), np.float32)}), "shape"),
    (lambda a, c: a.pop("2.bias"), "do not match"),
    (lambda a, c: a.update({"0.bias": np.full(16, np.nan, np.float32)}), "NaN"),
    (lambda a, c: c["network"]["layers"][0].update(type="Bogus"), "invalid architecture"),
    (lambda a, c: c["network"]["layers"][0].update(out_features=10**6), "more than"),
    (lambda a, c: a.update({"0.bias": np.zeros(16, np.int64)}), "dtype"),
])
def test_inconsistent_files_are_explained(model_path, mutate, message):
    path, _ = model_path
    rewrite(path, mutate)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_truncated_file(model_path):
    path, _ = model_path
    data = path.read_bytes()
    for cut in (0, 10, len(data) // 2, len(data) - 10):
        path.write_bytes(data[:cut])
        with pytest.raises(ModelFileError):
            load_model(path)


def test_foreign_files(tmp_path):
    (tmp_path / "text.npz").write_text("hello")
    np.savez(tmp_path / "plain.npz", x=np.zeros(3))
    with zipfile.ZipFile(tmp_path / "zip.npz", "w") as z:
        z.writestr(f"{CONFIG_KEY}.npy", b"not npy")
    for name, message in [("text.npz", "not a readable"), ("plain.npz", "no config"),
                          ("zip.npz", "not a readable")]:
        with pytest.raises(ModelFileError, match=message):
            load_model(tmp_path / name)
    with pytest.raises(ModelFileError, match="no such"):
        load_model(tmp_path / "absent.npz")
    with pytest.raises(ModelFileError, match="directory"):
        load_model(tmp_path)


def test_object_arrays_are_never_unpickled(model_path):
    path, _ = model_path

    class Boom:
        def __reduce__(self):
            return (os.system, ("echo pwned > /dev/null",))

    buffer = io.BytesIO()
    payload = np.empty((784, 16), dtype=object)
    payload[:] = Boom()
    np.save(buffer, payload, allow_pickle=True)
    with np.load(path) as npz:
        arrays = {f"{k}.npy": npz.zip.read(f"{k}.npy") for k in npz.files}
    arrays["0.weight.npy"] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in arrays.items():
            z.writestr(name, data)
    with pytest.raises(ModelFileError, match="dtype object"):
        load_model(path)


def test_half_precision_files_load_into_float32(tmp_path):
    net = mlp([784, 32, 10], "relu", "ce", init="he", rng=0)
    save_model(tmp_path / "full.npz", net)
    save_model(tmp_path / "half.npz", net, half=True)
    assert (tmp_path / "half.npz").stat().st_size < 0.6 * (tmp_path / "full.npz").stat().st_size
    loaded = load_model(tmp_path / "half.npz")
    assert loaded.dtype == np.float32 and loaded.metadata["stored_as"] == "float16"
    x = np.random.default_rng(0).random((50, 784), dtype=np.float32)
    np.testing.assert_allclose(loaded.predict_proba(x), net.predict_proba(x), atol=2e-3)
