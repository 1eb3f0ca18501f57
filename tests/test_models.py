"""Softmax cross-entropy and MLPs with biases broadcast down the rows."""

import pytest

import symgrad as sg

N, d, c, h1, h2 = sg.dims("N d c h1 h2")
X, Y = sg.matrix("X", N, d), sg.matrix("Y", N, c)


def test_softmax_cross_entropy_logit_gradient():
    W, b = sg.matrix("W", d, c), sg.vector("b", c)
    Z = sg.matrix("Z", N, c)  # the logits as a variable: the gradient w.r.t. them
    L = -sg.sum(Y * sg.log(sg.softmax(Z, axis=1)))
    # softmax(Z) ⊙ (row sums of Y) - Y: Y's rows are not known to sum to one.
    assert sg.latex(sg.grad(L, Z)) == (
        r"\operatorname{softmax}_{\mathrm{row}}(Z) \odot (Y \mathbf{1}_{c} \mathbf{1}_{c}^{\top})"
        r" - Y"
    )
    assert sg.gradcheck(L, Z).ok
    Lw = -sg.sum(Y * sg.log(sg.softmax(X @ W + b, axis=1)))
    report = sg.gradcheck(Lw, [W, b])
    assert report.ok, str(report)


def _mlp(widths, act=sg.tanh):
    H, params = X, []
    for i, (w_in, w_out) in enumerate(zip(widths[:-1], widths[1:]), start=1):
        W, b = sg.matrix(f"W{i}", w_in, w_out), sg.vector(f"b{i}", w_out)
        params += [W, b]
        Z = H @ W + b
        H = act(Z) if i < len(widths) - 1 else Z
    return sg.sum((H - Y) ** 2), params


@pytest.mark.parametrize("widths", [(d, h1, c), (d, h1, h2, c)], ids=["2-layer", "3-layer"])
def test_mlp_gradients(widths):
    L, params = _mlp(widths)
    grads = sg.grad(L, params)
    for seed in range(2):
        report = sg.gradcheck(L, params, seed=seed)
        assert report.ok, str(report)
    for p, g in zip(params, grads):
        assert g.shape == p.shape
        if p.ndim == 1:  # biases broadcast down the rows: column sums (...)ᵀ 1_N
            assert sg.latex(g, inline=True).endswith(r")^{\top} \mathbf{1}_{N}"), sg.latex(g)


def test_mlp_output_bias_gradient_text():
    L, (W1, b1, W2, b2) = _mlp((d, h1, c))
    assert sg.latex(sg.grad(L, b2)) == (
        r"2 (\tanh(X W_{1} + \mathbf{1}_{N} b_{1}^{\top}) W_{2} + \mathbf{1}_{N} b_{2}^{\top}"
        r" - Y)^{\top} \mathbf{1}_{N}"
    )
