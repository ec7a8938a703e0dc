"""One graded hostile batch per backend for the whole session, shared by the test modules."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from hostile_support import Graded, grade_hostile


@pytest.fixture(scope="session")
def hostile_batches(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Graded]:
    """backend -> its graded batch, graded on first use."""
    graded: dict[str, Graded] = {}

    def get(backend: str) -> Graded:
        if backend not in graded:
            graded[backend] = grade_hostile(backend, tmp_path_factory.mktemp(f"hostile_{backend}"))
        return graded[backend]

    return get
