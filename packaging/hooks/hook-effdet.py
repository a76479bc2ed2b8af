# Optional chest X-ray detector: collected when installed (the `effdet` extra).
from PyInstaller.utils.hooks import collect_submodules

module_collection_mode = "pyz+py"
hiddenimports = collect_submodules("effdet")
