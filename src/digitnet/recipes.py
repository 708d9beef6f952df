"""Named training recipes: each a readable list of settings, reproducible with a seed.

``digitnet train --recipe NAME`` starts from one of these; any flag overrides it.
"""

RECIPES = {
    # The tutorials' headline run: Network([784, 30, 10]).SGD(training_data, 30, 10, 3.0)
    "seed": dict(
        sizes=[784, 30, 10], activation="sigmoid", cost="quadratic", init="normal",
        epochs=30, batch_size=10, lr=3.0,
    ),
    # The second tutorial's network: two ReLU layers, softmax outputs, cross-entropy.
    "relu": dict(
        sizes=[784, 128, 64, 10], activation="relu", cost="ce", init="he",
        epochs=20, batch_size=32, lr=0.1,
    ),
}

DESCRIPTIONS = {
    "seed": "the tutorials' [784, 30, 10] sigmoid network, quadratic cost, mini-batch 10, eta 3.0, 30 epochs",
    "relu": "[784, 128, 64, 10] ReLU + softmax + cross-entropy, He init, mini-batch 32, eta 0.1, 20 epochs",
}
