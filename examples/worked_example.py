"""Tutorial 4's worked example: one neuron per layer, one step of backprop.

Input 0.8, target 1; L1 has w = 1.58, b = -0.14; L2 has w = 2.45, b = -0.11;
sigmoid activations, cost C = (a - y)^2 / 2, step size 0.1.

    python examples/worked_example.py
"""

import numpy as np

from digitnet.nn import SGD, mlp

net = mlp([1, 1, 1], "sigmoid", "quadratic", dtype=np.float64)
hidden, sigmoid, output = net.layers
hidden.weight[:], hidden.bias[:] = 1.58, -0.14
output.weight[:], output.bias[:] = 2.45, -0.11
x, y = np.array([[0.8]]), np.array([[1.0]])

# Forward: z = w a + b, a = sigma(z), layer by layer.
z_l1 = hidden.forward(x)
a_l1 = sigmoid.forward(z_l1)
z_l2 = output.forward(a_l1)
a_l2 = net.loss.output(z_l2)
for name, value in [("z_l1", z_l1), ("a_l1", a_l1), ("z_l2", z_l2), ("a_l2", a_l2)]:
    print(f"{name} = {value.item()!r}")

# Backward: the cost gives delta^L = (a - y) sigma'(z) (BP1); each layer fills dC/db (BP3)
# and dC/dw (BP4) and hands w^T delta back (BP2).
original_cost = net.loss_and_gradients(x, y)
print(f"dc_db_l2 = {output.grads['bias'].item()!r}")
print(f"dc_dw_l2 = {output.grads['weight'].item()!r}")
print(f"dc_da_l1 = {(output.weight * output.grads['bias']).item()!r}")
print(f"dc_db_l1 = {hidden.grads['bias'].item()!r}")
print(f"dc_dw_l1 = {hidden.grads['weight'].item()!r}")

# Gradient descent: w -> w - eta dC/dw, b -> b - eta dC/db.
SGD(net.parameters(), lr=0.1).step()
for name, value in [("updated_b_l2", output.bias), ("updated_w_l2", output.weight),
                    ("updated_b_l1", hidden.bias), ("updated_w_l1", hidden.weight)]:
    print(f"{name} = {value.item()!r}")

updated_z_l1 = hidden.forward(x)
updated_a_l1 = sigmoid.forward(updated_z_l1)
updated_z_l2 = output.forward(updated_a_l1)
print(f"updated_z_l1 = {updated_z_l1.item()!r}")
print(f"updated_a_l1 = {updated_a_l1.item()!r}")
print(f"updated_z_l2 = {updated_z_l2.item()!r}")
print(f"updated_a_l2 = {net.loss.output(updated_z_l2).item()!r}")

print(f"original_cost = {original_cost!r}")
print(f"updated_cost = {net.loss_and_gradients(x, y)!r}")
