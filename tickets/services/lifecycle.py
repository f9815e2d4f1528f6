"""The ticket lifecycle, declared once: every action a person can take on a ticket, the statuses it
starts from, the statuses it leads to, who may take it (``permissions.ACTION_ROLES``) and the extra
conditions it needs. Everything else is derived from this table:

- ``ALLOWED_TRANSITIONS`` (the one status-changing function checks it),
- ``ticket_available_actions`` — the ticket page's buttons and the API's ``allowed_actions``,
- ``action_require`` — the acceptance check of every page POST, every API action endpoint and every
  service (which call it under the row lock, so a check and a change cannot race).

Refusals (one contract for pages, API and services):

- the role may never take the action → 403 ``permission_denied``;
- a unit handler acting on a ticket not assigned to their unit → 403 ``permission_denied``
  (through the API and the pages such a ticket is not visible at all: 404 ``not_found``);
- anything else — the status, a deadline passed, a pending request, an open supervision, 保密 … →
  409 ``action_not_available``, with ``reason`` naming the condition (``wrong_status``,
  ``deadline_passed``, ``extension_pending``, ``no_pending_request``, ``supervision_open``,
  ``no_open_supervision``, ``confidential``, ``not_dispatched``, ``contact_granted``, ``not_urgent``,
  ``first_feedback_given``).

Nothing is changed by a refused action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from ..exceptions import ActionNotAvailable, PermissionDenied
from ..models import (
    OPEN_STATUSES,
    ExtensionRequest,
    HandlingMode,
    RequestStatus,
    ReturnRequest,
    Role,
    Status,
    Supervision,
    SupervisionStatus,
    Ticket,
)
from ..permissions import ACTION_ROLES, has_role

S = Status


class Facts:
    """What the conditions read besides the ticket's own fields: each is given by a caller that has
    already loaded it, or read (one query) the first time a condition asks."""

    def __init__(self, ticket: Ticket, *, now: datetime | None = None, pending_extension: bool | None = None,
                 pending_return: bool | None = None, open_supervision: bool | None = None):
        self.ticket, self.now = ticket, now or timezone.now()
        self._known = {"pending_extension": pending_extension, "pending_return": pending_return,
                       "open_supervision": open_supervision}

    def _get(self, name: str, query) -> bool:
        if self._known[name] is None:
            self._known[name] = query.filter(ticket=self.ticket).exists()
        return self._known[name]

    @property
    def pending_extension(self) -> bool:
        return self._get("pending_extension", ExtensionRequest.objects.filter(status=RequestStatus.PENDING))

    @property
    def pending_return(self) -> bool:
        return self._get("pending_return", ReturnRequest.objects.filter(status=RequestStatus.PENDING))

    @property
    def open_supervision(self) -> bool:
        return self._get("open_supervision", Supervision.objects.filter(status=SupervisionStatus.OPEN))


def ticket_facts(ticket: Ticket, **known) -> Facts:
    return Facts(ticket, **known)


# A condition returns None when met, else (reason code, Chinese message).
Condition = Callable[[Ticket, Facts], "tuple[str, str] | None"]


def _before_deadline(ticket: Ticket, facts: Facts):
    if ticket.handle_deadline and facts.now > ticket.handle_deadline:
        return "deadline_passed", "已超过办理时限，不能再申请延期。"
    return None


def _urgent_feedback_due(ticket: Ticket, facts: Facts):
    if not ticket.urgent:
        return "not_urgent", "只有紧急件需要首次反馈。"
    if ticket.first_feedback_at is not None:
        return "first_feedback_given", "本单位已作首次反馈。"
    return None


def _no_pending_extension(ticket: Ticket, facts: Facts):
    return ("extension_pending", "该工单已有待审批的延期申请。") if facts.pending_extension else None


def _pending_extension(ticket: Ticket, facts: Facts):
    return None if facts.pending_extension else ("no_pending_request", f"工单{ticket.number}没有待审批的延期申请。")


def _pending_return(ticket: Ticket, facts: Facts):
    return None if facts.pending_return else ("no_pending_request", f"工单{ticket.number}没有待审批的退单申请。")


def _no_open_supervision(ticket: Ticket, facts: Facts):
    return ("supervision_open", "该工单已在督办中。") if facts.open_supervision else None


def _open_supervision(ticket: Ticket, facts: Facts):
    return None if facts.open_supervision else ("no_open_supervision", "该工单没有进行中的督办。")


def _contact_grantable(ticket: Ticket, facts: Facts):
    if ticket.confidential:
        return "confidential", "保密工单不能向承办单位提供来电人信息。"
    if ticket.handling_mode == HandlingMode.COORDINATED or ticket.unit_id is None:
        return "not_dispatched", "工单尚未派给承办单位。"
    if ticket.contact_granted:
        return "contact_granted", "已允许承办单位联系来电人。"
    return None


@dataclass(frozen=True)
class Action:
    name: str  # the URL segment of the page and the API: /tickets/<id>/do/<name>/, /api/tickets/<id>/<name>/
    permission: str  # the key in permissions.ACTION_ROLES
    label: str
    sources: frozenset[Status]
    targets: frozenset[Status] = frozenset()  # empty: the status does not change
    unit_side: bool = False  # only the unit the ticket is assigned to
    conditions: tuple[Condition, ...] = field(default=())


def _a(name, permission, label, sources, targets=(), *, unit_side=False, conditions=()) -> Action:
    return Action(name, permission, label, frozenset(sources), frozenset(targets), unit_side, tuple(conditions))


DISPATCHED = (S.PENDING_SIGN, S.HANDLING)  # at a unit, which has not asked to return it

# The order is the order of the page's buttons and of ``allowed_actions`` (the first is unfolded on the
# page: each role's everyday action comes first).
ACTIONS: dict[str, Action] = {a.name: a for a in (
    _a("dispatch", "dispatch", "派单", [S.PENDING_DISPATCH], [S.PENDING_SIGN]),
    _a("sign", "sign", "签收", [S.PENDING_SIGN], [S.HANDLING], unit_side=True),
    # 紧急件首次反馈: once, by the unit, after signing (due by ``feedback_deadline``).
    _a("first-feedback", "first_feedback", "首次反馈", [S.HANDLING], unit_side=True,
       conditions=[_urgent_feedback_due]),
    _a("reply", "reply", "办结反馈", [S.HANDLING], [S.REPLIED], unit_side=True),
    _a("extension", "extension_request", "申请延期", [S.HANDLING], unit_side=True,
       conditions=[_before_deadline, _no_pending_extension]),
    _a("return", "return_request", "申请退单", DISPATCHED, [S.RETURN_PENDING], unit_side=True),
    _a("return-decide", "return_decide", "审批退单", [S.RETURN_PENDING],
       [S.PENDING_DISPATCH, S.PENDING_SIGN, S.HANDLING], conditions=[_pending_return]),
    _a("extension-decide", "extension_decide", "审批延期", [S.HANDLING], conditions=[_pending_extension]),
    _a("review", "review", "审核", [S.REPLIED], [S.PENDING_CALLBACK, S.HANDLING]),
    _a("callback", "callback", "回访", [S.PENDING_CALLBACK], [S.CLOSED, S.UNSATISFIED]),
    _a("redo", "redo", "重办", [S.UNSATISFIED], [S.HANDLING]),
    _a("urge", "urge", "催办", [S.PENDING_SIGN, S.HANDLING, S.RETURN_PENDING]),
    _a("supervise", "supervise", "督办", OPEN_STATUSES, conditions=[_no_open_supervision]),
    # A case opened on a ticket that has since closed can still be closed.
    _a("supervise-close", "supervise", "督办结案", Status.values, conditions=[_open_supervision]),
    _a("grant-contact", "grant_contact", "允许联系来电人", OPEN_STATUSES, conditions=[_contact_grantable]),
    # The centre moves a ticket it sent to the wrong unit (after the everyday actions: never unfolded first).
    _a("redispatch", "redispatch", "改派", DISPATCHED, [S.PENDING_SIGN]),
    _a("recall", "recall", "撤回", DISPATCHED, [S.PENDING_DISPATCH]),
    # 回访不满意 leaves only by 重办 or 研判办结.
    _a("merge", "merge", "并单", OPEN_STATUSES - {S.UNSATISFIED}, [S.MERGED]),
    _a("judge-close", "judge_close", "研判办结", OPEN_STATUSES, [S.CLOSED]),
)}

# Status changes that are not a person's action on one ticket: registration of a 协调办理 ticket
# closes it at once (recorded as such, never through ``ticket_transition``).
ALLOWED_TRANSITIONS: dict[Status, frozenset[Status]] = {
    status: frozenset(t for a in ACTIONS.values() if status in a.sources for t in a.targets)
    for status in Status
}


def _refusal(user, ticket: Ticket, action: Action, facts: Facts | None, *, check_role: bool = True
             ) -> Exception | None:
    """Why ``user`` may not take ``action`` on ``ticket`` now (the exception to raise), or None.
    ``check_role=False``: the system acting (imports, upper platforms, automatic urges)."""
    if check_role and not has_role(user, ACTION_ROLES[action.permission]):
        return PermissionDenied()
    if check_role and action.unit_side and (user.role != Role.UNIT_HANDLER or ticket.unit_id is None
                                            or ticket.unit_id != user.unit_id):
        return PermissionDenied("只能办理本单位的工单。")
    if ticket.status not in action.sources:
        return ActionNotAvailable(
            f"工单{ticket.number}当前为“{ticket.get_status_display()}”，不能{action.label}。", reason="wrong_status")
    if action.conditions:
        facts = facts or ticket_facts(ticket)
        for condition in action.conditions:
            failed = condition(ticket, facts)
            if failed:
                return ActionNotAvailable(failed[1], reason=failed[0])
    return None


def ticket_available_actions(*, user, ticket: Ticket, facts: Facts | None = None) -> list[str]:
    """The actions ``user`` may take on ``ticket`` now, in the order of ``ACTIONS``."""
    if not (user and user.is_authenticated):
        return []
    facts = facts or ticket_facts(ticket)
    return [name for name, action in ACTIONS.items() if _refusal(user, ticket, action, facts) is None]


def action_require(*, user, ticket: Ticket, action: str, facts: Facts | None = None, check_role: bool = True
                   ) -> None:
    """Raise (403 / 409, see the module docstring) unless ``user`` may take ``action`` on ``ticket``
    now. Services call it on the locked row; pages and API views before they read the input."""
    refusal = _refusal(user, ticket, ACTIONS[action], facts, check_role=check_role)
    if refusal is not None:
        raise refusal


