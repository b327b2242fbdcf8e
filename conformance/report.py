#!/usr/bin/env python3
"""Summarise conformance/results/*.json: a scenario × client table, and one closing line
`conformance: N passed, M failed` over every (client, scenario) run.

usage: conformance/report.py [--readme docs/conformance.md] CLIENT...
With --readme, the table between the markers `<!-- conformance:begin -->` and
`<!-- conformance:end -->` in that file is replaced.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BEGIN, END = "<!-- conformance:begin -->", "<!-- conformance:end -->"


def main():
    args = sys.argv[1:]
    readme = None
    if args[:1] == ["--readme"]:
        readme, args = args[1], args[2:]
    clients = args
    results = {}
    for c in clients:
        path = os.path.join(HERE, "results", f"{c}.json")
        if not os.path.exists(path):
            print(f"conformance: no results for client {c} ({path})")
            results[c] = {}
            continue
        with open(path) as f:
            results[c] = json.load(f)["scenarios"]
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
    if readme:
        with open(readme) as f:
            text = f.read()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            text = f"{head}{BEGIN}\n{table}\n{END}{tail}"
            with open(readme, "w") as f:
                f.write(text)
    print(f"conformance: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
