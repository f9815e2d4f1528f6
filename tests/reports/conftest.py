import pytest

from reports import demo
from tests.assessment.conftest import make_tickets  # noqa: F401  (the assessment's ticket factory, for the dashboard)


@pytest.fixture
def demo_bulletin(directory, editor, tmp_path):
    """The Ruzhou April 2024 demo, generated and loaded through the real commands, published."""
    files = demo.demo_generate(tmp_path / "files")
    return demo.demo_load(files["units"].parent)

