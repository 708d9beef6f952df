"""Ensembles: several networks voting by the average of their probabilities."""



class Ensemble:
    """Average the output probabilities of several networks with the same inputs and
    outputs. Usable wherever a ``Network`` is used for inference.

    Parameters
    ----------
    members : list of Network
    """

    def __init__(self, members):
        members = list(members)
        if not members:
            raise ValueError("an ensemble needs at least one member")
        shapes = {(m.input_shape, m.n_outputs) for m in members}
        if len(shapes) != 1:
            raise ValueError(f"ensemble members disagree on input/output shapes: {shapes}")
        self.members = members
        self.metadata = {}

    def predict_proba(self, x, batch_size=None):
        """Mean over members of their probabilities (``Network.confidences``)."""
        total = None
        for member in self.members:
            p = member.confidences(x, batch_size)
            total = p if total is None else total + p
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
        return f"Ensemble({len(self.members)} members)"
