"""Dispatch suggestions learned from the centre's history (issue 12 item 1).

Reported: a 纸坊镇 water outage (公共服务—水电气暖) came up with 燃气公司 first and pre-selected,
and a 大峪镇 违建 ticket suggested other townships."""

import datetime as dt
import itertools
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from tickets import suggest
from tickets.models import AppealType, Category, DispatchConfig, DispatchModel, Status, Ticket, Unit
from tickets.selectors import dispatch_advice
from tickets.services.dispatch import dispatch_model_train

from .test_pages import login

_serial = itertools.count(1)

WATER = ["{t}某村停水两天了，自来水一直没来，请尽快恢复供水", "{t}小区自来水管道破裂漏水，停水，请供水公司维修"]
POWER = ["{t}某村频繁停电，电压不稳，请供电公司检修线路", "{t}小区突然停电，变压器坏了，请尽快恢复供电"]
GAS = ["{t}小区天然气停供，燃气灶打不着火，请燃气公司处理", "{t}燃气管道有异味，疑似燃气泄漏，请尽快检查"]
ILLEGAL = ["{t}某村有人私搭乱建，占用道路建房，请求查处违建", "{t}某村村民违法建设，在耕地上盖房"]


def u(short):
    return Unit.objects.get(short_name=short)


def handled(unit, category, township, text, *, month="2026-10", day=1):
    """A handled ticket of the history (written directly: the learner only reads these fields)."""
    year, mon = map(int, month.split("-"))
    at = timezone.make_aware(dt.datetime(year, mon, 1 + day % 27, 10, 0))
    return Ticket(number=f"H{next(_serial):06d}", appeal_type=AppealType.objects.get(code="problem"),
                  category=Category.objects.get(code=category), content=text.format(t=township.short_name),
                  township=township, unit=unit, status=Status.CLOSED, registered_at=at, dispatched_at=at,
                  replied_at=at + dt.timedelta(days=1), closed_at=at + dt.timedelta(days=2),
                  reply_text="已处理。")


@pytest.fixture
def county_history(directory):
    """Two months of a county's routing; 燃气公司 handled the most 水电气暖 tickets (by count)."""
    towns = [u(n) for n in ("纸坊镇", "钟楼街道", "风穴路街道", "杨楼镇", "大峪镇", "米庙镇")]
    rows = []
    for month in ("2026-09", "2026-10"):
        for i in range(12):
            t = towns[i % len(towns)]
            rows.append(handled(u("燃气公司"), "0201", t, GAS[i % 2], month=month, day=i))
        for i in range(8):
            t = towns[(i + 1) % len(towns)]
            rows.append(handled(u("自来水公司"), "0201", t, WATER[i % 2], month=month, day=i))
            rows.append(handled(u("国网汝州市供电公司"), "0201", t, POWER[i % 2], month=month, day=i))
        for i in range(10):  # 违建: each township's own; 大峪镇 has had only one
            t = towns[i % 4]
            rows.append(handled(t, "0906", t, ILLEGAL[i % 2], month=month, day=i))
        rows.append(handled(u("大峪镇"), "0906", u("大峪镇"), ILLEGAL[0], month=month, day=20))
        rows.append(handled(u("城市管理综合执法大队"), "0906", u("钟楼街道"), ILLEGAL[1], month=month, day=21))
    Ticket.objects.bulk_create(rows)
    return rows


def new_case(new_ticket, township, content, category="0201"):
    return new_ticket(township=u(township), content=content, category=Category.objects.get(code=category),
                      address=f"{township}某村")


def test_without_a_model_only_the_township_is_listed_and_nothing_preselected(county_history, new_ticket):
    # given handled history but no trained model (a fresh install)
    ticket = new_case(new_ticket, "纸坊镇", "纸坊镇某村停水两天，自来水一直没来。")
    # when
    advice = dispatch_advice(ticket=ticket)
    # then: the rule says so, no unit of the history's counts, nothing chosen for the dispatcher
    assert [s["name"] for s in advice.suggestions] == ["纸坊镇"]
    assert "不是模型建议" in advice.suggestions[0]["reason"] and "尚未训练" in advice.message
    assert advice.preselect is None


def test_water_outage_goes_to_the_water_company_not_gas(county_history, new_ticket):
    # given a model learned from the history
    dispatch_model_train()
    ticket = new_case(new_ticket, "纸坊镇", "纸坊镇某村从昨天开始停水，自来水一直没来，请尽快恢复供水。")
    # when
    advice = dispatch_advice(ticket=ticket)
    # then
    names = [s["name"] for s in advice.suggestions]
    assert names[0] == "自来水公司", advice.suggestions
    assert len(names) == 3 and all(s["reason"] for s in advice.suggestions)
    assert "由自来水公司办结" in advice.suggestions[0]["reason"]
    power = dispatch_advice(ticket=new_case(new_ticket, "杨楼镇", "杨楼镇小区频繁停电，请供电公司检修线路。"))
    assert power.suggestions[0]["name"] == "国网汝州市供电公司"
    gas = dispatch_advice(ticket=new_case(new_ticket, "米庙镇", "米庙镇小区天然气停供，燃气灶打不着火。"))
    assert gas.suggestions[0]["name"] == "燃气公司"


def test_a_townships_own_affair_goes_to_that_township(county_history, new_ticket):
    dispatch_model_train()
    ticket = new_case(new_ticket, "大峪镇", "大峪镇某村有人私搭乱建，占用道路建房，请求查处。", category="0906")
    advice = dispatch_advice(ticket=ticket)
    assert advice.suggestions[0]["name"] == "大峪镇", advice.suggestions
    assert "工单所属乡镇" in advice.suggestions[0]["reason"]
    other_townships = {"纸坊镇", "钟楼街道", "风穴路街道", "杨楼镇", "米庙镇"}
    assert not other_townships & {s["name"] for s in advice.suggestions}


def test_preselect_only_above_the_centres_threshold(county_history, new_ticket, client, dispatcher):
    dispatch_model_train()
    ticket = new_case(new_ticket, "纸坊镇", "纸坊镇某村从昨天开始停水，自来水一直没来，请尽快恢复供水。")
    login(client, dispatcher)

    def form():
        response = client.get(reverse("tickets:detail", args=[ticket.pk]))
        return next(a["form"] for a in response.context["actions"] if a["action"] == "dispatch"), response

    config = DispatchConfig.current()
    config.preselect_confidence = 0
    config.save()
    f, response = form()
    assert f.initial["unit"] == u("自来水公司").pk
    page = response.content.decode()
    assert "自来水公司" in page and "第一建议准确率" in page
    config.preselect_confidence = 1
    config.save()
    f, response = form()
    assert "unit" not in f.initial and "未预选" in response.content.decode()


def test_training_measures_accuracy_on_the_month_it_did_not_learn(county_history):
    model = dispatch_model_train()
    assert (model.first_month, model.last_month, model.months) == ("2026-09", "2026-10", 2)
    assert model.samples == len(county_history) and model.test_month == "2026-10"
    assert model.test_samples == len(county_history) // 2
    assert 0.8 <= model.top1_accuracy <= model.top3_accuracy <= 1


def test_no_history_is_a_clear_error_and_writes_nothing(directory):
    with pytest.raises(CommandError, match="未训练"):
        call_command("train_dispatch_model", stdout=StringIO())
    assert not DispatchModel.objects.exists()


def test_backtest_command_prints_top1_and_top3(county_history):
    out = StringIO()
    call_command("backtest_dispatch", "--month", "2026-10", stdout=out)
    text = out.getvalue()
    assert "top-1" in text and "top-3" in text and "测试 40 件" in text
    with pytest.raises(CommandError, match="之前没有可学习"):
        call_command("backtest_dispatch", "--month", "2026-09", stdout=StringIO())
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("backtest_dispatch", "--month", "2026/10", stdout=StringIO())


def test_recent_months_weigh_more(directory):
    # given: 纸坊镇's 违建 went to the 执法大队 long ago, and to the township in the last months
    z = u("纸坊镇")
    rows = [handled(u("城市管理综合执法大队"), "0906", z, ILLEGAL[0], month="2026-03", day=i) for i in range(16)]
    for month in ("2026-08", "2026-09", "2026-10"):
        rows += [handled(z, "0906", z, ILLEGAL[0], month=month, day=i) for i in range(4)]
    rows += [handled(u("自来水公司"), "0201", z, WATER[0], month="2026-10", day=i) for i in range(6)]
    Ticket.objects.bulk_create(rows)
    samples = suggest.history_samples()
    probe = suggest.Sample(category="0906", category_parent="09", township_id=z.pk, township="纸坊镇", appeal="problem",
                           source="local", text=ILLEGAL[0].format(t="纸坊镇"), month="2026-11")
    # when weighted (half-life 1 month) and unweighted (a huge half-life)
    recent = suggest.fit(samples, half_life=1).rank(probe)[0]
    flat = suggest.fit(samples, half_life=1000).rank(probe)[0]
    # then
    assert recent["unit_id"] == z.pk and flat["unit_id"] == u("城市管理综合执法大队").pk


def test_the_nightly_task_is_scheduled_and_trains(county_history, settings):
    from tickets.tasks import dispatch_model_train_task

    assert any(job["task"] == "tickets.tasks.dispatch_model_train_task"
               for job in settings.CELERY_BEAT_SCHEDULE.values())
    pk = dispatch_model_train_task.apply().get()
    assert DispatchModel.objects.get(pk=pk).samples == len(county_history)


def test_the_centre_sets_the_threshold_in_the_admin_and_nobody_else(county_history, client, admin_user, dispatcher):
    dispatch_model_train()
    client.force_login(admin_user)
    assert client.get("/admin/tickets/dispatchmodel/").status_code == 200
    response = client.post("/admin/tickets/dispatchconfig/add/", {"preselect_confidence": "0.75",
                                                                  "history_months": "6", "half_life_months": "2.0"})
    assert response.status_code == 302 and DispatchConfig.current().preselect_confidence == Decimal("0.75")
    assert client.get("/admin/tickets/dispatchconfig/add/").status_code == 403  # one row only
    client.force_login(dispatcher)
    assert client.get("/admin/tickets/dispatchconfig/").status_code == 302  # to the admin login
