"""Loopback flows against the shared demo server (bench-flow server, reference-benchmark
topology): the reference `OAuthClientProvider` (pip `mcp` 2.3.0, its benchmark's provider,
unchanged) and the `mcp_auth` Python binding. Prints one JSON line per configuration.

Usage: python bench/py/flows.py --url MCP_URL --stats STATS_URL --n N --which ref-warm|ref-fresh|binding
"""

import asyncio
import json
import statistics
import sys
import time
import urllib.request
import warnings
from urllib.parse import parse_qsl, urlsplit

warnings.simplefilter("ignore")


def arg(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


URL = arg("--url")
STATS = arg("--stats")
N = int(arg("--n", "40"))
WHICH = arg("--which", "ref-warm")
BODY = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


def stats():
    with urllib.request.urlopen(STATS + "/stats") as r:
        return json.load(r)


def peak_rss_kib():
    """This process's own peak RSS (VmHWM): ru_maxrss would include the harness that forked it."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def summary(v):
    v = sorted(v)
    pick = lambda p: v[round((len(v) - 1) * p)]
    return {"median": statistics.median(v), "p10": pick(0.1), "p90": pick(0.9), "min": v[0], "max": v[-1], "n": len(v)}


class Storage:
    def __init__(self):
        self.t = self.c = None

    async def get_tokens(self):
        return self.t

    async def set_tokens(self, t):
        self.t = t

    async def get_client_info(self):
        return self.c

    async def set_client_info(self, c):
        self.c = c


async def ref_flows(shared):
    import httpx2
    from pydantic import AnyUrl
    from mcp.client.auth import OAuthClientProvider
    from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

    def make_provider(ua):
        box = {}

        async def redirect_handler(url):
            r = await ua.get(url)
            box["loc"] = r.headers["location"]

        async def callback_handler():
            q = dict(parse_qsl(urlsplit(box["loc"]).query))
            return AuthorizationCodeResult(code=q["code"], state=q["state"], iss=q.get("iss"))

        return OAuthClientProvider(
            server_url=URL,
            client_metadata=OAuthClientMetadata(redirect_uris=[AnyUrl("http://127.0.0.1:3030/callback")], client_name="bench"),
            storage=Storage(),
            redirect_handler=redirect_handler,
            callback_handler=callback_handler,
        )

    times = []
    headers = {"Accept": "application/json, text/event-stream"}
    async with httpx2.AsyncClient() as ua, httpx2.AsyncClient() as pool:
        for i in range(N + 3):
            if i == 3:
                base = stats()
            provider = make_provider(ua)
            t0 = time.perf_counter()
            if shared:
                r = await pool.post(URL, json=BODY, headers=headers, auth=provider)
            else:
                async with httpx2.AsyncClient(auth=provider) as c:
                    r = await c.post(URL, json=BODY, headers=headers)
            dt = time.perf_counter() - t0
            assert r.status_code == 200, (r.status_code, r.text)
            if i >= 3:
                times.append(dt * 1e3)
    return times, base


def binding_flows():
    import mcp_auth

    times = []
    for i in range(N + 3):
        if i == 3:
            base = stats()
        t0 = time.perf_counter()
        c = mcp_auth.Client(URL, client_name="bench", redirect_handler="headless")
        r = c.post_json(json.dumps(BODY))
        del c
        dt = time.perf_counter() - t0
        assert r.status == 200, r.status
        if i >= 3:
            times.append(dt * 1e3)
    return times, base


def main():
    if WHICH == "binding":
        times, base = binding_flows()
        client, mode = "mcp_auth (Python binding)", "fresh"
    else:
        shared = WHICH == "ref-warm"
        times, base = asyncio.run(ref_flows(shared))
        client, mode = "reference OAuthClientProvider (mcp 2.3.0)", "warm" if shared else "fresh"
    end = stats()
    per = lambda k: (end[k] - base[k]) / N

    print(json.dumps({
        "client": client,
        "mode": mode,
        "wall_ms": summary(times),
        "requests_per_flow": per("requests"),
        "user_agent_requests_per_flow": per("authorize"),
        "discovery_requests_per_flow": per("well_known"),
        "connections_per_flow": per("connections"),
        "peak_rss_kib": peak_rss_kib(),
    }))


if __name__ == "__main__":
    main()
