"""The reporting database's schema history, applied by `python -m reporting migrate`."""

from pathlib import Path

MIGRATIONS_PATH = Path(__file__).resolve().parent
