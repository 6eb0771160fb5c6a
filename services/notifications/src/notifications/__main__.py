"""`python -m notifications serve|migrate`."""

from conveyor_kit.serve import service_main

from notifications.config import Settings
from notifications.entrypoints.http import create
from notifications.migrations import MIGRATIONS_PATH

if __name__ == "__main__":
    raise SystemExit(service_main(Settings, create, MIGRATIONS_PATH))
