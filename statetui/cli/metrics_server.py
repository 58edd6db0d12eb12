"""`metrics --listen`: prometheus_client's own HTTP server on /metrics, over a CachedFleet,
until SIGTERM or ctrl+c. Chain figures come from the last recorded reading (a scrape
never calls the chain); a background thread refreshes them every chain_refresh_interval."""

from __future__ import annotations

import signal
import sys
import threading

from statetui.cli.exits import EXIT_ERROR, EXIT_OK, error


def serve(bots, address: tuple[str, int], *, checks: bool = True) -> int:
    from prometheus_client import start_http_server

    from statetui.core.fleet_cache import CachedFleet
    from statetui.core.metrics import registry_for

    registry = registry_for(CachedFleet(bots, checks=checks))
    try:
        server, thread = start_http_server(address[1], addr=address[0], registry=registry)
    except OSError as exc:
        return error(f"--listen {address[0]}:{address[1]}: cannot listen ({exc.strerror or exc})", EXIT_ERROR)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    from statetui.core.chain_refresh import start_chain_refresh

    refresher = start_chain_refresh(bots, stop)
    host, port = server.server_address[:2]
    print(f"statetui: serving metrics of {len(bots)} bot(s) on http://{host}:{port}/metrics", file=sys.stderr, flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    if refresher is not None:
        refresher.join(timeout=5)
    return EXIT_OK
