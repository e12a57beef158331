"""Course grader: YAML-defined PyTorch exercises, graded in isolated children."""

__version__ = "0.1.0"
