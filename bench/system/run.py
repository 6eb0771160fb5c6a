"""System load benchmark: the five services as OS processes under an open-loop mix of requests.

    uv run python bench/system/run.py --minutes 10            # ramp, then 10 minutes at the best rate
    uv run python bench/system/run.py --minutes 1 --rate 100  # no ramp: one minute at 100 commands/s
    uv run python bench/system/run.py --minutes 2 --profile   # py-spy records every service meanwhile

Seeds a tenant through the APIs, ramps the offered command rate up until the system stops keeping
up, then holds the highest sustainable rate for ``--minutes``. Prints and writes
bench/results/system.json (bench/README.md, "system", explains every figure).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/_infra.py

import dbstats
import structlog
from _infra import RESULTS, endpoints, report
from api import Api, new_client
from items import Items
from lag import LagSampler
from mix import Mix
from openloop import Phase, drive
from probe import ProjectionProbe
from resources import ResourceSampler, local_pids, start_profiles
from seed import seed
from stack import running_stack
from summary import TARGETS, load_average, phase_figures, spread, sustainable, timer_lag
from watch import Watcher

OUT = RESULTS / "system"


def arguments() -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=float(env("BENCH_SYSTEM_MINUTES", "10")))
    parser.add_argument("--rate", type=float, default=None, help="commands/s for the steady run; no ramp")
    parser.add_argument("--ramp-start", type=float, default=20.0, help="first ramp step, commands/s")
    parser.add_argument("--ramp-factor", type=float, default=1.4)
    parser.add_argument("--ramp-step-seconds", type=float, default=float(env("BENCH_SYSTEM_STEP_SECONDS", "30")))
    parser.add_argument("--ramp-steps", type=int, default=12, help="at most this many steps")
    parser.add_argument("--p99-limit-ms", type=float, default=500.0, help="sustainable: API p99 within this")
    parser.add_argument("--read-ratio", type=float, default=0.5, help="reads sent per command")
    parser.add_argument("--items", type=int, default=int(env("BENCH_SYSTEM_ITEMS", "3000")))
    parser.add_argument("--profile", action="store_true", help="py-spy every service during the steady run")
    parser.add_argument("--log-level", default="INFO", help="the services' log level")
    return parser.parse_args()


async def run_phase(name: str, rate: float, seconds: float, mix: Mix, probe: ProjectionProbe) -> dict[str, Any]:
    phase = Phase(name, rate, seconds)
    robots_before, probes_before = len(mix.watcher.items.robot_latencies_ms), len(probe.latencies_ms)
    await drive(phase, rate * mix.requests_per_command, mix.fire)
    robot_ms = mix.watcher.items.robot_latencies_ms[robots_before:]
    projection_ms = probe.latencies_ms[probes_before:]
    figures = phase_figures(phase)
    figures |= {"moves_timed": len(robot_ms), **spread("move_to_robot_effect", robot_ms)}
    figures |= {"projection_samples": len(projection_ms), **spread("commit_to_projection", projection_ms)}
    figures["load_average"] = load_average()
    figures |= {"_phase": phase, "_robot_ms": robot_ms, "_projection_ms": projection_ms}
    return figures


def summarise_step(figures: dict[str, Any], ok: bool) -> None:
    print(
        f"  {figures['offered_commands_per_s']:7.1f} offered  {figures['achieved_commands_per_s']:7.1f} done  "
        f"api p99 {figures['api_p99_ms']:8.1f} ms  robot p99 {figures['move_to_robot_effect_p99_ms']:8.1f} ms  "
        f"projection p99 {figures['commit_to_projection_p99_ms']:8.1f} ms  failed {figures['failed_requests']}  "
        f"load {figures['load_average']}  {'sustained' if ok else 'NOT sustained'}",
        flush=True,
    )


async def ramp(args: argparse.Namespace, mix: Mix, probe: ProjectionProbe) -> tuple[float, list[dict[str, Any]]]:
    """Raise the offered rate step by step; the last step the system sustained is the answer."""
    best, steps, rate = args.ramp_start, [], args.ramp_start
    print("ramp:", flush=True)
    for _ in range(args.ramp_steps):
        figures = await run_phase(f"ramp {rate:.0f}", rate, args.ramp_step_seconds, mix, probe)
        ok = sustainable(figures["_phase"], figures["_robot_ms"], figures["_projection_ms"], args.p99_limit_ms)
        figures["sustained"] = ok
        summarise_step(figures, ok)
        steps.append(figures)
        if not ok:
            break
        best = rate
        rate *= args.ramp_factor
    return best, steps


async def settle(mix: Mix, lag: LagSampler, within: float = 120) -> None:
    """Let the robots and consumers catch up with what was sent, so late effects still count."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        await lag.sample()
        if mix.watcher.items.awaiting_robot() == 0 and lag.total() == 0:
            return
        await asyncio.sleep(1)


async def main() -> None:
    args = arguments()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.getLogger().setLevel(logging.WARNING)
    admin_dsn, kafka = endpoints()
    figures: dict[str, Any] = {"load_average_start": load_average()}
    async with running_stack(admin_dsn, kafka, OUT / "logs", args.log_level) as stack, new_client() as http:
        tenant_id = f"bench-{uuid.uuid4().hex[:8]}"
        api = Api(stack, tenant_id, http)
        items = Items()
        watcher = Watcher(items, tenant_id)
        async with watcher.running(kafka):
            print(f"seeding {args.items} deals ...", flush=True)
            tenant = await seed(api, args.items)
            for item in tenant.seeded:
                watcher.item_created(item)
            mix = Mix(api, tenant, watcher, args.read_ratio)
            pids = {name: service.pid for name, service in stack.services.items()}
            watched = {**pids, **local_pids(), "generator": os.getpid()}
            idle = ResourceSampler(watched, trees={"postgres"})
            async with idle.running():  # what the processes cost with nothing to do
                await asyncio.sleep(10)
            figures |= {f"idle_{k}": v for k, v in idle.figures(0).items() if "_avg_" in k}
            sampler = ResourceSampler(watched, trees={"postgres"})
            probe = ProjectionProbe(stack.services["reporting"].dsn, mix, tenant_id)
            async with LagSampler(kafka, stack.groups).running() as lag, probe.running():
                await run_phase("warm-up", args.ramp_start, 10, mix, probe)
                rate, steps = (args.rate, []) if args.rate else await ramp(args, mix, probe)
                await settle(mix, lag)
                lag.max_lag = dict.fromkeys(lag.max_lag, 0)
                print(f"steady: {rate:.1f} commands/s for {args.minutes:g} min", flush=True)
                profiles = start_profiles(pids, args.minutes * 60, OUT / "profiles") if args.profile else []
                dsns = {name: service.dsn for name, service in stack.services.items()}
                counted = await dbstats.snapshot(dsns)
                statements = await dbstats.reset_statements(admin_dsn)
                async with sampler.running():
                    steady = await run_phase("steady", rate, args.minutes * 60, mix, probe)
                phase = steady["_phase"]
                database = dbstats.figures(counted, await dbstats.snapshot(dsns), phase.commands_ok, phase.elapsed_s)
                if statements:  # where PostgreSQL's time went, for bench/README.md's analysis
                    top = await dbstats.top_statements(admin_dsn, dsns, phase.commands_ok)
                    (OUT / "statements.txt").write_text("\n".join(top) + "\n")
                    print("PostgreSQL's top statements (bench/results/system/statements.txt):", *top[:8], sep="\n  ")
                for profile in profiles:
                    with contextlib.suppress(Exception):
                        profile.wait(60)
                lag_max = dict(lag.max_lag)
                await settle(mix, lag)
                steady["sustained"] = sustainable(
                    steady["_phase"], steady["_robot_ms"], steady["_projection_ms"], args.p99_limit_ms
                )
                summarise_step(steady, steady["sustained"])
            figures |= {k: v for k, v in steady.items() if not k.startswith("_")}
            figures["sustained"] = int(steady["sustained"])
            figures["moves_without_robot_effect"] = items.awaiting_robot()
            figures["projection_probes_given_up"] = probe.gave_up
            figures["fallback_creates"] = mix.fallbacks
            figures |= await timer_lag(stack.services["automation"].dsn)
            figures |= sampler.figures(steady["achieved_commands_per_s"])
            figures |= database
            figures["kafka_lag_samples"] = lag.samples
            if lag.failures:
                print(f"kafka lag: {len(lag.failures)} samples failed, the last: {lag.failures[-1]}")
            figures["kafka_lag_max_total"] = sum(lag_max.values())
            figures["kafka_lag_end_total"] = lag.total()
            figures |= {f"kafka_lag_max_{g.rsplit('.bench-', 1)[0]}": n for g, n in lag_max.items()}
            figures["ramp_best_commands_per_s"] = rate
    figures["load_average_end"] = load_average()
    for step in steps:
        name = f"ramp_{step['offered_commands_per_s']:.0f}"
        figures |= {f"{name}_achieved": step["achieved_commands_per_s"], f"{name}_api_p99_ms": step["api_p99_ms"]}
        figures |= {
            f"{name}_robot_p99_ms": step["move_to_robot_effect_p99_ms"],
            f"{name}_sustained": int(step["sustained"]),
        }
    report("system", {k: v for k, v in figures.items() if not isinstance(v, str)}, TARGETS)
    print(f"load average: start {figures['load_average_start']}, end {figures['load_average_end']}")
    (OUT / "run.json").write_text(json.dumps({"arguments": vars(args), **figures}, indent=2, default=str) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
