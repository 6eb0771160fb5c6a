"""`python -m reporting serve|migrate|topics`, and `analysts create|list|drop` (entrypoints/analysts_cli.py)."""

import sys

from conveyor_kit.serve import service_main
from conveyor_messaging.topics import consumers_of

from reporting.config import Settings
from reporting.entrypoints import analysts_cli
from reporting.entrypoints.http import create
from reporting.migrations import MIGRATIONS_PATH
from reporting.routing import BATCH_CONSUMERS, SUBSCRIPTIONS

if __name__ == "__main__":
    if sys.argv[1:2] == ["analysts"]:
        raise SystemExit(analysts_cli.main(sys.argv[2:]))
    raise SystemExit(
        service_main(Settings, create, MIGRATIONS_PATH, consumers={**consumers_of(SUBSCRIPTIONS), **BATCH_CONSUMERS})
    )
