"""import_units and import_stationing."""

from datetime import date

import pytest

from tickets.imports import ImportFailed, import_file
from tickets.models import Unit, UnitName

from .import_helpers import csv_bytes, errors_of, xlsx_bytes

pytestmark = pytest.mark.django_db
UNIT_HEADERS = ["单位名称", "简称", "考核分组", "排序", "需派驻"]


def test_units_are_created_and_updated_by_full_name(directory):
    # given
    rows = [["新区管委会", "新区", "市直单位", "90", "是"], ["纸坊镇人民政府", "纸坊镇", "乡镇街道", "3", ""]]
    # when
    summary = import_file(kind="units", data=xlsx_bytes(UNIT_HEADERS, rows))
    # then
    assert summary == {"rows": 2, "created": 1, "updated": 1, "unchanged": 0}
    new = Unit.objects.get(name="新区管委会")
    assert (new.short_name, new.group, new.order, new.needs_stationing) == ("新区", "city", 90, True)
    assert UnitName.objects.filter(unit=new).count() == 1
    assert Unit.objects.get(short_name="纸坊镇").order == 3


def test_units_import_twice_changes_nothing(directory):
    # given
    data = csv_bytes(UNIT_HEADERS, [["新区管委会", "新区", "不考核", "", "否"]])
    import_file(kind="units", data=data)
    before = list(Unit.objects.order_by("pk").values())
    # when
    summary = import_file(kind="units", data=data)
    # then
    assert summary["unchanged"] == 1 and list(Unit.objects.order_by("pk").values()) == before


def test_bad_unit_rows(directory):
    # given
    rows = [
        ["甲单位", "甲", "市直", "1", "是"],
        ["乙单位", "纸坊镇", "市直单位", "x", "可能"],
        ["甲单位", "丙", "市直单位", "", ""],
        ["", "", "市直单位", "", ""],
    ]
    count = Unit.objects.count()
    # when
    with pytest.raises(ImportFailed) as caught:
        import_file(kind="units", data=csv_bytes(UNIT_HEADERS, rows))
    # then
    assert errors_of(caught.value) == [
        (2, "考核分组", "“市直”不是有效值，应为：乡镇街道、市直单位、不考核。"),
        (3, "排序", "“x”不是非负整数。"),
        (3, "需派驻", "“可能”不是有效值，应为：是、否。"),
        (3, "简称", "简称“纸坊镇”已被单位“纸坊镇人民政府”使用。"),
        (4, "单位名称", "单位名称“甲单位”与第2行重复。"),
        (5, "单位名称", "必填，不能为空。"),
        (5, "简称", "必填，不能为空。"),
    ]
    assert Unit.objects.count() == count


STATIONING_HEADERS = ["单位名称", "月份", "派驻情况"]


def test_stationing_goes_through_the_assessment_service(directory):
    # given
    stationing = pytest.importorskip("assessment.models").Stationing
    rows = [["自然资源和规划局", "2024-04", "未完成"], ["国网汝州市供电公司", "2024-4", "已完成"]]
    data = csv_bytes(STATIONING_HEADERS, rows)
    # when
    import_file(kind="stationing", data=data)
    first = list(stationing.objects.order_by("pk").values())
    import_file(kind="stationing", data=data)
    # then
    assert [(s["complete"], s["month"]) for s in first] == [(False, date(2024, 4, 1)), (True, date(2024, 4, 1))]
    assert list(stationing.objects.order_by("pk").values()) == first


def test_bad_stationing_rows(directory):
    # given
    stationing = pytest.importorskip("assessment.models").Stationing
    rows = [["不存在局", "2024-04", "已完成"], ["自来水公司", "2024-13", "完成了"],
            ["自来水公司", "2024-04", "已完成"], ["自来水公司", "2024-04", "未完成"]]
    # when
    with pytest.raises(ImportFailed) as caught:
        import_file(kind="stationing", data=csv_bytes(STATIONING_HEADERS, rows))
    # then
    assert errors_of(caught.value) == [
        (2, "单位名称", "未知的单位“不存在局”。"),
        (3, "月份", "月份“2024-13”无效，应为 YYYY-MM，例如 2024-04。"),
        (3, "派驻情况", "“完成了”不是有效值，应为：已完成、未完成。"),
        (5, "单位名称", "自来水公司2024-04的派驻情况与第4行重复。"),
    ]
    assert stationing.objects.count() == 0
