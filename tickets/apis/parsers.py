"""The API's JSON parser: DRF's, with the limits of ``tickets.inputs`` — a body nested deeper than
``JSON_MAX_DEPTH`` is a ``parse_error`` (it used to be a RecursionError 500, anonymous on
``/api/auth/token/``), a NUL or a lone surrogate in any key or string an ``invalid`` naming where."""

from __future__ import annotations

import codecs

from django.conf import settings
from rest_framework import parsers
from rest_framework.utils import json

from ..inputs import CHARACTER_MESSAGE, JSON_MAX_DEPTH, forbidden_paths, json_depth_exceeds


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        # Imported here: tickets.exceptions imports DRF's views, which import this parser (settings).
        from ..exceptions import InvalidInput, MalformedRequest

        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read() if stream is not None else ""
        except (UnicodeDecodeError, LookupError) as exc:
            raise MalformedRequest("请求内容不是有效的 UTF-8 文本。") from exc
        if json_depth_exceeds(text):
            raise MalformedRequest(f"JSON 嵌套超过{JSON_MAX_DEPTH}层，无法解析。")
        try:
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except (ValueError, RecursionError) as exc:
            raise MalformedRequest() from exc
        bad = forbidden_paths(data)
        if bad:
            raise InvalidInput(fields={path: [CHARACTER_MESSAGE] for path in bad})
        return data
