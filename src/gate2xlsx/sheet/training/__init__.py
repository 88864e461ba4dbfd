"""The Training sheet: gradient descent unrolled in live formulas."""
