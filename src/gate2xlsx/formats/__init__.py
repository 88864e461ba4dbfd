"""One table per format, read by its reader and its writer alike: file kinds, Keras layer
classes, ONNX operators. Tables name the IR's families; they hold no I/O."""
