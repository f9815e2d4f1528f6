"""Dispatch suggestions learned from the centre's own history (scikit-learn).

What is learned: for every ticket a unit finally handled (it has a reply; after returns and
re-dispatches ``Ticket.unit`` is the unit that replied), the features

- its category (second and first level), the township where it happened, appeal type and source;
- the words of its title and content (jieba tokens, TF-IDF);

and the target: that unit — or ``TOWNSHIP`` when the unit was the ticket's own township, so that
"a township's own affairs go to that township" is learned once for all 21 townships instead of
21 times. A multinomial logistic regression is fitted with sample weights that halve every
``half_life`` months of history back from the latest month, so recent routing counts most.

The window is the latest ``months`` calendar months *that hold handled tickets* (a centre works
every month, so these are the last months; the demo's history is April 2024 plus the last 30 days).

Nothing here writes to the database: ``tickets.services.dispatch`` stores a trained model and
``tickets.selectors.unit_suggestions`` reads it.
"""

from __future__ import annotations

import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

TOWNSHIP = "TOWNSHIP"
TOKEN_RE = re.compile(r"^[\u4e00-\u9fff]{2,}$|^[a-z]{3,}$")
# Words of every ticket that say nothing about who handles it.
STOP_TOKENS = frozenset({"来电人", "反映", "咨询", "希望", "要求", "请求", "相关", "部门", "问题", "尽快", "处理",
                         "解决", "情况", "现在", "已经", "没有", "一个", "不能", "可以", "需要", "哪些", "怎么",
                         "什么", "是否", "进行", "目前", "多次", "长期", "至今", "附近", "有关", "存在", "某村",
                         "小区", "社区", "街道", "某小区", "某社区", "路口", "集镇", "某组", "某街", "村里",
                         "尽快恢复", "来电", "市民", "群众"})


def tokens(text: str) -> list[str]:
    """jieba words of 2+ Chinese characters (or ASCII words), without the filler of every ticket.
    Module-level so that a pickled vectorizer refers to it by name."""
    import jieba

    jieba.setLogLevel(60)
    return [w for w in jieba.lcut((text or "").lower()) if TOKEN_RE.match(w) and w not in STOP_TOKENS]


def month_of(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime("%Y-%m")


@dataclass
class Sample:
    """One handled ticket as the learner sees it."""

    category: str
    category_parent: str
    township_id: int | None
    township: str
    appeal: str
    source: str
    text: str
    month: str
    unit_id: int | None = None  # the unit that finally handled it (None for a ticket to suggest for)

    @property
    def label(self) -> str:
        return TOWNSHIP if self.unit_id and self.unit_id == self.township_id else str(self.unit_id)

    def features(self) -> dict[str, float]:
        return {f"cat={self.category}": 1.0, f"cat1={self.category_parent}": 1.0, f"twp={self.township}": 1.0,
                f"appeal={self.appeal}": 1.0, f"src={self.source}": 1.0,
                f"cat_src={self.category}|{self.source}": 1.0}


SAMPLE_FIELDS = ("category__code", "category__parent__code", "township_id", "township__short_name",
                 "appeal_type__code", "source", "title", "content", "registered_at", "unit_id")


def _without_place(text: str, township: str) -> str:
    """The text without the name of the ticket's township (where, not what: it is a feature of its
    own), so that "纸坊镇某村停水" and "大峪镇某村停水" read alike."""
    if township:
        stem = township.removesuffix("街道").removesuffix("镇").removesuffix("乡")
        text = text.replace(township, " ").replace(stem, " ") if len(stem) >= 2 else text.replace(township, " ")
    return text


def sample_from_values(row: dict) -> Sample:
    return Sample(category=row["category__code"], category_parent=row["category__parent__code"] or "",
                  township_id=row["township_id"], township=row["township__short_name"] or "",
                  appeal=row["appeal_type__code"], source=row["source"],
                  text=_without_place(f"{row['title'] or ''} {row['content'] or ''}", row["township__short_name"] or ""),
                  month=month_of(row["registered_at"]),
                  unit_id=row["unit_id"])


def sample_from_ticket(ticket) -> Sample:
    return Sample(category=ticket.category.code, category_parent=ticket.category.parent.code if ticket.category.parent_id
                  else "", township_id=ticket.township_id,
                  township=ticket.township.short_name if ticket.township_id else "",
                  appeal=ticket.appeal_type.code, source=ticket.source,
                  text=_without_place(f"{ticket.title or ''} {ticket.content or ''}",
                                      ticket.township.short_name if ticket.township_id else ""),
                  month=month_of(ticket.registered_at))


def history_samples(*, before_month: str | None = None) -> list[Sample]:
    """Every ticket a unit finally handled (it has a reply), oldest first; merged tickets left out.
    ``before_month`` ("2024-04") keeps only tickets registered before that month."""
    from .models import Status, Ticket

    qs = (Ticket.objects.filter(unit__isnull=False, replied_at__isnull=False).exclude(status=Status.MERGED)
          .order_by("registered_at", "id").values(*SAMPLE_FIELDS))
    samples = [sample_from_values(row) for row in qs.iterator(chunk_size=2000)]
    if before_month:
        samples = [s for s in samples if s.month < before_month]
    return samples


def data_months(samples: list[Sample]) -> list[str]:
    return sorted({s.month for s in samples})


@dataclass
class Trained:
    """A fitted suggester and what it was fitted on (pickled into ``DispatchModel.blob``)."""

    dict_vectorizer: object
    tfidf: object
    classifier: object
    months: list[str]
    samples: int
    # category code → Counter(label → tickets), for the reason shown beside each suggestion
    category_labels: dict[str, Counter] = field(default_factory=dict)

    def _matrix(self, samples: list[Sample]):
        from scipy.sparse import hstack

        return hstack([self.dict_vectorizer.transform([s.features() for s in samples]),
                       self.tfidf.transform([s.text for s in samples])]).tocsr()

    def rank(self, sample: Sample, limit: int = 3) -> list[dict]:
        """The ``limit`` most probable units: ``{"unit_id", "label", "probability", "words"}``; the
        TOWNSHIP class becomes the ticket's own township (and is dropped when it has none)."""
        matrix = self._matrix([sample])
        probabilities = self.classifier.predict_proba(matrix)[0]
        merged: dict[int, dict] = {}
        for index in probabilities.argsort()[::-1]:
            label = str(self.classifier.classes_[index])
            unit_id = sample.township_id if label == TOWNSHIP else int(label)
            if not unit_id:
                continue
            entry = merged.setdefault(unit_id, {"unit_id": unit_id, "label": label, "probability": 0.0,
                                                "class_index": int(index)})
            entry["probability"] += float(probabilities[index])
            if len(merged) >= limit + 2:
                break
        ranked = sorted(merged.values(), key=lambda e: -e["probability"])[:limit]
        for entry in ranked:
            entry["words"] = self._words_for(matrix, entry.pop("class_index"))
        return ranked

    def _words_for(self, matrix, class_index: int, limit: int = 2) -> list[str]:
        """The ticket's words that speak most for a class (coefficient × TF-IDF weight)."""
        n_dict = len(self.dict_vectorizer.feature_names_)
        coefs = self.classifier.coef_
        row = coefs[class_index] if coefs.shape[0] > 1 else coefs[0]
        words = self.tfidf.get_feature_names_out()
        tf_part = matrix[:, n_dict:]
        scored = [(row[n_dict + j] * value, words[j]) for j, value in zip(tf_part.indices, tf_part.data, strict=True)]
        return [w for score, w in sorted(scored, reverse=True)[:limit] if score > 0]

    def dumps(self) -> bytes:
        import joblib

        buffer = io.BytesIO()
        joblib.dump(self, buffer, compress=3)
        return buffer.getvalue()

    @staticmethod
    def loads(blob: bytes) -> Trained:
        import joblib

        return joblib.load(io.BytesIO(bytes(blob)))


class NotEnoughHistory(Exception):
    pass


def fit(samples: list[Sample], *, half_life: float, C: float = 4.0, class_weight: str | None = None) -> Trained:
    """Fit the suggester on ``samples`` (all of them: choose the window before calling)."""
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    labels = [s.label for s in samples]
    if len(samples) < 10 or len(set(labels)) < 2:
        raise NotEnoughHistory(f"可学习的已办结工单太少（{len(samples)} 件、{len(set(labels))} 个承办单位）。")
    months = data_months(samples)
    rank = {m: len(months) - 1 - i for i, m in enumerate(months)}
    weights = np.array([0.5 ** (rank[s.month] / half_life) for s in samples])
    dict_vectorizer = DictVectorizer()
    tfidf = TfidfVectorizer(tokenizer=tokens, lowercase=False, token_pattern=None, min_df=2, sublinear_tf=True)
    matrix = hstack([dict_vectorizer.fit_transform([s.features() for s in samples]),
                     tfidf.fit_transform([s.text for s in samples])]).tocsr()
    classifier = LogisticRegression(C=C, class_weight=class_weight, max_iter=3000)
    classifier.fit(matrix, labels, sample_weight=weights / weights.mean())
    category_labels: dict[str, Counter] = defaultdict(Counter)
    for s in samples:
        category_labels[s.category][s.label] += 1
    return Trained(dict_vectorizer=dict_vectorizer, tfidf=tfidf, classifier=classifier, months=months,
                   samples=len(samples), category_labels=dict(category_labels))


def window(samples: list[Sample], *, months: int, before_month: str | None = None) -> list[Sample]:
    """The samples of the latest ``months`` data-months (before ``before_month`` if given)."""
    if before_month:
        samples = [s for s in samples if s.month < before_month]
    keep = set(data_months(samples)[-months:])
    return [s for s in samples if s.month in keep]


@dataclass
class Backtest:
    month: str
    train_months: list[str]
    train_samples: int
    test_samples: int
    top1: float
    top3: float


def backtest(samples: list[Sample], *, month: str, months: int, half_life: float, **fit_options) -> Backtest:
    """Train on the ``months`` data-months before ``month``, suggest for every ticket of ``month``
    (which the model never saw) and count how often the unit that finally handled it came first,
    or among the first three."""
    train = window(samples, months=months, before_month=month)
    test = [s for s in samples if s.month == month]
    if not test:
        raise NotEnoughHistory(f"{month} 没有已办结的派单工单，无法回测。")
    if not train:
        raise NotEnoughHistory(f"{month} 之前没有可学习的已办结工单，无法回测。")
    model = fit(train, half_life=half_life, **fit_options)
    top1 = top3 = 0
    for s in test:
        ranked = [e["unit_id"] for e in model.rank(s, limit=3)]
        top1 += bool(ranked) and ranked[0] == s.unit_id
        top3 += s.unit_id in ranked
    return Backtest(month=month, train_months=model.months, train_samples=len(train), test_samples=len(test),
                    top1=top1 / len(test), top3=top3 / len(test))
