"""Every write to tickets, calls and the directory goes through these services."""

from .access import caller_access_record
from .common import ALLOWED_TRANSITIONS, event_record, ticket_lock, ticket_transition
from .deadlines import Light, deadlines_for_dispatch, ticket_light, time_limit_rule_for
from .lifecycle import action_require, ticket_available_actions
from .registration import (
    call_create,
    idempotency_key_check,
    registration_fingerprint,
    ticket_create,
    ticket_create_idempotent,
    ticket_number_next,
)
from .workflow import (
    supervision_close,
    supervision_open,
    ticket_callback,
    ticket_dispatch,
    ticket_extension_decide,
    ticket_extension_request,
    ticket_first_feedback,
    ticket_grant_contact,
    ticket_judge_close,
    ticket_merge,
    ticket_recall,
    ticket_redispatch,
    ticket_redo,
    ticket_reply,
    ticket_return_decide,
    ticket_return_request,
    ticket_review,
    ticket_sign,
    ticket_supervision_close,
    ticket_urge,
)

__all__ = [
    "ALLOWED_TRANSITIONS", "Light", "call_create", "caller_access_record", "deadlines_for_dispatch", "event_record",
    "supervision_close", "supervision_open", "ticket_callback", "ticket_create",
    "ticket_create_idempotent", "idempotency_key_check", "registration_fingerprint", "ticket_dispatch",
    "ticket_extension_decide", "ticket_extension_request", "ticket_grant_contact", "ticket_judge_close",
    "ticket_light", "ticket_lock", "ticket_merge", "ticket_recall", "ticket_redispatch",
    "ticket_supervision_close", "ticket_first_feedback", "action_require", "ticket_available_actions", "ticket_number_next", "ticket_redo", "ticket_reply",
    "ticket_return_decide", "ticket_return_request", "ticket_review", "ticket_sign", "ticket_transition",
    "ticket_urge", "time_limit_rule_for",
]
