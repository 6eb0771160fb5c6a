"""HTTP API of imports: upload a CSV or XLSX file, dry-run its mapping, run it as a job and follow
its progress (as a resource or a live stream)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from conveyor_kit.openapi import problem_responses, text_body
from conveyor_kit.problems import not_found
from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from entities.adapters import import_store
from entities.config import Settings
from entities.entrypoints.deps import CtxDep
from entities.entrypoints.import_models import ImportDryRun, ImportFile, ImportJob, job_view
from entities.entrypoints.import_uploads import received_file
from entities.entrypoints.imports_runner import start_import_task
from entities.entrypoints.relations_api import reader_of
from entities.handlers.import_jobs import dry_run, start_import, upload_file

router = APIRouter(prefix="/v1", tags=["imports"], responses=problem_responses(403, 404, 409))

PROGRESS_POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0


class ImportOptions(BaseModel):
    """How the file writes numbers and dates; what is left out is detected from the file's first rows."""

    model_config = ConfigDict(extra="forbid")

    decimal_separator: Literal[".", ","] | None = None
    date_format: Literal["yyyy-mm-dd", "dd.mm.yyyy", "dd/mm/yyyy", "mm/dd/yyyy"] | None = None


class ImportRequest(BaseModel):
    """Which uploaded file goes into which type, column by column, with values set for every row, and
    how rows matching existing items by a unique key are treated."""

    model_config = ConfigDict(extra="forbid")

    file_id: str = Field(max_length=200)
    entity_type_id: str = Field(max_length=200)
    mapping: dict[str, str] = Field(max_length=200)  # column → "title", "assignee_id"... or a field code
    values: dict[str, Any] = Field(default_factory=dict, max_length=200)  # field → value for every row
    key_fields: list[str] = Field(
        default_factory=list,
        max_length=5,
        description="a unique key of the type (its field codes): rows whose key matches an item change it",
    )
    on_match: Literal["update", "skip"] = Field(default="update", description="what a matched row does")
    options: ImportOptions = Field(default_factory=ImportOptions)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.post(
    "/imports/files",
    status_code=201,
    response_model=ImportFile,
    responses={413: {"description": "the file is larger than the upload limit (2 GiB by default)"}},
)
async def post_file(ctx: CtxDep, request: Request, file_name: str = "upload.csv") -> dict[str, Any]:
    """The file (CSV or XLSX) as a multipart part named `file`, or as the raw request body; streamed
    to disk as it arrives, up to `ENTITIES_LARGE_BODY_PATHS` (2 GiB by default)."""
    settings = _settings(request)
    spool = settings.import_spool_dir
    async with received_file(request, spool, settings.max_import_bytes, file_name) as (path, size, name):
        uploaded = await upload_file(
            ctx.pool, reader_of(ctx.principal), name=name[:200], path=path, size=size, spool=spool, now=ctx.now()
        )
    return {"id": uploaded.pop("file_id"), **uploaded}


@router.post("/imports/dry-run", response_model=ImportDryRun)
async def post_dry_run(ctx: CtxDep, body: ImportRequest, request: Request) -> dict[str, Any]:
    spool = _settings(request).import_spool_dir
    return await dry_run(ctx.pool, reader_of(ctx.principal), spool, request=_handler_request(body))


@router.post(
    "/imports",
    status_code=202,
    response_model=ImportJob,
    responses={200: {"model": ImportJob, "description": "The Idempotency-Key was used already: its job"}},
)
async def post_import(
    ctx: CtxDep,
    body: ImportRequest,
    request: Request,
    response: Response,
    idempotency_key: Annotated[str, Header(min_length=1, max_length=200)],
) -> dict[str, Any]:
    """Start the import as a job (202); the same Idempotency-Key again answers its job (200) and imports nothing."""
    spool = _settings(request).import_spool_dir
    async with ctx.pool.acquire() as conn, conn.transaction():
        job_id, new = await start_import(
            conn,
            ctx.store,
            reader_of(ctx.principal),
            spool,
            key=idempotency_key,
            request=_handler_request(body),
            now=ctx.now(),
        )
    if new:
        start_import_task(request.app, ctx.tenant_id, job_id)
    else:
        response.status_code = 200
    return await _job(ctx, job_id)


@router.get("/imports/{job_id}", response_model=ImportJob)
async def get_import(ctx: CtxDep, job_id: str) -> dict[str, Any]:
    return await _job(ctx, job_id)


@router.get("/imports/{job_id}/progress", response_class=Response, responses=text_body("text/event-stream"))
async def stream_progress(ctx: CtxDep, job_id: str) -> StreamingResponse:
    """Server-Sent Events: a ``progress`` event (the job, as `GET /v1/imports/{id}` answers it) each time
    its counts move, then ``finished`` with the final job, and the stream ends."""
    first = await _job(ctx, job_id)  # 404 before the stream starts

    async def events() -> AsyncIterator[str]:
        job, sent, quiet = first, "", 0.0
        while True:
            data = json.dumps(ImportJob.model_validate(job).model_dump(mode="json"), ensure_ascii=False)
            if job["status"] != "running":
                yield f"event: finished\ndata: {data}\n\n"
                return
            if data != sent:
                yield f"event: progress\ndata: {data}\n\n"
                sent, quiet = data, 0.0
            elif quiet >= KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                quiet = 0.0
            await asyncio.sleep(PROGRESS_POLL_SECONDS)
            quiet += PROGRESS_POLL_SECONDS
            job = await _job(ctx, job_id)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def _handler_request(body: ImportRequest) -> dict[str, Any]:
    request = body.model_dump()
    request["options"] = {k: v for k, v in request["options"].items() if v is not None}
    return request


async def _job(ctx: CtxDep, job_id: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        job = await import_store.get_job(conn, ctx.tenant_id, job_id)
    if job is None:
        raise not_found("no such import")
    return job_view(job, ctx.now())
