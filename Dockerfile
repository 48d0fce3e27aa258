# Rocket 2: Gunicorn serving the Flask app on $PORT (default 5000), as a non-root user.
#   docker build -t rocket2 .
#   docker run --env-file .env -p 5000:5000 rocket2
ARG PYTHON_VERSION=3.12

# --- build: wheels for the project and every dependency -------------------------------------
FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY config ./config
COPY app ./app
RUN pip wheel --no-cache-dir --disable-pip-version-check --wheel-dir /wheels .

# --- final: only the installed wheels, the Gunicorn settings, and an empty data/ ---------------
FROM python:${PYTHON_VERSION}-slim
LABEL org.opencontainers.image.title="rocket2" \
      org.opencontainers.image.description="Rocket 2: the Slack bot that runs a student software club's members and teams, mirrored to GitHub." \
      org.opencontainers.image.source="https://github.com/ubclaunchpad/rocket2" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# A fixed UID/GID, so volume ownership is predictable across rebuilds and hosts. The home
# directory is writable (Gunicorn puts its control socket in ~/.gunicorn); /app is not.
RUN groupadd --system --gid 10001 rocket2 \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/rocket2 \
      --shell /usr/sbin/nologin rocket2

COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --disable-pip-version-check --no-index --find-links /wheels \
      /wheels/rocket2-*.whl \
 && rm -rf /wheels

WORKDIR /app
COPY gunicorn.conf.py ./
# DATABASE_URL defaults to sqlite:///data/rocket2.db (relative to /app); compose mounts a named
# volume here, which Docker initialises with this directory's ownership and mode (0700).
RUN mkdir -m 0700 data && chown 10001:10001 data
USER 10001:10001

EXPOSE 5000
# Slim images have no curl: ask /healthz with Python. Quotes around PORT are tolerated the way
# the config loader tolerates them (docker run --env-file keeps them literally), and no proxy
# from the environment (HTTP_PROXY) is used for this loopback request.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('PORT', '').strip('\"\\'') or '5000'; urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f'http://127.0.0.1:{port}/healthz', timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
