"""Process step benchmark: load, run and save one step of a 50-task business process.

A linear BPMN process of 50 user tasks (a gateway after every task) runs on the automation
service's tables: each step locks and loads the instance's serialised workflow, completes the
waiting user task (outcome and a form value), runs the engine to the next user task, serialises
and saves it, in one transaction, as completing an inbox task does. The figure is per step, over
several instances walked from the first task to the last.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import UTC, datetime

import asyncpg
from _infra import drop_database, endpoints, new_database, percentile, report
from automation.adapters import processes as rows
from automation.domain import processes as engine
from automation.migrations import MIGRATIONS_PATH
from conveyor_kit.migrations import upgrade_in_thread

TASKS = int(os.environ.get("BENCH_PROCESS_TASKS", "50"))
INSTANCES = int(os.environ.get("BENCH_PROCESS_INSTANCES", "10"))
TENANT = "bench"


def linear_bpmn(tasks: int) -> str:
    parts, flows = [], ['<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="t0"/>']
    for n in range(tasks):
        nxt = f"t{n + 1}" if n + 1 < tasks else "end"
        parts.append(f'<bpmn:userTask id="t{n}" name="Step {n}"/>')
        parts.append(f'<bpmn:exclusiveGateway id="g{n}" default="d{n}"/>')
        flows.append(f'<bpmn:sequenceFlow id="a{n}" sourceRef="t{n}" targetRef="g{n}"/>')
        flows.append(
            f'<bpmn:sequenceFlow id="r{n}" sourceRef="g{n}" targetRef="rejected">'
            f'<bpmn:conditionExpression>outcome == "reject"</bpmn:conditionExpression></bpmn:sequenceFlow>'
        )
        flows.append(f'<bpmn:sequenceFlow id="d{n}" sourceRef="g{n}" targetRef="{nxt}"/>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' id="d" targetNamespace="https://conveyor.dev/bpmn"><bpmn:process id="long" isExecutable="true">'
        '<bpmn:startEvent id="start"/><bpmn:endEvent id="end"/><bpmn:endEvent id="rejected"/>'
        + "".join(parts)
        + "".join(flows)
        + "</bpmn:process></bpmn:definitions>"
    )


async def step(pool: asyncpg.Pool, instance_id: str, now: datetime) -> None:
    async with pool.acquire() as conn, conn.transaction():
        instance = await rows.load_instance(conn, TENANT, instance_id, lock=True)
        assert instance is not None
        workflow = engine.loads(instance.state)
        waiting = engine.waiting_user_steps(workflow)[0]
        engine.complete_user_step(workflow, waiting.spiff_task_id, "done", {"note": "ok"})
        status = "completed" if workflow.is_completed() else "running"
        await conn.execute(
            "UPDATE process_instances SET state = $3, status = $4, updated_at = $5"
            " WHERE tenant_id = $1 AND instance_id = $2",
            TENANT, instance_id, engine.dumps(workflow), status, now,
        )  # fmt: skip


async def run(dsn: str) -> dict[str, float | int]:
    await upgrade_in_thread(MIGRATIONS_PATH, dsn)
    template = engine.parse_template(linear_bpmn(TASKS))
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    assert pool is not None
    now = datetime.now(UTC)
    timings: list[float] = []
    sizes: list[int] = []
    try:
        for _ in range(INSTANCES):
            workflow = engine.start(template, {"item": {"title": "Bench"}})
            instance = rows.InstanceRow(
                instance_id=str(uuid.uuid4()), template_id="long", template_version=1, item_id="item-1",
                status="running", state=engine.dumps(workflow), started_at=now, updated_at=now,
            )  # fmt: skip
            async with pool.acquire() as conn:
                await rows.save_instance(conn, TENANT, instance)
            for _ in range(TASKS):
                started = time.perf_counter()
                await step(pool, instance.instance_id, now)
                timings.append((time.perf_counter() - started) * 1000)
            async with pool.acquire() as conn:
                final = await rows.load_instance(conn, TENANT, instance.instance_id)
            assert final is not None and final.status == "completed"
            sizes.append(len(final.state))
    finally:
        await pool.close()
    return {
        "process_tasks": TASKS,
        "steps": len(timings),
        "step_p50_ms": percentile(timings, 50),
        "step_p99_ms": percentile(timings, 99),
        "step_max_ms": max(timings),
        "serialised_kib_at_end": sum(sizes) / len(sizes) / 1024,
    }


async def main() -> None:
    admin, _ = endpoints()
    dsn = await new_database(admin, "bench_process")
    try:
        figures = await run(dsn)
    finally:
        await drop_database(admin, dsn)
    report("automation_process", figures, {"step_p99_ms": "≤ 20"})


if __name__ == "__main__":
    asyncio.run(main())
