import pytest

from reports import demo


@pytest.fixture
def demo_bulletin(directory, editor, tmp_path):
    """The Ruzhou April 2024 demo, generated and loaded through the real commands, published."""
    files = demo.demo_generate(tmp_path / "files")
    return demo.demo_load(files["units"].parent)


@pytest.fixture(autouse=True)
def _bulletin_files_in_tmp(settings, tmp_path):
    """Public bulletin files are stored on first download: keep them out of the working copy."""
    settings.MEDIA_ROOT = tmp_path / "media"
