"""Pinyin search keys for categories and units (pypinyin).

Each key is a space-separated list of words, with a space at both ends: for every Chinese word
(a name, each keyword) its full pinyin without tones and its initials, plus any ASCII keyword as
it was typed — "水电气暖" with keywords "停水 停电" gives
`` shuidianqinuan sdqn tingshui ts tingdian td ``. A query matches a word it begins
(``pinyin_q``/``pinyin_matches``), so ``ts`` finds 停水 and not the "ts" inside 其他事项's "qtsx".
"""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin

ASCII_QUERY = re.compile(r"^[a-z]+$")


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,，、/;；]+", text or "") if w]


def word_keys(word: str) -> list[str]:
    """Full pinyin and initials of one word; an ASCII word as it is (lower case)."""
    word = word.strip().lower()
    if not word:
        return []
    if word.isascii():
        return [re.sub(r"[^a-z0-9]", "", word)]
    syllables = [s for s in lazy_pinyin(word, errors="ignore") if s]
    initials = [s[0] for s in lazy_pinyin(word, style=Style.FIRST_LETTER, errors="ignore") if s]
    full, short = "".join(syllables).lower(), "".join(initials).lower()
    return [k for k in dict.fromkeys([full, short]) if k]


def _segments(word: str) -> list[str]:
    """A long Chinese name's own words (jieba), so that ``gd`` finds 国网汝州市供电公司 by 供电."""
    if word.isascii() or len(word) <= 2:
        return []
    import jieba

    jieba.setLogLevel(60)
    return [w for w in jieba.lcut(word) if len(w) >= 2 and w != word]


def search_key(*texts: str) -> str:
    """The stored search key of the given names and keyword lists (see the module docstring)."""
    keys: list[str] = []
    for text in texts:
        for word in _words(text):
            keys.extend(word_keys(word))
            for segment in _segments(word):
                keys.extend(word_keys(segment))
    unique = [k for k in dict.fromkeys(keys) if k]
    return f" {' '.join(unique)} " if unique else ""


def is_pinyin_query(query: str) -> bool:
    """True when the query is letters only (pinyin or initials), not Chinese or a code."""
    return bool(ASCII_QUERY.match((query or "").strip().lower()))


def pinyin_matches(key: str, query: str) -> bool:
    """Whether ``query`` (letters) begins one of the words of a stored ``key``."""
    query = (query or "").strip().lower()
    return bool(query) and f" {query}" in (key or "")
