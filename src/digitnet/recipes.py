"""Named training recipes: each a readable list of settings, reproducible with a seed.

``digitnet train --recipe NAME`` starts from one of these; any flag overrides it.
``build(settings, rng)`` turns settings into a network, an optimizer and the extra
arguments of ``fit`` (augmentation, learning-rate schedule, gradient clipping).
"""

from typing import Any

import numpy as np

RECIPES = {
    # The tutorials' headline run: Network([784, 30, 10]).SGD(training_data, 30, 10, 3.0)
    "seed": dict(
        model="mlp", sizes=[784, 30, 10], activation="sigmoid", cost="quadratic", init="normal",
        optimizer="sgd", epochs=30, batch_size=10, lr=3.0,
    ),
    # Tutorial 2's network: two ReLU layers, softmax outputs, cross-entropy.
    "relu": dict(
        model="mlp", sizes=[784, 128, 64, 10], activation="relu", cost="ce", init="he",
        optimizer="sgd", epochs=20, batch_size=32, lr=0.1,
    ),
    # A wider MLP with the modern toolkit: dropout, Nesterov momentum, weight decay,
    # a cosine learning-rate schedule; add --augment affine for the augmented variant.
    "mlp": dict(
        model="mlp", sizes=[784, 800, 800, 10], activation="relu", cost="ce", init="he",
        dropout=0.3, optimizer="sgd", momentum=0.9, nesterov=True, weight_decay=1e-4,
        schedule="cosine", warmup=1, epochs=30, batch_size=128, lr=0.05,
    ),
    # conv(32, 3x3) - pool - conv(64, 3x3) - pool - 128 - 10, trained on randomly
    # rotated, scaled and shifted digits.
    "cnn": dict(
        model="cnn", channels=[32, 64], hidden=128, activation="relu", cost="ce", init="he",
        dropout=0.4, optimizer="sgd", momentum=0.9, nesterov=True, weight_decay=5e-4,
        schedule="cosine", warmup=1, epochs=15, batch_size=64, lr=0.05, augment="affine",
    ),
    # Several CNNs trained from consecutive seeds, averaging their probabilities.
    "ensemble": dict(
        model="cnn", channels=[32, 64], hidden=128, activation="relu", cost="ce", init="he",
        dropout=0.4, optimizer="sgd", momentum=0.9, nesterov=True, weight_decay=5e-4,
        schedule="cosine", warmup=1, epochs=15, batch_size=64, lr=0.05, augment="affine",
        members=5,
    ),
}

DESCRIPTIONS = {
    "seed": "the tutorials' [784, 30, 10] sigmoid network, quadratic cost, mini-batch 10, "
            "eta 3.0, 30 epochs",
    "relu": "[784, 128, 64, 10] ReLU + softmax + cross-entropy, He init, mini-batch 32, eta 0.1, "
            "20 epochs",
    "mlp": "[784, 800, 800, 10] ReLU, dropout 0.3, Nesterov momentum, weight decay, cosine "
           "schedule, 30 epochs",
    "cnn": "conv32-conv64-fc128 CNN, dropout, Nesterov momentum, cosine schedule, random "
           "affine augmentation, 15 epochs",
    "ensemble": "5 CNNs of the cnn recipe from consecutive seeds, probabilities averaged",
}

AUGMENTATIONS: dict[str | None, dict[str, Any] | None] = {
    None: None,
    "none": None,
    "affine": dict(rotate=10.0, scale=0.1, shift=2.0),
    "elastic": dict(rotate=10.0, scale=0.1, shift=2.0, elastic=(34.0, 4.0)),
    # affine, and the pen's width changed: up to half a pixel thinner or a pixel thicker
    # each side (a fine pen, a marker)
    "pen": dict(rotate=10.0, scale=0.1, shift=2.0, pen=(0.5, 1.0)),
}


def build_network(settings, rng, dtype=np.float32):
    """The network that ``settings`` describe (``model`` is "mlp" or "cnn")."""
    from .nn import layers as L
    from .nn import losses
    from .nn.conv import Conv2D, Flatten, MaxPool2D, Reshape
    from .nn.network import Network, mlp
    from .nn.regularization import BatchNorm, Dropout

    dropout = settings.get("dropout") or 0.0
    if settings.get("model", "mlp") == "mlp":
        net = mlp(settings["sizes"], settings["activation"], settings["cost"],
                  settings.get("output"), settings["init"], rng, dtype)
        if dropout:
            # dropout after every hidden activation
            layers = []
            for layer in net.layers[:-1]:
                layers.append(layer)
                if not isinstance(layer, L.Linear):
                    layers.append(Dropout(dropout, rng=rng))
            net.layers = layers + [net.layers[-1]]
        return net
    channels, hidden, k = settings["channels"], settings["hidden"], settings.get("kernel", 3)
    layers, c, size = [Reshape((1, 28, 28))], 1, 28
    for out in channels:
        # a stage: `convs` k x k convolutions, each padded by k // 2 so that it keeps the
        # image's size, then a 2x2 pool that halves it
        for _ in range(settings.get("convs", 1)):
            layers.append(Conv2D(c, out, k, 1, k // 2, settings["init"], rng, dtype))
            if settings.get("batchnorm"):
                layers.append(BatchNorm(out, dtype=dtype))
            layers.append(L.activation(settings["activation"]))
            c = out
        layers.append(MaxPool2D(2))
        size //= 2
    layers += [Flatten(), L.Linear(c * size * size, hidden, settings["init"], rng, dtype),
               L.activation(settings["activation"])]
    if dropout:
        layers.append(Dropout(dropout, rng=rng))
    layers.append(L.Linear(hidden, settings.get("outputs", 10), settings["init"], rng, dtype))
    return Network(layers, losses.get(settings["cost"]), (784,))


def build_optimizer(settings, network):
    from .nn.optim import SGD, Adam

    name = settings.get("optimizer", "sgd")
    if name == "sgd":
        return SGD(network.parameters(), settings["lr"], settings.get("momentum", 0.0),
                   settings.get("nesterov", False), settings.get("weight_decay", 0.0))
    if name == "adam":
        return Adam(network.parameters(), settings["lr"], weight_decay=settings.get("weight_decay", 0.0))
    raise ValueError(f"unknown optimizer {name!r}; choose sgd or adam")


def fit_options(settings):
    """The keyword arguments of ``fit`` beyond the basics: augment, schedule, clip."""
    from .data.augment import Augment
    from .nn import schedules

    if settings.get("augment") not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {settings.get('augment')!r}; "
                         "choose none, affine, elastic or pen")
    augment = AUGMENTATIONS[settings.get("augment")]
    schedule = settings.get("schedule")
    return {
        "augment": Augment(**augment) if augment else None,
        "schedule": None if schedule in (None, "constant")
        else schedules.get(schedule, settings["epochs"], settings.get("warmup", 0)),
        "clip": settings.get("clip"),
    }
