"""An import upload's body, streamed to a file on disk as it arrives: a multipart part named `file`,
or the raw request body. Neither is ever whole in memory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from conveyor_kit.problems import Problem, payload_too_large
from fastapi import Request
from starlette.datastructures import UploadFile

from entities.adapters import file_spool


@contextlib.asynccontextmanager
async def received_file(request: Request, spool: Path, limit: int, name: str) -> AsyncIterator[tuple[Path, int, str]]:
    """(path, size, file name) of the uploaded file, spooled in ``spool`` and removed afterwards."""
    try:
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            # Starlette spools a file part to a temporary file as it parses; it is copied block by block.
            async with request.form(max_files=1, max_fields=10) as form:
                part = form.get("file")
                if not isinstance(part, UploadFile):
                    raise Problem(
                        422,
                        "Invalid request",
                        "send the file as a multipart part named 'file'",
                        slug="validation-error",
                    )
                async with file_spool.spooled(spool, file_spool.file_blocks(part.file), limit) as (path, size):
                    yield path, size, part.filename or name
        else:
            async with file_spool.spooled(spool, request.stream(), limit) as (path, size):
                yield path, size, name
    except file_spool.TooLarge as exc:
        raise payload_too_large(exc.limit) from None
