"""The notifications database's schema history, applied by `python -m notifications migrate`."""

from pathlib import Path

MIGRATIONS_PATH = Path(__file__).resolve().parent
