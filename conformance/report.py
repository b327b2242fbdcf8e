#!/usr/bin/env python3
"""Summarise conformance/results/*.json: a scenario × client table, and one closing line
`conformance: N passed, M failed` over every (client, scenario) run.

Exits 1 when a scenario failed, and also when a client has no results, a run of it went wrong
(its "errors": a dead run, a missing summary, a wrong scenario count; see conformance/run.py),
or its number of scenarios is not the pinned one (run.EXPECTED_TOTAL per client): a missing or
short result must never read as "0 failed".

usage: conformance/report.py [--readme docs/conformance.md] CLIENT...
With --readme, the table between the markers `<!-- conformance:begin -->` and
`<!-- conformance:end -->` in that file is replaced.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run import EXPECTED_TOTAL  # noqa: E402
BEGIN, END = "<!-- conformance:begin -->", "<!-- conformance:end -->"


def main(argv=None, results_dir=None):
    args = sys.argv[1:] if argv is None else argv
    results_dir = results_dir or os.path.join(HERE, "results")
    readme = None
    if args[:1] == ["--readme"]:
        readme, args = args[1], args[2:]
    clients = args
    results = {}
    errors = []
    for c in clients:
        path = os.path.join(results_dir, f"{c}.json")
        if not os.path.exists(path):
            errors.append(f"no results for client {c} ({path})")
            results[c] = {}
            continue
        with open(path) as f:
            data = json.load(f)
        results[c] = data["scenarios"]
        errors += [f"{c}: {e}" for e in data.get("errors", ["no run checks recorded (old results)"])]
        if len(results[c]) != EXPECTED_TOTAL:
            errors.append(f"{c}: {len(results[c])} scenarios, {EXPECTED_TOTAL} expected")
    keys = sorted({k for r in results.values() for k in r}, key=lambda k: (k.split()[0], k.split()[1]))
    mark = {"pass": "✅", "fail": "❌", None: "–"}
    rows = ["| suite | scenario | " + " | ".join(f"{c} client" for c in clients) + " |",
            "|---|---|" + "---|" * len(clients)]
    for k in keys:
        harness, scenario = k.split(" ", 1)
        rows.append(f"| {harness} | `{scenario}` | " + " | ".join(mark[results[c].get(k)] for c in clients) + " |")
    passed = sum(1 for c in clients for k in keys if results[c].get(k) == "pass")
    failed = sum(1 for c in clients for k in keys if results[c].get(k) != "pass")
    table = "\n".join(rows)
    print(table)
    if readme and not errors:
        with open(readme) as f:
            text = f.read()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            text = f"{head}{BEGIN}\n{table}\n{END}{tail}"
            with open(readme, "w") as f:
                f.write(text)
    for e in errors:
        print(f"conformance: RUN ERROR {e}")
    print(f"conformance: {passed} passed, {failed} failed" + (f", {len(errors)} run errors" if errors else ""))
    return 1 if failed or errors else 0


if __name__ == "__main__":
    sys.exit(main())
