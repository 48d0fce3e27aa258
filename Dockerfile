# Rocket 2: Gunicorn serving the Flask app on $PORT (default 5000), as a non-root user.
#   docker build -t rocket2 .
#   docker run --env-file .env -p 5000:5000 rocket2
# Nothing here is specific to one CPU architecture: CI builds linux/amd64 and linux/arm64.
ARG PYTHON_VERSION=3.13

# --- build: a virtualenv with exactly what uv.lock pins, and Rocket 2 itself ------------------
FROM python:${PYTHON_VERSION}-slim AS build
# The uv that uv.lock pins for development (a test holds the two equal).
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
ENV UV_PROJECT_ENVIRONMENT=/opt/rocket2 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1
WORKDIR /src
# Dependencies first (their layer survives a change to the code), then the project itself.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project --python /usr/local/bin/python3
COPY config ./config
COPY app ./app
RUN uv sync --locked --no-dev --no-editable --python /usr/local/bin/python3

# --- final: the ready virtualenv, the Gunicorn settings, and an empty data/ -----------------
FROM python:${PYTHON_VERSION}-slim
LABEL org.opencontainers.image.title="rocket2" \
      org.opencontainers.image.description="Rocket 2: the Slack bot that runs a student software club's members and teams, mirrored to GitHub." \
      org.opencontainers.image.source="https://github.com/ubclaunchpad/rocket2" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/rocket2 \
    PATH=/opt/rocket2/bin:$PATH

# A fixed UID/GID, so volume ownership is predictable across rebuilds and hosts. The home
# directory is writable (Gunicorn puts its control socket in ~/.gunicorn); /app is not.
RUN groupadd --system --gid 10001 rocket2 \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/rocket2 \
      --shell /usr/sbin/nologin rocket2

# One layer, nothing deleted later: the build stage's virtualenv (same base, same paths).
COPY --from=build /opt/rocket2 /opt/rocket2

WORKDIR /app
COPY gunicorn.conf.py ./
# DATABASE_URL defaults to sqlite:///data/rocket2.db (relative to /app); compose mounts a named
# volume here, which Docker initialises with this directory's ownership and mode (0700).
# backups/ and replica/ are the mount points of the scheduled backups and of a file replica
# (docker-compose.yml), initialised the same way.
RUN mkdir -m 0700 data backups replica && chown 10001:10001 data backups replica
USER 10001:10001

EXPOSE 5000
# Slim images have no curl: ask /healthz with Python. Quotes around PORT are tolerated the way
# the config loader tolerates them (docker run --env-file keeps them literally), and no proxy
# from the environment (HTTP_PROXY) is used for this loopback request.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('PORT', '').strip('\"\\'') or '5000'; urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f'http://127.0.0.1:{port}/healthz', timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
