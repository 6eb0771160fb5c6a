"""A report as JSON, or its rows as CSV when asked with ``Accept: text/csv`` or ``?format=csv``."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import Request, Response


def wants_csv(request: Request) -> bool:
    return request.query_params.get("format") == "csv" or "text/csv" in request.headers.get("accept", "")


def render(request: Request, report: dict[str, Any], name: str, rows_key: str = "rows") -> dict[str, Any] | Response:
    """The report itself, for the route's response model to validate and write as JSON; or the list under
    ``rows_key`` as CSV (a response of its own, which the model does not see)."""
    if not wants_csv(request):
        return report
    rows: list[dict[str, Any]] = report[rows_key]
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
