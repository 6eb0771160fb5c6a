"""Reading jsonb columns whether the pool decodes them (the service's pool does) or not (a bare connection)."""

import json
from typing import Any


def from_jsonb(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value
