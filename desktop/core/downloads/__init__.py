"""Weights a user can get (no Qt): where each preset's file comes from (`sources`), the one
downloader (`fetch`), and putting a chosen or downloaded file into the models folder (`install`).
The Get weights dialog and `loupe weights` both call these."""

from desktop.core.downloads.downloader import DownloadCancelled, DownloadError, Fetched, fetch, partial_path
from desktop.core.downloads.install import download_preset, install_file, install_folder, validate_weights
from desktop.core.downloads.sources import WeightsSource, rfdetr_assets, weights_source, weights_sources

__all__ = ["DownloadCancelled", "DownloadError", "Fetched", "fetch", "partial_path", "download_preset",
           "install_file", "install_folder", "validate_weights", "WeightsSource", "rfdetr_assets", "weights_source",
           "weights_sources"]
