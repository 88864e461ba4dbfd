"""Keras files of every generation: configs, legacy HDF5, .keras archives, the
Keras 3 weights tree, and the builders that turn a config and its weights into the IR."""
