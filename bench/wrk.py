"""wrk, run for a fixed time against one URL; its Lua `done` hook prints a WRK_JSON summary line."""

import json
import re
import subprocess
from pathlib import Path

# The `done` hook every wrk script of the benchmarks ends with: the summary run_wrk reads.
LUA_DONE = """
done = function(summary, latency, requests)
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, '
    .. '"timeouts": %d, "p50_us": %d, "p99_us": %d, "bytes": %d}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), summary.bytes))
end
"""


def run_wrk(url: str, script: Path, duration: int, connections: int, headers: dict | None = None) -> dict:
    """The summary of one wrk run, with its requests per second ("rps")."""
    header_args = [arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")]
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            *header_args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=duration + 60,
    )
    match = re.search(r"WRK_JSON (\{.*\})", result.stdout)
    if not match:
        raise RuntimeError(f"wrk printed no summary:\n{result.stdout}\n{result.stderr}")
    data = json.loads(match.group(1))
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data
