"""A search engine for argilla-server that answers from its own database, in process.

argilla-server 2.x expects Elasticsearch or OpenSearch next to it. A one-curator local server
does not need a second service: the database already holds every record, response and
suggestion, so this engine reads them back and evaluates the server's filter, sort, text and
similarity queries in Python. Index maintenance calls are no-ops because the database *is*
the index; nothing can drift, data persists with the SQLite file, and the API server and the
rq worker (separate processes) always see the same state.

This module runs inside the argilla-server virtual environment (see `launch.py`), never in
rbkit's own: it imports only `argilla_server`, SQLAlchemy and the standard library.
Registered as ``rbkit-sql``; select it with ``ARGILLA_SEARCH_ENGINE=rbkit-sql``.
One module on purpose (over 400 lines): it is one search engine, whose loading, filters, text
scores and sort keys all read the same `_Doc` view of a record and follow one set of
Elasticsearch semantics (below).

Semantics follow argilla-server's Elasticsearch engine where users can observe them:
terms filters match any element of list values; pending response status means "no response
by this user"; missing sort values come last in either direction; text queries are an AND of
case-insensitive word terms (a trailing ``*`` matches a prefix); similarity scores are
``(1 + cosine) / 2``. One deliberate difference: without an explicit sort, records keep their
insertion order for every user (Elasticsearch shuffles per user), so the order in which rbkit
pushes pairs is the order in which a curator sees them.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from argilla_server.database import AsyncSessionLocal
from argilla_server.enums import MetadataPropertyType, SimilarityOrder
from argilla_server.models import (
    Dataset,
    MetadataProperty,
    Record,
    Response,
    Suggestion,
    User,
    VectorSettings,
)
from argilla_server.search_engine.base import (
    AndFilter,
    Filter,
    FloatMetadataMetrics,
    IntegerMetadataMetrics,
    MetadataFilterScope,
    MetadataMetrics,
    Order,
    RangeFilter,
    RecordFilterScope,
    ResponseFilterScope,
    SearchEngine,
    SearchResponseItem,
    SearchResponses,
    SuggestionFilterScope,
    TermsFilter,
    TermsMetrics,
    TextQuery,
)
from argilla_server.settings import settings
from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

ENGINE_NAME = "rbkit-sql"
ENGINE_VERSION = "1"
_WORD = re.compile(r"\w+\*?", re.UNICODE)


@dataclass
class _Doc:
    """One record as the engine sees it (the shape Elasticsearch would have indexed)."""

    id: UUID
    position: int
    external_id: str | None
    status: str
    inserted_at: Any
    updated_at: Any
    fields: dict[str, Any]
    metadata: dict[str, Any]
    responses: list[dict[str, Any]] = field(default_factory=list)
    suggestions: dict[str, dict[str, Any]] = field(default_factory=dict)
    vectors: dict[UUID, list[float]] = field(default_factory=dict)

    def record_property(self, name: str) -> Any:
        return {
            "id": str(self.id),
            "external_id": self.external_id,
            "status": self.status,
            "inserted_at": self.inserted_at,
            "updated_at": self.updated_at,
        }.get(name)


def _plain(value: Any) -> Any:
    """Enum members compare as their string values."""
    return getattr(value, "value", value)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _field_text(value: Any) -> str:
    """Text of a record field: plain text, chat messages' content, or a custom field's string."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # chat field: [{role, content}, ...]
        return "\n".join(str(m.get("content", "")) if isinstance(m, dict) else str(m) for m in value)
    return str(value)


# --- loading ---------------------------------------------------------------------------------


def _insertion_order() -> tuple[Any, ...]:
    """Records in the order they were logged (SQLite's rowid breaks same-timestamp ties)."""
    if settings.database_is_sqlite:
        return (Record.inserted_at.asc(), text("records.rowid"))
    return (Record.inserted_at.asc(), Record.id.asc())


async def _load_docs(dataset: Dataset, *, vectors_for: UUID | None = None) -> list[_Doc]:
    options = [
        selectinload(Record.responses),
        selectinload(Record.suggestions).selectinload(Suggestion.question),
    ]
    if vectors_for is not None:
        options.append(selectinload(Record.vectors))
    async with AsyncSessionLocal() as db:
        result = await db.execute(
            select(Record)
            .where(Record.dataset_id == dataset.id)
            .order_by(*_insertion_order())
            .options(*options)
        )
        records = result.scalars().unique().all()
        docs = []
        for position, record in enumerate(records):
            docs.append(
                _Doc(
                    id=record.id,
                    position=position,
                    external_id=record.external_id,
                    status=_plain(record.status),
                    inserted_at=record.inserted_at,
                    updated_at=record.updated_at,
                    fields=dict(record.fields or {}),
                    metadata=dict(record.metadata_ or {}),
                    responses=[
                        {
                            "id": r.id,
                            "status": _plain(r.status),
                            "user_id": r.user_id,
                            "values": {q: (v or {}).get("value") for q, v in (r.values or {}).items()},
                        }
                        for r in record.responses
                    ],
                    suggestions={
                        s.question.name: {
                            "value": s.value,
                            "score": s.score,
                            "agent": s.agent,
                            "type": _plain(s.type),
                        }
                        for s in record.suggestions
                    },
                    vectors={v.vector_settings_id: list(v.value) for v in record.vectors}
                    if vectors_for is not None
                    else {},
                )
            )
        return docs


# --- filters ---------------------------------------------------------------------------------


def _scope_values(doc: _Doc, scope: Any) -> list[Any]:
    """Every value a filter scope addresses in one record (responses handled separately)."""
    if isinstance(scope, MetadataFilterScope):
        return _as_list(doc.metadata.get(scope.metadata_property))
    if isinstance(scope, SuggestionFilterScope):
        suggestion = doc.suggestions.get(scope.question)
        return _as_list(suggestion.get(scope.property)) if suggestion else []
    if isinstance(scope, RecordFilterScope):
        return _as_list(doc.record_property(scope.property))
    raise ValueError(f"{ENGINE_NAME}: cannot filter on scope {scope!r}")


def _value_matches(flt: TermsFilter | RangeFilter, values: Iterable[Any]) -> bool:
    if isinstance(flt, TermsFilter):
        wanted = {str(_plain(v)) for v in flt.values}
        return any(str(_plain(v)) in wanted for v in values)
    for v in values:
        number = _number(v)
        if number is None:
            continue
        if flt.ge is not None and number < flt.ge:
            continue
        if flt.le is not None and number > flt.le:
            continue
        return True
    return False


def _user_responses(doc: _Doc, user: User | None) -> list[dict[str, Any]]:
    if user is None:
        return doc.responses
    return [r for r in doc.responses if r["user_id"] == user.id]


def _response_matches(doc: _Doc, flt: TermsFilter | RangeFilter) -> bool:
    scope: ResponseFilterScope = flt.scope
    responses = _user_responses(doc, scope.user)
    if scope.question:
        return any(_value_matches(flt, _as_list(r["values"].get(scope.question))) for r in responses)
    if scope.property == "status" and isinstance(flt, TermsFilter):
        wanted = {str(_plain(v)) for v in flt.values}
        if "pending" in wanted and not responses:
            return True
        return any(r["status"] in wanted for r in responses)
    raise ValueError(f"{ENGINE_NAME}: cannot filter on response scope {scope!r}")


def _matches(doc: _Doc, flt: Filter | None) -> bool:
    if flt is None:
        return True
    if isinstance(flt, AndFilter):
        return all(_matches(doc, f) for f in flt.filters)
    if isinstance(flt.scope, ResponseFilterScope):
        return _response_matches(doc, flt)
    return _value_matches(flt, _scope_values(doc, flt.scope))


# --- text ------------------------------------------------------------------------------------


def _text_score(doc: _Doc, dataset: Dataset, query: TextQuery | str | None) -> float | None:
    """None when the record does not match; otherwise a term-frequency relevance score."""
    if query is None:
        return 1.0
    if isinstance(query, str):
        query = TextQuery(q=query)
    terms = [t.lower() for t in _WORD.findall(query.q)]
    if not terms:
        return 1.0
    if query.field:
        if dataset.field_by_name(query.field) is None:
            raise ValueError(f"Field {query.field} not found in dataset {dataset.id}")
        texts = [_field_text(doc.fields.get(query.field))]
    else:
        texts = [_field_text(doc.fields.get(f.name)) for f in dataset.fields if not f.is_image]
    tokens = Counter(t.lower() for body in texts for t in re.findall(r"\w+", body, re.UNICODE))
    score = 0.0
    for term in terms:
        if term.endswith("*"):
            prefix = term[:-1]
            hits = sum(n for token, n in tokens.items() if token.startswith(prefix))
        else:
            hits = tokens.get(term, 0)
        if hits == 0:
            return None
        score += 1.0 + math.log(hits)
    return score


# --- sorting ---------------------------------------------------------------------------------


def _sort_value(doc: _Doc, order: Order) -> Any:
    scope = order.scope
    if isinstance(scope, ResponseFilterScope):
        name = scope.question or scope.property
        responses = _user_responses(doc, scope.user)
        raw = [r["values"].get(name) if scope.question else r.get(name) for r in responses]
        numbers = [n for n in (_number(v) for v in raw) if n is not None]
        if numbers:
            return sum(numbers) / len(numbers)  # Elasticsearch's "avg" nested sort mode
        texts = sorted(str(v) for v in raw if v is not None)
        return texts[0] if texts else None
    values = _scope_values(doc, scope)
    if not values:
        return None
    descending = str(_plain(order.order)) == "desc"
    return max(values, key=_comparable) if descending else min(values, key=_comparable)


def _comparable(value: Any) -> tuple[int, Any]:
    number = _number(value)
    if number is not None:
        return (0, number)
    return (1, str(_plain(value)))


def _sorted(docs: list[_Doc], sort: Sequence[Order]) -> list[_Doc]:
    def compare(a: _Doc, b: _Doc) -> int:
        for order in sort:
            va, vb = _sort_value(a, order), _sort_value(b, order)
            if va is None and vb is None:
                continue
            if va is None:
                return 1
            if vb is None:
                return -1
            ca, cb = _comparable(va), _comparable(vb)
            if ca == cb:
                continue
            result = -1 if ca < cb else 1
            return -result if str(_plain(order.order)) == "desc" else result
        return a.position - b.position

    return sorted(docs, key=functools.cmp_to_key(compare))


# --- the engine ------------------------------------------------------------------------------


@SearchEngine.register(engine_name=ENGINE_NAME)
class SqlSearchEngine(SearchEngine):
    """Answers argilla-server's search API from its own database (see the module docstring)."""

    @classmethod
    async def new_instance(cls) -> SqlSearchEngine:
        return cls()

    async def close(self) -> None:
        return None

    async def ping(self) -> bool:
        try:
            async with AsyncSessionLocal() as db:
                await db.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def info(self) -> dict:
        async with AsyncSessionLocal() as db:
            backend = db.bind.dialect.name if db.bind is not None else "unknown"
        return {"engine": ENGINE_NAME, "version": ENGINE_VERSION, "backend": backend}

    # The database is the index: these calls have nothing to maintain.
    async def create_index(self, dataset: Dataset) -> None:
        return None

    async def delete_index(self, dataset: Dataset) -> None:
        return None

    async def configure_metadata_property(self, dataset: Dataset, metadata_property: MetadataProperty) -> None:
        return None

    async def configure_index_vectors(self, vector_settings: VectorSettings) -> None:
        return None

    async def index_records(self, dataset: Dataset, records: Iterable[Record]) -> None:
        return None

    async def partial_record_update(self, record: Record, **update: Any) -> None:
        return None

    async def delete_records(self, dataset: Dataset, records: Iterable[Record]) -> None:
        return None

    async def update_record_response(self, response: Response) -> None:
        return None

    async def delete_record_response(self, response: Response) -> None:
        return None

    async def update_record_suggestion(self, suggestion: Suggestion) -> None:
        return None

    async def delete_record_suggestion(self, suggestion: Suggestion) -> None:
        return None

    # --- progress and metrics --------------------------------------------------------------

    async def get_dataset_progress(self, dataset: Dataset) -> dict:
        if dataset.is_draft:
            return {}
        async with AsyncSessionLocal() as db:
            rows = (
                await db.execute(
                    select(Record.status, func.count(Record.id))
                    .where(Record.dataset_id == dataset.id)
                    .group_by(Record.status)
                )
            ).all()
        counts = {str(_plain(status)): n for status, n in rows}
        return {"total": sum(counts.values()), **counts}

    async def get_dataset_user_progress(self, dataset: Dataset, user: User) -> dict:
        if dataset.is_draft:
            return {}
        async with AsyncSessionLocal() as db:
            rows = (
                await db.execute(
                    select(Response.status, func.count(Response.id))
                    .join(Record, Record.id == Response.record_id)
                    .where(Record.dataset_id == dataset.id, Response.user_id == user.id)
                    .group_by(Response.status)
                )
            ).all()
        counts = {str(_plain(status)): n for status, n in rows}
        return {"total": sum(counts.values()), **counts}

    async def compute_metrics_for(self, metadata_property: MetadataProperty) -> MetadataMetrics:
        async with AsyncSessionLocal() as db:
            metadata = (
                await db.execute(select(Record.metadata_).where(Record.dataset_id == metadata_property.dataset_id))
            ).scalars()
            values = [v for m in metadata for v in _as_list((m or {}).get(metadata_property.name))]
        kind = metadata_property.type
        if kind == MetadataPropertyType.terms:
            counts = Counter(str(v) for v in values)
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            return TermsMetrics(
                total=len(values),
                values=[TermsMetrics.TermCount(term=t, count=n) for t, n in ranked],
            )
        numbers = [n for n in (_number(v) for v in values) if n is not None]
        if kind == MetadataPropertyType.integer:
            return IntegerMetadataMetrics(
                min=int(min(numbers)) if numbers else None, max=int(max(numbers)) if numbers else None
            )
        return FloatMetadataMetrics(min=min(numbers) if numbers else None, max=max(numbers) if numbers else None)

    # --- search ----------------------------------------------------------------------------

    async def search(
        self,
        dataset: Dataset,
        query: TextQuery | str | None = None,
        filter: Filter | None = None,
        sort: list[Order] | None = None,
        offset: int = 0,
        limit: int = 100,
        user_id: str | None = None,
    ) -> SearchResponses:
        scored: list[tuple[_Doc, float]] = []
        for doc in await _load_docs(dataset):
            if not _matches(doc, filter):
                continue
            score = _text_score(doc, dataset, query)
            if score is not None:
                scored.append((doc, score))
        scores = {doc.id: score for doc, score in scored}
        docs = [doc for doc, _ in scored]
        if sort:
            docs = _sorted(docs, sort)
        elif query is not None:
            docs.sort(key=lambda d: (-scores[d.id], d.position))
        page = docs[offset : offset + limit]
        return SearchResponses(
            items=[SearchResponseItem(record_id=d.id, score=scores[d.id]) for d in page],
            total=len(docs),
        )

    async def similarity_search(
        self,
        dataset: Dataset,
        vector_settings: VectorSettings,
        value: list[float] | None = None,
        record: Record | None = None,
        query: TextQuery | str | None = None,
        filter: Filter | None = None,
        max_results: int = 100,
        order: SimilarityOrder = SimilarityOrder.most_similar,
        threshold: float | None = None,
    ) -> SearchResponses:
        if bool(value) == bool(record):
            raise ValueError("Must provide either vector value or record to compute the similarity search")
        target = value or record.vector_value_by_vector_settings(vector_settings)
        if not target:
            raise ValueError("Cannot find a vector value to apply with provided info")
        if order == SimilarityOrder.least_similar:
            target = [-x for x in target]
        hits: list[tuple[float, _Doc]] = []
        for doc in await _load_docs(dataset, vectors_for=vector_settings.id):
            if record is not None and doc.id == record.id:
                continue
            vector = doc.vectors.get(vector_settings.id)
            if not vector or not _matches(doc, filter) or _text_score(doc, dataset, query) is None:
                continue
            score = (1.0 + _cosine(target, vector)) / 2.0
            if threshold is None or score >= threshold:
                hits.append((score, doc))
        hits.sort(key=lambda h: (-h[0], h[1].position))
        hits = hits[:max_results]
        return SearchResponses(
            items=[SearchResponseItem(record_id=d.id, score=s) for s, d in hits], total=len(hits)
        )


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


__all__ = ["ENGINE_NAME", "SqlSearchEngine"]
