"""Docker HEALTHCHECK: exit 0 when the service in this container answers /health/live."""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    service = os.environ.get("CONVEYOR_SERVICE", "")
    port = os.environ.get(f"{service.upper()}_PORT") or os.environ.get("CONVEYOR_PORT", "8000")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=4) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"health check failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
