"""Stand-in for the `kaggle` package inside the grader: no credentials, no network.

`kaggle.api.dataset_download_files("owner/name", path=..., unzip=True)` (and KaggleApi())
link the grader's copy of the dataset into `path`, unzipped whatever `unzip` says.
"""
from __future__ import annotations

from kaggle.api.kaggle_api_extended import KaggleApi

api = KaggleApi()
__all__ = ["KaggleApi", "api"]
