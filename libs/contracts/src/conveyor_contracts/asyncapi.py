"""Generates the AsyncAPI 3 document and the JSON Schemas of every registered event contract.

``python -m conveyor_contracts.asyncapi`` rewrites docs/asyncapi.yaml and docs/events/schemas/;
a test fails when the committed files differ from what the contracts say.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from conveyor_messaging.contracts import TYPE_NAME, EventContract, registry, topic_for

import conveyor_contracts  # noqa: F401  (registers every contract)

CLOUDEVENT_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 binary content mode: context attributes as ce_ headers.",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_tenantid", "ce_actor"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "Event id (UUID); consumers deduplicate on it."},
        "ce_source": {"type": "string", "description": "Producing service, e.g. /conveyor/entities."},
        "ce_type": {"type": "string", "description": "conveyor.<service>.<aggregate>.<event>.v<N>"},
        "ce_subject": {"type": "string", "description": "Aggregate id; also the Kafka record key."},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_tenantid": {"type": "string", "description": "Tenant (workspace) the event belongs to."},
        "ce_actor": {
            "type": "string",
            "description": "kind:id of who or what caused it (user, robot, process, system).",
        },
        "ce_aggregateversion": {"type": "string", "description": "Version of the aggregate after this event."},
        "ce_correlationid": {"type": "string"},
        "ce_causationid": {"type": "string", "description": "Id of the event or request that caused this one."},
        "content-type": {"type": "string", "const": "application/json"},
    },
}


def _message_id(type_name: str) -> str:
    return type_name.replace(".", "_")


def _payload(contract: type[EventContract], shared: dict[str, Any]) -> dict[str, Any]:
    """The event's JSON Schema; the models it nests (``Option``, ``ItemRef``...) go to the document's
    components once, where its ``$ref``s point."""
    payload = contract.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, schema in payload.pop("$defs", {}).items():
        if shared.setdefault(name, schema) != schema:
            raise ValueError(f"two different models are both called {name}: rename one of them")
    return payload


def build(contracts: Iterable[type[EventContract]]) -> dict[str, Any]:
    """The AsyncAPI 3.0 document: one channel per aggregate topic, one message per event type."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    shared: dict[str, Any] = {}  # the models events nest, by name
    for contract in contracts:
        match = TYPE_NAME.match(contract.type_name)
        assert match is not None  # contracts validate their names when defined
        topic = topic_for(contract.type_name)
        channel_id = topic.replace(".", "_")
        mid = _message_id(contract.type_name)
        messages[mid] = {
            "name": contract.type_name,
            "title": contract.type_name,
            "summary": contract.summary,
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
            "payload": _payload(contract, shared),
        }
        channel = channels.setdefault(
            channel_id,
            {
                "address": topic,
                "description": f"Events of the {match['aggregate']} aggregate, keyed by its id.",
                "messages": {},
            },
        )
        channel["messages"][mid] = {"$ref": f"#/components/messages/{mid}"}
        operations.setdefault(
            f"{match['service']}_publishes_{channel_id}",
            {"action": "send", "channel": {"$ref": f"#/channels/{channel_id}"}, "messages": []},
        )["messages"].append({"$ref": f"#/channels/{channel_id}/messages/{mid}"})
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Conveyor events",
            "version": "1.0.0",
            "description": "Every event the Conveyor services publish to Kafka. Generated from libs/contracts;"
            " do not edit.",
        },
        "defaultContentType": "application/json",
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {
            "schemas": {"CloudEventHeaders": CLOUDEVENT_HEADERS, **dict(sorted(shared.items()))},
            "messages": dict(sorted(messages.items())),
        },
    }


def render(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def schemas(contracts: Iterable[type[EventContract]]) -> dict[str, str]:
    """File name → JSON Schema text, one per event type."""
    return {
        f"{c.type_name}.json": json.dumps(
            {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": c.type_name, **c.model_json_schema()},
            indent=2,
            sort_keys=True,
        )
        + "\n"
        for c in contracts
    }


def write(docs: Path) -> None:
    contracts = list(registry)
    (docs / "asyncapi.yaml").write_text(render(build(contracts)))
    schema_dir = docs / "events" / "schemas"
    schema_dir.mkdir(parents=True, exist_ok=True)
    wanted = schemas(contracts)
    for stale in schema_dir.glob("*.json"):
        if stale.name not in wanted:
            stale.unlink()
    for name, text in wanted.items():
        (schema_dir / name).write_text(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=Path, default=Path("docs"), help="the docs folder to write into")
    write(parser.parse_args().docs)
