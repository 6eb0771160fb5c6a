"""The entities database's schema history, applied by `python -m entities migrate`."""

from pathlib import Path

MIGRATIONS_PATH = Path(__file__).resolve().parent
