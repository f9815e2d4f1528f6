"""Model fields stored encrypted: a stolen database dump does not show callers' names or numbers.

``EncryptedCharField`` holds a short text (``max_length`` is checked on the plaintext by
``full_clean``, forms and serializers) and stores a Fernet token in a ``text`` column. Python code
sees the plaintext; the database sees only ciphertext. ``""`` is stored as ``""`` so "has a number"
checks (``exclude(caller_phone="")``) still work. The ciphertext is randomized, so the database
cannot compare contents: every lookup except ``isnull`` and ``exact ""`` raises ``FieldError`` —
look callers up by ``caller_phone_digest`` (``tickets.privacy.phone_digest``).
"""

from __future__ import annotations

from django.core import validators
from django.core.exceptions import FieldError
from django.db import models
from django.db.models import lookups

from . import encryption

LOOKUP_REFUSED = "加密字段不能按内容查询，请用 caller_phone_digest（号码摘要）查找来电人。"


class EncryptedExact(lookups.Exact):
    """Only ``field=""`` (no value recorded): the stored empty string is not encrypted."""

    def get_prep_lookup(self):
        if self.rhs != "":
            raise FieldError(f"{LOOKUP_REFUSED}（{self.lhs.target.name}）")
        return super().get_prep_lookup()


class EncryptedCharField(models.TextField):
    description = "加密存储的短文本"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    def _where(self) -> str:
        model = getattr(self, "model", None)
        return f"{model._meta.db_table}.{self.column}" if model else str(self.name)

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return encryption.decrypt(value, where=self._where())

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encryption.encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        if lookup_name == "exact":
            return EncryptedExact
        raise FieldError(f"{LOOKUP_REFUSED}（{self.name}__{lookup_name}）")

    def get_transform(self, lookup_name):
        raise FieldError(f"{LOOKUP_REFUSED}（{self.name}__{lookup_name}）")

    def formfield(self, **kwargs):
        # A one-line input with the plaintext's length limit, like a CharField (not a textarea).
        return models.Field.formfield(self, **{"max_length": self.max_length, **kwargs})
