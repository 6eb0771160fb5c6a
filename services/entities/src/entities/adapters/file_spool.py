"""Uploaded files on local disk: where an upload is written as it arrives, and the copy a dry run or
an import reads from (rebuilt from the database's parts when this process does not have it).

Everything moves in blocks of ``PART_BYTES``; no file is ever whole in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import BinaryIO

import asyncpg
from conveyor_messaging.db import Connection

from entities.adapters import import_store
from entities.domain.csv_files import PYTHON_CODEC

PART_BYTES = 1024 * 1024


class TooLarge(Exception):
    """The upload went past the limit; the partial file is gone."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"uploads are limited to {limit} bytes")
        self.limit = limit


@contextlib.asynccontextmanager
async def spooled(directory: Path, blocks: AsyncIterable[bytes], limit: int) -> AsyncIterator[tuple[Path, int]]:
    """(path, size) of the blocks written to a new file in ``directory``, removed on leaving unless it
    was kept (``keep``)."""
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    path = directory / f"upload-{uuid.uuid4().hex}.part"
    size = 0
    try:
        with await asyncio.to_thread(path.open, "wb") as out:
            buffer = bytearray()
            async for block in blocks:
                size += len(block)
                if size > limit:
                    raise TooLarge(limit)
                buffer += block
                if len(buffer) >= PART_BYTES:
                    await asyncio.to_thread(out.write, bytes(buffer))
                    buffer.clear()
            await asyncio.to_thread(out.write, bytes(buffer))
        yield path, size
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


async def file_blocks(source: BinaryIO) -> AsyncIterator[bytes]:
    """A file object's content in blocks, each read off the event loop (a multipart part's file)."""
    while block := await asyncio.to_thread(source.read, PART_BYTES):
        yield block


async def store_parts(conn: Connection, tenant_id: str, file_id: str, path: Path) -> None:
    """The file's bytes into the database, part by part (the import may run in another process)."""
    with await asyncio.to_thread(path.open, "rb") as source:
        part = 0
        while block := await asyncio.to_thread(source.read, PART_BYTES):
            await import_store.insert_part(conn, tenant_id, file_id, part, block)
            part += 1


async def keep(path: Path, directory: Path, file_id: str) -> None:
    """The spooled upload becomes the file's local copy (a hard link: the spool removes its name)."""
    target = directory / file_id
    with contextlib.suppress(FileExistsError):
        await asyncio.to_thread(os.link, path, target)


async def local_copy(conn: Connection, directory: Path, file: asyncpg.Record) -> Path:
    """The file on local disk, written from its database parts first when missing here."""
    target: Path = directory / str(file["file_id"])
    if await asyncio.to_thread(target.exists):
        return target
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    partial = directory / f"{file['file_id']}.{uuid.uuid4().hex}.part"
    try:
        with await asyncio.to_thread(partial.open, "wb") as out:
            if file["content"] is not None:  # uploaded before files were kept in parts
                await asyncio.to_thread(out.write, file["content"].encode(PYTHON_CODEC[file["encoding"]]))
            part = 0
            while (block := await import_store.get_part(conn, file["tenant_id"], file["file_id"], part)) is not None:
                await asyncio.to_thread(out.write, block)
                part += 1
        await asyncio.to_thread(os.replace, partial, target)
    finally:
        await asyncio.to_thread(partial.unlink, missing_ok=True)
    return target


def sweep(directory: Path, max_age_seconds: float) -> None:
    """Remove local copies (and abandoned partial files) not touched for ``max_age_seconds``; a file
    still needed is rebuilt from its parts. Blocking: run it in a thread."""
    if not directory.is_dir():
        return
    oldest = time.time() - max_age_seconds
    for path in directory.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < oldest:
                path.unlink()
