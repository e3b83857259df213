"""gunicorn settings: `gunicorn -c gunicorn.conf.py config.wsgi`; the environment overrides each value."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Requests spend their time in Python and the database, so two processes per core
# plus one keeps every core busy while one process waits on I/O.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Sync workers answer every request with "Connection: close", so a keep-alive
# client (wrk, a proxy) reconnects each time: thousands of TIME-WAIT sockets per
# 10 s of load test, but no listen-queue overflow and no SYN retransmission
# (bench/read_load.py prints the kernel's counters). The one-second p99 tail the
# load tests showed is not a dropped SYN: it follows the machine's load, with
# either class. `gthread` keeps connections alive; behind a buffering proxy,
# sync is gunicorn's own advice, so it stays the default.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
# The kernel queues this many finished handshakes for the workers to accept
# (capped by net.core.somaxconn): far above 16 or 100 concurrent clients.
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Load the application once in the master and fork the workers from it: they
# share what config/wsgi.py loads at start-up, and a recycled worker is ready at once.
preload_app = True
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak never grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
# Without the client's address or the tokens of signers' links (config/gunicorn_logs.py).
logger_class = "config.gunicorn_logs.AccessLogger"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Heartbeat files on a RAM disk, so a slow disk never gets a worker killed as hung.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 (gunicorn's own advice)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
