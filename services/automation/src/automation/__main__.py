"""`python -m automation serve|migrate`."""

from conveyor_kit.serve import service_main

from automation.config import Settings
from automation.entrypoints.http import create
from automation.migrations import MIGRATIONS_PATH

if __name__ == "__main__":
    raise SystemExit(service_main(Settings, create, MIGRATIONS_PATH))
