"""A report as JSON, or its rows as CSV when asked with ``Accept: text/csv`` or ``?format=csv``."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse


def wants_csv(request: Request) -> bool:
    return request.query_params.get("format") == "csv" or "text/csv" in request.headers.get("accept", "")


def render(request: Request, report: dict[str, Any], name: str) -> Response:
    if not wants_csv(request):
        # Rows carry datetimes and decimals: make them JSON values the way FastAPI does.
        return JSONResponse(jsonable_encoder(report))
    rows: list[dict[str, Any]] = report["rows"]
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
