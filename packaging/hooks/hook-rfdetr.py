# rfdetr builds its models with torch.jit.script in places, which needs the .py sources at run time.
from PyInstaller.utils.hooks import collect_data_files, collect_submodules, copy_metadata

module_collection_mode = "pyz+py"
hiddenimports = collect_submodules("rfdetr", filter=lambda name: ".tests" not in name)
datas = collect_data_files("rfdetr") + copy_metadata("rfdetr")
