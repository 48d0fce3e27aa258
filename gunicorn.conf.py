"""Gunicorn settings for Rocket 2: `gunicorn -c gunicorn.conf.py` from the repo root.

Every value comes from the validated config (config.load_config; only config/ reads the
environment). Gunicorn executes this file in the master at start and again on every HUP.
A bad config does not raise here (that would print a traceback); on_starting reports it and
exits before any socket is bound or worker forked, so there is no boot loop.
"""

import os

from app.server import hooks as _hooks

_config, _error = _hooks.load()

wsgi_app = "app.wsgi:app"

# Heroku sets PORT; locally 5000.
bind = f"0.0.0.0:{_config.port if _config else 5000}"

# WEB_CONCURRENCY processes (Heroku sets it from the dyno size). A mostly idle bot needs
# little: gthread gives each worker a few threads, so a slow Slack or GitHub call in one
# request does not block the others, without gevent's monkey-patching of slack-sdk and
# psycopg. Command work runs after the ack in our own bounded executor (8 threads).
workers = _config.web_concurrency if _config else 1
# gthread, with each request read whole before a thread takes it and dropped when it has not
# arrived within 10 s, so slow or stalled clients cannot hold the threads (decision 0020).
worker_class = "app.server.worker.BufferingThreadWorker"
threads = 4

# Requests finish in milliseconds (work happens after the ack); 30 s is the worker
# heartbeat limit.
#
# graceful_timeout is the drain budget after TERM (app.server.drain, decision 0006), and these
# must agree with it:
# - Heroku kills 30 s after TERM; compose's stop_grace_period (docker-compose.yml) is 40 s:
#   both above 25 s + the master's own exit (< 1 s), so Gunicorn, not a SIGKILL, ends it.
# - Queued commands start while they can; the ones the measured start rate says cannot are
#   given up about 1 s after TERM. The final notices (the running commands, at most
#   LISTENER_THREADS = 8, plus up to 8 queued) start NOTICE_MARGIN = 3 s before the end, 16 at
#   a time: one round. Measured: even the whole bound, LISTENER_THREADS + LISTENER_QUEUE = 1008
#   notices, takes 1.2 s at 16 at a time to a local fake Slack.
# - A reply can take TIMEOUT_SECONDS 5 s × 3 tries + backoff + Retry-After (app.slack.replies),
#   more than the grace: while draining, no try starts after 25 − EXIT_MARGIN 0.5 s and each
#   try's timeout is cut to the time left, so the worker exits by itself before the kill.
timeout = 30
graceful_timeout = 25
keepalive = 5

# Heartbeat files on tmpfs, not on a possibly slow or full container disk (Gunicorn's advice
# for Docker); Gunicorn creates unlinked temporary files there.
_SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None

# Access log to stdout, error log to stderr; one line per record through our formatter
# (text or JSON), with the secret filter on every handler. The request id is echoed in the
# X-Request-ID response header, so the access line carries it. No headers, no bodies, no
# query strings.
accesslog = "-"
errorlog = "-"
loglevel = (_config.log_level if _config else "INFO").lower()
logger_class = "app.server.gunicorn_logger.RocketGunicornLogger"
# The path without its query string: GitHub's link callback carries a code and a state there.
access_log_format = (
    '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms scheme=%({wsgi.url_scheme}e)s '
    "request_id=%({x-request-id}o)s"
)

# Trust X-Forwarded-* only from these addresses (127.0.0.1 unless the environment says
# otherwise; Heroku sets *). The app applies ProxyFix under the same rule.
forwarded_allow_ips = _config.forwarded_allow_ips if _config else "127.0.0.1"

# The app is loaded in each worker, not the master, so HUP's new workers load the app anew.
preload_app = False
proc_name = "rocket2"
# Gunicorn 27's control socket (unused here) defaults to one per-user path that every
# instance on a host would share.
control_socket_disable = True


# Files the server creates (data/, the SQLite database and its -wal/-shm, the runtime
# directory) are its own alone: member e-mails must not be readable by other local users.
PRIVATE_UMASK = 0o077


def on_starting(server):  # type: ignore[no-untyped-def]
    """Master, before binding: umask 077 (workers inherit it), refuse a bad config, else
    migrate and create the runtime directory."""
    os.umask(PRIVATE_UMASK)
    _hooks.on_starting(server, _error)


def on_reload(server):  # type: ignore[no-untyped-def]
    """Master, on HUP (this file was just re-executed)."""
    _hooks.on_reload(server, _error)


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """Worker, after the app loaded: scheduler election, start-up notice."""
    _hooks.post_worker_init(worker)


def worker_exit(server, worker):  # type: ignore[no-untyped-def]
    """Worker, exiting: stop the scheduler."""
    _hooks.worker_exit(server, worker)


def on_exit(server):  # type: ignore[no-untyped-def]
    """Master, exiting: clean up the runtime directory."""
    _hooks.on_exit(server)
