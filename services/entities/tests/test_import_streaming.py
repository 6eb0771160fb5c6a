"""A big upload streams to disk and into the database in parts: the service never holds the file."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import pytest

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
BLOCKS = 32


async def companies(blocks: int) -> AsyncIterator[bytes]:
    """A CSV of ``blocks`` MiB, made as it is sent: the test holds one block at a time too."""
    yield "Название;ИНН\r\n".encode("cp1251")
    line = "УК «Дом»;7701234567\r\n".encode("cp1251")
    block = line * (MIB // len(line))
    for _ in range(blocks):
        yield block


class TestStreamedUpload:
    async def test_a_32_mib_upload_is_read_and_stored_in_parts_without_holding_it(self, entities: Any) -> None:
        tracemalloc.start()
        try:
            response = await entities.client.post(
                "/v1/imports/files",
                content=companies(BLOCKS),
                params={"file_name": "big.csv"},
                headers={**entities.auth(), "Content-Type": "text/csv"},
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        assert response.status_code == 201, response.text
        uploaded = response.json()
        rows_per_block = MIB // len("УК «Дом»;7701234567\r\n".encode("cp1251"))
        assert (uploaded["encoding"], uploaded["rows"]) == ("windows-1251", rows_per_block * BLOCKS)
        assert uploaded["size_bytes"] > BLOCKS * MIB - MIB
        assert peak < BLOCKS * MIB // 2, f"the upload held {peak / MIB:.1f} MiB at its peak"
        async with entities.app.state.pool.acquire() as conn:
            parts = await conn.fetchval(
                "SELECT count(*) FROM import_file_parts WHERE tenant_id = $1 AND file_id = $2",
                entities.tenant,
                uploaded["id"],
            )
        assert parts == BLOCKS
