from datetime import date

import pytest

from assessment.models import Stationing
from assessment.services import stationing_set
from tickets.exceptions import PermissionDenied


@pytest.mark.django_db
def test_stationing_set_is_an_idempotent_upsert(unit_a, assessor):
    # given
    month = date(2024, 4, 1)
    # when
    first = stationing_set(unit=unit_a, month=month, complete=False, actor=assessor)
    second = stationing_set(unit=unit_a, month=month, complete=False, actor=assessor)
    third = stationing_set(unit=unit_a, month=month, complete=True, actor=assessor)
    # then
    assert first.pk == second.pk == third.pk
    assert Stationing.objects.filter(unit=unit_a).count() == 1
    assert Stationing.objects.get(unit=unit_a, month=month).complete is True
    assert third.updated_by == assessor


@pytest.mark.django_db
def test_stationing_month_is_normalised_to_first_day(unit_a):
    # when: the system (an import) records a mid-month date
    stationing = stationing_set(unit=unit_a, month=date(2024, 4, 17), complete=True, actor=None)
    # then
    assert stationing.month == date(2024, 4, 1)


@pytest.mark.django_db
def test_only_assessors_set_stationing(unit_a, leader, unit_handler, admin_user):
    # when / then
    for user in (leader, unit_handler):
        with pytest.raises(PermissionDenied):
            stationing_set(unit=unit_a, month=date(2024, 4, 1), complete=True, actor=user)
    assert not Stationing.objects.exists()
    assert stationing_set(unit=unit_a, month=date(2024, 4, 1), complete=True, actor=admin_user).complete
