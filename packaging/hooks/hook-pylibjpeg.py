# pylibjpeg finds its decoders through entry points: the plugins' metadata must travel with them.
from PyInstaller.utils.hooks import copy_metadata

hiddenimports = ["libjpeg", "openjpeg", "rle", "libjpeg.utils", "openjpeg.utils", "rle.utils"]
datas = copy_metadata("pylibjpeg")
for dist in ("pylibjpeg-libjpeg", "pylibjpeg-openjpeg", "pylibjpeg-rle"):
    datas += copy_metadata(dist)
