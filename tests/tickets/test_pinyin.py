"""Pinyin search for categories and units (issue 12 item 6): ``ts`` (停水), ``tingshui`` and ``lj``
(垃圾) find the right categories, and never the letters inside another key."""

import pytest
from rest_framework.test import APIClient

from tickets.models import Category, Unit
from tickets.pinyin import pinyin_matches, search_key


def api(user):
    client = APIClient()
    client.force_login(user)
    return client


def codes(response):
    assert response.status_code == 200, response.content
    body = response.json()
    return {row["code"] for row in body.get("results", body)}


def test_search_key_has_full_pinyin_and_initials_of_names_and_keywords():
    key = search_key("水电气暖", "停水 停电 燃气")
    for word in ("shuidianqinuan", "sdqn", "tingshui", "ts", "tingdian", "td", "ranqi", "rq"):
        assert f" {word} " in key
    assert pinyin_matches(key, "ts") and pinyin_matches(key, "tingshui") and pinyin_matches(key, "ting")
    # the start of a word only: 其他事项's initials "qtsx" contain "ts" but do not begin with it
    assert not pinyin_matches(search_key("其他事项", "qtsx"), "ts")


def test_long_names_are_searchable_by_their_words():
    assert pinyin_matches(search_key("国网汝州市供电公司"), "gd")
    assert pinyin_matches(search_key("国网汝州市供电公司"), "gongdian")


@pytest.mark.django_db
def test_every_category_and_unit_has_a_pinyin_key(directory):
    assert not Category.objects.filter(pinyin="").exists()
    assert not Unit.objects.filter(pinyin="").exists()
    water = Category.objects.get(code="0201")
    assert " sdqn " in water.pinyin and " tingshui " in water.pinyin


@pytest.mark.django_db
def test_key_follows_a_rename(directory):
    category = Category.objects.get(code="9902")
    category.keywords = "锦旗 停水"
    category.save(update_fields=["keywords"])
    category.refresh_from_db()
    assert " ts " in category.pinyin and " jinqi " in category.pinyin


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "expected", "absent"), [
    ("ts", {"0201"}, {"9901"}),
    ("tingshui", {"0201"}, set()),
    ("TingShui", {"0201"}, set()),
    ("lj", {"0505", "0801"}, set()),
    ("laji", {"0505", "0801"}, set()),
    ("停水", {"0201"}, set()),
    ("0201", {"0201"}, set()),
])
def test_category_api_finds_by_pinyin(operator, query, expected, absent):
    found = codes(api(operator).get("/api/categories/", {"q": query, "level": 2}))
    assert expected <= found and not (absent & found)
    if query.lower() in ("ts", "tingshui", "lj", "laji"):
        assert found == expected


@pytest.mark.django_db
def test_unit_api_finds_by_pinyin(dispatcher):
    response = api(dispatcher).get("/api/units/", {"q": "gd"})
    names = {row["short_name"] for row in response.json().get("results", response.json())}
    assert "国网汝州市供电公司" in names and "纸坊镇" not in names
