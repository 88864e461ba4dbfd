"""The intermediate representation, plain data and no I/O: the Model and its graph, the layer
families' NumPy forward passes and shape rules, and the tables of activations, losses and
optimizers (each entry its NumPy value, its derivative and its spreadsheet formula)."""
