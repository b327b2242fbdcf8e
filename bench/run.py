#!/usr/bin/env python3
"""`make bench`: every mcp-auth benchmark side by side with the reference (pip `mcp` 2.3.0) and
the floor (a raw-socket client doing the same 9 requests) in one sitting on this machine. Writes target/bench/results.json and target/bench/tables.md.

Environment: ROUNDS (default 5) interleaved rounds; N flows per configuration and round
(default 60, the reference 40); QUICK=1 for a smoke run; PY (the bench venv's python);
SKIP_CRITERION=1 to reuse target/criterion.
"""

import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "target", "bench")
PY = os.environ.get("PY", os.path.join(ROOT, "target", "bench-venv", "bin", "python"))
BIN = os.path.join(ROOT, "target", "release", "bench-flow")
QUICK = os.environ.get("QUICK") == "1"
ROUNDS = int(os.environ.get("ROUNDS", "2" if QUICK else "5"))
N = int(os.environ.get("N", "15" if QUICK else "60"))
NREF = int(os.environ.get("NREF", "10" if QUICK else "40"))
PIN = ["taskset", "-c", "0"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run_json(cmd, pinned=False):
    cmd = (PIN if pinned else []) + cmd
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


class Server:
    def __init__(self, pinned):
        self.p = subprocess.Popen((PIN if pinned else []) + [BIN, "server"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, cwd=ROOT)
        _, self.url, self.stats = self.p.stdout.readline().split()

    def stop(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


def med(values):
    return statistics.median(values) if values else None


def flows(pinned, rounds):
    srv = Server(pinned)
    common = ["--url", srv.url, "--stats", srv.stats]
    configs = [
        ("floor", [BIN, "floor", "--n", str(N)] + common),
        ("rust-warm", [BIN, "flows", "--n", str(N), "--mode", "warm"] + common),
        ("rust-fresh", [BIN, "flows", "--n", str(N), "--mode", "fresh"] + common),
        ("rust-warm-concurrent", [BIN, "flows", "--n", str(N), "--mode", "warm", "--concurrent"] + common),
        ("rust-fresh-concurrent", [BIN, "flows", "--n", str(N), "--mode", "fresh", "--concurrent"] + common),
        ("rust-warm-cached", [BIN, "flows", "--n", str(N), "--mode", "warm", "--cache"] + common),
        ("c-fresh", [BIN, "flows", "--n", str(N), "--mode", "fresh", "--api", "c"] + common),
        ("binding-fresh", [PY, "bench/py/flows.py", "--which", "binding", "--n", str(N)] + common),
        ("ref-warm", [PY, "bench/py/flows.py", "--which", "ref-warm", "--n", str(NREF)] + common),
        ("ref-fresh", [PY, "bench/py/flows.py", "--which", "ref-fresh", "--n", str(NREF)] + common),
    ]
    res = {k: [] for k, _ in configs}
    try:
        for r in range(rounds):
            for k, cmd in configs:
                res[k].append(run_json(cmd, pinned))
                log(f"  flows pinned={pinned} round {r + 1}/{rounds} {k}: {res[k][-1]['wall_ms']['median']:.3f} ms")
    finally:
        srv.stop()
    return {
        k: {
            "client": v[0]["client"], "mode": v[0]["mode"],
            "wall_ms_median": med([x["wall_ms"]["median"] for x in v]),
            "wall_ms_round_min": min(x["wall_ms"]["median"] for x in v),
            "wall_ms_round_max": max(x["wall_ms"]["median"] for x in v),
            "p10": med([x["wall_ms"]["p10"] for x in v]), "p90": med([x["wall_ms"]["p90"] for x in v]),
            "requests": med([x["requests_per_flow"] for x in v]),
            "ua_requests": med([x["user_agent_requests_per_flow"] for x in v]),
            "discovery_requests": med([x["discovery_requests_per_flow"] for x in v]),
            "connections": med([x["connections_per_flow"] for x in v]),
            "peak_rss_kib": max(x["peak_rss_kib"] for x in v),
        }
        for k, v in res.items()
    }


def threads(rounds):
    """1/8/64/256 threads share one client (pinned: server and client on CPU 0 and 1 apart
    would measure the scheduler; here both get both CPUs, as a host would)."""
    srv = Server(False)
    common = ["--url", srv.url, "--stats", srv.stats]
    counts = [1, 8, 64, 256]
    total = 2000 if QUICK else 8000
    res = {t: [] for t in counts}
    try:
        for r in range(rounds):
            for t in counts:
                res[t].append(run_json([BIN, "threads", "--threads", str(t), "--requests", str(max(5, total // t))] + common))
                x = res[t][-1]
                log(f"  threads={t} round {r + 1}/{rounds}: {x['throughput_rps']:.0f} req/s, p50 {x['latency_ms']['median']:.3f} ms, "
                    f"p99 {x['latency_ms']['p99']:.3f} ms, new connections {x['new_connections']}")
    finally:
        srv.stop()
    return {
        str(t): {
            "throughput_rps": med([x["throughput_rps"] for x in v]),
            "p50_ms": med([x["latency_ms"]["median"] for x in v]),
            "p99_ms": med([x["latency_ms"]["p99"] for x in v]),
            "p99_ms_max": max(x["latency_ms"]["p99"] for x in v),
            "new_connections": [x["new_connections"] for x in v],
            "requests": v[0]["requests"],
        }
        for t, v in res.items()
    }


class Redis:
    """A throwaway redis-server on a free loopback port (no persistence), or None."""

    def __init__(self):
        import socket
        import tempfile
        self.dir = tempfile.mkdtemp(prefix="bench-redis-")
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.p = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", self.dir],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(500):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as c:
                    c.sendall(b"PING\r\n")
                    if c.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.02)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def stop(self):
        self.p.kill()
        self.p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def stores(rounds):
    """Memory, file and Redis stores: authorized-request throughput, store calls, refresh
    latency with 8 and 32 contenders on one expiry (bench/flow/src/stores.rs)."""
    redis = Redis() if shutil.which("redis-server") else None
    if redis is None:
        log("  redis-server not found: Redis rows left out")
    cmd = [BIN, "stores", "--requests", "2000" if QUICK else "8000", "--expiries", "5" if QUICK else "20"]
    if redis:
        cmd += ["--redis", redis.url]
    try:
        runs = []
        for r in range(rounds):
            runs.append(run_json(cmd))
            log(f"  stores round {r + 1}/{rounds}: " + ", ".join(
                f"{c['store']}×{c['contenders']} last {c['last_served_ms']['median']:.1f} ms" for c in runs[-1]["contention"]))
    finally:
        if redis:
            redis.stop()
    tp = {}
    for name in runs[0]["throughput"]["stores"]:
        vs = [x["throughput"]["stores"][name] for x in runs]
        tp[name] = {
            "shared_rps": med([v["shared_client"]["throughput_rps"] for v in vs]),
            "shared_p99_ms": med([v["shared_client"]["latency_ms"]["p99"] for v in vs]),
            "fresh_rps": med([v["fresh_client_per_request"]["throughput_rps"] for v in vs]),
            "fresh_p50_ms": med([v["fresh_client_per_request"]["latency_ms"]["median"] for v in vs]),
            "get_tokens_us": med([v["get_tokens_us"] for v in vs]),
            "set_tokens_us": med([v["set_tokens_us"] for v in vs]),
        }
    contention = []
    for i, c in enumerate(runs[0]["contention"]):
        vs = [x["contention"][i] for x in runs]
        contention.append({
            "store": c["store"], "contenders": c["contenders"], "one_client": c["one_client"],
            "expiries": sum(v["expiries"] for v in vs),
            "refresh_requests_per_expiry": max(v["refresh_requests_per_expiry"] for v in vs),
            "reuse_detections": sum(v["reuse_detections"] for v in vs),
            "p50_ms": med([v["latency_ms"]["median"] for v in vs]),
            "last_served_median_ms": med([v["last_served_ms"]["median"] for v in vs]),
            "last_served_max_ms": max(v["last_served_ms"]["max"] for v in vs),
        })
    return {"threads": runs[0]["throughput"]["threads"], "requests": runs[0]["throughput"]["requests"],
            "throughput": tp, "contention": contention, "rounds": rounds}


def pure(rounds):
    rounds_out = [run_json([PY, "bench/py/pure.py"] + (["--quick"] if QUICK else [])) for _ in range(rounds)]
    out = {}
    for side in ("reference", "binding"):
        out[side] = {k: med([r[side][k] for r in rounds_out]) for k in rounds_out[0][side]}
    return out


def criterion():
    if os.environ.get("SKIP_CRITERION") != "1":
        args = ["--warm-up-time", "1", "--measurement-time", "1" if QUICK else "3"]
        subprocess.run(["cargo", "bench", "-q", "-p", "mcp-auth", "--bench", "core", "--"] + args, check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
    out = {}
    for f in glob.glob(os.path.join(ROOT, "target", "criterion", "*", "new", "estimates.json")):
        bench = json.load(open(os.path.join(os.path.dirname(f), "benchmark.json")))
        out[bench["title"]] = json.load(open(f))["median"]["point_estimate"]
    return out


def footprint():
    so = os.path.join(ROOT, "target", "release", "libmcpauth.so")
    stripped = os.path.join(OUT, "libmcpauth.stripped.so")
    shutil.copy(so, stripped)
    subprocess.run(["strip", stripped], check=True)
    wheels = sorted(glob.glob(os.path.join(ROOT, "target", "wheels", "mcp_auth_client-*.whl")), key=os.path.getmtime)

    def t(code):
        v = []
        for _ in range(15):
            t0 = time.perf_counter()
            subprocess.run([PY, "-c", code], check=True)
            v.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(v)

    base, mcp_auth_t, ref_t = t("pass"), t("import mcp_auth"), t("import mcp.client.auth")
    return {
        "libmcpauth_so_stripped_bytes": os.path.getsize(stripped),
        "libmcpauth_so_bytes": os.path.getsize(so),
        "wheel": os.path.basename(wheels[-1]) if wheels else None,
        "wheel_bytes": os.path.getsize(wheels[-1]) if wheels else None,
        "import_mcp_auth_ms": mcp_auth_t - base,
        "import_reference_ms": ref_t - base,
        "python_startup_ms": base,
    }


def warm_paths():
    srv = Server(True)
    store = os.path.join(OUT, "store.json")
    if os.path.exists(store):
        os.remove(store)
    try:
        cmd = [BIN, "once", "--url", srv.url, "--stats", srv.stats, "--store", store]
        first = run_json(cmd, True)
        second = run_json(cmd, True)
    finally:
        srv.stop()
    w = run_json([BIN, "warm", "--n", "500" if QUICK else "3000"], True)
    return {"first_process": first, "second_process": second, "in_process": w,
            "ffi": run_json([BIN, "ffi"], True)["ffi"]}


def main():
    os.makedirs(OUT, exist_ok=True)
    if sys.argv[1:] == ["stores"]:
        # `make bench-stores`: the stores section alone.
        results = {"stores": stores(ROUNDS), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        json.dump(results, open(os.path.join(OUT, "stores.json"), "w"), indent=1)
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "tables.py"), os.path.join(OUT, "stores.json")],
                       check=True, stdout=open(os.path.join(OUT, "stores.md"), "w"))
        print(open(os.path.join(OUT, "stores.md")).read())
        return
    results = {"machine": subprocess.run(["uname", "-srm"], capture_output=True, text=True).stdout.strip(),
               "nproc": os.cpu_count(), "rounds": ROUNDS, "n": N, "n_ref": NREF,
               "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    log("criterion ...")
    results["criterion_ns"] = criterion()
    log("python pure functions ...")
    results["python_pure_ns"] = pure(ROUNDS)
    log("flows (pinned to CPU 0) ...")
    results["flows_pinned"] = flows(True, ROUNDS)
    log("flows (unpinned) ...")
    results["flows_unpinned"] = flows(False, max(2, ROUNDS // 2 + 1))
    log("threads sharing one client ...")
    results["threads"] = threads(max(2, ROUNDS // 2 + 1))
    log("warm paths ...")
    results["warm"] = warm_paths()
    log("credential stores ...")
    results["stores"] = stores(max(2, ROUNDS // 2 + 1))
    log("footprint ...")
    results["footprint"] = footprint()
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    json.dump(results, open(os.path.join(OUT, "results.json"), "w"), indent=1)
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "tables.py"), os.path.join(OUT, "results.json")],
                   check=True, stdout=open(os.path.join(OUT, "tables.md"), "w"))
    print(open(os.path.join(OUT, "tables.md")).read())


if __name__ == "__main__":
    main()
