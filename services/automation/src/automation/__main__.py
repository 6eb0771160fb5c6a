"""`python -m automation serve|migrate|topics`."""

from conveyor_kit.serve import service_main
from conveyor_messaging.topics import consumers_of

from automation.config import Settings
from automation.entrypoints.http import create
from automation.migrations import MIGRATIONS_PATH
from automation.routing import SUBSCRIPTIONS

if __name__ == "__main__":
    raise SystemExit(service_main(Settings, create, MIGRATIONS_PATH, consumers=consumers_of(SUBSCRIPTIONS)))
