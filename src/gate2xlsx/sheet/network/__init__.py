"""The Network sheet: one example step by step, a chain's layers or a graph's tensors,
and the cells of each kind of layer."""
