"""The published April 2024 issue: page, API, DOCX, PDF, XLSX — same figures, no personal data."""

import io
import re

import pytest
from django.urls import reverse

from tickets.models import Call, Ticket


def personal_data():
    names = set(Ticket.objects.exclude(caller_name="").values_list("caller_name", flat=True))
    phones = set(Ticket.objects.exclude(caller_phone="").values_list("caller_phone", flat=True))
    phones |= set(Call.objects.exclude(caller_phone="").values_list("caller_phone", flat=True))
    return names, phones


def assert_no_personal_data(text: str):
    names, phones = personal_data()
    assert names and phones
    assert not [n for n in names if n in text]
    digits = re.sub(r"\D", "", text)
    assert not [p for p in phones if p in digits]


@pytest.mark.django_db
def test_public_archive_and_issue_need_no_login(client, demo_bulletin):
    # given the published demo / when an anonymous visitor opens the archive and the issue
    archive = client.get("/bulletins/")
    page = client.get("/bulletins/2024-04/")
    # then
    assert archive.status_code == 200 and "2024年第4期" in archive.content.decode()
    html = page.content.decode()
    assert page.status_code == 200
    for text in ("(总第280期)", "汝州市12345政务服务便民热线四月份工作简报", "约8700人次", "4998件",
                 "投诉举报类", "20.91%", "附件1", "四月份乡镇街道考核表", "紫云路街道", "76.26"):
        assert text in html
    assert_no_personal_data(html)


@pytest.mark.django_db
def test_draft_is_not_public(client, directory):
    from reports import services
    from tickets.models import Role, User

    services.bulletin_build(month=__import__("datetime").date(2024, 4, 1))
    assert client.get("/bulletins/2024-04/").status_code == 404
    assert client.get("/bulletins/2024-04/pdf/").status_code == 404
    assert client.get("/api/bulletins/2024-04/").status_code == 404
    # a leader does not see the draft (the editor's page refuses it too); an editor does
    client.force_login(User.objects.create_user(username="boss", password="x", role=Role.LEADER))
    assert client.get("/api/bulletins/2024-04/").status_code == 404
    client.force_login(User.objects.create_user(username="ed", password="x", role=Role.EDITOR))
    assert client.get("/api/bulletins/2024-04/").json()["status"] == "draft"


@pytest.mark.django_db
def test_api_returns_the_bulletin_json(client, demo_bulletin):
    response = client.get("/api/bulletins/2024-04/")
    assert response.status_code == 200
    data = response.json()
    assert data == demo_bulletin.as_json()
    assert_no_personal_data(response.content.decode("utf-8"))


@pytest.mark.django_db
def test_docx_tables_parse_back_to_the_json(client, demo_bulletin):
    from docx import Document

    # given / when
    response = client.get("/bulletins/2024-04/docx/")
    document = Document(io.BytesIO(response.content))
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    data = demo_bulletin.as_json()
    # then: appeal types, hot topics, the two assessment tables
    appeal = [[r["name"] if r["name"] == "其他" else r["name"] + "类", str(r["count"]), r["percent"] + "%"]
              for r in data["appeal_types"]["rows"]]
    assert tables[0][1:-1] == appeal
    assert tables[0][-1] == ["合计", "4998", "100.00%"]
    assert tables[1][1:-1] == [[r["name"], str(r["count"]), r["percent"] + "%"] for r in data["hot_topics"]["rows"]]
    for table, group in zip(tables[2:], data["assessment"]["groups"], strict=True):
        assert table[0] == ["单位", "考核总分", "排名"]
        assert table[1:] == [[r["unit"], r["score"], str(r["rank"])] for r in group["rows"]]
    text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        c for t in tables for row in t for c in row)
    assert "办理较好的单位有纸坊镇人民政府、国网汝州市供电公司" in text
    assert_no_personal_data(text)


@pytest.mark.django_db
def test_pdf_renders_chinese_text(client, demo_bulletin):
    from pypdf import PdfReader

    # given / when
    response = client.get("/bulletins/2024-04/pdf/")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    # then the Chinese comes back as text (a missing glyph would not extract), spaces aside
    compact = re.sub(r"\s+", "", text)
    assert response["Content-Type"] == "application/pdf"
    for phrase in ("汝州市12345政务服务便民热线四月份工作简报", "本级登记事项4668件", "热点问题统计表",
                   "占道经营问题", "自然资源和规划局", "四月份市直单位考核表"):
        assert phrase in compact
    assert "\ufffd" not in text and "□" not in text
    assert_no_personal_data(text)


@pytest.mark.django_db
def test_xlsx_holds_both_assessment_tables(client, demo_bulletin):
    from openpyxl import load_workbook

    response = client.get("/bulletins/2024-04/xlsx/")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["乡镇街道", "市直单位"]
    rows = list(workbook["市直单位"].iter_rows(min_row=3, values_only=True))
    assert rows[0] == ("国网汝州市供电公司", 100, 1)
    assert rows[-1] == ("自然资源和规划局", 87.2, 23)
    text = " ".join(str(v) for ws in workbook for row in ws.iter_rows(values_only=True) for v in row if v)
    assert_no_personal_data(text)


@pytest.mark.django_db
def test_editor_page_shows_suggestions_and_saves(client, demo_bulletin, editor):
    # given the editor signed in, the issue withdrawn to draft
    client.force_login(editor)
    client.post(reverse("reports:bulletin-edit", args=["2024-04"]), {"action": "unpublish"})
    # when the page opens
    page = client.get(reverse("reports:bulletin-edit", args=["2024-04"]))
    html = page.content.decode()
    # then suggestions (categories with township and terms), candidates and the month change show
    assert page.status_code == 200
    assert "热点问题建议" in html and "政务服务—网点服务" in html and "与上月对比" in html
    assert "典型案例候选" in html
    # when the editor saves the work section
    client.post(reverse("reports:bulletin-edit", args=["2024-04"]),
                {"action": "save", "hot_issues": "a", "typical_cases": "b", "work": "（一）新工作。", "stationing": "c",
                 "issue_date": "2024-05-25"})
    demo_bulletin.refresh_from_db()
    assert demo_bulletin.sections["work"] == "（一）新工作。"
    assert str(demo_bulletin.issue_date) == "2024-05-25"


@pytest.mark.django_db
def test_editor_page_is_for_editors_only(client, demo_bulletin, operator):
    client.force_login(operator)
    assert client.get(reverse("reports:bulletin-edit", args=["2024-04"])).status_code == 403
