"""Response bodies of the imports API: an uploaded file, a dry run, an import job with its progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from conveyor_kit.api_models import ApiModel, Timestamp
from pydantic import ConfigDict, Field


class ImportFile(ApiModel):
    """An uploaded CSV or XLSX file, read and kept for dry runs and imports."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "file-0c9e2b7a4f1d4e6b8a3c5d7e9f1a2b4c",
                    "file_name": "companies-2026-11.csv",
                    "format": "csv",
                    "encoding": "windows-1251",
                    "delimiter": ";",
                    "columns": ["Name", "INN", "Manager", "Amount"],
                    "rows": 1250,
                    "size_bytes": 98304,
                }
            ]
        },
    )

    id: str
    file_name: str
    format: str = Field(description="csv or xlsx (the first sheet of the workbook)")
    encoding: str = Field(description="the encoding the file was read in: utf-8 or windows-1251 (xlsx: xlsx)")
    delimiter: str = Field(description="the column delimiter found (xlsx: empty)")
    columns: list[str] = Field(description="the header's column names")
    rows: int = Field(description="data rows, the header excluded")
    size_bytes: int = Field(description="the file's size as uploaded")


class ImportRowError(ApiModel):
    """One refused value."""

    line: int = Field(description="the original file's line (CSV) or sheet row (XLSX); the header is line 1")
    column: str
    field: str
    message: str


class ImportOptionsView(ApiModel):
    """How the import reads numbers and dates written as text: given in the request, or detected."""

    decimal_separator: str = Field(description="'.' or ',' (\"1 234,56\")")
    date_format: str = Field(description="yyyy-mm-dd, dd.mm.yyyy, dd/mm/yyyy or mm/dd/yyyy")


class ImportDryRun(ApiModel):
    """Every error an import would meet, and how it would read numbers and dates; nothing was written."""

    rows: int
    valid: int = Field(description="rows that would become items (or update the item they match)")
    invalid: int = Field(description="rows with at least one error")
    matched: int = Field(description="valid rows whose key_fields value an existing item holds (update or skip)")
    errors: list[ImportRowError] = Field(description="the first 1000 errors, by line")
    options: ImportOptionsView = Field(description="the locale the import would use; send it back to override")


class ImportJob(ApiModel):
    """An import running or done, with its progress and the rows it refused."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "import-5a2d8f0c1e3b4a7d9c6e2f4b8a1d3c5e",
                    "status": "running",
                    "entity_type_id": "8a0c4e2b6d1f4a3c9e7b5d2f1a0c8e6b",
                    "file_id": "file-0c9e2b7a4f1d4e6b8a3c5d7e9f1a2b4c",
                    "key_fields": ["inn"],
                    "on_match": "update",
                    "options": {"decimal_separator": ",", "date_format": "dd.mm.yyyy"},
                    "total": 1250,
                    "processed": 1000,
                    "imported": 940,
                    "updated": 50,
                    "skipped": 8,
                    "refused": 2,
                    "progress": 0.8,
                    "rows_per_second": 2500.0,
                    "eta_seconds": 0.1,
                    "errors": [
                        {"line": 18, "column": "INN", "field": "fields.inn", "message": "does not match [0-9]{10}"}
                    ],
                    "error": None,
                    "created_at": "2026-11-22T09:30:00Z",
                    "finished_at": None,
                }
            ]
        },
    )

    id: str
    status: str = Field(description="running, completed or failed")
    entity_type_id: str
    file_id: str = Field(description="the uploaded file it imports")
    key_fields: list[str] = Field(description="the unique key rows are matched by (empty: every row is new)")
    on_match: str = Field(description="what a matched row does: update or skip")
    options: ImportOptionsView
    total: int = Field(description="rows in the file")
    processed: int = Field(description="rows read so far")
    imported: int = Field(description="rows that became new items")
    updated: int = Field(description="rows that changed the item they matched")
    skipped: int = Field(description="matched rows left as they were (on_match skip, or no value differed)")
    refused: int = Field(description="rows refused (processed - imported - updated - skipped)")
    progress: float = Field(description="processed / total, 0 to 1")
    rows_per_second: float | None = Field(description="rows read per second since the job began (None: too early)")
    eta_seconds: float | None = Field(description="seconds until every row is read, at that rate")
    errors: list[ImportRowError] = Field(description="the refused values, by line and column")
    error: str | None = Field(description="why a failed job stopped")
    created_at: Timestamp
    finished_at: Timestamp | None


def job_view(job: asyncpg.Record, now: datetime) -> dict[str, Any]:
    """The job as ``ImportJob`` answers it: counts, rate and ETA from when its runner began."""
    processed, total = job["processed"], job["total"]
    elapsed = (now - job["started_at"]).total_seconds() if job["started_at"] else 0.0
    if job["finished_at"] is not None and job["started_at"] is not None:
        elapsed = (job["finished_at"] - job["started_at"]).total_seconds()
    rate = round(processed / elapsed, 1) if elapsed > 0 and processed else None
    return {
        "id": job["job_id"],
        "status": job["status"],
        "entity_type_id": job["entity_type_id"],
        "file_id": job["file_id"],
        "key_fields": job["key_fields"],
        "on_match": job["on_match"],
        "options": {"decimal_separator": ".", "date_format": "yyyy-mm-dd", **job["options"]},
        "total": total,
        "processed": processed,
        "imported": job["imported"],
        "updated": job["updated"],
        "skipped": job["skipped"],
        "refused": processed - job["imported"] - job["updated"] - job["skipped"],
        "progress": round(processed / total, 4) if total else 1.0,
        "rows_per_second": rate,
        "eta_seconds": round((total - processed) / rate, 1) if rate else None,
        "errors": sorted(job["errors"], key=lambda e: (e["line"], e["column"])),
        "error": job["error"],
        "created_at": job["created_at"],
        "finished_at": job["finished_at"],
    }
