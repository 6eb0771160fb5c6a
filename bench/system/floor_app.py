"""The least a command can cost: a bare FastAPI app for `floor.py`, served by uvicorn as our services are.

Nothing of Conveyor is in it on purpose: no middleware, no directory lookup, no event store. Each
endpoint does only what any command of any design must do, so its cost is a floor under ours:

- ``POST /noop``: check the bearer token (HS256, as our services do), validate a small body with
  pydantic, answer 201 with JSON;
- ``POST /append``: the same, plus one PostgreSQL transaction that inserts the command's event.

    FLOOR_DSN=postgresql://… uvicorn floor_app:app --port 8000   (floor.py starts it)
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import jwt
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel

SECRET = "bench-floor-secret-long-enough-for-hs256"


class Command(BaseModel):
    item_id: uuid.UUID
    fields: dict[str, Any]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["FLOOR_DSN"], min_size=4, max_size=10)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


def caller(authorization: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(authorization.removeprefix("Bearer "), SECRET, algorithms=["HS256"])
    except jwt.PyJWTError as error:
        raise HTTPException(401, str(error)) from error
    return claims


@app.post("/noop", status_code=201)
async def noop(command: Command, authorization: str = Header()) -> dict[str, Any]:
    claims = caller(authorization)
    return {"item_id": str(command.item_id), "tenant": claims["tenant"], "version": 1}


@app.post("/append", status_code=201)
async def append(command: Command, authorization: str = Header()) -> dict[str, Any]:
    claims = caller(authorization)
    async with app.state.pool.acquire() as conn, conn.transaction():
        position = await conn.fetchval(
            "INSERT INTO floor_events (tenant, stream_id, payload) VALUES ($1, $2, $3::jsonb) RETURNING position",
            claims["tenant"], command.item_id, json.dumps(command.fields),
        )  # fmt: skip
    return {"item_id": str(command.item_id), "position": position}
