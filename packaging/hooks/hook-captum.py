from PyInstaller.utils.hooks import collect_submodules

module_collection_mode = "pyz+py"
hiddenimports = collect_submodules("captum.attr") + collect_submodules("captum._utils")
