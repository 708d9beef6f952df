"""Optimizers, schedules and clipping: update rules checked by hand and against PyTorch."""

import numpy as np
import pytest

from digitnet import fit
from digitnet.nn import mlp, schedules
from digitnet.nn.optim import SGD, Adam, clip_grad_norm


def pair(values, grads):
    return [(np.array(values, dtype=np.float64), np.array(grads, dtype=np.float64))]


def test_plain_sgd_is_the_tutorials_rule():
    params = pair([1.0, 2.0], [0.5, -1.0])
    SGD(params, lr=0.1).step()
    np.testing.assert_allclose(params[0][0], [0.95, 2.1])


def test_momentum_accumulates_velocity():
    params = pair([1.0], [1.0])
    opt = SGD(params, lr=0.1, momentum=0.9)
    opt.step()
    opt.step()
    # v1 = 1, w1 = 0.9; v2 = 0.9 + 1 = 1.9, w2 = 0.9 - 0.19
    np.testing.assert_allclose(params[0][0], [0.71])


def test_nesterov_and_weight_decay_by_hand():
    # g = 1 + lambda w each step; v -> mu v + g; Nesterov steps by g + mu v
    params = pair([1.0], [1.0])
    opt = SGD(params, lr=0.1, momentum=0.5, nesterov=True, weight_decay=0.2)
    opt.step()  # g = 1.2, v = 1.2, step 1.2 + 0.6 = 1.8: w = 0.82
    np.testing.assert_allclose(params[0][0], [0.82])
    opt.step()  # g = 1.164, v = 0.6 + 1.164 = 1.764, step 1.164 + 0.882 = 2.046
    np.testing.assert_allclose(params[0][0], [0.82 - 0.2046])


def test_adamw_by_hand():
    # the first step of Adam moves each weight by lr (m_hat / sqrt(v_hat) = sign g);
    # AdamW's decay is then lr * lambda * w, outside the gradient
    params = pair([2.0, -1.0], [0.3, -5.0])
    opt = Adam(params, lr=0.1, eps=1e-12, weight_decay=0.5)
    opt.step()
    np.testing.assert_allclose(params[0][0], [2.0 - 0.1 * 0.5 * 2.0 - 0.1, -1.0 + 0.1 * 0.5 + 0.1])
    # second step, same gradient: m_hat = g, v_hat = g^2 again, so the same move
    before = params[0][0].copy()
    opt.step()
    np.testing.assert_allclose(params[0][0], before - 0.1 * 0.5 * before - 0.1 * np.sign([0.3, -5.0]))


@pytest.mark.parametrize("kwargs", [dict(momentum=0.9), dict(momentum=0.9, nesterov=True),
                                    dict(momentum=0.5, weight_decay=0.01), dict()])
def test_sgd_matches_pytorch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w = rng.standard_normal(5)
    ours = [(w.copy(), np.zeros(5))]
    theirs = torch.tensor(w.copy(), requires_grad=True)
    opt, topt = SGD(ours, lr=0.05, **kwargs), torch.optim.SGD([theirs], lr=0.05, **kwargs)
    for _ in range(5):
        g = rng.standard_normal(5)
        ours[0][1][...] = g
        theirs.grad = torch.tensor(g)
        opt.step()
        topt.step()
    np.testing.assert_allclose(ours[0][0], theirs.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adam_matches_pytorch_adamw(weight_decay):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    w = rng.standard_normal(6)
    ours = [(w.copy(), np.zeros(6))]
    theirs = torch.tensor(w.copy(), requires_grad=True)
    opt = Adam(ours, lr=0.01, weight_decay=weight_decay)
    topt = torch.optim.AdamW([theirs], lr=0.01, weight_decay=weight_decay)
    for _ in range(7):
        g = rng.standard_normal(6)
        ours[0][1][...] = g
        theirs.grad = torch.tensor(g)
        opt.step()
        topt.step()
    np.testing.assert_allclose(ours[0][0], theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_optimizer_state_round_trip_resumes_exactly():
    rng = np.random.default_rng(2)
    grads = [rng.standard_normal(4) for _ in range(6)]
    for make in (lambda p: SGD(p, 0.1, momentum=0.9), lambda p: Adam(p, 0.01)):
        straight = pair(np.ones(4), np.zeros(4))
        opt = make(straight)
        for g in grads:
            straight[0][1][...] = g
            opt.step()
        resumed = pair(np.ones(4), np.zeros(4))
        first = make(resumed)
        for g in grads[:3]:
            resumed[0][1][...] = g
            first.step()
        state = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in first.state().items()}
        second = make(resumed)
        second.load_state(state)
        for g in grads[3:]:
            resumed[0][1][...] = g
            second.step()
        np.testing.assert_array_equal(straight[0][0], resumed[0][0])


@pytest.mark.parametrize("bad", [dict(lr=-1), dict(lr=float("nan")), dict(lr=0.1, momentum=1.5),
                                 dict(lr=0.1, nesterov=True)])
def test_invalid_settings(bad):
    with pytest.raises(ValueError):
        SGD(pair([1.0], [1.0]), **bad)


def test_clip_grad_norm():
    params = pair([0.0, 0.0], [3.0, 4.0])
    assert clip_grad_norm(params, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(params[0][1], [0.6, 0.8])
    assert clip_grad_norm(params, 10.0) == pytest.approx(1.0)
    np.testing.assert_allclose(params[0][1], [0.6, 0.8])


def test_schedules():
    cosine = schedules.cosine(10, warmup=1)
    assert cosine(0.0) < 0.01 and cosine(1.0) == pytest.approx(1.0)
    assert cosine(5.5) == pytest.approx(0.5) and cosine(10) == pytest.approx(0.0)
    step = schedules.step(3, 0.1)
    assert [step(e) for e in (0, 2.9, 3, 6)] == pytest.approx([1, 1, 0.1, 0.01])
    with pytest.raises(ValueError):
        schedules.get("zigzag", 10)


def test_fit_applies_the_schedule_to_the_optimizer(tiny_mnist):
    from digitnet.data import mnist

    data = mnist.load("mnist", tiny_mnist)
    net = mlp([784, 10], "relu", "ce", rng=0)
    opt = SGD(net.parameters(), 0.5)
    seen = []

    class Watch:
        def on_epoch_begin(self, *a):
            pass

        def on_batch_end(self, epoch, batch, loss):
            seen.append(opt.lr)

        def on_epoch_end(self, *a):
            return False

    fit(net, data.train.x, data.train.y, epochs=2, batch_size=100, lr=0.5, optimizer=opt,
        schedule=schedules.step(1, 0.1), callbacks=[Watch()], clip=1.0)
    assert seen[0] == pytest.approx(0.5) and seen[-1] == pytest.approx(0.05)
