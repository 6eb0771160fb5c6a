"""Response bodies of the CSV imports API: an uploaded file, a dry run, an import job."""

from __future__ import annotations

from conveyor_kit.api_models import ApiModel, Timestamp
from pydantic import ConfigDict, Field


class ImportFile(ApiModel):
    """An uploaded CSV file, decoded and kept for dry runs and imports."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "file-0c9e2b7a4f1d4e6b8a3c5d7e9f1a2b4c",
                    "file_name": "companies-2026-11.csv",
                    "encoding": "windows-1251",
                    "delimiter": ";",
                    "columns": ["Name", "INN", "Manager", "Amount"],
                    "rows": 1250,
                }
            ]
        },
    )

    id: str
    file_name: str
    encoding: str = Field(description="the encoding the file was read in: utf-8 or windows-1251")
    delimiter: str = Field(description="the column delimiter found")
    columns: list[str] = Field(description="the header's column names")
    rows: int = Field(description="data rows, the header excluded")


class ImportRowError(ApiModel):
    """One refused value."""

    line: int = Field(description="the file's line (the header is line 1)")
    column: str
    field: str
    message: str


class ImportDryRun(ApiModel):
    """Every error an import would meet; nothing was written."""

    rows: int
    valid: int = Field(description="rows that would become items")
    invalid: int = Field(description="rows with at least one error")
    errors: list[ImportRowError] = Field(description="the first 1000 errors, by line")


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
                    "total": 1250,
                    "processed": 1000,
                    "imported": 998,
                    "refused": 2,
                    "progress": 0.8,
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
    total: int = Field(description="rows in the file")
    processed: int = Field(description="rows checked so far")
    imported: int = Field(description="rows that became items")
    refused: int = Field(description="rows refused (processed - imported)")
    progress: float = Field(description="processed / total, 0 to 1")
    errors: list[ImportRowError] = Field(description="the refused values, by line and column")
    error: str | None = Field(description="why a failed job stopped")
    created_at: Timestamp
    finished_at: Timestamp | None
