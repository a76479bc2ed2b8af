# Replaces the contrib hook: torchvision 0.2x loads its operators (nms, roi_align, ...) from
# `_C_stable.so` / `image_stable.so` with torch.ops.load_library, not as Python extensions, so they
# must be collected as binaries beside the package (the contrib hook's `torchvision._C` is gone).
from PyInstaller.utils.hooks import collect_dynamic_libs

module_collection_mode = "pyz+py"
binaries = collect_dynamic_libs("torchvision", search_patterns=["*.so", "*.so.*", "*.dylib", "*.dll", "*.pyd"])
