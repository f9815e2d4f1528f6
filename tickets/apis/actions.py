"""Write actions on a ticket: one view per operation, ``POST /api/tickets/<id>/<action>/``.

Every view fetches the ticket with ``ticket_get_for_user`` first (another unit's ticket is a 404
before any role check), then asks the lifecycle whether the action is offered
(``lifecycle.action_require``: the wrong role is 403, an action not offered now is 409
``action_not_available``), validates the input (400) and calls the service (which checks the same
definition again under the row lock). The answer is the ticket's detail.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services
from ..exceptions import NotFound
from ..models import CallbackResult, Supervision, Unit
from ..permissions import require_action
from ..selectors import ticket_get_for_user
from ..services.lifecycle import ACTIONS, action_require
from .base import ApiMixin
from .serializers import BoundedDateTimeField, ObjectIdField, TicketDetailOutputSerializer
from .tickets import TicketRefField, ticket_detail_data


def note_field(max_length: int = 2000, *, required: bool = False, **kwargs):
    if required:
        return serializers.CharField(max_length=max_length, **kwargs)
    return serializers.CharField(max_length=max_length, required=False, allow_blank=True, default="", **kwargs)


class EmptyInputSerializer(serializers.Serializer):
    pass


class TicketActionApi(ApiMixin, APIView):
    """Base of the action views: subclasses set ``action`` (URL segment), ``InputSerializer``
    and ``perform``."""

    action: str = ""
    InputSerializer: type[serializers.Serializer] = EmptyInputSerializer

    def post(self, request, ticket_id: int):
        ticket = ticket_get_for_user(user=request.user, ticket_id=ticket_id)
        action_require(user=request.user, ticket=ticket, action=self.action)
        serializer = self.InputSerializer(data=request.data, context={"request": request, "ticket": ticket})
        serializer.is_valid(raise_exception=True)
        self.perform(ticket=ticket, actor=request.user, **serializer.validated_data)
        return Response(ticket_detail_data(request, ticket.pk))

    def perform(self, *, ticket, actor, **data) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs):
        """Document each action with its own input serializer (the shared ``post`` is wrapped
        per subclass, so one action's schema never leaks into another's)."""
        super().__init_subclass__(**kwargs)

        def post(self, request, ticket_id: int):
            return TicketActionApi.post(self, request, ticket_id)

        cls.post = extend_schema(
            request=cls.InputSerializer, responses=TicketDetailOutputSerializer,
            summary=cls.__doc__.strip().splitlines()[0] if cls.__doc__ else None,
            operation_id=f"tickets_{cls.action.replace('-', '_')}",
        )(post)


class TicketDispatchApi(TicketActionApi):
    """派单：派给承办单位"""

    action = "dispatch"

    class InputSerializer(serializers.Serializer):
        unit = ObjectIdField(queryset=Unit.objects.all())
        note = note_field()

    def perform(self, *, ticket, actor, unit, note):
        services.ticket_dispatch(ticket=ticket, unit=unit, actor=actor, note=note)


class TicketRedispatchApi(TicketActionApi):
    """改派：把已派出（待签收、办理中）的工单改派给另一个单位（须填写理由）"""

    action = "redispatch"

    class InputSerializer(serializers.Serializer):
        unit = ObjectIdField(queryset=Unit.objects.all())
        reason = note_field(required=True)

    def perform(self, *, ticket, actor, unit, reason):
        services.ticket_redispatch(ticket=ticket, unit=unit, actor=actor, reason=reason)


class TicketRecallApi(TicketActionApi):
    """撤回：把已派出（待签收、办理中）的工单收回到待派单（须填写理由）"""

    action = "recall"

    class InputSerializer(serializers.Serializer):
        reason = note_field(required=True)

    def perform(self, *, ticket, actor, reason):
        services.ticket_recall(ticket=ticket, actor=actor, reason=reason)


class TicketSignApi(TicketActionApi):
    """签收"""

    action = "sign"

    def perform(self, *, ticket, actor):
        services.ticket_sign(ticket=ticket, actor=actor)


class TicketFirstFeedbackApi(TicketActionApi):
    """紧急件首次反馈（签收后、首次反馈时限内，每个单位一次）"""

    action = "first-feedback"

    class InputSerializer(serializers.Serializer):
        note = note_field(required=True)

    def perform(self, *, ticket, actor, note):
        services.ticket_first_feedback(ticket=ticket, actor=actor, note=note)


class TicketReturnApi(TicketActionApi):
    """申请退单"""

    action = "return"

    class InputSerializer(serializers.Serializer):
        reason = note_field(required=True)

    def perform(self, *, ticket, actor, reason):
        services.ticket_return_request(ticket=ticket, actor=actor, reason=reason)


class TicketReturnDecideApi(TicketActionApi):
    """审批退单（驳回须填写理由）"""

    action = "return-decide"

    class InputSerializer(serializers.Serializer):
        approve = serializers.BooleanField()
        note = note_field()

    def perform(self, *, ticket, actor, approve, note):
        services.ticket_return_decide(ticket=ticket, actor=actor, approve=approve, note=note)


class TicketExtensionApi(TicketActionApi):
    """申请延期"""

    action = "extension"

    class InputSerializer(serializers.Serializer):
        reason = note_field(required=True)
        requested_deadline = BoundedDateTimeField()

    def perform(self, *, ticket, actor, reason, requested_deadline):
        services.ticket_extension_request(ticket=ticket, actor=actor, reason=reason,
                                          requested_deadline=requested_deadline)


class TicketExtensionDecideApi(TicketActionApi):
    """审批延期（同意时可另定办理时限）"""

    action = "extension-decide"

    class InputSerializer(serializers.Serializer):
        approve = serializers.BooleanField()
        note = note_field()
        deadline = BoundedDateTimeField(required=False, allow_null=True, default=None)

    def perform(self, *, ticket, actor, approve, note, deadline):
        services.ticket_extension_decide(ticket=ticket, actor=actor, approve=approve, note=note, deadline=deadline)


class TicketReplyApi(TicketActionApi):
    """办结反馈（公开答复与内部说明分开）"""

    action = "reply"

    class InputSerializer(serializers.Serializer):
        reply_text = note_field(5000, required=True)
        internal_note = note_field(5000)

    def perform(self, *, ticket, actor, reply_text, internal_note):
        services.ticket_reply(ticket=ticket, actor=actor, reply_text=reply_text, internal_note=internal_note)


class TicketReviewApi(TicketActionApi):
    """审核办结反馈（不通过须填写意见）"""

    action = "review"

    class InputSerializer(serializers.Serializer):
        passed = serializers.BooleanField()
        note = note_field()

    def perform(self, *, ticket, actor, passed, note):
        services.ticket_review(ticket=ticket, actor=actor, passed=passed, note=note)


class TicketCallbackApi(TicketActionApi):
    """回访"""

    action = "callback"

    class InputSerializer(serializers.Serializer):
        result = serializers.ChoiceField(choices=CallbackResult.choices)
        resolved = serializers.BooleanField()
        note = note_field()

    def perform(self, *, ticket, actor, result, resolved, note):
        services.ticket_callback(ticket=ticket, actor=actor, result=result, resolved=resolved, note=note)


class TicketRedoApi(TicketActionApi):
    """重办（回访不满意后）"""

    action = "redo"

    class InputSerializer(serializers.Serializer):
        note = note_field(required=True)

    def perform(self, *, ticket, actor, note):
        services.ticket_redo(ticket=ticket, actor=actor, note=note)


class TicketJudgeCloseApi(TicketActionApi):
    """研判办结"""

    action = "judge-close"

    class InputSerializer(serializers.Serializer):
        note = note_field(required=True)

    def perform(self, *, ticket, actor, note):
        services.ticket_judge_close(ticket=ticket, actor=actor, note=note)


class TicketMergeApi(TicketActionApi):
    """并单：并入另一张工单（id 或工单编号）"""

    action = "merge"

    class InputSerializer(serializers.Serializer):
        into = TicketRefField()
        note = note_field()

    def perform(self, *, ticket, actor, into, note):
        services.ticket_merge(ticket=ticket, into=into, actor=actor, note=note)


class TicketUrgeApi(TicketActionApi):
    """催办"""

    action = "urge"

    class InputSerializer(serializers.Serializer):
        note = note_field(required=True)

    def perform(self, *, ticket, actor, note):
        services.ticket_urge(ticket=ticket, actor=actor, note=note)


class TicketSuperviseApi(TicketActionApi):
    """督办立案"""

    action = "supervise"

    class InputSerializer(serializers.Serializer):
        reason = note_field(required=True)
        deadline = BoundedDateTimeField(required=False, allow_null=True, default=None)

    def perform(self, *, ticket, actor, reason, deadline):
        services.supervision_open(ticket=ticket, actor=actor, reason=reason, deadline=deadline)


class TicketSuperviseCloseApi(TicketActionApi):
    """督办结案：结束工单进行中的督办"""

    action = "supervise-close"

    class InputSerializer(serializers.Serializer):
        result = note_field(required=True)

    def perform(self, *, ticket, actor, result):
        services.ticket_supervision_close(ticket=ticket, actor=actor, result=result)


class TicketGrantContactApi(TicketActionApi):
    """允许承办单位联系来电人"""

    action = "grant-contact"

    class InputSerializer(serializers.Serializer):
        note = note_field()

    def perform(self, *, ticket, actor, note):
        services.ticket_grant_contact(ticket=ticket, actor=actor, note=note)


class SupervisionCloseApi(ApiMixin, APIView):
    class InputSerializer(serializers.Serializer):
        result = note_field(required=True)

    @extend_schema(summary="督办结案", request=InputSerializer, responses=TicketDetailOutputSerializer,
                   operation_id="supervisions_close")
    def post(self, request, supervision_id: int):
        case = Supervision.objects.filter(pk=supervision_id).only("id", "ticket_id").first()
        if case is None:
            raise NotFound()
        ticket = ticket_get_for_user(user=request.user, ticket_id=case.ticket_id)
        require_action(request.user, "supervise")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.supervision_close(supervision=case, actor=request.user, result=serializer.validated_data["result"])
        return Response(ticket_detail_data(request, ticket.pk))


ACTION_VIEWS: dict[str, type[TicketActionApi]] = {
    view.action: view
    for view in (
        TicketDispatchApi, TicketRedispatchApi, TicketRecallApi, TicketSignApi, TicketFirstFeedbackApi, TicketReturnApi, TicketReturnDecideApi, TicketExtensionApi,
        TicketExtensionDecideApi, TicketReplyApi, TicketReviewApi, TicketCallbackApi, TicketRedoApi,
        TicketJudgeCloseApi, TicketMergeApi, TicketUrgeApi, TicketSuperviseApi, TicketSuperviseCloseApi,
        TicketGrantContactApi,
    )
}
assert set(ACTION_VIEWS) == set(ACTIONS), "every action has a view"
