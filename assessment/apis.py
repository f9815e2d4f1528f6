"""REST API of the assessment app, under ``/api/assessment/``.

Reads: centre roles (leaders included) read everything; a unit handler reads their own unit's scores
and a month's full tables once its bulletin is published. Writes (rules, stationing, adjustments,
computing a month): assessors and administrators only.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.apis.base import ApiMixin, RoleRequired
from tickets.apis.serializers import ObjectIdField
from tickets.exceptions import NotFound
from tickets.models import Unit
from tickets.permissions import ASSESS_ROLES, MANAGEMENT_READ_ROLES

from . import selectors, services
from .models import Adjustment, RuleSet
from .scoring import format_score
from .tasks import assessment_compute_task

# The range of the PositiveIntegerField columns: beyond it PostgreSQL refuses the row (a 500 before).
PG_INT_MAX = 2**31 - 1
MONTH_PARAM = OpenApiParameter("month", OpenApiTypes.STR, description="月份 YYYY-MM", required=True)


def _unit(unit_id) -> Unit:
    try:
        return Unit.objects.get(pk=int(unit_id))
    except (Unit.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("单位不存在。") from exc


def _month_param(request):
    value = request.query_params.get("month")
    if not value:
        from tickets.exceptions import InvalidInput

        raise InvalidInput("请提供月份。", fields={"month": ["格式应为 YYYY-MM。"]})
    return services.month_first(value)


class MonthField(serializers.CharField):
    def to_internal_value(self, data):
        return services.month_first(super().to_internal_value(data))

    def to_representation(self, value):
        return f"{value:%Y-%m}"


# --------------------------------------------------------------------------------------------
# Rule sets
# --------------------------------------------------------------------------------------------


class RuleSetOutputSerializer(serializers.ModelSerializer):
    valid_from = MonthField()
    in_use = serializers.SerializerMethodField()

    class Meta:
        model = RuleSet
        fields = ["id", "valid_from", "name", "weight_sign", "weight_close", "weight_resolved", "weight_satisfied",
                  "basic_weight", "min_tickets", "stationing_deduction", "sign_grace_minutes",
                  "close_grace_minutes", "evaluation_day", "note", "created_at", "in_use"]

    def get_in_use(self, obj) -> bool:
        return obj.runs.exists()


class RuleSetInputSerializer(serializers.Serializer):
    valid_from = MonthField()
    name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    weight_sign = serializers.DecimalField(max_digits=5, decimal_places=4, required=False)
    weight_close = serializers.DecimalField(max_digits=5, decimal_places=4, required=False)
    weight_resolved = serializers.DecimalField(max_digits=5, decimal_places=4, required=False)
    weight_satisfied = serializers.DecimalField(max_digits=5, decimal_places=4, required=False)
    basic_weight = serializers.DecimalField(max_digits=5, decimal_places=4, required=False)
    min_tickets = serializers.IntegerField(min_value=0, max_value=PG_INT_MAX, required=False)
    stationing_deduction = serializers.DecimalField(max_digits=6, decimal_places=2, required=False)
    sign_grace_minutes = serializers.IntegerField(min_value=0, max_value=PG_INT_MAX, required=False)
    close_grace_minutes = serializers.IntegerField(min_value=0, max_value=PG_INT_MAX, required=False)
    evaluation_day = serializers.IntegerField(min_value=0, max_value=28, required=False)
    note = serializers.CharField(required=False, allow_blank=True)


class RuleSetListApi(ApiMixin, APIView):
    permission_classes = [RoleRequired]
    read_roles = MANAGEMENT_READ_ROLES
    write_roles = ASSESS_ROLES

    @extend_schema(summary="考核规则版本列表", responses=RuleSetOutputSerializer(many=True))
    def get(self, request):
        rules = RuleSet.objects.order_by("-valid_from")
        return Response(RuleSetOutputSerializer(rules, many=True).data)

    @extend_schema(summary="新建考核规则版本（自某月起生效）", request=RuleSetInputSerializer,
                   responses={201: RuleSetOutputSerializer})
    def post(self, request):
        data = RuleSetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        rule = services.ruleset_create(valid_from=values.pop("valid_from"), actor=request.user, **values)
        return Response(RuleSetOutputSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleSetDetailApi(ApiMixin, APIView):
    permission_classes = [RoleRequired]
    read_roles = MANAGEMENT_READ_ROLES
    write_roles = ASSESS_ROLES

    def _get(self, pk) -> RuleSet:
        try:
            return RuleSet.objects.get(pk=int(pk))
        except (RuleSet.DoesNotExist, ValueError) as exc:
            raise NotFound() from exc

    @extend_schema(summary="考核规则版本", responses=RuleSetOutputSerializer)
    def get(self, request, pk):
        return Response(RuleSetOutputSerializer(self._get(pk)).data)

    @extend_schema(summary="修改尚未用于考核的规则版本", request=RuleSetInputSerializer(partial=True),
                   responses=RuleSetOutputSerializer)
    def patch(self, request, pk):
        data = RuleSetInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        rule = services.ruleset_update(rule_set=self._get(pk), actor=request.user, **data.validated_data)
        return Response(RuleSetOutputSerializer(rule).data)


# --------------------------------------------------------------------------------------------
# Stationing and adjustments
# --------------------------------------------------------------------------------------------


class StationingApi(ApiMixin, APIView):
    permission_classes = [RoleRequired]
    read_roles = MANAGEMENT_READ_ROLES
    write_roles = ASSESS_ROLES

    class InputSerializer(serializers.Serializer):
        unit = ObjectIdField(queryset=Unit.objects.all())
        month = MonthField()
        complete = serializers.BooleanField()
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        unit = serializers.IntegerField(source="unit.pk")
        unit_name = serializers.CharField(source="unit.name")
        short_name = serializers.CharField(source="unit.short_name")
        complete = serializers.BooleanField(allow_null=True)

    @extend_schema(summary="某月派驻情况（需派驻的单位）", parameters=[MONTH_PARAM],
                   responses=OutputSerializer(many=True))
    def get(self, request):
        rows = selectors.stationing_rows(month=_month_param(request))
        return Response(self.OutputSerializer(rows, many=True).data)

    @extend_schema(summary="设置某单位某月的派驻情况", request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        record = services.stationing_set(unit=v["unit"], month=v["month"], complete=v["complete"],
                                         actor=request.user, reason=v.get("reason", ""))
        return Response(self.OutputSerializer({"unit": record.unit, "complete": record.complete}).data)


class AdjustmentOutputSerializer(serializers.ModelSerializer):
    month = MonthField()
    unit_name = serializers.CharField(source="unit.short_name")
    author = serializers.CharField(source="created_by.display_name")
    reversed = serializers.SerializerMethodField()

    class Meta:
        model = Adjustment
        fields = ["id", "unit", "unit_name", "month", "points", "reason", "author", "created_at", "reverses",
                  "reversed"]

    def get_reversed(self, obj) -> bool:
        return hasattr(obj, "reversal")


class AdjustmentListApi(ApiMixin, APIView):
    permission_classes = [RoleRequired]
    read_roles = MANAGEMENT_READ_ROLES
    write_roles = ASSESS_ROLES

    class InputSerializer(serializers.Serializer):
        unit = ObjectIdField(queryset=Unit.objects.all())
        month = MonthField()
        points = serializers.DecimalField(max_digits=6, decimal_places=2)
        reason = serializers.CharField(max_length=500)

    @extend_schema(summary="某月的考核加减分", parameters=[MONTH_PARAM],
                   responses=AdjustmentOutputSerializer(many=True))
    def get(self, request):
        rows = selectors.adjustments_for(month=_month_param(request))
        return Response(AdjustmentOutputSerializer(rows, many=True).data)

    @extend_schema(summary="录入加减分（理由必填，可为负）", request=InputSerializer,
                   responses={201: AdjustmentOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        adjustment = services.adjustment_create(unit=v["unit"], month=v["month"], points=v["points"],
                                                reason=v["reason"], actor=request.user)
        return Response(AdjustmentOutputSerializer(adjustment).data, status=status.HTTP_201_CREATED)


class AdjustmentReverseApi(ApiMixin, APIView):
    """An adjustment is never deleted: it is cancelled by a reversal (a new row, opposite points)."""

    permission_classes = [RoleRequired]
    read_roles = ASSESS_ROLES
    write_roles = ASSESS_ROLES

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=500)

    @extend_schema(summary="冲销一条加减分（理由必填；原记录保留）", request=InputSerializer,
                   responses={201: AdjustmentOutputSerializer})
    def post(self, request, pk):
        adjustment = Adjustment.objects.filter(pk=pk).first()
        if adjustment is None:
            raise NotFound()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reversal = services.adjustment_reverse(adjustment=adjustment, reason=data.validated_data["reason"],
                                               actor=request.user)
        return Response(AdjustmentOutputSerializer(reversal).data, status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------------------------
# Months, scores, explanations
# --------------------------------------------------------------------------------------------


class ScoreRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit = serializers.IntegerField(source="unit_id")
    unit_name = serializers.CharField()
    short_name = serializers.CharField(source="unit_short_name")
    month = MonthField()
    group = serializers.CharField()
    tickets = serializers.IntegerField()
    score = serializers.SerializerMethodField()
    rank = serializers.IntegerField(allow_null=True)
    position = serializers.IntegerField(allow_null=True)
    excluded = serializers.BooleanField()
    good = serializers.BooleanField()
    poor = serializers.BooleanField()
    sign_num = serializers.IntegerField()
    sign_den = serializers.IntegerField()
    close_num = serializers.IntegerField()
    close_den = serializers.IntegerField()
    resolved_num = serializers.IntegerField()
    callbacks = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    basic = serializers.IntegerField()
    unsatisfied = serializers.IntegerField()
    stationing_deduction = serializers.DecimalField(max_digits=6, decimal_places=2)
    adjustments = serializers.DecimalField(max_digits=7, decimal_places=2)

    def get_score(self, obj) -> str:
        return format_score(obj.score)


class MonthListApi(ApiMixin, APIView):
    permission_classes = [RoleRequired]

    @extend_schema(operation_id="assessment_months_list", summary="已计算的月份", responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        months = selectors.month_list()
        if not selectors.can_read_all(request.user):
            months = [m for m in months if selectors.month_published(m)]
        return Response({"months": [f"{m:%Y-%m}" for m in months]})


class MonthTablesApi(ApiMixin, APIView):
    permission_classes = [RoleRequired]

    @extend_schema(operation_id="assessment_month_tables", summary="某月各组考核表（简报格式，另附每行明细）", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, month):
        month = services.month_first(month)
        selectors.require_month_tables(user=request.user, month=month)
        tables = selectors.group_tables(month=month)
        if tables["run"] is None:
            raise NotFound(f"{month:%Y-%m}尚未计算考核。")
        body = selectors.assessment_tables(month=month)
        run = tables["run"]
        body.update({
            "period": f"{month:%Y-%m}",
            "rule_set": run.rule_set_id,
            "rule_from": f"{run.rule_set.valid_from:%Y-%m}",
            "evaluated_at": run.evaluated_at,
            "computed_at": run.computed_at,
            "details": [{"name": g["name"], "rows": ScoreRowSerializer(g["rows"], many=True).data,
                         "not_assessed": ScoreRowSerializer(g["not_assessed"], many=True).data}
                        for g in tables["groups"]],
        })
        return Response(body)


class ComputeInputSerializer(serializers.Serializer):
    wait = serializers.BooleanField(required=False, default=False)


class MonthComputeApi(ApiMixin, APIView):
    permission_classes = [RoleRequired]
    write_roles = ASSESS_ROLES

    @extend_schema(summary="计算（或重算）某月考核",
                   description="默认排入任务队列（202）；请求体 {\"wait\": true} 时当场计算并返回结果（200）。可重复调用。",
                   request=ComputeInputSerializer, responses={200: OpenApiTypes.OBJECT, 202: OpenApiTypes.OBJECT})
    def post(self, request, month):
        month = services.month_first(month)
        services.require_assessor(request.user)
        # The body is optional; when given it must be an object ({"wait": true}), never a 500.
        data = ComputeInputSerializer(data=request.data if request.data is not None else {})
        data.is_valid(raise_exception=True)
        if data.validated_data["wait"]:
            run = services.assessment_compute(month=month, actor=request.user)
            return Response({"month": f"{month:%Y-%m}", "status": "done", "tickets": run.ticket_count,
                             "rule_from": f"{run.rule_set.valid_from:%Y-%m}", "evaluated_at": run.evaluated_at,
                             "duration_ms": run.duration_ms})
        assessment_compute_task.delay_on_commit(f"{month:%Y-%m}", request.user.pk)
        return Response({"month": f"{month:%Y-%m}", "status": "queued"}, status=status.HTTP_202_ACCEPTED)


class ScoreDetailApi(ApiMixin, APIView):
    permission_classes = [RoleRequired]

    @extend_schema(summary="一个得分的逐项说明", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        score = selectors.score_get_for_user(user=request.user, score_id=pk)
        explained = selectors.score_explain(score=score)
        return Response({
            "score": ScoreRowSerializer(score).data,
            "rule_set": score.run.rule_set_id,
            "rule_from": f"{score.run.rule_set.valid_from:%Y-%m}",
            "evaluated_at": score.run.evaluated_at,
            "base_score": explained["base"],
            "indicators": explained["lines"],
            "adjustments": AdjustmentOutputSerializer(explained["adjustment_rows"], many=True).data,
        })


class ScoreTicketsApi(ApiMixin, APIView):
    permission_classes = [RoleRequired]

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        number = serializers.CharField()
        dispatched_at = serializers.DateTimeField()
        sign_deadline = serializers.DateTimeField()
        signed_at = serializers.DateTimeField()
        handle_deadline = serializers.DateTimeField()
        replied_at = serializers.DateTimeField()
        callback_result = serializers.CharField()
        callback_resolved = serializers.BooleanField(allow_null=True)
        status = serializers.CharField()

    @extend_schema(summary="使该得分失分的工单",
                   parameters=[OpenApiParameter("kind", OpenApiTypes.STR, enum=list(selectors.DRILL_KINDS),
                                                required=True)],
                   responses=OutputSerializer(many=True))
    def get(self, request, pk):
        score = selectors.score_get_for_user(user=request.user, score_id=pk)
        tickets = selectors.score_tickets(score=score, kind=request.query_params.get("kind", ""))
        return Response(self.OutputSerializer(tickets[:1000], many=True).data)


class UnitScoresApi(ApiMixin, APIView):
    permission_classes = [RoleRequired]

    @extend_schema(summary="某单位各月得分", responses=ScoreRowSerializer(many=True))
    def get(self, request, unit_id):
        unit = _unit(unit_id)
        selectors.require_unit_scores(user=request.user, unit=unit)
        return Response(ScoreRowSerializer(selectors.unit_history(unit=unit, months=36), many=True).data)
