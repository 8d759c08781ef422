"""Model tooling: read and verify .tflite files, the ops they use, their arena."""
