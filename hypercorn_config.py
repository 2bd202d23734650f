"""Hypercorn's settings for production: `hypercorn --config file:hypercorn_config.py app:app`
(entrypoint.sh and the README's command). A Python file rather than TOML, because one setting is
a class: the logger that writes the access lines (lib/access_log.AccessLogger).

Hypercorn reads every public name of this file as a setting.
"""

import sys
from pathlib import Path

# Run by Hypercorn from its own command, with only its own folder on the path.
_ROOT = str(Path(__file__).resolve().parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from lib.access_log import AccessLogger  # noqa: E402

# Slow or half-sent requests cannot hold connections: the keep-alive timer also runs until a
# request's headers are complete, and the read timeout ends a connection that stops sending
# (the app's BODY_TIMEOUT ends one that trickles a body).
keep_alive_timeout = 5
read_timeout = 10
# After SIGTERM, requests in progress get this long to finish (entrypoint.sh: $GRACEFUL_TIMEOUT).
graceful_timeout = 30
# The access log leaves out query strings and the Referer, which may carry tokens or session
# ids: remote address, time, method and path, status, size, duration, user agent. Written by
# AccessLogger: only these atoms are made for each line, each escaped (a client cannot forge
# a line with its path).
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(L)ss "%(a)s"'
logger_class = AccessLogger
# Each worker runs on uvloop (libuv's loop and transports in C): every request's reads and
# writes and every database and Redis round trip go through the loop, and it serves the hot
# paths 15 to 25% faster than asyncio's own loop on the same machine (benchmarks/RESULTS.md).
worker_class = "uvloop"

del AccessLogger, Path, _ROOT
