"""`python -m pipelines serve|migrate|topics`."""

from conveyor_kit.serve import service_main
from conveyor_messaging.topics import consumers_of

from pipelines.config import Settings
from pipelines.entrypoints.http import create
from pipelines.migrations import MIGRATIONS_PATH
from pipelines.routing import SUBSCRIPTIONS

if __name__ == "__main__":
    raise SystemExit(service_main(Settings, create, MIGRATIONS_PATH, consumers=consumers_of(SUBSCRIPTIONS)))
