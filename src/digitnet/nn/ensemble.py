"""Ensembles: several networks voting by the average of their probabilities."""

import numpy as np


class Ensemble:
    """Average the output probabilities of several networks with the same inputs and
    outputs. Usable wherever a ``Network`` is used for inference.

    Parameters
    ----------
    members : list of Network
    shortcut : float, optional
        Let the first member answer alone for the inputs it is at least this sure of
        (its highest probability), and run the others only on the rest: a cascade that
        costs one network per easy input. None (the default) always averages them all.
        (``digitnet serve`` uses ``pretrained.SHORTCUT``, chosen on validation.)
    """

    def __init__(self, members, shortcut=None):
        members = list(members)
        if not members:
            raise ValueError("an ensemble needs at least one member")
        shapes = {(m.input_shape, m.n_outputs) for m in members}
        if len(shapes) != 1:
            raise ValueError(f"ensemble members disagree on input/output shapes: {shapes}")
        if shortcut is not None and not 0 < shortcut <= 1:
            raise ValueError(f"the shortcut is a probability in (0, 1], not {shortcut}")
        self.members = members
        self.shortcut = shortcut
        self.metadata = {}

    def predict_proba(self, x, batch_size=None):
        """Mean over members of their probabilities (``Network.confidences``); with a
        shortcut, the first member's own for the inputs it is sure enough of."""
        first = self.members[0].confidences(x, batch_size)
        if self.shortcut is None:
            return self._mean(first, x, batch_size)
        unsure = np.flatnonzero(~(first.max(axis=1, initial=0) >= self.shortcut))  # NaN: unsure
        if len(unsure):  # (``first`` is a fresh array: overwritten in place)
            first[unsure] = self._mean(first[unsure], np.asarray(x)[unsure], batch_size)
        return first

    def _mean(self, first, x, batch_size):
        """The mean of the first member's probabilities ``first`` for ``x`` and the others'."""
        total = first
        for member in self.members[1:]:
            total = total + member.confidences(x, batch_size)
        return total / len(self.members)

    confidences = predict_proba

    def predict(self, x, batch_size=None):
        return self.predict_proba(x, batch_size).argmax(axis=1)

    def train(self, mode=True):
        for member in self.members:
            member.train(mode)
        return self

    def state_dict(self):
        return {f"m{i}.{name}": value for i, member in enumerate(self.members)
                for name, value in member.state_dict().items()}

    def load_state_dict(self, state):
        for i, member in enumerate(self.members):
            prefix = f"m{i}."
            member.load_state_dict({k[len(prefix):]: v for k, v in state.items()
                                    if k.startswith(prefix)})

    def config(self):
        return {"ensemble": [member.config() for member in self.members]}

    @property
    def input_shape(self):
        return self.members[0].input_shape

    @property
    def n_outputs(self):
        return self.members[0].n_outputs

    @property
    def dtype(self):
        return self.members[0].dtype

    @property
    def layers(self):
        """The first member's layers (for descriptions and visualisations)."""
        return self.members[0].layers

    @property
    def n_params(self):
        return sum(m.n_params for m in self.members)

    def __repr__(self):
        shortcut = f", shortcut={self.shortcut}" if self.shortcut is not None else ""
        return f"Ensemble({len(self.members)} members{shortcut})"
