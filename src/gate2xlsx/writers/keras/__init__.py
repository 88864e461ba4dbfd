"""Keras files out: tf.keras 2.15's legacy HDF5 and Keras 3's .keras archive, from the
IR's layers as Keras classes and configs."""
