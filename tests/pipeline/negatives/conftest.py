import os
from pathlib import Path

import pytest

from fgclip.pipeline.negatives.measure import default_data_dir, load_reference_captions


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (or $FGCLIP_SHARED_DATA); tests that need it skip when it is absent."""
    path = Path(os.environ.get("FGCLIP_SHARED_DATA", default_data_dir()))
    if not (path / "sugarcrepe").is_dir() or not (path / "negclip").is_dir():
        pytest.skip(f"benchmark text not found at {path} (set FGCLIP_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def reference_captions(shared_data) -> dict[str, list[str]]:
    return load_reference_captions(shared_data)
