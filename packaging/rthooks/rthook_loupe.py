"""Runtime hook: runs in the frozen app before any of Loupe's code.

Nothing in the bundle may reach the network, so the hubs are switched off before transformers or
huggingface_hub can be imported; on macOS, operations that MPS lacks fall back to the CPU.
"""

import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
# albumentations (imported by rfdetr) asks PyPI for a newer version at import time unless told not to.
os.environ["NO_ALBUMENTATIONS_UPDATE"] = "1"
os.environ.setdefault("PYTORCH_ENABLE_MPS_FALLBACK", "1")
# torch.hub and the HF cache must never point inside the (read-only, signed) bundle.
os.environ.setdefault("TORCH_HOME", os.path.join(os.path.expanduser("~"), ".cache", "loupe-torch"))
if sys.platform == "darwin":
    # A Finder launch passes -psn_0_XXXX; argparse would reject it.
    sys.argv = [a for a in sys.argv if not a.startswith("-psn_")]
