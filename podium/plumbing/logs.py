"""Structured logs: one JSON object per line, with the `extra=` fields of each call."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence

import orjson

from podium.settings import MASK, mask_url_passwords

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets: Sequence[str] = ()) -> None:
        super().__init__()
        # A driver's error can repeat what it was given (a URL with its password, say): any
        # known password is blanked out of every line, whatever part of the record holds it.
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, object] = {
            "at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        body.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        line = mask_url_passwords(orjson.dumps(body, default=str).decode())
        for secret in self._secrets:
            line = line.replace(secret, MASK)
        return line


def configure(level: str = "info", secrets: Sequence[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # One line per HTTP request made by the demo's players is noise, not news.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The Cassandra driver logs every failed connection attempt with a traceback;
    # Podium reports an unreachable cluster itself, in one line.
    logging.getLogger("cassandra").setLevel(logging.ERROR)
