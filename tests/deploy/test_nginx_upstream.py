"""nginx follows the app by name, starts without it, reuses no connection, retries only unsent.

Debian's real nginx 1.22 runs the repository's nginx.conf; its resolver points at a local DNS
stand-in (tests.support.dns) instead of Docker's 127.0.0.11, so ``rocket2`` answers whatever
the test says. Apps are real Gunicorns on distinct loopback addresses (127.0.0.2, 127.0.0.3)
and one shared port, as two containers of the service are on the compose network.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import require_binary
from tests.support.dns import NameServer
from tests.support.gunicorn import GunicornServer, free_port, server_env, wait_until
from tests.support.nginx import NginxServer

pytestmark = pytest.mark.nginx

A_ADDRESS = "127.0.0.2"
B_ADDRESS = "127.0.0.3"
# What each app saw, one line per request, from Gunicorn's access log.
ACCESS_FORMAT = "upstream-seen %(m)s %(U)s rid=%({x-request-id}i)s connection=%({connection}i)s"
HEADERS = {
    "strict-transport-security": "max-age=63072000",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "content-security-policy": (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}
# nginx's resolver valid=2s, plus nginx's one-second clock and a margin.
FOLLOW_WITHIN = 5.0


@pytest.fixture
def dns() -> Iterator[NameServer]:
    """The DNS stand-in; ``rocket2`` does not resolve until the test says so."""
    with NameServer() as server:
        yield server


@pytest.fixture
def app(env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., GunicornServer]]:
    """A factory: ``app(address, port, *gunicorn_args)`` starts Gunicorn on address:port."""
    servers: list[GunicornServer] = []

    def start(address: str, port: int, *args: str) -> GunicornServer:
        cwd = tmp_path / f"app-{address}"
        cwd.mkdir()
        config = {**env, "SLACK_API_URL": "http://127.0.0.1:9/"}
        server = GunicornServer(
            env=server_env(config, port),
            port=port,
            log_path=tmp_path / f"gunicorn-{address}.log",
            cwd=cwd,
            args=["--bind", f"{address}:{port}", "--access-logformat", ACCESS_FORMAT, *args],
        )
        servers.append(server)
        server.start(wait=False)

        def ready() -> bool:
            assert server.proc is not None and server.proc.poll() is None, server.output()
            try:
                return httpx.get(f"http://{address}:{port}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=30, what=f"gunicorn on {address}:{port}")
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def nginx(dns: NameServer, tmp_path: Path) -> Iterator[Callable[[int], NginxServer]]:
    """A factory: ``nginx(port)`` starts nginx with ``rocket2:port`` resolved through ``dns``."""
    binary = require_binary("nginx")
    started: list[NginxServer] = []

    def start(port: int) -> NginxServer:
        server = NginxServer(
            upstream=f"rocket2:{port}",
            resolver=dns.address,
            workdir=tmp_path / "nginx",
            binary=binary,
        )
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def client(nginx: NginxServer) -> httpx.Client:
    """An https client that trusts only the test CA."""
    return httpx.Client(verify=nginx.ssl_context(), timeout=10)


def seen(app: GunicornServer, needle: str) -> list[str]:
    """The app's access-log lines that contain ``needle``."""
    return [line for line in app.lines("upstream-seen ") if needle in line]


def assert_not_reloaded(nginx: NginxServer) -> None:
    """nginx never re-read its configuration (a reload logs SIGHUP and "reconfiguring")."""
    output = nginx.output()
    assert "SIGHUP" not in output and "reconfiguring" not in output, output[-2000:]


@dataclass
class Sent:
    """One request of the client loop: when it left, and what came back."""

    at: float
    status: int | None  # None: no HTTP answer at all
    rid: str = ""


@dataclass
class ClientLoop:
    """GET /healthz through nginx every ``interval`` s in a thread, until stopped (bounded)."""

    nginx: NginxServer
    interval: float = 0.02
    limit: int = 2000
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with client(self.nginx) as http:
            while not self._stop.is_set() and len(self.sent) < self.limit:
                at = time.monotonic()
                try:
                    response = http.get(self.nginx.https_url + "/healthz")
                    rid = response.headers.get("x-request-id", "")
                    self.sent.append(Sent(at, response.status_code, rid))
                except httpx.HTTPError:
                    self.sent.append(Sent(at, None))
                self._stop.wait(self.interval)

    def start(self) -> ClientLoop:
        """Start sending."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sending and wait for the last request."""
        self._stop.set()
        self._thread.join(timeout=30)


def test_nginx_follows_rocket2_to_a_new_address_without_a_reload(app, dns, nginx) -> None:
    port = free_port()
    a, b = app(A_ADDRESS, port), app(B_ADDRESS, port)
    dns.answer("rocket2", A_ADDRESS)
    proxy = nginx(port)
    loop = ClientLoop(proxy).start()
    try:
        wait_until(lambda: len(seen(a, "/healthz")) >= 10, timeout=15, what="traffic on A")
        switched = time.monotonic()
        dns.answer("rocket2", B_ADDRESS)  # a recreated app; A stays up, as an old one may

        def served_by(app: GunicornServer, sent: list[Sent]) -> list[bool]:
            rids = {line.split("rid=")[1].split()[0] for line in seen(app, "/healthz")}
            return [s.rid in rids for s in sent]

        def only_b_lately() -> bool:
            recent = [s for s in loop.sent if s.at > switched][-25:]
            return len(recent) == 25 and all(served_by(b, recent))

        wait_until(only_b_lately, timeout=FOLLOW_WITHIN + 5, what="every request to reach B")
    finally:
        loop.stop()

    sent = [s for s in loop.sent if s.status is not None]
    failed = [s for s in loop.sent if s.status != 200]
    # Every answer came from A or B (their logs are written just after the response).
    wait_until(
        lambda: all(x or y for x, y in zip(served_by(a, sent), served_by(b, sent), strict=True)),
        timeout=10,
        what="every request in A's or B's log",
    )
    on_a = served_by(a, sent)
    last_on_a = max((s.at for s, x in zip(sent, on_a, strict=True) if x), default=switched)
    all_on_b_after = max(0.0, last_on_a - switched)
    print(
        f"\naddress switch: {len(loop.sent)} requests, {len(failed)} failed; "
        f"all traffic on B {all_on_b_after * 1000:.0f} ms after the DNS answer changed"
    )
    assert failed == [], failed
    assert all_on_b_after <= FOLLOW_WITHIN
    assert a.proc is not None and a.proc.poll() is None  # A was up all along
    assert_not_reloaded(proxy)


def test_nginx_starts_while_rocket2_does_not_resolve_and_serves_once_it_does(
    app, dns, nginx
) -> None:
    port = free_port()
    proxy = nginx(port)  # start() fails if nginx exits ("host not found in upstream")
    with client(proxy) as http:
        pages = [http.get(proxy.https_url + "/"), http.post(proxy.https_url + "/slack/commands")]
    for page in pages:
        assert page.status_code == 502
        assert page.headers["content-type"] == "text/plain"
        assert page.text.startswith("Rocket 2 is not reachable right now"), page.text
        for name, value in HEADERS.items():
            assert page.headers.get_list(name) == [value], name
    assert ("rocket2", "A") in dns.queries
    assert "could not be resolved (3: Host not found)" in proxy.output()

    app(A_ADDRESS, port)
    with client(proxy) as http:  # the app listens, but its name does not resolve yet
        assert http.get(proxy.https_url + "/").status_code == 502
    resolvable = time.monotonic()
    dns.answer("rocket2", A_ADDRESS)

    def serves() -> bool:
        with client(proxy) as http:
            return http.get(proxy.https_url + "/").status_code == 200

    wait_until(serves, timeout=FOLLOW_WITHIN, what="nginx to reach the app once it resolves")
    print(f"\nserving {(time.monotonic() - resolvable) * 1000:.0f} ms after rocket2 resolved")
    assert proxy.proc is not None and proxy.proc.poll() is None
    assert_not_reloaded(proxy)


def test_nginx_answers_its_page_within_seconds_when_dns_does_not_answer(tmp_path) -> None:
    binary = require_binary("nginx")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # never reads, never answers
        silent.bind(("127.0.0.1", 0))
        resolver = f"127.0.0.1:{silent.getsockname()[1]}"
        with NginxServer(
            upstream=f"rocket2:{free_port()}", resolver=resolver, workdir=tmp_path, binary=binary
        ) as proxy:
            started = time.monotonic()
            with client(proxy) as http:
                page = http.get(proxy.https_url + "/healthz")
            waited = time.monotonic() - started
    assert page.status_code == 502
    assert page.text.startswith("Rocket 2 is not reachable right now"), page.text
    assert waited < 5  # resolver_timeout 2s, not nginx's default 30 s
    assert "could not be resolved (110: Operation timed out)" in proxy.output()


def test_posts_around_gunicorns_keepalive_close_never_get_502(app, dns, nginx) -> None:
    """POSTs spaced across Gunicorn's idle-connection close never meet a closed connection.

    Gunicorn runs with --keep-alive 1 (the same close, 5 s in production) so that each offset
    from 0.95 s to 2.05 s, where Gunicorn's one-second loop may close an idle connection, is
    tried in about 15 s; three streams at shifted phases cover the window more finely.
    """
    port = free_port()
    a = app(A_ADDRESS, port, "--keep-alive", "1")
    dns.answer("rocket2", A_ADDRESS)
    proxy = nginx(port)
    statuses: list[int] = []

    def stream(phase: float) -> None:
        with client(proxy) as http:
            for step in range(12):
                response = http.post(proxy.https_url + "/slack/commands", content=b"text=help")
                statuses.append(response.status_code)
                time.sleep(0.95 + 0.1 * step + phase)  # the load's pacing, not a synchronisation

    streams = [threading.Thread(target=stream, args=(p,)) for p in (0.0, 0.033, 0.066)]
    for thread in streams:
        thread.start()
    for thread in streams:
        thread.join(timeout=60)
    assert len(statuses) == 36
    assert 502 not in statuses and set(statuses) <= {401, 403}, statuses  # the app refused
    lines = wait_until(
        lambda: (found := seen(a, "POST /slack/commands")) and len(found) == 36 and found,
        timeout=10,
        what="36 POSTs in the app's log",
    )
    # No connection reused: nginx asks for a close on every request, on 1.22 as on 1.30.
    assert all(line.endswith("connection=close") for line in lines), lines[:3]


class DyingUpstream:
    """Takes each request whole, then dies before answering (the connection is reset)."""

    def __init__(self, address: str, port: int) -> None:
        self.requests: list[str] = []  # request lines, in order
        self._sock = socket.create_server((address, port))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data and (chunk := conn.recv(65536)):
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                while len(body) < length and (chunk := conn.recv(65536)):
                    body += chunk
                self.requests.append(head.split(b"\r\n", 1)[0].decode())
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def stop(self) -> None:
        """Stop accepting and close the listening socket."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()


def test_a_request_nginx_could_not_send_goes_to_the_other_address(app, dns, nginx) -> None:
    port = free_port()
    b = app(B_ADDRESS, port)  # nothing listens on A: every connect there is refused
    dns.answer("rocket2", A_ADDRESS, B_ADDRESS)  # two replicas, as during a rolling deploy
    proxy = nginx(port)
    with client(proxy) as http:
        statuses = [
            http.post(proxy.https_url + f"/probe/refused-{i}", content=b"x").status_code
            for i in range(20)
        ]
    assert statuses == [404] * 20  # the app's answer, every time: 0 failures
    for i in range(20):  # each once: never sent twice
        wait_until(lambda i=i: seen(b, f"POST /probe/refused-{i} "), timeout=10, what=f"POST {i}")
        assert len(seen(b, f"POST /probe/refused-{i} ")) == 1
    refused = [line for line in proxy.output().splitlines() if "Connection refused" in line]
    assert refused and all(f'upstream: "http://{A_ADDRESS}:{port}' in x for x in refused)


def test_a_post_the_upstream_took_is_never_replayed_to_the_other_address(app, dns, nginx) -> None:
    port = free_port()
    b = app(B_ADDRESS, port)
    dying = DyingUpstream(A_ADDRESS, port)
    try:
        dns.answer("rocket2", A_ADDRESS, B_ADDRESS)
        proxy = nginx(port)
        answers: dict[str, int] = {}
        with client(proxy) as http:
            # nginx picks either address at random; 40 tries all missing A: 1 in 2**40.
            for i in range(40):
                path = f"/probe/post-{i}"
                answers[path] = http.post(proxy.https_url + path, content=b"x").status_code
                if dying.requests:
                    break
            taken = dying.requests[0].split()[1]
            # The same for a GET: idempotent, so nginx may send it again to B.
            for i in range(40):
                path = f"/probe/get-{i}"
                answers[path] = http.get(proxy.https_url + path).status_code
                if len(dying.requests) == 2:
                    break
    finally:
        dying.stop()
    assert dying.requests[0] == f"POST {taken} HTTP/1.1"
    assert answers[taken] == 502  # the app may have acted on it: nginx does not send it again
    assert {p: s for p, s in answers.items() if "post" in p and p != taken} == {
        p: 404 for p in answers if "post" in p and p != taken
    }
    got = dying.requests[1].split()[1]
    assert dying.requests[1] == f"GET {got} HTTP/1.1"
    assert answers[got] == 404  # B answered the GET that A took and dropped
    wait_until(lambda: seen(b, f"GET {got} "), timeout=10, what="the retried GET on B")
    for path, status in answers.items():
        if status == 404 and "post" in path:
            wait_until(lambda p=path: seen(b, f"POST {p} "), timeout=10, what=path)
    assert seen(b, f"POST {taken} ") == []  # B never saw the POST A took
