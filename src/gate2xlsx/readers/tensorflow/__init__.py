"""TensorFlow's own formats, read without TensorFlow: SavedModel folders (protobufs
decoded by hand, the tensor bundle) and TensorFlow.js models."""
