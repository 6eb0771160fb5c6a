"""`python -m notifications serve|migrate|topics`."""

from conveyor_kit.serve import service_main
from conveyor_messaging.topics import consumers_of

from notifications.config import Settings
from notifications.entrypoints.http import create
from notifications.migrations import MIGRATIONS_PATH
from notifications.routing import SUBSCRIPTIONS

if __name__ == "__main__":
    raise SystemExit(service_main(Settings, create, MIGRATIONS_PATH, consumers=consumers_of(SUBSCRIPTIONS)))
