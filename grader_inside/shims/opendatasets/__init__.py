"""Stand-in for `opendatasets` (https://github.com/JovianML/opendatasets) inside the grader.

`od.download(url)` asks for Kaggle credentials and downloads; here it links the grader's copy
of the dataset to where the real package would unpack it: `<data_dir>/<dataset name>/`.
"""
from __future__ import annotations

import os
from typing import Any

from grader_offline.kaggle_data import DatasetNotServed, provide, slug_of

__version__ = "0.1.22+grader"
__all__ = ["DatasetNotServed", "download", "version"]


def download(dataset_id_or_url: str, data_dir: str | os.PathLike[str] = ".", force: bool = False,
             dry_run: bool = False, **kwargs: Any) -> None:
    name = slug_of(dataset_id_or_url).split("/")[-1] or "dataset"
    provide(dataset_id_or_url, os.path.join(str(data_dir), name), "opendatasets.download")


def version() -> str:
    return __version__
