"""The scikit-learn estimator: scikit-learn's own checks, and use in its tools."""

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from digitnet.sklearn import DigitNetClassifier  # noqa: E402


@parametrize_with_checks([DigitNetClassifier(epochs=20, random_state=0)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def test_string_labels_and_probabilities(digits):
    X, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])[y]
    model = DigitNetClassifier(hidden_layer_sizes=(64,), epochs=15, random_state=0).fit(X, names)
    assert set(model.classes_) == set(names)
    proba = model.predict_proba(X[:5])
    assert proba.shape == (5, 10) and np.allclose(proba.sum(axis=1), 1)
    assert model.score(X, names) > 0.95


def test_partial_fit_learns_epoch_by_epoch(digits):
    X, y = digits
    model = DigitNetClassifier(hidden_layer_sizes=(32,), random_state=0)
    with pytest.raises(ValueError, match="classes"):
        model.partial_fit(X, y)
    for _ in range(5):
        model.partial_fit(X, y, classes=np.arange(10))
    assert len(model.loss_curve_) == 5 and model.loss_curve_[-1] < model.loss_curve_[0]
    assert model.score(X, y) > 0.9


def test_pipeline_grid_search_and_cross_validation(digits):
    X, y = digits
    pipeline = make_pipeline(MinMaxScaler(), DigitNetClassifier(epochs=8, random_state=0))
    search = GridSearchCV(pipeline, {"digitnetclassifier__hidden_layer_sizes": [(16,), (64,)]}, cv=3)
    search.fit(X, y)
    assert search.best_params_["digitnetclassifier__hidden_layer_sizes"] in [(16,), (64,)]
    assert search.best_score_ > 0.85
    scores = cross_val_score(DigitNetClassifier(epochs=8, random_state=0), X, y, cv=3)
    assert scores.mean() > 0.85


def test_same_random_state_same_model(digits):
    X, y = digits
    a = DigitNetClassifier(epochs=2, random_state=3).fit(X, y).predict_proba(X)
    b = DigitNetClassifier(epochs=2, random_state=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
