"""Forms of the assessment pages: they parse input; services decide."""

from __future__ import annotations

from django import forms

from tickets.models import AssessmentGroup, Unit

from .models import RuleSet


class MonthField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "月份")
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "month"}))
        super().__init__(**kwargs)

    def clean(self, value):
        from .services import month_first

        value = super().clean(value)
        if not value:
            return None
        try:
            return month_first(value)
        except Exception as exc:
            raise forms.ValidationError("格式应为 YYYY-MM。") from exc


def assessed_units():
    return Unit.objects.exclude(group=AssessmentGroup.NONE).order_by("group", "order", "pk")


class RuleSetForm(forms.ModelForm):
    valid_from = MonthField(label="生效月份")

    class Meta:
        model = RuleSet
        fields = ["valid_from", "name", "weight_sign", "weight_close", "weight_resolved", "weight_satisfied",
                  "basic_weight", "min_tickets", "stationing_deduction", "sign_grace_minutes",
                  "close_grace_minutes", "evaluation_day", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.initial["valid_from"] = f"{self.instance.valid_from:%Y-%m}"

    def _post_clean(self):  # the service validates the model (full_clean) and reports its errors
        pass


class AdjustmentForm(forms.Form):
    unit = forms.ModelChoiceField(label="单位", queryset=Unit.objects.none())
    month = MonthField()
    points = forms.DecimalField(label="分值（可为负）", max_digits=6, decimal_places=2)
    reason = forms.CharField(label="理由", max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = assessed_units()


class StationingForm(forms.Form):
    month = MonthField()
