"""pick_device that asks only about CUDA."""
import torch


def pick_device():
    return "cuda" if torch.cuda.is_available() else "cpu"
