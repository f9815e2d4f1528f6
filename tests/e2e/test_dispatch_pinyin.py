"""In a real browser: a dispatch by the learned suggestions with the grouped, searchable unit
picker, and the category search by pinyin (ts / lj / tingshui). Screenshots: artifacts/screenshots."""

from __future__ import annotations

import pytest

from tickets.models import Category, DispatchConfig, Status, Ticket, Unit
from tickets.services.dispatch import dispatch_model_train

from ..tickets.test_dispatch_suggest import GAS, ILLEGAL, POWER, WATER, handled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def visible_codes(page):
    return page.eval_on_selector_all("#category_list [role=option]", "els => els.filter(e => !e.hidden)"
                                     ".map(e => e.dataset.code)")


def test_category_search_by_pinyin(session, personas):
    op = session("operator").login("op")
    op.goto("/calls/new/")
    page = op.page
    for query, expected, shot in (("ts", ["0201"], "pinyin-ts"), ("tingshui", ["0201"], "pinyin-tingshui"),
                                  ("lj", ["0505", "0801"], "pinyin-lj")):
        page.fill("#category_search", "")
        page.type("#category_search", query)
        assert visible_codes(page) == expected, query
        op.shot(f"12-{shot}")
    page.keyboard.press("Enter")
    assert page.input_value("#id_category") == "0505"


def test_suggested_dispatch_with_the_unit_picker(session, personas, new_ticket):
    # given a county's history, a trained model, and a new water outage in 纸坊镇
    def u(name):
        return Unit.objects.get(short_name=name)

    towns = [u(n) for n in ("纸坊镇", "钟楼街道", "风穴路街道", "杨楼镇", "大峪镇", "米庙镇")]
    rows = []
    for month in ("2026-09", "2026-10"):
        for i in range(10):
            t = towns[i % len(towns)]
            rows += [handled(u("燃气公司"), "0201", t, GAS[i % 2], month=month, day=i),
                     handled(u("自来水公司"), "0201", t, WATER[i % 2], month=month, day=i),
                     handled(u("国网汝州市供电公司"), "0201", t, POWER[i % 2], month=month, day=i),
                     handled(t, "0906", t, ILLEGAL[i % 2], month=month, day=i)]
    Ticket.objects.bulk_create(rows)
    model = dispatch_model_train()
    config = DispatchConfig.current()
    config.preselect_confidence = "0.30"
    config.save()
    ticket = new_ticket(township=u("纸坊镇"), category=Category.objects.get(code="0201"), address="纸坊镇东街",
                        content="纸坊镇东街从昨天开始停水，自来水一直没来，请尽快恢复供水。")

    # when the dispatcher opens it
    disp = session("dispatcher").login("disp")
    disp.goto(f"/tickets/{ticket.pk}/")
    page = disp.page
    # then the water company comes first, with a reason and the measured accuracy, and is pre-selected
    first = page.inner_text("#dispatch-advice .suggest-list li:first-child")
    assert first.startswith("自来水公司") and "由自来水公司办结" in first
    note = page.inner_text("#dispatch-advice-note")
    assert f"回测 {model.test_month}" in note and "第一建议准确率" in note
    assert page.eval_on_selector("#id_unit", "el => el.options[el.selectedIndex].text") == "自来水公司"
    groups = page.eval_on_selector_all("#id_unit optgroup", "els => els.map(e => e.label)")
    assert groups == ["乡镇街道", "市直单位", "公用事业和企业"]
    disp.shot("10-dispatch-suggested")

    # the picker narrows by pinyin initials; a suggestion chip picks again
    page.type("#unit-search", "gd")
    shown = page.eval_on_selector_all("#id_unit option", "els => els.filter(e => !e.hidden && e.value)"
                                      ".map(e => e.text)")
    assert "国网汝州市供电公司" in shown and "纸坊镇" not in shown and "自来水公司" not in shown
    disp.shot("11-dispatch-unit-search-gd")
    page.click("#dispatch-advice [data-pick-unit]:has-text('自来水公司')")
    assert page.input_value("#unit-search") == ""
    assert page.eval_on_selector("#id_unit", "el => el.options[el.selectedIndex].text") == "自来水公司"
    page.click("#do-dispatch")
    page.wait_for_selector(".msg.success")
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_SIGN and ticket.unit.short_name == "自来水公司"
