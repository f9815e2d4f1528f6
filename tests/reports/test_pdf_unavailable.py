"""Without WeasyPrint's system libraries the PDF link answers 503 in Chinese instead of a 500."""

import pytest

from reports import renderers


@pytest.mark.django_db
def test_pdf_download_without_pango_is_a_clear_503(client, demo_bulletin, monkeypatch):
    # given: the published demo, on a server whose WeasyPrint cannot load pango
    def broken(data):
        raise OSError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(renderers, "render_pdf", broken)
    # when
    response = client.get("/bulletins/2024-04/pdf/")
    # then
    assert response.status_code == 503
    assert "PDF 生成组件不可用" in response.content.decode()
    assert client.get("/bulletins/2024-04/docx/").status_code == 200
