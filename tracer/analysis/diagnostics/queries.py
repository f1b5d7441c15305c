"""N+1 queries: the same statement shape over and over inside one request."""

from __future__ import annotations

import re
from collections import Counter

from tracer.analysis.diagnostics.finding import Finding, Thresholds
from tracer.analysis.index import TraceIndex
from tracer.analysis.readers import attr_str, fmt_ns
from tracer.model import Span

_SQL_STRING = re.compile(r"'(?:[^']|'')*'")

_SQL_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")

_SQL_PARAM = re.compile(r"%\(\w+\)s|%s|\$\d+|(?<!:):\w+|\?")

_SQL_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")

_SQL_ROWS = re.compile(r"\(\?\)(?:\s*,\s*\(\?\))+")


def statement_shape(sql: str) -> str:
    """``db.statement`` with literals, placeholders, IN-lists and whitespace normalised."""
    shape = _SQL_STRING.sub("?", sql)
    shape = _SQL_PARAM.sub("?", shape)
    shape = _SQL_NUMBER.sub("?", shape)
    shape = _SQL_LIST.sub("(?)", shape)
    shape = _SQL_ROWS.sub("(?)", shape)
    return " ".join(shape.split())


def n_plus_one(ix: TraceIndex, limits: Thresholds) -> list[Finding]:
    """The same statement shape over and over: usually one query per row of an earlier one."""
    trace = ix.trace
    groups: dict[str, list[Span]] = {}
    for span in sorted(trace.spans, key=lambda s: s.start_ns):
        sql = attr_str(span, "db.statement") if span.phase == "db" else None
        if sql:
            groups.setdefault(statement_shape(sql), []).append(span)
    by_id = ix.by_id
    out = []
    for shape, spans in groups.items():
        if len(spans) < max(2, limits.n_plus_one_min):
            continue
        parents = Counter(s.parent_id for s in spans).most_common(1)[0][0]
        issuer = by_id[parents].name if parents is not None and parents in by_id else "?"
        total = sum(s.duration_ns for s in spans)
        out.append(
            Finding(
                code="n_plus_one",
                severity="warning",
                title=f"N+1 queries: {spans[0].name} ran {len(spans)} times",
                detail=(
                    f"{issuer} ran the same statement {len(spans)} times with different "
                    f"parameters ({fmt_ns(total)} in total): one query per row of an earlier "
                    "result. Load the rows together (selectinload, a join, or one IN query)."
                ),
                layer="database",
                span_id=spans[0].span_id,
                evidence={
                    "count": len(spans),
                    "total_ns": total,
                    "statement": shape,
                    "name": spans[0].name,
                    "issued_by": issuer,
                },
            )
        )
    return out
