#!/usr/bin/env python3
"""The interop suite: mcp-auth against real third-party servers on loopback (`make interop`).

Servers (pinned in interop/package.json and interop/requirements.txt, installed by
mk/interop.mk) start per cell from a server set (servers.py); clients are the surfaces
(surfaces.py); scenarios live one topic per file in scenarios/ and register themselves
(harness.py explains how). Each cell (scenario x surface) gets fresh servers, runs the
surface's client, then checks what the SERVERS saw: the AS's events (registrations, grants by
type, refresh-token rotation) and the resource server's log (tokens accepted, tool calls). A
client's own word counts for nothing. Cells run in parallel (--jobs, INTEROP_JOBS).

    python3 interop/run.py [--surfaces rust,...] [--scenarios a,b] [--jobs N] [--doc docs/interop.md]

Prints the table and a last line `interop: N passed, M failed`; exits 1 on any failure, on an
unexpected pass of a known failure, or when a server fails to start or dies during a cell.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import servers  # noqa: E402,F401  (registers the server sets)
import surfaces  # noqa: E402,F401  (registers the surfaces)
from harness import (  # noqa: E402
    CELL_DEADLINE,
    HERE,
    KNOWN_FAILURES,
    SCENARIOS,
    SERVER_SETS,
    SURFACE_APPLIES,
    SURFACES,
    TARGET,
    NotApplicable,
    Scenario,
    ServerFailed,
    read_jsonl,
)

for module in sorted((HERE / "scenarios").glob("*.py")):
    if module.stem != "__init__":
        importlib.import_module(f"scenarios.{module.stem}")


def run_cell(scenario: Scenario, surface: str, base: Path) -> tuple[bool, str]:
    if scenario.surfaces is not None and surface not in scenario.surfaces:
        raise NotApplicable(scenario.not_applicable.get(surface, "the scenario does not apply to this surface"))
    if surface in scenario.not_applicable:
        raise NotApplicable(scenario.not_applicable[surface])
    d = base / f"{scenario.name}.{surface}"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    cell, servers = SERVER_SETS[scenario.servers](d, scenario)
    if surface in SURFACE_APPLIES:
        SURFACE_APPLIES[surface](cell, scenario)  # NotApplicable: no server started

    def restart_as() -> None:
        servers[0].stop()
        servers[0].start()

    cell.restart_as = restart_as
    try:
        for s in servers:
            s.start()
        env = dict(os.environ)
        env["BROWSER"] = str(HERE / "browser.py")
        env["INTEROP_BROWSER_LOG"] = str(d / "browser.jsonl")
        try:
            cell.rc, cell.output = SURFACES[surface](cell, scenario, env)
        except subprocess.TimeoutExpired as e:
            cell.rc, cell.output = -1, f"timed out after {CELL_DEADLINE} s: {e}"
        (d / "client.out").write_text(cell.output)
        for s in servers:
            s.check_alive()
    finally:
        for s in servers:
            s.stop()
    cell.as_events, cell.rs_log, cell.browser = read_jsonl(d / "as.jsonl"), read_jsonl(d / "rs.jsonl"), read_jsonl(d / "browser.jsonl")
    cell.http_log = read_jsonl(d / "http.jsonl")
    problems = scenario.check(cell)
    if scenario.expect_failure is not None:
        if cell.rc == 0:
            problems.insert(0, "the client succeeded, expected it to fail")
        elif scenario.expect_failure not in cell.output:
            last = [line for line in cell.output.splitlines() if line.strip() and not line.startswith("trace:")][-1:]
            problems.insert(0, f"the client's error does not name the fix ({scenario.expect_failure!r}): {' '.join(last)}")
    elif cell.rc != 0:
        last = [line for line in cell.output.splitlines() if line.strip() and not line.startswith("trace:")][-1:]
        problems.insert(0, f"client exited {cell.rc}: {' '.join(last)}")
    return (not problems, "; ".join(problems))


def judge(scenario: Scenario, surface: str, base: Path) -> tuple[str, str, float]:
    t0 = time.monotonic()
    try:
        ok, why = run_cell(scenario, surface, base)
    except ServerFailed as e:
        ok, why = False, f"server failure: {e}"
    except NotApplicable as e:
        return "n/a", str(e), time.monotonic() - t0
    known_as = KNOWN_FAILURES.get((scenario.name, surface))
    if ok:
        status = "pass"
        if known_as is not None:
            status, why = "FAIL", f"no longer fails: remove it from KNOWN_FAILURES ({known_as[0]})"
    elif known_as is not None and known_as[1] in why:
        status, why = "known failure", f"{known_as[0]}: {why}"
    else:
        status = "FAIL"
    return status, why, time.monotonic() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--surfaces", default=",".join(SURFACES))
    ap.add_argument("--scenarios", default=",".join(s.name for s in SCENARIOS))
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("INTEROP_JOBS", "3")), help="cells at once")
    ap.add_argument("--doc", help="write the table into this Markdown file between the interop markers")
    args = ap.parse_args()
    surface_names = args.surfaces.split(",")
    unknown = [s for s in surface_names if s not in SURFACES] + [n for n in args.scenarios.split(",") if n not in {s.name for s in SCENARIOS}]
    if unknown:
        print(f"interop: unknown surface or scenario: {', '.join(unknown)}", file=sys.stderr)
        return 2
    chosen = [s for s in SCENARIOS if s.name in args.scenarios.split(",")]
    base = TARGET / "cells"
    started = time.monotonic()
    cells = [(sc, su) for sc in chosen for su in surface_names]
    lock = threading.Lock()

    def one(cell: tuple[Scenario, str]) -> tuple[str, str, float]:
        status, why, secs = judge(cell[0], cell[1], base)
        with lock:
            print(f"{cell[0].name:<24} {cell[1]:<14} {status:<14} {secs:5.1f} s  {why}", flush=True)
        return status, why, secs

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(one, cells))
    passed = sum(r[0] == "pass" for r in results)
    failed = sum(r[0] == "FAIL" for r in results)
    known = sum(r[0] == "known failure" for r in results)
    table = ["| scenario | surface | result | server-side evidence / reason |", "|---|---|---|---|"]
    titles = {s.name: s.title for s in SCENARIOS}
    for (sc, su), (status, why, _) in zip(cells, results):
        table.append(f"| `{sc.name}`: {titles[sc.name]} | {su} | {status} | {why or 'as expected'} |")
    print()
    print("\n".join(table))
    if args.doc:
        doc = Path(args.doc)
        text = doc.read_text()
        begin, end = "<!-- interop table: begin -->", "<!-- interop table: end -->"
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        rendered = re.sub(r"(127\.0\.0\.1|localhost):\d+", r"\1:PORT", "\n".join(table))  # stable diffs
        doc.write_text(f"{head}{begin}\n{rendered}\n{end}{tail}")
    print(f"\ninterop wall time: {time.monotonic() - started:.1f} s")
    print(f"interop: {passed} passed, {failed} failed" + (f" ({known} known failure{'s' if known != 1 else ''})" if known else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
