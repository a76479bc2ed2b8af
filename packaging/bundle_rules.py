"""What the bundle leaves out, kept apart from the spec so tests can check it.

A CUDA build of torch on Linux cannot even import without the CUDA libraries it links against
(libtorch_cuda.so needs cudart, cuBLAS, cuDNN, cuFFT, cuSPARSE, NCCL, ...: verified by removing them),
so a CPU bundle keeps those and drops only what is loaded on a GPU alone.
"""

from __future__ import annotations

import re

# Python packages never used at run time by the app (tests, linters, notebooks, GPU compilers).
EXCLUDED_MODULES = [
    "tkinter", "triton", "IPython", "jupyter_client", "notebook", "pytest", "_pytest", "pytestqt",
    "hypothesis", "importlinter", "grimp", "ruff", "pytorch_grad_cam", "tensorboard",
    "torch.utils.tensorboard", "PyInstaller",
    # optional back ends pulled in by narwhals, peft, sympy, supervision's video reader, hub clients:
    # rfdetr, transformers, supervision and captum import and run without them (checked)
    "pyarrow", "av", "sklearn", "lxml", "dask", "polars", "roboflow", "onnx", "onnxruntime",
    "tensorflow", "torchcodec",
]

# transformers resolves `from transformers import X` by name at run time: the model families Loupe
# builds (ROCO captioner: ResNet + BERT tokenizer; RF-DETR: DINOv2 backbone) are collected explicitly.
TRANSFORMERS_FAMILIES = ["resnet", "bert", "dinov2", "dinov2_with_registers", "auto"]

# The nvidia-* wheels as packages: with them excluded, only the libraries torch links against come in
# (through PyInstaller's analysis of torch's own libraries), not every library of every wheel.
CUDA_PACKAGES = ["nvidia"]

# Libraries dlopen'ed on a GPU only: cuDNN's engine plugins, cuSOLVER and torch's CUDA linalg,
# profiling and JIT helpers (not CUPTI: libtorch_cpu links against it).
GPU_ONLY = re.compile(
    r"^(libcudnn_(adv|cnn|ops|graph|heuristic|engines_\w+)\.so|libtorch_cuda_linalg\.so|libcusolver"
    r"|libnvperf|libnvrtc-builtins|libcurand|libcufftw|libnvToolsExt|libcheckpoint)"
)


def keep_binary(name: str) -> bool:
    """False for a library that a CPU bundle never loads (file name, no folder)."""
    return not GPU_ONLY.search(name)
