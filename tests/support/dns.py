"""A small authoritative DNS server on loopback (dnslib, UDP) whose answers a test changes.

It stands in for Docker's embedded DNS (127.0.0.11): a name answers the A records last given,
with Docker's 600 s TTL, or NXDOMAIN while it has none.

    with NameServer() as dns:
        dns.answer("rocket2", "127.0.0.2", "127.0.0.3")
        NginxServer(upstream=f"rocket2:{port}", resolver=dns.address, workdir=...)
        dns.answer("rocket2")  # from now on: NXDOMAIN
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from dnslib import QTYPE, RCODE, RR, A, DNSRecord
from dnslib.server import DNSLogger, DNSServer

DOCKER_TTL = 600  # what Docker's embedded DNS gives a container name


class NameServer:
    """Answers A queries from ``answer()``; everything else NXDOMAIN. Counts the queries."""

    def __init__(self, host: str = "127.0.0.1", ttl: int = DOCKER_TTL) -> None:
        self.host = host
        self.ttl = ttl
        self._records: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()
        self.queries: list[tuple[str, str]] = []  # (name, type) in the order asked
        logger = DNSLogger(log="-request,-reply,-truncated,-error", prefix=False)
        self._server = DNSServer(self, address=host, port=0, logger=logger)

    @property
    def port(self) -> int:
        """The UDP port it listens on."""
        return int(self._server.server.server_address[1])

    @property
    def address(self) -> str:
        """``host:port``, as nginx's ``resolver`` directive takes it."""
        return f"{self.host}:{self.port}"

    def answer(self, name: str, *addresses: str) -> None:
        """From now on ``name`` resolves to ``addresses`` (none: NXDOMAIN)."""
        with self._lock:
            if addresses:
                self._records[name.rstrip(".").lower()] = addresses
            else:
                self._records.pop(name.rstrip(".").lower(), None)

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        """dnslib's resolver interface: the reply to one query."""
        qname = request.q.qname
        name = str(qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        reply = request.reply()
        with self._lock:
            self.queries.append((name, qtype))
            addresses = self._records.get(name)
        if addresses is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif qtype == "A":
            for address in addresses:
                reply.add_answer(RR(qname, QTYPE.A, rdata=A(address), ttl=self.ttl))
        return reply

    def start(self) -> NameServer:
        """Serve in a background thread."""
        self._server.start_thread()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.server.shutdown()
        self._server.server.server_close()

    def __enter__(self) -> NameServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
