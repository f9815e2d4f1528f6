"""Caller data: phone normalising, hashing and masking, what each role sees, and logs."""

from __future__ import annotations

import io
import logging

import pytest

from tickets import services
from tickets.exceptions import InvalidInput
from tickets.privacy import caller_view, mask_name, mask_phone, phone_digest, phone_normalise

# --- normalising ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("13812345678", "13812345678"),
        (" 138 1234 5678 ", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("86 13812345678", "13812345678"),
        ("0375-1234567", "03751234567"),
        ("(0375)1234567", "03751234567"),
        ("（0375）1234567", "03751234567"),
        ("0371-12345678", "037112345678"),
        ("+86 0375 1234567", "03751234567"),
        ("１３８１２３４５６７８", "13812345678"),  # typed with a full-width IME
        ("12345", "12345"),
        ("", ""),
    ],
)
def test_phone_normalise_accepts_phone_numbers(raw, expected):
    # when / then
    assert phone_normalise(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "1381234567a",        # letters
        "call me",
        "12",                 # too short
        "123456",             # too short for a local number
        "1381234567",         # a mobile number missing a digit
        "138123456789",       # too long
        "03751234567890",     # too long for a landline
        "12345678901",        # 11 digits that are no mobile number
        "+86 1381234567",
        "١٣٨١٢٣٤٥٦٧٨",        # Arabic-Indic digits
        "13812345678;DROP",
    ],
)
def test_phone_normalise_rejects_what_is_not_a_phone_number(raw):
    # when / then
    with pytest.raises(InvalidInput) as info:
        phone_normalise(raw)
    assert info.value.code == "invalid_phone"
    assert "caller_phone" in info.value.fields


def test_digest_is_the_same_for_every_way_of_writing_a_number():
    # given
    forms = ["13812345678", "+86 138-1234-5678", "１３８１２３４５６７８"]
    # when
    digests = {phone_digest(phone_normalise(f)) for f in forms}
    # then
    assert len(digests) == 1
    digest = digests.pop()
    assert "13812345678" not in digest and len(digest) == 64
    assert digest != phone_digest("13812345679")
    assert phone_digest("") == ""


def test_registration_stores_the_normalised_number_and_its_digest(new_ticket):
    # when
    ticket = new_ticket(caller_phone="+86 138-1234-5678")
    # then
    ticket.refresh_from_db()
    assert ticket.caller_phone == "13812345678"
    assert ticket.caller_phone_digest == phone_digest("13812345678")


def test_registration_refuses_a_bad_number(new_ticket):
    # when / then
    with pytest.raises(InvalidInput):
        new_ticket(caller_phone="138abc")


# --- masking ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone,masked",
    [("13812345678", "138****5678"), ("03751234567", "037****4567"), ("110", "***"), ("", "")],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("name,masked", [("张三", "张*"), ("王小明", "王**"), ("李", "李*"), ("", "")])
def test_mask_name_keeps_the_surname_only(name, masked):
    assert mask_name(name) == masked


# --- what each role sees ---------------------------------------------------------------------

FULL = ("张三", "13812345678", "full")
MASKED = ("张*", "138****5678", "masked")
HIDDEN = ("", "", "hidden")


@pytest.fixture
def tickets(ticket_in, dispatcher):
    plain = ticket_in("handling")
    secret = ticket_in("handling", confidential=True)
    granted = ticket_in("handling")
    services.ticket_grant_contact(ticket=granted, actor=dispatcher)
    granted.refresh_from_db()
    return {"plain": plain, "confidential": secret, "granted": granted}


@pytest.mark.parametrize(
    "role,kind,expected",
    [
        ("operator", "plain", FULL), ("operator", "confidential", FULL), ("operator", "granted", FULL),
        ("dispatcher", "plain", FULL), ("dispatcher", "confidential", FULL),
        ("admin", "plain", FULL), ("admin", "confidential", FULL),
        ("unit_handler", "plain", MASKED), ("unit_handler", "confidential", HIDDEN),
        ("unit_handler", "granted", FULL),
        ("other_unit_handler", "plain", HIDDEN), ("other_unit_handler", "granted", HIDDEN),
        ("leader", "plain", MASKED), ("leader", "confidential", HIDDEN), ("leader", "granted", MASKED),
        ("assessor", "plain", MASKED), ("assessor", "confidential", HIDDEN),
        ("editor", "plain", MASKED), ("editor", "confidential", HIDDEN),
    ],
)
def test_caller_view_by_role(personas, tickets, role, kind, expected):
    # when
    view = caller_view(user=personas[role], ticket=tickets[kind])
    # then
    assert (view.name, view.phone, view.level) == expected


@pytest.mark.parametrize("role", ["operator", "dispatcher", "admin"])
def test_lists_mask_even_for_the_centre(personas, tickets, role):
    # when
    plain = caller_view(user=personas[role], ticket=tickets["plain"], allow_full=False)
    secret = caller_view(user=personas[role], ticket=tickets["confidential"], allow_full=False)
    # then
    assert (plain.name, plain.phone, plain.level) == MASKED
    assert secret.level == "hidden"


# --- logs -------------------------------------------------------------------------------------

NUMBERS = ["13812345678", "138 1234 5678", "138-1234-5678", "+86 13812345678", "0375-1234567",
           "(0375)1234567"]


@pytest.mark.parametrize("number", NUMBERS)
def test_configured_logging_scrubs_numbers(caplog, number):
    # given: a logger configured by settings.LOGGING (root with the scrubbing console handler)
    logger = logging.getLogger("tickets.privacy_test")
    # when
    with caplog.at_level(logging.INFO):
        logger.info("来电 %s 询问工单 RZ2024040100001", number)
    # then
    assert caplog.records, "nothing was logged"
    assert number not in caplog.text
    assert "[电话已隐去]" in caplog.text
    assert "RZ2024040100001" in caplog.text  # ticket numbers are not phone numbers


def test_exception_tracebacks_are_scrubbed(caplog):
    # given
    logger = logging.getLogger("tickets.privacy_test")
    # when
    with caplog.at_level(logging.ERROR):
        try:
            raise ValueError("无法联系 13812345678")
        except ValueError:
            logger.exception("回访失败")
    # then
    assert "ValueError" in caplog.text
    assert "13812345678" not in caplog.text


def test_handlers_without_the_filter_never_see_a_number():
    # given: a handler that carries no filter, on a logger that does not propagate (like django.server)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tickets.privacy_test.bare")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)  # independent of the root level a Celery worker test may have set
    logger.propagate = False
    try:
        # when
        logger.warning("GET /api/callers/?phone=%s 200", "13812345678")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
    # then
    assert "13812345678" not in stream.getvalue()
    assert "[电话已隐去]" in stream.getvalue()
