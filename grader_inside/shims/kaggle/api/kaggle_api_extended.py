"""Stand-in for `kaggle.api.kaggle_api_extended.KaggleApi`: datasets come from the grader's copy."""
from __future__ import annotations

import os
from typing import Any

from grader_offline.kaggle_data import provide


class KaggleApi:
    def authenticate(self) -> None:
        return None

    def dataset_download_files(self, dataset: str, path: str | os.PathLike[str] | None = None, force: bool = False,
                               quiet: bool = True, unzip: bool = False, **kwargs: Any) -> None:
        provide(dataset, path, "kaggle dataset_download_files")

    def dataset_download_file(self, dataset: str, file_name: str, path: str | os.PathLike[str] | None = None,
                              **kwargs: Any) -> bool:
        provide(dataset, path, "kaggle dataset_download_file")
        return True

    def competition_download_files(self, competition: str, path: str | os.PathLike[str] | None = None,
                                   **kwargs: Any) -> None:
        provide(competition, path, "kaggle competition_download_files")
