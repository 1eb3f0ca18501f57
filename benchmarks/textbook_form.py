"""Issue 11, part 3: how long symgrad's printed gradients are next to the textbook's.

    python benchmarks/textbook_form.py              # the whole corpus, a table
    python benchmarks/textbook_form.py mlp2 gp_rbf  # some models (name prefixes)

For each model: the length of symgrad's display of its gradients (`sg.latex({x: dL/dx, ...})`,
named parts included) and of a textbook form written down from the source cited beside it, in
the same notation, and their ratio. Lengths count the characters of the display's rows without
the `\\begin{aligned}` lines and without the `\\frac{\\partial L}{\\partial x} &=` labels of the
results, which both sides share; a definition row (`H &= \\tanh(Z)`) counts whole. Each textbook
form is parsed (sg.parse, with the model's shapes) and evaluated against symgrad's gradient at
random points, and symgrad's own display is parsed back the same way: a form that is not the
value fails the run. Targets: every ratio <= 1.5, median <= 1.1.
"""

import argparse
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import symgrad as sg
from symgrad.display import parse_display
from symgrad.numeric import variables
from symgrad.testing import random_env, random_sizes

TARGET_WORST, TARGET_MEDIAN = 1.5, 1.1
_BEGIN, _END = "\\begin{aligned}", "\\end{aligned}"


@dataclass
class Model:
    name: str
    cite: str
    y: sg.Node  # the objective (a non-scalar one is back-propagated against dL/df)
    wrt: list
    rows: list  # the textbook: (a definition's name or a variable, LaTeX)
    env: Callable[[dict, np.random.Generator], None] | None = None  # domain fixes by name
    grads: list = field(default_factory=list)


def textbook_latex(rows: list) -> str:
    """The textbook rows as a display in symgrad's form (so both are measured alike)."""
    lines = []
    for lhs, rhs in rows:
        label = (rf"\frac{{\partial L}}{{\partial {sg.latex(lhs)}}}" if isinstance(lhs, sg.Node)
                 else lhs)
        lines.append(f"{label} &= {rhs}")
    return _BEGIN + "\n" + " \\\\\n".join(lines) + "\n" + _END


def display_length(text: str) -> int:
    """Characters of a display without its environment lines and its results' labels."""
    body = text.removeprefix(_BEGIN).removesuffix(_END).strip()
    total = 0
    for row in body.split(" \\\\\n"):
        lhs, eq, rhs = row.partition(" &= ")
        total += len(rhs) if not eq else len(row) if "\\partial" not in lhs else len(rhs)
    return total


def symgrad_display(m: Model) -> str:
    text = sg.latex(dict(zip(m.wrt, m.grads)))
    return text if text.startswith(_BEGIN) else _BEGIN + "\n" + text + "\n" + _END


# ---- the corpus -------------------------------------------------------------------------------
def _onehot(*names: str) -> Callable:
    def fix(env: dict, rng: np.random.Generator) -> None:
        for nm in names:
            a = env[nm]
            hot = np.zeros_like(a)
            if a.ndim == 1:
                hot[rng.integers(a.shape[0])] = 1.0
            else:
                hot[np.arange(a.shape[0]), rng.integers(a.shape[1], size=a.shape[0])] = 1.0
            env[nm] = hot
    return fix


def _positive(*names: str) -> Callable:
    def fix(env: dict, rng: np.random.Generator) -> None:
        for nm in names:
            env[nm] = np.abs(env[nm]) + 0.5
    return fix


def _both(*fixes: Callable) -> Callable:
    def fix(env: dict, rng: np.random.Generator) -> None:
        for f in fixes:
            f(env, rng)
    return fix


G_F = r"\frac{\partial L}{\partial f}"


def cookbook() -> list[Model]:
    """Petersen & Pedersen, The Matrix Cookbook (2012), equation numbers as cited."""
    n = sg.dims("n")
    x, a, b = sg.vector("x", n), sg.vector("a", n), sg.vector("b", n)
    A, B, X = sg.matrix("A", n, n), sg.matrix("B", n, n), sg.matrix("X", n, n)
    cases = [
        ("cb_69_linear", "eq. (69)", a @ x, x, "a"),
        ("cb_81_quadratic", "eq. (81)", x @ A @ x, x, r"(A + A^{\top}) x"),
        ("cb_100_trace", "eq. (100)", sg.trace(A @ X), X, r"A^{\top}"),
        ("cb_trace_quadratic", "§2.5.2", sg.trace(X.T @ A @ X), X,
         r"(A + A^{\top}) X"),
        ("cb_101_trace_sandwich", "eq. (101)", sg.trace(A @ X @ B), X, r"A^{\top} B^{\top}"),
        ("cb_57_logdet", "eq. (57)", sg.logdet(X), X, r"X^{-\top}"),
        ("cb_49_det", "eq. (49)", sg.det(X), X, r"\det(X) X^{-\top}"),
        ("cb_61_inverse_form", "eq. (61)", a @ sg.inv(X) @ b, X,
         r"-X^{-\top} a b^{\top} X^{-\top}"),
        ("cb_84_norm", "eq. (84), W = I", sg.norm(A @ x - b) ** 2, x, r"2 A^{\top} (A x - b)"),
        ("cb_84_sum_squares", "eq. (84), W = I, as a sum of squares",
         sg.sum((A @ x - b) ** 2), x, r"2 A^{\top} (A x - b)"),
        ("cb_frobenius", "§2.5.2", sg.norm(X) ** 2, X, "2 X"),
        ("cb_trace_inverse", "§2.5.2, B = I", sg.trace(sg.inv(X) @ A), X,
         r"-X^{-\top} A^{\top} X^{-\top}"),
    ]
    return [Model(nm, "Matrix Cookbook " + c, y, [v], [(v, t)]) for nm, c, y, v, t in cases]


def seeds() -> list[Model]:
    n, m, k = sg.dims("n m k")
    W, X, b = sg.matrix("W", n, m), sg.matrix("X", m, k), sg.matrix("b", n, 1)
    N, d, h = sg.dims("N d h")
    Xr, Wr, c = sg.matrix("X", N, d), sg.matrix("W", d, h), sg.vector("c", h)
    cite = ("Goodfellow et al., Deep Learning (2016), §6.5.7 (back-propagation through an affine "
            "map); the bias sums the upstream gradient over the broadcast axis")
    return [
        Model("seed_columns", cite, sg.name("f", W @ X + b), [W, X, b],
              [(W, rf"{G_F} X^{{\top}}"), (X, rf"W^{{\top}} {G_F}"),
               (b, rf"{G_F} \mathbf{{1}}_{{k}}")]),
        Model("seed_rows", cite, sg.name("f", Xr @ Wr + c), [Wr, Xr, c],
              [(Wr, rf"X^{{\top}} {G_F}"), (Xr, rf"{G_F} W^{{\top}}"),
               (c, rf"\left({G_F}\right)^{{\top}} \mathbf{{1}}_{{N}}")]),
    ]


def regression() -> list[Model]:
    N, d, c = sg.dims("N d c")
    X, w, y = sg.matrix("X", N, d), sg.vector("w", d), sg.vector("y", N)
    lam = sg.scalar("lambda")
    W, Y = sg.matrix("W", d, c), sg.matrix("Y", N, c)
    ypm = sg.vector("y", N, labels="pm1")
    z = sg.vector("z", c)
    yc, Yh = sg.vector("y", c, labels="onehot"), sg.matrix("Y", N, c, labels="onehot")
    P = sg.softmax(X @ W, axis=1)
    xs = sg.vector("x", d)
    return [
        Model("least_squares", "Goodfellow et al., Deep Learning (2016), §5.1.4",
              sg.mean((X @ w - y) ** 2), [w], [(w, r"\frac{2}{N} X^{\top} (X w - y)")]),
        Model("ridge", "Bishop, PRML (2006), §3.1.4 (regularized least squares)",
              sg.sum((X @ w - y) ** 2) + lam * sg.sum(w ** 2), [w],
              [(w, r"2 X^{\top} (X w - y) + 2 \lambda w")]),
        Model("multi_output_ls", "Bishop, PRML (2006), §3.1.5",
              sg.norm(X @ W - Y) ** 2, [W], [(W, r"2 X^{\top} (X W - Y)")]),
        Model("logistic_01", "Bishop, PRML (2006), eq. (4.91)",
              -sg.sum(y * sg.log(sg.sigmoid(X @ w)) + (1 - y) * sg.log(1 - sg.sigmoid(X @ w))),
              [w], [(w, r"X^{\top} (\sigma(X w) - y)")], env=_both(
                  lambda env, rng: env.__setitem__("y", rng.integers(0, 2, env["y"].shape)
                                                   .astype(float)))),
        Model("logistic_pm1", "Murphy, MLAPP (2012), §8.3.1 (labels in {-1, +1})",
              sg.sum(sg.softplus(-ypm * (X @ w))), [w],
              [(w, r"-X^{\top} (y \odot \sigma(-y \odot X w))")]),
        Model("softmax_regression", "Bishop, PRML (2006), eq. (4.109)",
              -sg.sum(Yh * sg.log(P)), [W],
              [("P", r"\operatorname{softmax}_{\mathrm{row}}(X W)"), (W, r"X^{\top} (P - Y)")],
              env=_onehot("Y")),
        Model("softmax_logits", "Goodfellow et al. (2016), §6.2.2.3",
              -yc @ sg.log(sg.softmax(z)), [z], [(z, r"\operatorname{softmax}(z) - y")],
              env=_onehot("y")),
        Model("logsumexp", "Boyd & Vandenberghe, Convex Optimization (2004), §3.1.5 (log-sum-exp)",
              sg.logsumexp(z, axis=0), [z], [(z, r"\operatorname{softmax}(z)")]),
        Model("poisson_regression",
              "McCullagh & Nelder, Generalized Linear Models (1989), Poisson log-linear model",
              sg.sum(sg.exp(X @ w) - y * (X @ w)), [w], [(w, r"X^{\top} (\exp(X w) - y)")]),
        Model("quadratic_symmetric", "Nocedal & Wright, Numerical Optimization (2006), §5.1",
              0.5 * xs @ sg.matrix("A", d, d, symmetric=True) @ xs - sg.vector("b", d) @ xs,
              [xs], [(xs, "A x - b")]),
    ]


def mlps() -> list[Model]:
    N, d, h, h2, c = sg.dims("N d h g c")
    X, Y = sg.matrix("X", N, d), sg.matrix("Y", N, c)
    Yh = sg.matrix("Y", N, c, labels="onehot")
    W1, b1 = sg.matrix("W1", d, h), sg.vector("b1", h)
    W2, b2 = sg.matrix("W2", h, c), sg.vector("b2", c)
    H = sg.tanh(X @ W1 + b1)
    L2 = sg.sum((H @ W2 + b2 - Y) ** 2)
    V2, c2 = sg.matrix("W2", h, h2), sg.vector("b2", h2)
    W3, b3 = sg.matrix("W3", h2, c), sg.vector("b3", c)
    H2 = sg.tanh(H @ V2 + c2)
    L3 = sg.sum((H2 @ W3 + b3 - Y) ** 2)
    P = sg.softmax(sg.relu(X @ W1 + b1) @ W2 + b2, axis=1)
    Lce = -sg.sum(Yh * sg.log(P))
    # batch on columns: W X + b 1ᵀ
    Xc, Yc = sg.matrix("X", d, N), sg.matrix("Y", c, N)
    U1, a1 = sg.matrix("W1", h, d), sg.matrix("b1", h, 1)
    U2, a2 = sg.matrix("W2", c, h), sg.matrix("b2", c, 1)
    Lcol = sg.sum((U2 @ sg.sigmoid(U1 @ Xc + a1) + a2 - Yc) ** 2)
    gb = "Goodfellow et al. (2016), Algorithm 6.4 (back-propagation), matrix form"
    return [
        Model("mlp2_tanh", gb, L2, [W1, b1, W2, b2], [
            ("H", r"\tanh(X W_{1} + \mathbf{1}_{N} b_{1}^{\top})"),
            ("R", r"H W_{2} + \mathbf{1}_{N} b_{2}^{\top} - Y"),
            ("D", r"(R W_{2}^{\top}) \odot (1 - H^{\circ 2})"),
            (W1, r"2 X^{\top} D"), (b1, r"2 D^{\top} \mathbf{1}_{N}"),
            (W2, r"2 H^{\top} R"), (b2, r"2 R^{\top} \mathbf{1}_{N}")]),
        Model("mlp3_tanh", gb, L3, [W1, b1, V2, c2, W3, b3], [
            ("H_1", r"\tanh(X W_{1} + \mathbf{1}_{N} b_{1}^{\top})"),
            ("H_2", r"\tanh(H_{1} W_{2} + \mathbf{1}_{N} b_{2}^{\top})"),
            ("R", r"H_{2} W_{3} + \mathbf{1}_{N} b_{3}^{\top} - Y"),
            ("D_2", r"(R W_{3}^{\top}) \odot (1 - H_{2}^{\circ 2})"),
            ("D_1", r"(D_{2} W_{2}^{\top}) \odot (1 - H_{1}^{\circ 2})"),
            (W1, r"2 X^{\top} D_{1}"), (b1, r"2 D_{1}^{\top} \mathbf{1}_{N}"),
            (V2, r"2 H_{1}^{\top} D_{2}"), (c2, r"2 D_{2}^{\top} \mathbf{1}_{N}"),
            (W3, r"2 H_{2}^{\top} R"), (b3, r"2 R^{\top} \mathbf{1}_{N}")]),
        Model("mlp2_relu_softmax", gb + "; Bishop, PRML (2006), eq. (4.109)", Lce,
              [W1, b1, W2, b2], [
                  ("Z", r"X W_{1} + \mathbf{1}_{N} b_{1}^{\top}"),
                  ("H", r"\operatorname{relu}(Z)"),
                  ("E", r"\operatorname{softmax}_{\mathrm{row}}(H W_{2} + \mathbf{1}_{N} "
                        r"b_{2}^{\top}) - Y"),
                  ("D", r"(E W_{2}^{\top}) \odot \operatorname{step}(Z)"),
                  (W1, r"X^{\top} D"), (b1, r"D^{\top} \mathbf{1}_{N}"),
                  (W2, r"H^{\top} E"), (b2, r"E^{\top} \mathbf{1}_{N}")],
              env=_onehot("Y")),
        Model("mlp2_sigmoid_columns", gb + " (batch on columns)", Lcol, [U1, a1, U2, a2], [
            ("H", r"\sigma(W_{1} X + b_{1} \mathbf{1}_{N}^{\top})"),
            ("R", r"W_{2} H + b_{2} \mathbf{1}_{N}^{\top} - Y"),
            ("D", r"(W_{2}^{\top} R) \odot H \odot (1 - H)"),
            (U1, r"2 D X^{\top}"), (a1, r"2 D \mathbf{1}_{N}"),
            (U2, r"2 R H^{\top}"), (a2, r"2 R \mathbf{1}_{N}")]),
    ]


def normalization() -> list[Model]:
    d, N = sg.dims("d N")
    x, gam, bet = sg.vector("x", d), sg.vector("gamma", d), sg.vector("beta", d)
    eps = sg.scalar("epsilon")
    xc = x - sg.mean(x)
    y_ln = sg.name("f", xc / sg.sqrt(sg.mean(xc ** 2) + eps) * gam + bet)
    X = sg.matrix("X", N, d)
    Xc = X - sg.mean(X, axis=0)
    y_bn = sg.name("f", Xc / sg.sqrt(sg.mean(Xc ** 2, axis=0) + eps) * gam + bet)
    return [
        Model("layer_norm", "Ba, Kiros & Hinton, Layer Normalization (2016), §3; the "
              "backward pass as in Ioffe & Szegedy (2015), §3, over one vector",
              y_ln, [x, gam, bet], [
                  ("s", r"\sqrt{\frac{1}{d} \left\| x - \frac{1}{d} \mathbf{1}_{d} "
                        r"\mathbf{1}_{d}^{\top} x \right\|^{2} + \epsilon}"),
                  ("u", r"\frac{1}{s} (x - \frac{1}{d} \mathbf{1}_{d} \mathbf{1}_{d}^{\top} x)"),
                  ("g", rf"\gamma \odot {G_F}"),
                  (x, r"\frac{1}{s} (g - \frac{1}{d} \mathbf{1}_{d} \mathbf{1}_{d}^{\top} g "
                      r"- \frac{1}{d} u u^{\top} g)"),
                  (gam, rf"{G_F} \odot u"), (bet, G_F)],
              env=_positive("epsilon")),
        Model("batch_norm", "Ioffe & Szegedy, Batch Normalization (2015), §3 (backward pass)",
              y_bn, [X, gam, bet], [
                  ("C", r"X - \frac{1}{N} \mathbf{1}_{N} \mathbf{1}_{N}^{\top} X"),
                  ("s", r"\sqrt{\frac{1}{N} (C^{\circ 2})^{\top} \mathbf{1}_{N} + \epsilon}"),
                  ("U", r"C \oslash (\mathbf{1}_{N} s^{\top})"),
                  ("G", rf"{G_F} \odot (\mathbf{{1}}_{{N}} \gamma^{{\top}})"),
                  (X, r"(G - \frac{1}{N} \mathbf{1}_{N} \mathbf{1}_{N}^{\top} G - \frac{1}{N} "
                      r"U \odot (\mathbf{1}_{N} \mathbf{1}_{N}^{\top} (G \odot U))) "
                      r"\oslash (\mathbf{1}_{N} s^{\top})"),
                  (gam, rf"({G_F} \odot U)^{{\top}} \mathbf{{1}}_{{N}}"),
                  (bet, rf"\left({G_F}\right)^{{\top}} \mathbf{{1}}_{{N}}")],
              env=_positive("epsilon")),
    ]


def attention_lstm() -> list[Model]:
    n, m, d, e = sg.dims("n m d e")
    Q, K, V = sg.matrix("Q", n, d), sg.matrix("K", m, d), sg.matrix("V", m, e)
    out = sg.name("f", sg.softmax(Q @ K.T / sg.sqrt(d), axis=1) @ V)
    h, k = sg.dims("h k")
    x, hp, cp = sg.vector("x", k), sg.vector("h", h), sg.vector("c", h)
    Wi, Wf, Wo, Wg = (sg.matrix(f"W_{g}", h, k) for g in "ifog")
    Ui, Uf, Uo, Ug = (sg.matrix(f"U_{g}", h, h) for g in "ifog")
    i_, f_, o_ = (sg.sigmoid(Wa @ x + Ua @ hp) for Wa, Ua in ((Wi, Ui), (Wf, Uf), (Wo, Uo)))
    g_ = sg.tanh(Wg @ x + Ug @ hp)
    c_new = f_ * cp + i_ * g_
    h_new = sg.name("h_out", o_ * sg.tanh(c_new))
    G = r"\frac{\partial L}{\partial h_{\text{out}}}"
    return [
        Model("attention", "Vaswani et al. (2017), eq. (1); the backward pass of Dao et al., "
              "FlashAttention (2022), Appendix B.2", out, [Q, K, V], [
                  ("P", r"\operatorname{softmax}_{\mathrm{row}}(\frac{1}{\sqrt{d}} Q K^{\top})"),
                  ("D", rf"{G_F} V^{{\top}}"),
                  ("S", r"P \odot (D - (P \odot D) \mathbf{1}_{m} \mathbf{1}_{m}^{\top})"),
                  (Q, r"\frac{1}{\sqrt{d}} S K"), (K, r"\frac{1}{\sqrt{d}} S^{\top} Q"),
                  (V, rf"P^{{\top}} {G_F}")]),
        Model("lstm_cell", "Hochreiter & Schmidhuber (1997); gates and backward pass as in "
              "Greff et al., LSTM: A Search Space Odyssey (2017), Appendix", h_new,
              [Wi, Wf, Wo, Wg, cp], [
                  ("i", r"\sigma(W_{i} x + U_{i} h)"), ("f", r"\sigma(W_{f} x + U_{f} h)"),
                  ("o", r"\sigma(W_{o} x + U_{o} h)"), ("g", r"\tanh(W_{g} x + U_{g} h)"),
                  ("t", r"\tanh(f \odot c + i \odot g)"),
                  ("\\delta", rf"{G} \odot o \odot (1 - t^{{\circ 2}})"),
                  (Wi, r"(\delta \odot g \odot i \odot (1 - i)) x^{\top}"),
                  (Wf, r"(\delta \odot c \odot f \odot (1 - f)) x^{\top}"),
                  (Wo, rf"({G} \odot t \odot o \odot (1 - o)) x^{{\top}}"),
                  (Wg, r"(\delta \odot i \odot (1 - g^{\circ 2})) x^{\top}"),
                  (cp, r"\delta \odot f")]),
    ]


def statistics_models() -> list[Model]:
    N, d, n, k, m = sg.dims("N d n k m")
    X, mu = sg.matrix("X", N, d), sg.vector("mu", d)
    Sig = sg.matrix("Sigma", d, d, symmetric=True)
    R = X - mu
    nll = 0.5 * sg.trace(R @ sg.inv(Sig) @ R.T) + N / 2 * sg.logdet(Sig)
    y, C = sg.vector("y", n), sg.matrix("C", n, n, symmetric=True)
    theta, s = sg.scalar("theta"), sg.scalar("s")
    Kmat = theta * C + s * sg.eye(n)
    gp = 0.5 * y @ sg.inv(Kmat) @ y + 0.5 * sg.logdet(Kmat)
    D = sg.matrix("D", n, n, symmetric=True)
    a, ell = sg.scalar("a"), sg.scalar("ell")
    Krbf = a * sg.exp(-D / (2 * ell ** 2)) + s * sg.eye(n)
    gp_rbf = 0.5 * y @ sg.inv(Krbf) @ y + 0.5 * sg.logdet(Krbf)
    Rm, U, V = sg.matrix("R", n, m), sg.matrix("U", n, k), sg.matrix("V", m, k)
    lam = sg.scalar("lambda")
    mf = sg.norm(Rm - U @ V.T) ** 2 + lam * (sg.norm(U) ** 2 + sg.norm(V) ** 2)
    mu_z, v = sg.vector("mu", k), sg.vector("v", k)
    kl = -0.5 * sg.sum(1 + v - mu_z ** 2 - sg.exp(v))
    W, S = sg.matrix("W", d, k), sg.matrix("S", d, d, symmetric=True)
    gw = "Rasmussen & Williams, GPML (2006), eqs. (5.8)-(5.9)"
    return [
        Model("gaussian_nll", "Bishop, PRML (2006), §2.3.4; Matrix Cookbook eqs. (57), (61)",
              nll, [mu, Sig], [
                  ("R", r"X - \mathbf{1}_{N} \mu^{\top}"), ("S", r"\Sigma^{-1}"),
                  (mu, r"-S R^{\top} \mathbf{1}_{N}"),
                  (Sig, r"\frac{1}{2} (N S - S R^{\top} R S)")]),
        Model("gp_marginal_likelihood", gw, gp, [theta, s], [
            ("K", r"\theta C + s I_{n}"), ("\\alpha", r"K^{-1} y"),
            ("B", r"K^{-1} - \alpha \alpha^{\top}"),
            (theta, r"\frac{1}{2} \operatorname{tr}(B C)"),
            (s, r"\frac{1}{2} \operatorname{tr}(B)")], env=_positive("theta", "s")),
        Model("gp_rbf", gw + "; the squared-exponential kernel of eq. (2.31)", gp_rbf,
              [a, ell, s], [
                  ("E", r"\exp(-\frac{1}{2 \ell^{2}} D)"), ("K", r"a E + s I_{n}"),
                  ("\\alpha", r"K^{-1} y"), ("B", r"K^{-1} - \alpha \alpha^{\top}"),
                  (a, r"\frac{1}{2} \operatorname{tr}(B E)"),
                  (ell, r"\frac{a}{2 \ell^{3}} \operatorname{tr}(B (E \odot D))"),
                  (s, r"\frac{1}{2} \operatorname{tr}(B)")],
              env=_positive("a", "ell", "s", "D")),
        Model("matrix_factorization",
              "Koren, Bell & Volinsky, IEEE Computer (2009), eq. (2) and its SGD step",
              mf, [U, V], [("E", r"R - U V^{\top}"), (U, r"2 \lambda U - 2 E V"),
                           (V, r"2 \lambda V - 2 E^{\top} U")]),
        Model("vae_gaussian_kl", "Kingma & Welling, Auto-Encoding Variational Bayes (2014), "
              "Appendix B (v = log σ²)", kl, [mu_z, v],
              [(mu_z, r"\mu"), (v, r"\frac{1}{2} (\exp(v) - 1)")]),
        Model("pca_trace", "Bishop, PRML (2006), §12.1.1; Matrix Cookbook §2.5.2, S "
              "symmetric", sg.trace(W.T @ S @ W), [W], [(W, "2 S W")]),
    ]


def corpus() -> list[Model]:
    return [*cookbook(), *seeds(), *regression(), *mlps(), *normalization(), *attention_lstm(),
            *statistics_models()]


# ---- measuring --------------------------------------------------------------------------------
def shapes_of(m: Model) -> dict:
    shapes = {v.params.name: tuple(str(s) for s in v.shape) for v in variables(m.y)}
    if m.y.ndim:
        shapes[m.y.params[0]] = tuple(str(s) for s in m.y.shape)
    return shapes


def verify(m: Model, text: str, what: str, points: int = 2) -> None:
    """Each result row of `text` evaluates to symgrad's gradient; raises AssertionError."""
    rows = parse_display(text, shapes_of(m))
    if len(rows) != len(m.grads):
        raise AssertionError(f"{m.name}: {what} has {len(rows)} results, not {len(m.grads)}")
    rng = np.random.default_rng(0)
    nodes = [m.y, *m.grads]  # the model's variables, with their declared structure
    for _ in range(points):
        sizes = random_sizes(nodes, rng)
        env = {v.params.name: a for v, a in random_env(nodes, sizes, rng).items()}
        if m.env is not None:
            m.env(env, rng)
        for (label, e), g in zip(rows, m.grads):
            got, want = np.asarray(sg.evaluate(e, env)), np.asarray(sg.evaluate(g, env))
            if got.shape != want.shape and got.size == want.size:
                got = got.reshape(want.shape)  # b 1ᵀ's G 1_k reads as (n,) for a (n, 1) b
            if not np.allclose(got, want, rtol=1e-7, atol=1e-9):
                raise AssertionError(f"{m.name}: {what} row {label!r} is not the gradient")


def measure(m: Model) -> dict:
    m.grads = sg.grad(m.y, m.wrt)
    ours, book = symgrad_display(m), textbook_latex(m.rows)
    verify(m, book, "the textbook form")
    verify(m, ours, "symgrad's display")
    a, b = display_length(ours), display_length(book)
    return {"name": m.name, "cite": m.cite, "symgrad": a, "textbook": b, "ratio": a / b,
            "display": ours, "textbook_latex": book}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", help="name prefixes (default: the whole corpus)")
    ap.add_argument("--show", action="store_true", help="print each display and textbook form")
    args = ap.parse_args(argv)
    models = [m for m in corpus() if not args.models or m.name.startswith(tuple(args.models))]
    rows, failed = [], []
    for m in models:
        try:
            rows.append(measure(m))
        except (AssertionError, sg.SymgradError) as exc:
            failed.append(m.name)
            print(f"{m.name}: FAILED: {exc}")
    print(f"{'model':<26} {'symgrad':>8} {'textbook':>8} {'ratio':>6}")
    for r in rows:
        flag = "  over" if r["ratio"] > TARGET_WORST else ""
        print(f"{r['name']:<26} {r['symgrad']:>8} {r['textbook']:>8} {r['ratio']:>6.2f}{flag}")
        if args.show:
            print(r["display"], "\n--- textbook:", r["cite"], "\n" + r["textbook_latex"] + "\n")
    ratios = [r["ratio"] for r in rows]
    med, worst = statistics.median(ratios), max(ratios)
    print(f"{len(rows)} models; median ratio {med:.2f} (target <= {TARGET_MEDIAN}), worst "
          f"{worst:.2f} (target <= {TARGET_WORST}); over 1.5: "
          f"{sum(x > TARGET_WORST for x in ratios)}")
    if failed:
        print("failed (a form that is not the value):", ", ".join(failed))
    return {"rows": rows, "median": med, "worst": worst, "failed": failed}


if __name__ == "__main__":
    main(sys.argv[1:])
