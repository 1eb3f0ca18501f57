"""Check hand derivations written in LaTeX: the bias gradient of a layer, right and wrong."""

import symgrad as sg

shapes = "W: n×m, X: m×k, b: n×1"

# The right answer: the row sums of the upstream gradient.
right = sg.check(r"\frac{\partial L}{\partial b} = \frac{\partial L}{\partial f} \mathbf{1}_k",
                 "f = W X + b", shapes=shapes)
print(right.summary)

# The often-printed k ∂L/∂f: wrong unless ∂L/∂f is constant along the broadcast axis.
wrong = sg.check(r"k \frac{\partial L}{\partial f}", "f = W X + b", "b", shapes)
print(wrong)

# Parsing alone: LaTeX in, an expression out (and printed back the same way).
e = sg.parse(r"\sigma(W X + b)", shapes)
print(sg.latex(e))

assert right.ok and not wrong.ok
assert "constant along the broadcast axis 1" in wrong.summary
assert sg.latex(e) == r"\sigma(W X + b \mathbf{1}_{k}^{\top})"
