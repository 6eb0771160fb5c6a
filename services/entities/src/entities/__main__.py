"""`python -m entities serve|migrate|topics`."""

from conveyor_kit.serve import service_main
from conveyor_messaging.topics import consumers_of

from entities.config import Settings
from entities.entrypoints.http import create
from entities.migrations import MIGRATIONS_PATH
from entities.routing import SUBSCRIPTIONS

if __name__ == "__main__":
    raise SystemExit(service_main(Settings, create, MIGRATIONS_PATH, consumers=consumers_of(SUBSCRIPTIONS)))
