"""`python -m bot.web.probe`: the container's HEALTHCHECK. Asks `/health/live` where `vorhoelle
serve` listens, found as serve finds it (`PORT`, else `server.host`/`server.port` from the
settings), so a container told to listen elsewhere is still seen healthy. Exit 0 when the bot answers 200, else 1
with one line saying why. Imports no more than serve does before it listens: it runs every 30 s.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from bot.config.files import ConfigError, listen_address, platform_port

TIMEOUT_SECONDS = 4


def served_address() -> tuple[str, int]:
    address = listen_address(None, None, None)
    if address is not None:
        return address
    from bot.config.settings import load_settings  # only the settings model can tell

    server = load_settings().server
    port = platform_port()
    return server.host, server.port if port is None else port


def probe_url(host: str, port: int) -> str:
    """The address to ask from inside the container: loopback for a wildcard host."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}/health/live" if ":" in host else f"http://{host}:{port}/health/live"


def main() -> int:
    try:
        url = probe_url(*served_address())
    except ConfigError as problem:
        print(f"healthcheck: {problem.problems[0]}", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as answer:
            return 0 if answer.status == 200 else 1
    except (urllib.error.URLError, OSError) as failure:
        print(f"healthcheck: {url} did not answer 200: {failure}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
