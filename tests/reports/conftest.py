import pytest

from reports import demo


@pytest.fixture
def demo_bulletin(directory, editor, tmp_path):
    """The Ruzhou April 2024 demo, generated and loaded through the real commands, published."""
    files = demo.demo_generate(tmp_path / "files")
    return demo.demo_load(files["units"].parent)

