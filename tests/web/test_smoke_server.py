"""The server starts from gunicorn.conf.py and answers its health checks."""

import httpx


def test_root_and_healthz(gunicorn_server, env):
    server = gunicorn_server(env)
    assert httpx.get(server.url + "/").text == "🚀"
    body = httpx.get(server.url + "/healthz").json()
    assert body["status"] == "ok"
