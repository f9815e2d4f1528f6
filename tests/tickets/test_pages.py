"""Web pages: they call the same services, keep the permission rules, show Chinese errors next to
the field, and run a bounded number of queries whatever the number of tickets."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tickets import services
from tickets.models import (
    Attachment,
    Call,
    CallerDataAccess,
    CallKind,
    EventType,
    ExtensionRequest,
    Status,
    Ticket,
    TicketEvent,
    Unit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def empty_cache():
    """The dashboard is cached: each test starts from an empty cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%...\n"


def docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def login(client, user):
    client.force_login(user)
    return client


def register_post(**overrides):
    data = {
        "caller_phone": "13912345678", "caller_name": "李四", "channel": "phone", "appeal_type": "problem",
        "category": "0201", "township": str(Unit.objects.get(short_name="纸坊镇").pk), "address": "纸坊镇东街",
        "title": "", "content": "东街停水一天了。", "handling_mode": "dispatched", "reply_text": "",
    }
    data.update(overrides)
    return data


# --- Operator: new call -----------------------------------------------------------------------


def test_new_call_registers_ticket_and_logs_the_call(client, operator):
    # given
    login(client, operator)
    # when
    response = client.post(reverse("tickets:call-new"), register_post())
    # then
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == reverse("tickets:detail", args=[ticket.pk])
    assert ticket.status == Status.PENDING_DISPATCH and ticket.registered_by == operator
    assert ticket.category.code == "0201" and ticket.caller_phone == "13912345678"
    call = Call.objects.get()
    assert call.ticket == ticket and call.kind == CallKind.NEW and call.operator == operator


def test_new_call_coordinated_closes_at_once(client, operator):
    # given
    login(client, operator)
    # when
    client.post(reverse("tickets:call-new"), register_post(handling_mode="coordinated", reply_text="已告知停水原因。"))
    # then
    ticket = Ticket.objects.get()
    assert ticket.status == Status.CLOSED and ticket.reply_text == "已告知停水原因。"
    assert list(ticket.events.values_list("type", flat=True)) == [EventType.REGISTERED, EventType.CLOSED_DIRECTLY]


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"content": ""}, "content", "请填写诉求内容。"),
    ({"caller_phone": "12ab"}, "caller_phone", "联系电话格式不正确"),
    ({"category": ""}, "category", "此项为必填项。"),
    ({"category": "02"}, "category", "请从列表中选择。"),
    ({"handling_mode": "coordinated", "reply_text": ""}, "reply_text", "必须填写答复内容"),
])
def test_wrong_input_shows_chinese_error_at_field_and_saves_nothing(client, operator, overrides, field, message):
    # given
    login(client, operator)
    # when
    response = client.post(reverse("tickets:call-new"), register_post(**overrides))
    # then
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field])
    assert message in response.content.decode()
    assert Ticket.objects.count() == 0 and Call.objects.count() == 0


def test_call_assist_shows_history_open_tickets_duplicates_and_answers(client, operator, new_ticket, ticket_in):
    # given: an open ticket and a closed one from the same number, an answer in category 0201
    open_one = new_ticket(caller_phone="13700000001", content="路灯不亮")
    closed = ticket_in("closed", caller_phone="13700000001")
    other = new_ticket(caller_phone="13600000000")  # same township and category
    login(client, operator)
    # when
    response = client.get(reverse("tickets:call-assist"), {"caller_phone": "137-0000-0001", "category": "0201",
                                                           "township": open_one.township_id})
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert open_one.number in html and closed.number in html
    assert "记为重复来电并关联此单" in html
    assert other.number in response.context["duplicates"][0].number
    assert "已安排维修，恢复供水。" in html  # closed ticket's public answer, from the knowledge base


def test_repeat_call_attaches_to_the_open_ticket(client, operator, new_ticket):
    # given
    ticket = new_ticket(caller_phone="13700000001")
    login(client, operator)
    # when
    response = client.post(reverse("tickets:call-log"), {"caller_phone": "13700000001", "kind": "repeat",
                                                         "ticket": ticket.pk, "note": "催进度"})
    # then
    assert response.status_code == 302
    call = Call.objects.get()
    assert call.ticket == ticket and call.kind == CallKind.REPEAT
    assert ticket.events.filter(type=EventType.CALL_ATTACHED).exists()


def test_call_without_ticket_is_logged(client, operator):
    # given
    login(client, operator)
    # when
    client.post(reverse("tickets:call-log"), {"caller_phone": "", "kind": "hangup", "note": ""})
    # then
    assert Call.objects.filter(kind=CallKind.HANGUP, ticket=None).count() == 1 and Ticket.objects.count() == 0


def test_unit_handler_cannot_open_the_new_call_page(client, unit_handler):
    login(client, unit_handler)
    assert client.get(reverse("tickets:call-new")).status_code == 403


# --- Permissions on the ticket page -----------------------------------------------------------


def test_handler_of_another_unit_gets_404(client, other_unit_handler, ticket_in):
    # given: a ticket of 纸坊镇
    ticket = ticket_in("handling")
    login(client, other_unit_handler)
    # when / then
    assert client.get(reverse("tickets:detail", args=[ticket.pk])).status_code == 404
    response = client.post(reverse("tickets:action", args=[ticket.pk, "reply"]), {"reply_text": "x"})
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == Status.HANDLING


def test_leader_sees_everything_and_changes_nothing(client, leader, ticket_in, unit_a):
    # given
    ticket = ticket_in("pending_dispatch")
    login(client, leader)
    # when
    page = client.get(reverse("tickets:detail", args=[ticket.pk]))
    response = client.post(reverse("tickets:action", args=[ticket.pk, "dispatch"]), {"unit": unit_a.pk})
    # then
    assert page.status_code == 200 and page.context["actions"] == []
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_DISPATCH and ticket.events.count() == 1


def test_unit_sees_masked_caller_and_centre_reveal_is_logged(client, unit_handler, dispatcher, ticket_in):
    # given
    ticket = ticket_in("handling", caller_name="张三", caller_phone="13812345678")
    # when
    login(client, unit_handler)
    unit_html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    login(client, dispatcher)
    centre_html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    reveal = client.post(reverse("tickets:caller-reveal", args=[ticket.pk])).content.decode()
    # then
    assert "138****5678" in unit_html and "13812345678" not in unit_html and "张*" in unit_html
    assert "13812345678" not in centre_html and "查看完整信息" in centre_html
    assert "13812345678" in reveal
    assert CallerDataAccess.objects.filter(user=dispatcher, ticket=ticket).count() == 1


# --- The whole life through the pages ---------------------------------------------------------


def act(client, ticket, action, data=None, **kw):
    return client.post(reverse("tickets:action", args=[ticket.pk, action]), data or {}, **kw)


def test_whole_life_through_pages(client, operator, dispatcher, unit_handler, unit_a):
    # given
    login(client, operator)
    client.post(reverse("tickets:call-new"), register_post())
    ticket = Ticket.objects.get()
    # when
    login(client, dispatcher)
    assert act(client, ticket, "dispatch", {"unit": unit_a.pk}).status_code == 302
    login(client, unit_handler)
    assert act(client, ticket, "sign").status_code == 302
    ticket.refresh_from_db()
    later = (timezone.localtime(ticket.handle_deadline) + timedelta(days=5)).date().isoformat()
    assert act(client, ticket, "extension", {"requested_deadline": later, "reason": "需协调施工队"}).status_code == 302
    login(client, dispatcher)
    assert act(client, ticket, "extension-decide", {"approve": "1", "note": ""}).status_code == 302
    login(client, unit_handler)
    upload = SimpleUploadedFile("现场.png", PNG, content_type="image/png")
    response = act(client, ticket, "reply", {"reply_text": "已修复管道。", "internal_note": "施工队周三到场",
                                             "attachments": [upload]})
    assert response.status_code == 302
    login(client, dispatcher)
    assert act(client, ticket, "review", {"passed": "1", "note": ""}).status_code == 302
    assert act(client, ticket, "callback", {"result": "satisfied", "resolved": "1", "note": ""}).status_code == 302
    # then
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.extension_count == 1
    assert ticket.internal_note == "施工队周三到场" and ticket.reply_text == "已修复管道。"
    assert Attachment.objects.get(ticket=ticket).original_name == "现场.png"
    types = list(TicketEvent.objects.filter(ticket=ticket).values_list("type", flat=True))
    assert types == ["registered", "dispatched", "signed", "extension_requested", "extension_approved",
                     "replied", "review_passed", "callback"]
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    for label in ["登记", "派单", "签收", "申请延期", "同意延期", "办结反馈", "审核通过", "回访"]:
        assert f"<strong>{label}</strong>" in html


def test_action_errors_are_shown_at_the_field_and_save_nothing(client, dispatcher, unit_handler, ticket_in):
    # given
    ticket = ticket_in("handling")
    login(client, unit_handler)
    # when: no reply text, and an exe renamed to .pdf
    fake = SimpleUploadedFile("答复.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = act(client, ticket, "reply", {"reply_text": "", "attachments": [fake]})
    # then
    assert response.status_code == 400
    html = response.content.decode()
    assert "请填写答复内容（公开，回复来电人）。" in html and "内容不是有效的pdf文件" in html
    ticket.refresh_from_db()
    assert ticket.status == Status.HANDLING and Attachment.objects.count() == 0


def test_service_refusal_is_shown_on_the_page(client, dispatcher, ticket_in):
    # given: rejecting a return needs a reason (the service says so)
    ticket = ticket_in("return_pending")
    login(client, dispatcher)
    # when
    response = act(client, ticket, "return-decide", {"approve": "0", "note": ""})
    # then
    assert response.status_code == 400 and "驳回时必须填写理由。" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.RETURN_PENDING


def test_dispatch_form_without_a_model_lists_the_township_and_preselects_nothing(client, dispatcher, ticket_in,
                                                                                 new_ticket, unit_a):
    # given: history, but no trained suggester (tests/tickets/test_dispatch_suggest.py covers the model)
    ticket_in("handling")
    ticket = new_ticket()
    login(client, dispatcher)
    # when
    response = client.get(reverse("tickets:detail", args=[ticket.pk]))
    # then: the township by rule, said so; the dispatcher chooses
    form = next(a["form"] for a in response.context["actions"] if a["action"] == "dispatch")
    assert [s["unit_id"] for s in form.suggestions] == [unit_a.pk] and "unit" not in form.initial
    page = response.content.decode()
    assert "尚未训练派单建议模型" in page and '<optgroup label="乡镇街道">' in page
    assert '<optgroup label="公用事业和企业">' in page and 'data-unit-search="id_unit"' in page


@pytest.mark.parametrize(("name", "content", "ok"), [
    ("a.png", PNG, True),
    ("a.pdf", PDF, True),
    ("a.docx", None, True),
    ("a.exe", b"MZ", False),
    ("a.png", PDF, False),
    ("a.xlsx", None, False),  # a docx renamed to xlsx
])
def test_attachment_type_checked_by_extension_and_content(unit_handler, ticket_in, name, content, ok):
    from tickets.exceptions import InvalidInput
    from tickets.services.attachments import attachment_add

    # given
    ticket = ticket_in("handling")
    upload = SimpleUploadedFile(name, content if content is not None else docx_bytes())
    # when / then
    if ok:
        assert attachment_add(ticket=ticket, actor=unit_handler, file=upload).size == upload.size
    else:
        with pytest.raises(InvalidInput):
            attachment_add(ticket=ticket, actor=unit_handler, file=upload)
        assert Attachment.objects.count() == 0


def test_attachment_size_limit_is_a_setting(settings, unit_handler, ticket_in):
    from tickets.exceptions import InvalidInput
    from tickets.services.attachments import attachment_add

    # given
    settings.HOTLINE_ATTACHMENT_MAX_BYTES = 50
    ticket = ticket_in("handling")
    # when / then
    with pytest.raises(InvalidInput) as exc:
        attachment_add(ticket=ticket, actor=unit_handler, file=SimpleUploadedFile("a.png", PNG + b"\x00" * 50))
    assert exc.value.code == "attachment_too_large"


# --- Lists --------------------------------------------------------------------------------------


def test_list_filters_and_sorts(client, dispatcher, new_ticket, ticket_in):
    # given
    a = new_ticket(content="甲")
    b = ticket_in("handling", content="乙")
    login(client, dispatcher)
    # when
    by_status = client.get(reverse("tickets:list"), {"status": "handling"})
    by_unit = client.get(reverse("tickets:list"), {"unit": b.unit_id, "sort": "number"})
    all_rows = client.get(reverse("tickets:list"), {"sort": "registered_asc"})
    # then
    assert [t.pk for t in by_status.context["page"].rows] == [b.pk]
    assert [t.pk for t in by_unit.context["page"].rows] == [b.pk]
    assert [t.pk for t in all_rows.context["page"].rows] == [a.pk, b.pk]


def test_unit_list_shows_own_unit_only(client, unit_handler, other_unit_handler, ticket_in):
    # given
    ticket_in("handling")
    login(client, other_unit_handler)
    # when
    response = client.get(reverse("tickets:list"))
    # then
    assert response.context["page"].paginator.count == 0


def test_inbox_sorted_by_deadline_with_lights(client, unit_handler, ticket_in, dispatcher):
    # given: two tickets, the second one overdue
    first = ticket_in("handling")
    second = ticket_in("handling")
    Ticket.objects.filter(pk=second.pk).update(handle_deadline=timezone.now() - timedelta(hours=1))
    login(client, unit_handler)
    # when
    response = client.get(reverse("home"))
    # then
    rows = response.context["page"].rows
    assert [t.pk for t in rows] == [second.pk, first.pk]
    assert rows[0].light == "red" and rows[1].light == "green"


# --- Dashboard -----------------------------------------------------------------------------------


def test_dashboard_compares_months_by_aggregation(client, leader, ticket_in, new_ticket, dispatcher):
    from reports.dashboard import dashboard_stats

    # given: this month one closed satisfied ticket, one coordinated, one merged (not counted)
    ticket_in("closed")
    new_ticket(handling_mode="coordinated", reply_text="已答复")
    services.ticket_merge(ticket=new_ticket(), into=new_ticket(), actor=dispatcher)
    # when
    stats = dashboard_stats(month=timezone.localdate())
    response = login(client, leader).get(reverse("reports:dashboard"))
    # then
    assert stats["this"]["tickets"] == 3 and stats["this"]["coordinated"] == 1
    assert stats["this"]["satisfied"] == "100.00" and stats["this"]["close_on_time"] == "100.00"
    assert stats["last"]["tickets"] == 0
    assert {row["name"]: row["n"] for row in stats["appeal_types"]} == {"问题处理": 3}
    assert response.status_code == 200 and "vendor/echarts/echarts.min.js" in response.content.decode()


def test_unit_handler_has_no_dashboard(client, unit_handler):
    assert login(client, unit_handler).get(reverse("reports:dashboard")).status_code == 403


# --- Bounded queries ---------------------------------------------------------------------------


def _make_tickets(n, new_ticket, dispatcher, unit_handler, unit_a):
    for i in range(n):
        ticket = new_ticket(content=f"诉求{i}", caller_phone=f"1390000{i:04d}")
        if i % 2:
            ticket = services.ticket_dispatch(ticket=ticket, unit=unit_a, actor=dispatcher)
            services.ticket_sign(ticket=ticket, actor=unit_handler)


PAGES = [
    ("operator", "home", {}),
    ("operator", "tickets:call-new", {}),
    ("operator", "tickets:call-assist", {"caller_phone": "13900000001", "category": "0201", "township": "town"}),
    ("dispatcher", "home", {}),
    ("dispatcher", "home", {"queue": "overdue"}),
    ("dispatcher", "tickets:list", {}),
    ("dispatcher", "tickets:list", {"status": "handling", "overdue": "on", "sort": "deadline"}),
    ("unit_handler", "home", {}),
    ("unit_handler", "tickets:list", {}),
    ("leader", "reports:dashboard", {}),
    ("dispatcher", "detail", {}),
    ("unit_handler", "detail", {}),
]
MAX_QUERIES = 24


@pytest.mark.parametrize("n", [5, 40])
@pytest.mark.parametrize(("persona", "name", "params"), PAGES)
def test_pages_run_a_bounded_number_of_queries(client, personas, new_ticket, unit_a, django_assert_max_num_queries,
                                               n, persona, name, params):
    # given
    _make_tickets(n, new_ticket, personas["dispatcher"], personas["unit_handler"], unit_a)
    ticket = Ticket.objects.filter(unit=unit_a).first()
    for _ in range(3):  # a busy ticket: urges and events
        services.ticket_urge(ticket=ticket, actor=personas["dispatcher"], note="请尽快办理")
    login(client, personas[persona])
    params = {k: (unit_a.pk if v == "town" else v) for k, v in params.items()}
    url = reverse("tickets:detail", args=[ticket.pk]) if name == "detail" else reverse(name)
    # when / then
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(url, params)
    assert response.status_code == 200


def test_extension_request_refused_after_deadline_shows_message(client, unit_handler, ticket_in):
    # given: the deadline has passed
    ticket = ticket_in("handling")
    Ticket.objects.filter(pk=ticket.pk).update(handle_deadline=timezone.now() - timedelta(hours=1))
    login(client, unit_handler)
    later = (timezone.localdate() + timedelta(days=10)).isoformat()
    # when
    response = act(client, ticket, "extension", {"requested_deadline": later, "reason": "需要时间"})
    # then
    assert response.status_code == 409 and "已超过办理时限" in response.content.decode()
    assert ExtensionRequest.objects.count() == 0
