"""Run wrk with the JSON reporter and parse its result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: counts, throughput and latency in milliseconds."""

    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    slow: int
    errors: dict[str, int]

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        """Every kind of error wrk counted (non-2xx/3xx included)."""
        return sum(self.errors.values())


def run_wrk(
    url: str,
    connections: int,
    duration: str,
    *,
    threads: int = 2,
    post_body: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: str = "10s",
    limit_per_thread: int | None = None,
) -> WrkResult:
    """Run wrk against ``url`` for ``duration``.

    With ``post_body``, replay one POST with ``headers`` (signed just before the run). With
    ``limit_per_thread``, each wrk thread stops after that many responses, and wrk is then
    interrupted (SIGINT: it reports at once instead of sleeping out ``duration``), so the
    throughput is the count over the time it took.
    """
    prefix = _post_lua(post_body, headers or {}) if post_body is not None else ""
    if limit_per_thread is not None:
        prefix += _limit_lua(limit_per_thread)
    script = _write_script(prefix)
    cmd = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{duration}",
        f"--timeout={timeout}",
        "-s",
        str(script),
        url,
    ]
    try:
        out = _run(cmd, min(threads, connections) if limit_per_thread is not None else 0)
    finally:
        script.unlink(missing_ok=True)
    lines = [line for line in out.splitlines() if line.startswith("WRK_JSON ")]
    if not lines:
        raise RuntimeError(f"wrk printed no result: {out[-500:]}")
    line = lines[0]
    data = json.loads(line.removeprefix("WRK_JSON "))
    return WrkResult(
        connections=connections,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1e3,
        p99_ms=data["p99_us"] / 1e3,
        max_ms=data["max_us"] / 1e3,
        slow=data["slow"],
        errors=data["errors"],
    )


def _run(cmd: list[str], threads_to_finish: int) -> str:
    """Run wrk; once ``threads_to_finish`` threads said they are done, interrupt it."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    finished = 0
    try:
        while threads_to_finish and finished < threads_to_finish:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            finished += line.startswith(THREAD_DONE)
        if threads_to_finish and finished >= threads_to_finish:
            proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:  # interrupted: leave no wrk behind
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk exited {proc.returncode}: {''.join(lines)[-500:]}{rest[-500:]}")
    return "".join(lines) + rest


THREAD_DONE = "BENCH_THREAD_DONE"


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def _post_lua(body: str, headers: dict[str, str]) -> str:
    """A request script that replays one POST with a body and headers made just before."""
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(body)}"]
    lines += [f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n"


def _limit_lua(limit: int) -> str:
    return (
        f"local bench_limit, bench_seen = {int(limit)}, 0\n"
        "response = function(status, headers, body)\n"
        "  bench_seen = bench_seen + 1\n"
        "  if bench_seen == bench_limit then\n"
        f'    io.write("{THREAD_DONE}\\n"); io.stdout:flush(); wrk.thread:stop()\n'
        "  end\n"
        "end\n"
    )


def _write_script(prefix: str) -> Path:
    handle, name = tempfile.mkstemp(prefix="rocket2-bench-", suffix=".lua")
    with os.fdopen(handle, "w") as script:
        script.write(prefix + (HERE / "report.lua").read_text())
    return Path(name)
