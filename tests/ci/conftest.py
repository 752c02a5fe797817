from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fake_forge import FakeForge


@pytest.fixture
def forge() -> Iterator[FakeForge]:
    f = FakeForge()
    yield f
    f.close()
