#!/usr/bin/env python3
"""Writes the PyTorch reference numbers the SRCore tests compare against.

Run from the repository root with a virtual environment that has torch (CI never runs this;
the JSON files it writes are committed):

    python3 -m venv .venv-peer && .venv-peer/bin/pip install torch numpy
    .venv-peer/bin/python Tests/SRCoreTests/Fixtures/make_fixtures.py

Every tensor is stored flat (row-major) with its shape, as float32 values printed exactly
(repr of the float32 value), so the tests read back the very numbers PyTorch used.
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def flat(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "values": [float(v) for v in t.flatten().tolist()]}


def write(name, payload):
    payload["generator"] = f"make_fixtures.py with torch {torch.__version__}"
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", name)


def adam_fixture():
    """Adam over 6 steps with a learning rate that changes per step, without and with L2 decay."""
    torch.manual_seed(1)
    cases = []
    for weight_decay in (0.0, 0.01):
        start = torch.randn(37)
        grads = [torch.randn(37) * (10 ** (k % 3 - 1)) for k in range(6)]
        lrs = [1e-3, 1e-3, 5e-4, 1e-4, 1e-4, 2e-3]
        param = torch.nn.Parameter(start.clone())
        opt = torch.optim.Adam([param], lr=lrs[0], betas=(0.9, 0.999), eps=1e-8,
                               weight_decay=weight_decay)
        after = []
        for grad, lr in zip(grads, lrs):
            for group in opt.param_groups:
                group["lr"] = lr
            param.grad = grad.clone()
            opt.step()
            after.append(flat(param))
        state = opt.state[param]
        cases.append({
            "weight_decay": weight_decay, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
            "start": flat(start), "grads": [flat(g) for g in grads], "lrs": lrs,
            "after": after, "exp_avg": flat(state["exp_avg"]), "exp_avg_sq": flat(state["exp_avg_sq"]),
        })
    write("adam.json", {"cases": cases})


def batchnorm_fixture():
    """BatchNorm2d(3): two training passes (running statistics), backward, then evaluation."""
    torch.manual_seed(2)
    bn = torch.nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.5, -0.7, 0.3]))
        bn.bias.copy_(torch.tensor([0.1, 0.2, -0.4]))
    bn.train()
    x1 = torch.randn(2, 3, 4, 5) * 2 + 0.5
    out1 = bn(x1)
    x2 = (torch.randn(2, 3, 4, 5) * 0.5 - 1).requires_grad_(True)
    out2 = bn(x2)
    upstream = torch.randn(2, 3, 4, 5)
    out2.backward(upstream)
    bn.eval()
    x3 = torch.randn(2, 3, 4, 5)
    out3 = bn(x3)
    write("batchnorm.json", {
        "weight": flat(bn.weight), "bias": flat(bn.bias),
        "x1": flat(x1), "out1": flat(out1), "x2": flat(x2), "out2": flat(out2),
        "upstream": flat(upstream), "input_grad": flat(x2.grad),
        "weight_grad": flat(bn.weight.grad), "bias_grad": flat(bn.bias.grad),
        "running_mean": flat(bn.running_mean), "running_var": flat(bn.running_var),
        "num_batches_tracked": int(bn.num_batches_tracked),
        "x3": flat(x3), "out3_eval": flat(out3),
    })


def conv_fixture():
    """Conv2d forward and all three gradients for the geometries SRGAN uses, on small maps."""
    torch.manual_seed(3)
    cases = []
    for (cin, cout, k, stride, pad, h, w) in [(3, 4, 3, 2, 1, 7, 6), (2, 3, 9, 1, 4, 10, 11),
                                              (5, 2, 1, 1, 0, 4, 3), (3, 8, 3, 1, 1, 5, 5)]:
        conv = torch.nn.Conv2d(cin, cout, k, stride=stride, padding=pad)
        x = torch.randn(2, cin, h, w, requires_grad=True)
        y = conv(x)
        upstream = torch.randn_like(y)
        y.backward(upstream)
        cases.append({
            "in_channels": cin, "out_channels": cout, "kernel": k, "stride": stride, "padding": pad,
            "weight": flat(conv.weight), "bias": flat(conv.bias), "x": flat(x), "y": flat(y),
            "upstream": flat(upstream), "input_grad": flat(x.grad),
            "weight_grad": flat(conv.weight.grad), "bias_grad": flat(conv.bias.grad),
        })
    write("conv.json", {"cases": cases})


def small_ops_fixture():
    """PixelShuffle(2), PReLU, MaxPool2d(2), Linear and the three losses."""
    torch.manual_seed(4)
    x = torch.randn(2, 8, 3, 2)
    shuffled = torch.nn.functional.pixel_shuffle(x, 2)
    prelu = torch.nn.PReLU(3)
    with torch.no_grad():
        prelu.weight.copy_(torch.tensor([0.25, -0.1, 0.6]))
    px = torch.randn(2, 3, 2, 3, requires_grad=True)
    py = prelu(px)
    pup = torch.randn_like(py)
    py.backward(pup)
    pool_x = torch.randn(2, 3, 5, 4, requires_grad=True)
    pool_y = torch.nn.functional.max_pool2d(pool_x, 2)
    pool_up = torch.randn_like(pool_y)
    pool_y.backward(pool_up)
    linear = torch.nn.Linear(6, 4)
    lx = torch.randn(3, 6, requires_grad=True)
    ly = linear(lx)
    lup = torch.randn_like(ly)
    ly.backward(lup)
    prediction = torch.randn(2, 3, 4, 4, requires_grad=True)
    target = torch.rand(2, 3, 4, 4)
    losses = {}
    for name, fn in (("mse", torch.nn.functional.mse_loss), ("l1", torch.nn.functional.l1_loss)):
        prediction.grad = None
        value = fn(prediction, target)
        value.backward()
        losses[name] = {"value": float(value.detach()), "grad": flat(prediction.grad)}
    logits = torch.tensor([-120.0, -30.0, -2.5, -0.1, 0.0, 0.3, 4.0, 35.0, 150.0, 1.0],
                          requires_grad=True)
    labels = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0, 1.0, 0.9])
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    bce.backward()
    write("small_ops.json", {
        "shuffle_x": flat(x), "shuffle_y": flat(shuffled),
        "prelu_weight": flat(prelu.weight), "prelu_x": flat(px), "prelu_y": flat(py),
        "prelu_upstream": flat(pup), "prelu_input_grad": flat(px.grad),
        "prelu_weight_grad": flat(prelu.weight.grad),
        "pool_x": flat(pool_x), "pool_y": flat(pool_y), "pool_upstream": flat(pool_up),
        "pool_input_grad": flat(pool_x.grad),
        "linear_weight": flat(linear.weight), "linear_bias": flat(linear.bias), "linear_x": flat(lx),
        "linear_y": flat(ly), "linear_upstream": flat(lup), "linear_input_grad": flat(lx.grad),
        "linear_weight_grad": flat(linear.weight.grad), "linear_bias_grad": flat(linear.bias.grad),
        "loss_prediction": flat(prediction), "loss_target": flat(target),
        "mse": losses["mse"], "l1": losses["l1"],
        "bce_logits": flat(logits), "bce_labels": flat(labels), "bce_value": float(bce),
        "bce_grad": flat(logits.grad),
    })


if __name__ == "__main__":
    torch.set_num_threads(1)
    adam_fixture()
    batchnorm_fixture()
    conv_fixture()
    small_ops_fixture()
