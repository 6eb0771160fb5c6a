"""Structured logging configured once per process: JSON off a terminal, readable on one."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog
from structlog.types import EventDict, Processor, WrappedLogger

# Keys whose values must never reach a log line, whoever logs them.
_REDACTED_KEYS = frozenset({"authorization", "password", "secret", "jwt_secret", "token", "access_token", "cookie"})
# Fields bound per request or per message; listed so callers agree on their spelling.
CONTEXT_KEYS = ("correlation_id", "causation_id", "tenant_id", "request_id")

_configured = False


# Secrets that turn up inside text, whatever its key: a bearer token, a JWT, a URL's password.
_SECRET_PATTERNS = (
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[redacted]"),
    (re.compile(r"(://[^/\s:@]+:)[^/\s@]+@"), r"\1[redacted]@"),
)


def redact_text(text: str) -> str:
    """``text`` with bearer tokens, JWTs and passwords in URLs replaced by ``[redacted]``."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    for key in event_dict.keys() & _REDACTED_KEYS:
        event_dict[key] = "[redacted]"
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = redact_text(value)
    return event_dict


def configure_logging(level: str = "INFO", *, json: bool | None = None, force: bool = False) -> None:
    """Route structlog and stdlib logging (uvicorn, aiokafka) through one renderer."""
    global _configured
    if _configured and not force:
        return
    render_json = not sys.stdout.isatty() if json is None else json
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if render_json
        else structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *([structlog.processors.format_exc_info] if render_json else []),
            _redact,  # again: a traceback is text only from here on
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn installs its own handlers unless told otherwise; ours must be the only ones.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "aiokafka"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
    # httpx logs every request's full URL at INFO; an outgoing webhook's URL may carry its receiver's
    # token in the query. The services log their own calls (without query strings) where it matters.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Library warnings (e.g. PyJWT's short-key warning) become log lines too.
    logging.captureWarnings(True)
    _configured = True


def get_logger(name: str | None = None, **initial: Any) -> structlog.stdlib.BoundLogger:
    """A logger whose lines carry the request's or message's bound context."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name, **initial)
    return logger


def bind_context(**values: str | None) -> None:
    """Bind ids (correlation, causation, tenant, request) to every later line in this context."""
    structlog.contextvars.bind_contextvars(**{k: v for k, v in values.items() if v is not None})
