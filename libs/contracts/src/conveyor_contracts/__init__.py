"""Every event contract that crosses a service boundary, one module per owning service.

Importing this package registers all of them in ``conveyor_messaging.contracts.registry``; the
AsyncAPI document in docs/ is generated from that registry (``python -m conveyor_contracts.asyncapi``).
"""

from conveyor_contracts import (
    automation,
    directory,
    entities,
    entities_links,
    notifications,
    pipelines,
    reporting,
)

__all__ = ["automation", "directory", "entities", "entities_links", "notifications", "pipelines", "reporting"]
