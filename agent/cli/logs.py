"""Diagnostics go to a log file, scrubbed of secrets, never onto the terminal.

The file is rotated: past `MAX_BYTES` it becomes `ml-intern.log.1` (and so on up to
`BACKUPS`), so months of use never fill the disk.
"""

from __future__ import annotations

import logging
import logging.handlers

from agent.config import data_home

MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 3


class _Redacting(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from agent.context.redact import redact

        record.msg = redact(record.getMessage())
        record.args = ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def log_to_file() -> None:
    """Route every logger to `$XDG_DATA_HOME/ml-intern/logs/ml-intern.log`, rotated."""
    path = data_home() / "logs" / "ml-intern.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_Redacting())
    handler.set_name("ml-intern-file")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "ml-intern-file"]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
