"""PNG pictures of training and of a model (needs matplotlib, imported only here)."""

import json

import numpy as np

from .errors import DigitnetError


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    from pathlib import Path

    from .io import atomic_write

    with atomic_write(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    _pyplot().close(fig)
    return Path(path)


def read_log(path):
    """The epochs of a ``digitnet train --log`` file (JSON lines)."""
    try:
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        raise DigitnetError(f"{path}: no such log file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DigitnetError(f"{path}: not a digitnet training log ({e})") from None
    if not rows or not all(isinstance(r, dict) and {"epoch", "loss", "accuracy"} <= set(r) for r in rows):
        raise DigitnetError(f"{path}: not a digitnet training log (one JSON object per epoch)")
    if not all(_number(r[k]) or (r[k] is None and k != "epoch")
               for r in rows for k in ("epoch", "loss", "accuracy")):
        raise DigitnetError(f"{path}: not a digitnet training log (epoch, loss and accuracy "
                            "must be numbers)")
    return rows


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _curve(rows, key, scale=1):
    """The epochs and values of ``key``, leaving out epochs where it is null (an epoch
    without validation has no accuracy)."""
    kept = [r for r in rows if r[key] is not None]
    return [r["epoch"] for r in kept], [scale * r[key] for r in kept]


def training_curves(log_path, out):
    """Loss and monitored accuracy per epoch."""
    rows = read_log(log_path)
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(*_curve(rows, "loss"), marker="o", color="#2f6fed")
    left.set(xlabel="epoch", ylabel="training cost", title="Cost")
    right.plot(*_curve(rows, "accuracy", 100), marker="o", color="#0b9f6e")
    split = rows[-1].get("split", "validation")
    right.set(xlabel="epoch", ylabel="accuracy (%)", title=f"Accuracy ({split})")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, out)


def confusion_matrix(confusion, classes, out):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(confusion, cmap="Blues")
    ax.set(xticks=range(len(classes)), yticks=range(len(classes)), xticklabels=classes,
           yticklabels=classes, xlabel="predicted", ylabel="true",
           title=f"Confusion matrix: {np.trace(confusion)} / {confusion.sum()} correct")
    plt.setp(ax.get_xticklabels(), rotation=45 if max(map(len, classes)) > 2 else 0, ha="right")
    limit = confusion.max() / 2
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, confusion[i, j], ha="center", va="center", fontsize=7,
                    color="white" if confusion[i, j] > limit else "black")
    fig.colorbar(image)
    fig.tight_layout()
    return _save(fig, out)


def worst_mistakes(x, labels, probabilities, classes, out, n=24):
    """The test images the model gets most confidently wrong."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    order = wrong[np.argsort(-probabilities[wrong, predicted[wrong]])][:n]
    plt = _pyplot()
    cols = 8
    rows = max(1, -(-len(order) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.4, rows * 2.0))
    for ax in np.ravel(axes):
        ax.axis("off")
    for ax, i in zip(np.ravel(axes), order):
        ax.imshow(x[i].reshape(28, 28), cmap="gray")
        ax.set_title(f"{classes[predicted[i]]} ({100 * probabilities[i, predicted[i]]:.0f}%)\n"
                     f"truth {classes[labels[i]]}", fontsize=8)
    fig.suptitle("Most confident mistakes: prediction (confidence), truth")
    fig.tight_layout()
    return _save(fig, out)


def first_layer(network, out, n=64):
    """The first layer's weights as images: each hidden neuron's 784 weights as 28x28,
    or each convolution kernel."""
    layer = next((layer for layer in network.layers if layer.params), None)
    if layer is None:
        raise DigitnetError("the model has no weights to show")
    w = layer.params["weight"]
    if w.ndim == 2 and w.shape[0] == 784:
        images = w.T[:n].reshape(-1, 28, 28)
        title = f"First layer: weights of {min(n, w.shape[1])} of {w.shape[1]} hidden neurons"
    elif w.ndim == 4:
        images = w[:n, 0]
        title = f"First layer: {min(n, len(w))} of {len(w)} convolution kernels"
    else:
        raise DigitnetError(f"cannot draw a first layer of shape {w.shape}")
    plt = _pyplot()
    cols = 8
    rows = -(-len(images) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.2))
    for ax in np.ravel(axes):
        ax.axis("off")
    for ax, image in zip(np.ravel(axes), images):
        limit = np.abs(image).max() or 1
        ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, out)


def reliability(panels, out, bins=15):
    """Reliability diagrams side by side: for each panel (title, {curve label:
    (confidences, right)}), the accuracy against the mean confidence in each of ``bins``
    equal bins, the diagonal of perfect calibration, and each curve's expected
    calibration error; below, how many answers fall in each bin."""
    from .calibration import expected_calibration_error
    from .calibration import reliability as binned

    plt = _pyplot()
    fig, axes = plt.subplots(2, len(panels), figsize=(5.2 * len(panels), 6.4), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    colours = ["#9aa5b1", "#2f6fed", "#0b9f6e", "#d9480f"]
    for (title, curves), top, bottom in zip(panels, axes[0], axes[1]):
        top.plot([0, 1], [0, 1], ls="--", color="black", lw=0.8, label="perfect calibration")
        width = 1 / bins / (len(curves) + 1)
        for k, ((label, (confidence, right)), colour) in enumerate(zip(curves.items(), colours)):
            edges, confidences, accuracies, counts = binned(confidence, right, bins)
            used = counts > 0
            ece = 100 * expected_calibration_error(confidence, right, bins)
            top.plot(confidences[used], accuracies[used], marker="o", color=colour,
                     label=f"{label}: ECE {ece:.2f}%")
            bottom.bar(edges[:-1] + (k + 0.5) * width, counts, width=width, color=colour)
        top.set(ylabel="accuracy", xlim=(0, 1), ylim=(0, 1.01),
                title=f"{title} ({len(confidence):,} answers)")
        top.legend(loc="upper left", fontsize=8)
        top.grid(alpha=0.3)
        bottom.set(xlabel="confidence", ylabel="answers", yscale="log")
    fig.tight_layout()
    return _save(fig, out)
