"""One home per layer family: each module holds its layers as plain data, their shape rules
and their NumPy forward pass (the reference every sheet is checked against)."""
