"""Train the tutorials' network on MNIST with digitnet's Python API, top to bottom.

    DIGITNET_DATA=path/to/mnist python examples/train_mnist.py
"""

import numpy as np

import digitnet
from digitnet.nn import SGD

# MNIST: 50,000 training images, 10,000 for validation (the end of the training
# file), 10,000 for the final test. Each image is a row of 784 floats in [0, 1].
data = digitnet.load_mnist()
print(f"train {data.train.x.shape}, validation {data.validation.x.shape}, test {data.test.x.shape}")

# The tutorials' Network([784, 30, 10]): sigmoid neurons, quadratic cost,
# weights and biases drawn from N(0, 1). All randomness comes from one generator.
rng = np.random.default_rng(2)
net = digitnet.mlp([784, 30, 10], activation="sigmoid", cost="quadratic", init="normal", rng=rng)
print(net)


class PrintEpoch(digitnet.Callback):
    """Print each epoch the way the tutorials do."""

    def on_epoch_end(self, result, network):
        print(f"Epoch {result.epoch}: {result.correct} / {result.total}  "
              f"(validation, loss {result.loss:.4f}, {result.seconds:.2f}s)")


# net.SGD(training_data, 30, 10, 3.0): 30 epochs, mini-batches of 10, eta = 3.0.
digitnet.fit(
    net, data.train.x, data.train.y,
    epochs=30, batch_size=10, optimizer=SGD(net.parameters(), lr=3.0), rng=rng,
    validation=(data.validation.x, data.validation.y),
    callbacks=[PrintEpoch()],
)

# Only now, once, the test set.
correct = digitnet.evaluate(net, data.test.x, data.test.y)
print(f"Test: {correct} / {len(data.test)}")

# Save it, load it back, and use it.
digitnet.save_model("tutorial.npz", net, {"training": {"epochs": 30, "batch_size": 10, "lr": 3.0}})
same = digitnet.load_model("tutorial.npz")
print("first five test digits:", same.predict(data.test.x[:5]), "labels:", data.test.y[:5])
