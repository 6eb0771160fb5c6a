"""`python -m entities serve|migrate`."""

from conveyor_kit.serve import service_main

from entities.config import Settings
from entities.entrypoints.http import create
from entities.migrations import MIGRATIONS_PATH

if __name__ == "__main__":
    raise SystemExit(service_main(Settings, create, MIGRATIONS_PATH))
