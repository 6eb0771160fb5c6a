"""HTTP API of CSV imports: upload a file, dry-run its mapping, run it as a job and follow its progress."""

from __future__ import annotations

from typing import Annotated, Any

from conveyor_kit.openapi import problem_responses
from conveyor_kit.problems import Problem, not_found
from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from entities.adapters import import_store
from entities.entrypoints.deps import CtxDep
from entities.entrypoints.import_models import ImportDryRun, ImportFile, ImportJob
from entities.entrypoints.imports_runner import start_import_task
from entities.entrypoints.relations_api import reader_of
from entities.handlers.import_jobs import dry_run, start_import, upload_file

router = APIRouter(prefix="/v1", tags=["imports"], responses=problem_responses(403, 404, 409))


class ImportRequest(BaseModel):
    """Which uploaded file goes into which type, column by column, with values set for every row."""

    model_config = ConfigDict(extra="forbid")

    file_id: str = Field(max_length=200)
    entity_type_id: str = Field(max_length=200)
    mapping: dict[str, str] = Field(max_length=200)  # column → "title", "assignee_id"... or a field code
    values: dict[str, Any] = Field(default_factory=dict, max_length=200)  # field → value for every row


@router.post("/imports/files", status_code=201, response_model=ImportFile)
async def post_file(ctx: CtxDep, request: Request, file_name: str = "upload.csv") -> dict[str, Any]:
    """The file as a multipart part named `file`, or as the raw request body."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise Problem(
                422, "Invalid request", "send the CSV as a multipart part named 'file'", slug="validation-error"
            )
        data = await part.read()
        file_name = part.filename or file_name
    else:
        data = await request.body()
    async with ctx.pool.acquire() as conn, conn.transaction():
        uploaded = await upload_file(conn, reader_of(ctx.principal), name=file_name[:200], data=data, now=ctx.now())
    return {"id": uploaded.pop("file_id"), **uploaded}


@router.post("/imports/dry-run", response_model=ImportDryRun)
async def post_dry_run(ctx: CtxDep, body: ImportRequest) -> dict[str, Any]:
    return await dry_run(ctx.pool, reader_of(ctx.principal), request=body.model_dump())


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
    async with ctx.pool.acquire() as conn, conn.transaction():
        job_id, new = await start_import(
            conn, ctx.store, reader_of(ctx.principal), key=idempotency_key, request=body.model_dump(), now=ctx.now()
        )
    if new:
        start_import_task(request.app, ctx.tenant_id, job_id)
    else:
        response.status_code = 200
    async with ctx.pool.acquire() as conn:
        return await _job_view(conn, ctx.tenant_id, job_id)


@router.get("/imports/{job_id}", response_model=ImportJob)
async def get_import(ctx: CtxDep, job_id: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        return await _job_view(conn, ctx.tenant_id, job_id)


async def _job_view(conn: Any, tenant_id: str, job_id: str) -> dict[str, Any]:
    job = await import_store.get_job(conn, tenant_id, job_id)
    if job is None:
        raise not_found("no such import")
    return {
        "id": job["job_id"],
        "status": job["status"],
        "entity_type_id": job["entity_type_id"],
        "file_id": job["file_id"],
        "total": job["total"],
        "processed": job["processed"],
        "imported": job["imported"],
        "refused": job["processed"] - job["imported"],
        "progress": round(job["processed"] / job["total"], 4) if job["total"] else 1.0,
        "errors": sorted(job["errors"], key=lambda e: (e["line"], e["column"])),
        "error": job["error"],
        "created_at": job["created_at"],
        "finished_at": job["finished_at"],
    }
