"""LaTeX input: scalar pieces through latex2sympy2 (optional), matrix expressions by grammar."""
