"""Readiness probe for the local Kafka: exit 0 once a metadata request is answered.

An open port is not enough: a KRaft broker accepts connections before its controller
has elected itself and before it can serve metadata. We ask with aiokafka, the client
the services use, so "ready" means "ready for our code".

Usage: python kafka_probe.py BOOTSTRAP [TIMEOUT_SECONDS]
"""

from __future__ import annotations

import asyncio
import sys


async def probe(bootstrap: str, timeout: float) -> None:
    from aiokafka import AIOKafkaClient

    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
        if not client.cluster.brokers():
            raise RuntimeError("metadata answered but lists no broker")
    finally:
        await client.close()


def main() -> int:
    bootstrap = sys.argv[1]
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    try:
        asyncio.run(probe(bootstrap, timeout))
    except Exception as exc:  # any failure just means "not ready yet"
        print(f"not ready: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
