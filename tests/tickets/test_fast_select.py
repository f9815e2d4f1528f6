"""The directory <select>s of the hot pages (ticket list filters, dispatch, redispatch, the operator's
form): written in Python with exactly Django's markup, their options and the chosen row read from the
directory cache (no query per page), following every change of the directory."""

from __future__ import annotations

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tickets import directory_cache
from tickets.forms import CallRegisterForm, DispatchForm, RedispatchForm, TicketFilterForm
from tickets.models import Category, Unit

pytestmark = pytest.mark.django_db


def template_markup(bound) -> str:
    """What Django's own templates (select.html, select_option.html, attrs.html) write for the field."""
    widget = bound.field.widget
    attrs = bound.build_widget_attrs({})  # as BoundField.as_widget builds them
    if bound.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", bound.auto_id)
    return forms.Widget.render(widget, bound.html_name, bound.value(), attrs)


@pytest.mark.parametrize("form_class, data", [
    (TicketFilterForm, {}),
    (TicketFilterForm, {"status": "closed", "unit": "first", "category": "parent", "township": "township"}),
    (DispatchForm, {"unit": "first"}),
    (RedispatchForm, {}),
    (CallRegisterForm, {"township": "township", "appeal_type": "problem"}),
], ids=["filters_empty", "filters_chosen", "dispatch_picker", "redispatch", "operator_form"])
def test_the_python_select_writes_what_django_templates_write(directory, form_class, data):
    # given: a form bound with chosen values (a unit, a top-level category, a township) or unbound
    units = Unit.objects.filter(active=True).order_by("pk")
    values = {"first": str(units.first().pk), "township": str(units.filter(group="township").first().pk),
              "parent": str(Category.objects.filter(parent__isnull=True, active=True).first().pk)}
    form = form_class({k: values.get(v, v) for k, v in data.items()}) if data else form_class()
    selects = [form[name] for name, field in form.fields.items() if isinstance(field.widget, forms.Select)]
    assert selects
    for bound in selects:
        # when / then: the same markup, option for option (groups, data attributes, selected)
        assert str(bound) == template_markup(bound), bound.name
        assert "<option" in str(bound)


def test_options_come_from_the_directory_cache_and_follow_a_change(directory):
    # given: the list filters rendered once in this process
    def render() -> str:
        form = TicketFilterForm({"unit": "", "category": "", "township": ""})
        form.is_valid()
        return "".join(str(form[name]) for name in ("unit", "category", "township"))

    render()
    # when: rendered again (the next page)
    with CaptureQueriesContext(connection) as queries:
        html = render()
    # then: no query
    assert len(queries) == 0, [q["sql"] for q in queries]
    # when: a unit is deactivated by an administrator (a save: the cache is dropped)
    unit = Unit.objects.filter(active=True, group="city").order_by("pk").first()
    assert f'value="{unit.pk}"' in html
    unit.active = False
    unit.save()
    # then: it is no longer offered, nor accepted
    assert f'value="{unit.pk}"' not in str(TicketFilterForm()["unit"])
    form = DispatchForm({"unit": str(unit.pk)})
    assert not form.is_valid() and form.errors["unit"] == ["请选择承办单位。"]


@pytest.mark.parametrize("value", ["999999999", "abc", "1 OR 1=1", "\x00", "１"])
def test_an_unknown_or_malformed_choice_is_a_form_error(directory, value):
    form = TicketFilterForm({"unit": value})
    assert not form.is_valid() and "unit" in form.errors


def test_a_valid_choice_is_the_directory_row(directory):
    unit = Unit.objects.filter(active=True).order_by("pk").first()
    form = DispatchForm({"unit": str(unit.pk)})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["unit"] == unit
    assert form.cleaned_data["unit"] is directory_cache.directory_lookup(Unit.objects.filter(active=True), "pk",
                                                                         unit.pk)
