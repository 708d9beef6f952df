"""Optimizers: each holds (parameter, gradient) pairs and applies one update rule.

Each has ``lr`` (which a schedule may change between steps), ``step()``, and
``state()`` / ``load_state()`` so that training can be resumed exactly.
"""

import numpy as np


def _check_lr(lr):
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"invalid learning rate: {lr}")
    return float(lr)


def _packed(parameters):
    """[(all parameters, all gradients)] as two flat arrays if every pair is a view of
    the same two contiguous buffers, in order, covering them whole; else None."""
    if not parameters:
        return None
    bases = {(p.base is not None and id(p.base), g.base is not None and id(g.base))
             for p, g in parameters}
    if len(bases) != 1 or False in next(iter(bases)):
        return None
    param_base, grad_base = parameters[0][0].base, parameters[0][1].base
    if param_base.ndim != 1 or sum(p.size for p, _ in parameters) != param_base.size:
        return None
    return [(param_base, grad_base)]


class SGD:
    """Stochastic gradient descent: w -> w - eta dC/dw, b -> b - eta dC/db.

    The tutorials write it w -> w - (eta/m) sum_x dC_x/dw (tutorial 1's
    equations 20 and 21, tutorial 2's W <- W - alpha dW): the 1/m and the sum over
    the mini-batch are already in the gradients (see ``nn.losses``).

    With ``momentum`` mu, a velocity v -> mu v + g replaces the gradient g
    (``nesterov``: the step uses g + mu v). ``weight_decay`` lambda adds lambda w to
    the gradient (L2 regularisation) of every parameter handed over, biases and batch
    normalisation's scales included, as PyTorch's SGD does.

    Parameters
    ----------
    parameters : list of (param, grad) array pairs, e.g. ``network.parameters()``
    lr : float
        The learning rate eta.
    momentum : float, default 0
    nesterov : bool, default False
    weight_decay : float, default 0
    """

    def __init__(self, parameters, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        self.parameters = list(parameters)
        self.lr = _check_lr(lr)
        if not 0 <= momentum < 1 or weight_decay < 0:
            raise ValueError(f"invalid momentum {momentum} or weight decay {weight_decay}")
        if nesterov and not momentum:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.momentum, self.nesterov, self.weight_decay = float(momentum), nesterov, float(weight_decay)
        self.velocity = [np.zeros_like(p) for p, _ in self.parameters] if momentum else []
        # plain SGD updates the packed buffers of a Network in one call (see
        # Network._pack), or each array in turn, without temporaries
        self._plain = _packed(self.parameters) or self.parameters
        plain = not (momentum or weight_decay)
        self._scratch = [np.empty_like(p) for p, _ in self._plain] if plain else []

    def step(self):
        if not (self.momentum or self.weight_decay):
            for (param, grad), scratch in zip(self._plain, self._scratch):
                np.multiply(grad, self.lr, out=scratch)
                param -= scratch
            return
        for i, (param, grad) in enumerate(self.parameters):
            if self.weight_decay:
                grad = grad + self.weight_decay * param
            if self.momentum:
                v = self.velocity[i]
                v *= self.momentum
                v += grad
                grad = grad + self.momentum * v if self.nesterov else v
            param -= self.lr * grad

    def state(self):
        """Arrays and numbers that must be saved to resume training exactly."""
        return {"lr": self.lr, **{f"velocity.{i}": v for i, v in enumerate(self.velocity)}}

    def load_state(self, state):
        self.lr = float(state.get("lr", self.lr))
        for i, v in enumerate(self.velocity):
            v[...] = state[f"velocity.{i}"]


class Adam:
    """Adam (Kingma & Ba, 2015) with bias correction; ``weight_decay`` is decoupled
    from the gradient as in AdamW (Loshchilov & Hutter, 2019).

        m -> b1 m + (1 - b1) g,   v -> b2 v + (1 - b2) g^2
        w -> w - eta (m_hat / (sqrt(v_hat) + eps) + lambda w)
    """

    def __init__(self, parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.parameters = list(parameters)
        self.lr = _check_lr(lr)
        self.beta1, self.beta2 = (float(b) for b in betas)
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1) or eps <= 0 or weight_decay < 0:
            raise ValueError(f"invalid Adam settings: betas={betas}, eps={eps}, weight_decay={weight_decay}")
        self.eps, self.weight_decay = float(eps), float(weight_decay)
        self.t = 0
        self.m = [np.zeros_like(p) for p, _ in self.parameters]
        self.v = [np.zeros_like(p) for p, _ in self.parameters]

    def step(self):
        self.t += 1
        correction1 = 1 - self.beta1 ** self.t
        correction2 = 1 - self.beta2 ** self.t
        step_size = self.lr / correction1
        for (param, grad), m, v in zip(self.parameters, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * grad
            v *= self.beta2
            v += (1 - self.beta2) * grad * grad
            if self.weight_decay:
                param -= self.lr * self.weight_decay * param
            denom = np.sqrt(v / correction2)
            denom += self.eps
            param -= step_size * m / denom

    def state(self):
        state = {"lr": self.lr, "t": self.t}
        state.update({f"m.{i}": m for i, m in enumerate(self.m)})
        state.update({f"v.{i}": v for i, v in enumerate(self.v)})
        return state

    def load_state(self, state):
        self.lr, self.t = float(state["lr"]), int(state["t"])
        for i, (m, v) in enumerate(zip(self.m, self.v)):
            m[...] = state[f"m.{i}"]
            v[...] = state[f"v.{i}"]


def clip_grad_norm(parameters, max_norm):
    """Scale all gradients so that their joint L2 norm is at most ``max_norm``.
    Returns the norm before clipping."""
    total = float(np.sqrt(sum(float(np.vdot(g, g)) for _, g in parameters)))
    if total > max_norm:
        scale = max_norm / (total + 1e-12)
        for _, g in parameters:
            g *= scale
    return total

