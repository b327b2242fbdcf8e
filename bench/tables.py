#!/usr/bin/env python3
"""Markdown tables from target/bench/results.json (bench/run.py)."""

import json
import sys

r = json.load(open(sys.argv[1]))


def stores_tables(s):
    """The credential stores (bench-flow stores)."""
    print(f"\n### Credential stores: authorized requests ({s['threads']} threads, {s['requests']} requests, "
          f"median of {s['rounds']} rounds)\n")
    print("| store | one shared client | p99 | fresh client per request (loads the token) | its p50 | get_tokens | set_tokens |")
    print("|---|---|---|---|---|---|---|")
    for name in sorted(s["throughput"], key=["memory", "file", "redis"].index):
        v = s["throughput"][name]
        print(f"| {name} | {v['shared_rps']:.0f} req/s | {v['shared_p99_ms']:.2f} ms | {v['fresh_rps']:.0f} req/s "
              f"| {v['fresh_p50_ms']:.2f} ms | {v['get_tokens_us']:.1f} µs | {v['set_tokens_us']:.1f} µs |")
    print("\n### Refresh under contention: N waiters on one expiry\n")
    print("| store | N | who waits | refresh requests per expiry | reuses | request p50 | last served (median of expiries) | last served (worst) |")
    print("|---|---|---|---|---|---|---|---|")
    for c in s["contention"]:
        who = "threads of one client" if c["one_client"] else "clients with own store handles (as processes)"
        print(f"| {c['store']} | {c['contenders']} | {who} | {c['refresh_requests_per_expiry']:g} ({c['expiries']} expiries) "
              f"| {c['reuse_detections']} | {c['p50_ms']:.2f} ms | {c['last_served_median_ms']:.2f} ms | {c['last_served_max_ms']:.2f} ms |")


if "criterion_ns" not in r:
    stores_tables(r["stores"])
    sys.exit(0)
cr, ref, bind = r["criterion_ns"], r["python_pure_ns"]["reference"], r["python_pure_ns"]["binding"]

# (row, python case, criterion bench, target ns)
ROWS = [
    ("header: resource_metadata + scope + error", "header: resource_metadata + scope + error (3 fields)",
     "extract resource_metadata+scope+error", 300),
    ("header: one field (scope)", "header: extract scope (1 field)", "extract_field_from_www_auth(scope)", None),
    ("header: multi-challenge, resource_metadata", "header: multi-challenge, resource_metadata",
     "extract resource_metadata (multi-challenge)", None),
    ("PRM URLs (header URL, 3)", "PRM URLs (header URL, 3)", "prm urls (header url, 3)", 500),
    ("PRM URLs (no header, 2)", "PRM URLs (no header, 2)", "prm urls (no header, 2)", 500),
    ("AS URLs (issuer /tenant1, 3)", "AS URLs (issuer /tenant1, 3)", "as urls (tenant path, 3)", 500),
    ("AS URLs (root issuer, 2)", "AS URLs (root issuer, 2)", "as urls (root, 2)", 500),
    ("scope select (PRM + offline_access)", "scope select (PRM scopes + offline_access)",
     "get_client_metadata_scopes (PRM + offline_access)", 100),
    ("scope select (challenge scope)", "scope select (challenge scope)", "get_client_metadata_scopes (challenge scope)", 100),
    ("scope union", "scope union", "union_scopes", None),
    ("AS metadata JSON (1275 B)", "AS metadata JSON (1275 B)", "OAuthMetadata::from_json (1275 B)", 5000),
    ("PRM JSON (286 B)", "PRM JSON (286 B)", "ProtectedResourceMetadata::from_json (286 B)", 800),
    ("token JSON (1183 B)", "token JSON (1183 B)", "OAuthToken::from_json (1183 B)", 1000),
]


def ns(v):
    if v is None:
        return "–"
    return f"{v / 1000:.2f} µs" if v >= 1000 else f"{v:.0f} ns"


print("### Pure functions (median ns per call)\n")
print("| operation | reference (mcp 2.3.0) | mcp_auth via Python | ratio ref/binding | Rust core | ratio ref/core | core target |")
print("|---|---|---|---|---|---|---|")
for row, py, c, target in ROWS:
    rv, bv, cv = ref.get(py), bind.get(py), cr.get(c)
    t = "–" if target is None else (f"≤ {ns(target)}: **{'met' if cv is not None and cv <= target else 'missed'}**")
    print(f"| {row} | {ns(rv)} | {ns(bv)} | {rv / bv:.1f}× | {ns(cv)} | {rv / cv:.0f}× | {t} |")

ffi = r["warm"]["ffi"]
print("\n### C ABI per call (ns)\n")
print("| operation | core | C ABI | added |")
print("|---|---|---|---|")
for x in ffi:
    print(f"| {x['operation']} | {x['core_ns']:.0f} | {x['c_abi_ns']:.0f} | {x['added_ns']:.0f} |")

for key, title in (("flows_pinned", "pinned to CPU 0 (server and client)"), ("flows_unpinned", "unpinned")):
    print(f"\n### Cold flow, {title}: median of per-round medians [min–max of rounds]\n")
    print("| client | HTTP client | wall per flow | × floor | p10–p90 | requests (client + UA) | discovery GETs | new TCP connections | peak RSS (flow process) |")
    print("|---|---|---|---|---|---|---|---|---|")
    floor = r[key].get("floor", {}).get("wall_ms_median")
    for k, v in r[key].items():
        label = {"floor": "one fresh raw TCP connection", "c-fresh": "fresh client (mcpauth_client_new)",
                 "rust-warm": "warm pool", "rust-fresh": "fresh client", "rust-warm-concurrent": "warm pool, concurrent discovery",
                 "rust-fresh-concurrent": "fresh client, concurrent discovery", "rust-warm-cached": "warm pool, metadata cache (warm)",
                 "binding-fresh": "fresh client (mcp_auth.Client)", "ref-warm": "warm pool (shared AsyncClient)",
                 "ref-fresh": "fresh AsyncClient"}[k]
        req = v["requests"]
        ua = v["ua_requests"]
        x = f"{v['wall_ms_median'] / floor:.2f}×" if floor else "–"
        print(f"| {v['client']} | {label} | {v['wall_ms_median']:.3f} ms [{v['wall_ms_round_min']:.3f}–{v['wall_ms_round_max']:.3f}] "
              f"| {x} | {v['p10']:.2f}–{v['p90']:.2f} | {req:g} ({req - ua:g} + {ua:g}) | {v['discovery_requests']:g} | {v['connections']:g} "
              f"| {v['peak_rss_kib'] / 1024:.1f} MiB |")

if "threads" in r:
    print("\n### Threads sharing one client (authorized requests, valid token)\n")
    print("| threads | requests | throughput | p50 | p99 (median of rounds) | p99 worst round | new connections during the run (per round) |")
    print("|---|---|---|---|---|---|---|")
    for t, v in r["threads"].items():
        print(f"| {t} | {v['requests']} | {v['throughput_rps']:.0f} req/s | {v['p50_ms']:.3f} ms | {v['p99_ms']:.2f} ms | {v['p99_ms_max']:.2f} ms "
              f"| {', '.join(str(c) for c in v['new_connections'])} |")

w = r["warm"]
print("\n### Warm paths\n")
print(f"- First process, file store: {w['first_process']['requests']} requests, {w['first_process']['connections']} connections.")
print(f"- Second process, same file store: **{w['second_process']['requests']} request(s)**, {w['second_process']['connections']} connection(s), "
      f"{w['second_process']['authorizations']} authorizations, {w['second_process']['wall_ms']:.2f} ms.")
ip = w["in_process"]
print(f"- Authorized request with a valid token: {ip['authorized_request_us']['median']:.1f} µs vs plain {ip['plain_request_us']['median']:.1f} µs: "
      f"overhead **{ip['overhead_us_median']:.1f} µs** (median).")
print(f"- 64 threads, one client, expired token: **{ip['refresh_requests']} refresh request(s)**, latency p50 "
      f"{ip['refresh_latency_ms']['median']:.2f} ms, p99 {ip['refresh_latency_ms']['p99']:.2f} ms.")

if "stores" in r:
    stores_tables(r["stores"])

f = r["footprint"]
print("\n### Footprint\n")
print(f"- stripped libmcpauth.so: {f['libmcpauth_so_stripped_bytes'] / 1024:.0f} KiB (unstripped {f['libmcpauth_so_bytes'] / 1024:.0f} KiB)")
if f["wheel_bytes"]:
    print(f"- wheel {f['wheel']}: {f['wheel_bytes'] / 1024:.0f} KiB")
print(f"- `import mcp_auth`: {f['import_mcp_auth_ms']:.1f} ms (reference `import mcp.client.auth`: {f['import_reference_ms']:.1f} ms), over a bare interpreter start of {f['python_startup_ms']:.1f} ms")
print(f"- peak RSS of one demo flow (bench-flow once, file store): {w['first_process']['peak_rss_kib'] / 1024:.1f} MiB")
print(f"\nMachine: {r['machine']}, {r['nproc']} CPUs; rounds {r['rounds']}, {r['n']} flows per round ({r['n_ref']} for the reference); {r['started']} – {r['finished']}.")
