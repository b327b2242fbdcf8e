#!/usr/bin/env python3
"""Tests of conformance/run.py's and report.py's verdicts, without the harnesses: the harness
CLI is replaced by canned output shaped like theirs (the suite's `✓ scenario: N passed, 0
failed` lines, a single scenario's `Passed:` and `OVERALL: PASSED`). A suite run that dies,
times out, prints no summary or reports the wrong number of scenarios must fail the client,
and report.py must not print "0 failed" as a success for missing or short results.

Run with `make test-conformance-runner` (part of `make test`) or
`python3 -m unittest conformance/test_run.py`.
"""

import contextlib
import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402
import run  # noqa: E402


def suite_output(names, announced=None, failed=(), others=(), finished=True):
    """A `--suite` (or `--requirements`) run's output as the harness prints it: the announced
    count, one line per scenario (`others`: extra scenarios, as (name, passed)), the totals."""
    every = [(n, n not in failed) for n in names] + list(others)
    count = len(every) if announced is None else announced
    out = [f"Running x suite ({count} scenarios) in parallel...", ""]
    for n, ok in every:
        out.append(f"{'✓' if ok else '✗'} {n}: 4 passed, {0 if ok else 1} failed")
    if finished:
        bad = sum(1 for _, ok in every if not ok)
        out += ["", f"Total: {4 * len(every)} passed, {bad} failed"]
    return "\n".join(out)


SCENARIO_OK = "Passed: 5/5, 0 failed, 0 warnings\n\nOVERALL: PASSED\n"


class FakeHarness:
    """Answers every run of run.main like a healthy harness whose scenario names reproduce the
    pinned counts (the 0.2.0-alpha.12 runs overlapping as the real ones do); `override` maps a
    run label to (exit status, output) to break one run."""

    def __init__(self, override=None):
        self.override = override or {}
        self.calls = []

    def names(self, harness, label):
        n = run.EXPECTED_RUNS[(harness, label)]
        if label == run.REQUIREMENTS_0200:
            suite_n = run.EXPECTED_RUNS[(harness, "--suite auth")]
            shared = suite_n + n - run.EXPECTED_SCENARIOS[harness]
            return [f"auth/s{i}" for i in range(shared)] + [f"auth/r{i}" for i in range(n - shared)]
        if harness == "0.2.0-alpha.12":
            return [f"auth/s{i}" for i in range(n)]
        return [f"auth/{label.split()[-1]}-{i}" for i in range(n)]

    def __call__(self, harness, args, timeout):
        if "--scenario" in args:
            label = args[args.index("--scenario") + 1]
        elif "--suite" in args:
            label = "--suite " + args[args.index("--suite") + 1]
        else:
            label = run.REQUIREMENTS_0200
        self.calls.append((harness, label))
        if label in self.override:
            return self.override[label]
        if "--scenario" in args:
            return 0, SCENARIO_OK
        names = self.names(harness, label)
        if label == run.REQUIREMENTS_0200:
            # As the real one: scenarios that are not about authorization, some failing (so
            # the harness exits 1), are not counted.
            out = suite_output(names, others=[("tools_call", False), ("json-schema-ref-no-deref", True)])
            return 1, out.replace("Running x suite", "Running requirements 2026-07-28")
        return 0, suite_output(names)


class RunTest(unittest.TestCase):
    def run_client(self, harness):
        with tempfile.TemporaryDirectory() as d, contextlib.redirect_stdout(io.StringIO()) as out:
            rc = run.main(["c", "exec client"], runner=harness, results_dir=d)
            with open(os.path.join(d, "c.json")) as f:
                data = json.load(f)
        return rc, data, out.getvalue()

    def test_healthy_runs_pass_with_the_pinned_counts(self):
        harness = FakeHarness()
        rc, data, out = self.run_client(harness)
        self.assertEqual(rc, 0, out)
        self.assertEqual(len(data["scenarios"]), run.EXPECTED_TOTAL)
        self.assertEqual(data["errors"], [])
        self.assertEqual(len(harness.calls), len(run.EXPECTED_RUNS))
        self.assertIn(f"{run.EXPECTED_TOTAL} passed, 0 failed, 0 run errors", out)

    def test_a_run_that_times_out_without_a_summary_fails(self):
        dead = {"--suite backcompat": (124, "Running backcompat suite (2 scenarios)\n(conformance run timed out)")}
        rc, data, out = self.run_client(FakeHarness(dead))
        self.assertEqual(rc, 1, out)
        run_ = next(r for r in data["runs"] if r["run"] == "--suite backcompat")
        self.assertIn("exit status 124 (timed out)", run_["problems"])
        self.assertIn("no summary: the run reported no scenario", run_["problems"])
        # The scenarios it never reported are missing from the total, and that is an error too.
        self.assertTrue(any("0.1.16: 20 distinct scenarios, 22 expected" in e for e in data["errors"]))
        self.assertIn("RUN ERROR", out)

    def test_a_run_without_a_summary_fails_even_with_exit_0(self):
        rc, data, out = self.run_client(FakeHarness({"--suite draft": (0, "something else entirely\n")}))
        self.assertEqual(rc, 1, out)
        self.assertTrue(any("--suite draft: no summary" in e for e in data["errors"]))

    def test_a_run_with_the_wrong_scenario_count_fails(self):
        short = suite_output([f"auth/x{i}" for i in range(13)])
        rc, data, out = self.run_client(FakeHarness({"--suite auth": (0, short)}))
        self.assertEqual(rc, 1, out)
        self.assertTrue(any("13 scenarios reported, 14 expected" in e for e in data["errors"]), data["errors"])
        # Both harnesses run "--suite auth": the 0.2.0-alpha.12 one is short too.
        self.assertEqual(
            [r["problems"] for r in data["runs"] if r["run"] == "--suite auth"],
            [["13 scenarios reported, 14 expected"]] * 2,
        )

    def test_a_suite_that_printed_fewer_scenarios_than_announced_fails(self):
        names = [f"auth/backcompat-{i}" for i in range(2)]
        rc, data, _ = self.run_client(FakeHarness({"--suite backcompat": (0, suite_output(names, announced=3))}))
        self.assertEqual(rc, 1)
        self.assertTrue(any("announced 3 scenarios, 2 reported" in e for e in data["errors"]), data["errors"])

    def test_a_suite_killed_midway_fails(self):
        # The pinned number of lines printed, but no closing totals: the harness died.
        names = [f"auth/backcompat-{i}" for i in range(2)]
        rc, data, _ = self.run_client(FakeHarness({"--suite backcompat": (137, suite_output(names, finished=False))}))
        self.assertEqual(rc, 1)
        problems = next(r for r in data["runs"] if r["run"] == "--suite backcompat")["problems"]
        self.assertEqual(problems, ["exit status 137", "no Total line: the run did not finish"])

    def test_the_requirements_run_exit_1_is_excused_only_by_uncounted_failures(self):
        h = FakeHarness()
        names = h.names("0.2.0-alpha.12", run.REQUIREMENTS_0200)
        label = run.REQUIREMENTS_0200
        # Exit 1 with every scenario passing: nothing explains it.
        rc, data, _ = self.run_client(FakeHarness({label: (1, suite_output(names))}))
        self.assertEqual(rc, 1)
        self.assertIn(f"0.2.0-alpha.12 {label}: exit status 1", data["errors"])
        # Exit 1 with a counted scenario failing: a failure, and the exit is not excused.
        out = suite_output(names, failed={names[-1]}, others=[("tools_call", False)])
        rc, data, _ = self.run_client(FakeHarness({label: (1, out)}))
        self.assertEqual(rc, 1)
        self.assertEqual(data["scenarios"][f"0.2.0-alpha.12 {names[-1]}"], "fail")
        self.assertIn(f"0.2.0-alpha.12 {label}: exit status 1", data["errors"])
        # A timeout is never excused.
        out = suite_output(names, others=[("tools_call", False)])
        rc, data, _ = self.run_client(FakeHarness({label: (124, out)}))
        self.assertIn(f"0.2.0-alpha.12 {label}: exit status 124 (timed out)", data["errors"])

    def test_a_non_zero_exit_fails_even_with_a_full_summary(self):
        names = [f"auth/backcompat-{i}" for i in range(2)]
        rc, data, _ = self.run_client(FakeHarness({"--suite backcompat": (1, suite_output(names))}))
        self.assertEqual(rc, 1)
        self.assertEqual(data["errors"], ["0.1.16 --suite backcompat: exit status 1"])
        self.assertTrue(all(v == "pass" for v in data["scenarios"].values()))

    def test_a_single_scenario_that_dies_fails(self):
        sc = run.EXTENSIONS_0116[1]
        rc, data, _ = self.run_client(FakeHarness({sc: (124, "(conformance run timed out)")}))
        self.assertEqual(rc, 1)
        self.assertNotIn(f"0.1.16 {sc}", data["scenarios"])
        self.assertTrue(any(e.startswith(f"0.1.16 {sc}: exit status 124") for e in data["errors"]))

    def test_a_failed_scenario_fails(self):
        names = [f"auth/backcompat-{i}" for i in range(2)]
        out = suite_output(names, failed={"auth/backcompat-1"})
        rc, data, _ = self.run_client(FakeHarness({"--suite backcompat": (1, out)}))
        self.assertEqual(rc, 1)
        self.assertEqual(data["scenarios"]["0.1.16 auth/backcompat-1"], "fail")


class ReportTest(unittest.TestCase):
    def report(self, clients, results):
        with tempfile.TemporaryDirectory() as d:
            for name, data in results.items():
                with open(os.path.join(d, f"{name}.json"), "w") as f:
                    json.dump(data, f)
            with contextlib.redirect_stdout(io.StringIO()) as out:
                rc = report.main(clients, results_dir=d)
        return rc, out.getvalue()

    def healthy(self):
        with tempfile.TemporaryDirectory() as d, contextlib.redirect_stdout(io.StringIO()):
            run.main(["c", "exec client"], runner=FakeHarness(), results_dir=d)
            with open(os.path.join(d, "c.json")) as f:
                return json.load(f)

    def test_complete_results_pass(self):
        data = self.healthy()
        rc, out = self.report(["c", "python"], {"c": data, "python": data})
        self.assertEqual(rc, 0, out)
        self.assertIn(f"conformance: {2 * run.EXPECTED_TOTAL} passed, 0 failed", out)

    def test_missing_results_fail(self):
        rc, out = self.report(["c", "python"], {"c": self.healthy()})
        self.assertEqual(rc, 1)
        self.assertIn("no results for client python", out)
        rc, out = self.report(["c"], {})
        self.assertEqual(rc, 1)
        self.assertIn("run errors", out)

    def test_run_errors_and_short_results_fail(self):
        data = self.healthy()
        data["errors"] = ["0.1.16 --suite auth: exit status 124 (timed out)"]
        rc, out = self.report(["c"], {"c": data})
        self.assertEqual(rc, 1)
        self.assertIn("RUN ERROR c: 0.1.16 --suite auth: exit status 124", out)
        data = self.healthy()
        del data["scenarios"][next(iter(data["scenarios"]))]
        rc, out = self.report(["c"], {"c": data})
        self.assertEqual(rc, 1)
        self.assertIn(f"{run.EXPECTED_TOTAL - 1} scenarios, {run.EXPECTED_TOTAL} expected", out)


if __name__ == "__main__":
    unittest.main()
