#!/usr/bin/env python3
"""Run every code snippet of the documentation against the loopback demo server.

    python3 docs/snippets/run.py [--list] [--keep] [FILE.md ...]

Without FILE arguments it reads README.md, docs/*.md and bindings/python/README.md. Every fenced
code block is classified by its info string (the words after the opening fence):

  ```rust     a scratch crate in target/docs-snippets/rust (path dependencies on core/, bridge/
              and examples/demo-server/), built
              as one example per block and run. A block without `fn main` is wrapped in
              `fn main() -> Result<(), Box<dyn std::error::Error>> { ... Ok(()) }`.
  ```python   run with the test venv's interpreter (mk/python.mk builds it: mcp_auth, the
              official `mcp` SDK, httpx).
  ```c        compiled with -std=c11 -Wall -Wextra -Wpedantic -Werror against include/mcpauth.h
              and target/debug/libmcpauth.a, then run. A block without `main` is wrapped in
              `int main(void) { ... return 0; }` after the standard includes and mcpauth.h.
  ```sh       run with `bash -euo pipefail` (the venv's bin/, with the `mcp-auth` CLI, first
              on PATH).
  ```console  the lines starting with `$ ` are run as one `bash -euo pipefail` script; the
              other lines are sample output and are not compared.
  ```js       an ES module run with `node`; the package in bindings/node is importable by its
              name (its dependencies installed: `make test-node`), MCPAUTH_LIB names the debug
              libmcpauth.so.

A block in one of these languages that must not run (an install command, `make test` itself,
an excerpt) says so with the attribute `no-run`: ```sh no-run. Every other language (text,
json, toml, cmake, ...) is documentation only and never runs. A fence without any info string
is an error: say what it is (```text).

Other attributes: `topology=NAME` runs the block against a demo server with that topology
(`mcp-auth-demo-server --list-topologies`); `compile-only` (rust, c) builds without running.

The demo server. One loopback `mcp-auth-demo-server` per topology is started for the run. In
every runnable block, the placeholder URL `https://mcp.example.com/mcp` is replaced by the demo
server's MCP URL (and `MCP_SERVER_URL` is set to it), so snippets read like real code for a real
server. The demo authorization server approves every request at once, so the default headless
redirect handler needs no user. For snippets that open a browser (`redirect_handler="browser"`,
`LoopbackBrowser`, `mcp-auth login`), BROWSER names a stand-in (also first on PATH as `xdg-open`)
that plays the user: it GETs the authorization URL and follows the redirect to the loopback
listener.

Each block runs in its own scratch directory, which is also its HOME, XDG_CONFIG_HOME and
MCP_AUTH_HOME (file storage never touches the real home), with a 180 s deadline.

A relative link (outside code) to a file that does not exist counts as a failure too.

Prints one line per block and `docs: N passed, M failed` (plus how many blocks are documentation
only or `no-run`); exits 1 when a block failed.

Environment: MCP_AUTH_DEMO_SERVER (the demo server binary, default target/debug/...),
DOCS_PYTHON (default bindings/python/.venv/bin/python), MCPAUTH_LIB_DIR (default target/debug),
CARGO (default cargo), CC (default cc).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = "https://mcp.example.com/mcp"
RUNNABLE = {"rust", "python", "c", "sh", "console", "js"}
ALIASES = {"bash": "sh", "shell": "sh", "py": "python", "javascript": "js", "mjs": "js"}
DEADLINE = 180
NATIVE_LIBS = ["-lpthread", "-ldl", "-lm", "-lrt", "-lutil", "-lgcc_s", "-lc"]


@dataclass
class Block:
    file: Path
    line: int  # of the opening fence, 1-based
    lang: str
    attrs: set[str]
    options: dict[str, str]
    code: str
    url: str = ""
    ok: bool | None = None
    detail: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        path = self.file.relative_to(ROOT) if self.file.is_relative_to(ROOT) else self.file
        return f"{path}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.lang in RUNNABLE and "no-run" not in self.attrs


FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


def parse(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file (CommonMark fences, indented up to 3)."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or (m["fence"][0] == "`" and "`" in m["info"]):
            i += 1
            continue
        start, fence, indent = i, m["fence"], len(m["indent"])
        words = [w for w in re.split(r"[\s,]+", m["info"].strip()) if w]
        body: list[str] = []
        i += 1
        while i < len(lines):
            close = FENCE.match(lines[i])
            if close and close["fence"][0] == fence[0] and len(close["fence"]) >= len(fence) and not close["info"].strip():
                break
            body.append(lines[i][indent:] if lines[i][:indent].isspace() else lines[i])
            i += 1
        i += 1
        lang = ALIASES.get(words[0].lower(), words[0].lower()) if words else ""
        attrs = {w for w in words[1:] if "=" not in w}
        # rustdoc's spelling (```rust,no_run) means the same as ours.
        if "no_run" in attrs or "ignore" in attrs:
            attrs.add("no-run")
        options = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        blocks.append(Block(path, start + 1, lang, attrs, options, "\n".join(body) + "\n"))
    return blocks


# --- the demo servers -----------------------------------------------------------------------


class DemoServers:
    """One loopback demo server per topology, started on first use, stopped at exit."""

    def __init__(self, binary: Path) -> None:
        self.binary = binary
        self.procs: dict[str, tuple[subprocess.Popen[str], str]] = {}

    def url(self, topology: str) -> str:
        if topology not in self.procs:
            proc = subprocess.Popen(
                [str(self.binary), "--port", "0", "--topology", topology, "--exit-on-stdin-eof"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            if not line.startswith("listening on "):
                proc.kill()
                raise SystemExit(f"docs: the demo server ({topology}) did not start: {line!r}")
            self.procs[topology] = (proc, line.removeprefix("listening on "))
        return self.procs[topology][1]

    def stop(self) -> None:
        for proc, _ in self.procs.values():
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


# --- running --------------------------------------------------------------------------------

FAKE_BROWSER = """#!/bin/sh
# Stands in for the user's browser: fetch the authorization URL and follow the demo
# authorization server's immediate redirect to the client's loopback listener.
exec "{python}" - "$1" <<'EOF'
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=60).read()
EOF
"""


class Runner:
    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.python = Path(os.environ.get("DOCS_PYTHON", ROOT / "bindings/python/.venv/bin/python"))
        self.lib_dir = Path(os.environ.get("MCPAUTH_LIB_DIR", ROOT / "target/debug"))
        self.cargo = os.environ.get("CARGO", "cargo")
        self.cc = os.environ.get("CC", "cc")
        server = os.environ.get("MCP_AUTH_DEMO_SERVER", ROOT / "target/debug/mcp-auth-demo-server")
        self.servers = DemoServers(Path(server))
        self.bin = scratch / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        fake = self.bin / "xdg-open"
        fake.write_text(FAKE_BROWSER.format(python=sys.executable))
        fake.chmod(0o755)
        self.count = 0

    def workdir(self, block: Block) -> Path:
        self.count += 1
        d = self.scratch / f"{self.count:03d}-{block.file.stem}-{block.line}"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def env(self, home: Path, url: str) -> dict[str, str]:
        env = dict(os.environ)
        path = [str(self.bin), str(self.python.parent), env.get("PATH", "")]
        env.update(
            PATH=os.pathsep.join(path),
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            MCP_AUTH_HOME=str(home / ".mcp-auth"),
            MCP_SERVER_URL=url,
            PYTHONDONTWRITEBYTECODE="1",
        )
        # The stand-in browser, for whichever way the code under test opens one.
        env["BROWSER"] = str(self.bin / "xdg-open")
        env.pop("VIRTUAL_ENV", None)
        return env

    def run(self, block: Block, argv: list[str], cwd: Path, extra: dict[str, str] | None = None) -> None:
        try:
            p = subprocess.run(
                argv,
                cwd=cwd,
                env=self.env(cwd, block.url) | (extra or {}),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=DEADLINE,
            )
        except subprocess.TimeoutExpired:
            block.ok, block.detail = False, f"no answer within {DEADLINE} s"
            return
        except OSError as e:
            block.ok, block.detail = False, str(e)
            return
        block.ok = p.returncode == 0
        block.detail = (p.stdout + p.stderr).strip() if not block.ok else ""
        if not block.ok:
            block.detail = f"exit status {p.returncode}\n{block.detail}"

    # python ---------------------------------------------------------------------------------
    def python_block(self, block: Block) -> None:
        d = self.workdir(block)
        (d / "snippet.py").write_text(block.code)
        self.run(block, [str(self.python), "snippet.py"], d)

    # shell ----------------------------------------------------------------------------------
    def sh_block(self, block: Block) -> None:
        d = self.workdir(block)
        script = block.code
        if block.lang == "console":
            # `$ ` starts a command; it continues while a line ends with a backslash.
            commands: list[str] = []
            continued = False
            for line in block.code.splitlines():
                if continued or line.startswith("$ "):
                    commands.append(line if continued else line[2:])
                    continued = line.endswith("\\")
            script = "\n".join(commands) + "\n"
        (d / "snippet.sh").write_text(script)
        self.run(block, ["bash", "-euo", "pipefail", "snippet.sh"], d)

    # c --------------------------------------------------------------------------------------
    def c_block(self, block: Block) -> None:
        d = self.workdir(block)
        code = block.code
        if not re.search(r"\bint\s+main\s*\(", code):
            code = (
                "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
                '#include "mcpauth.h"\n\nint main(void) {\n' + code + "    return 0;\n}\n"
            )
        (d / "snippet.c").write_text(code)
        lib = self.lib_dir / "libmcpauth.a"
        argv = [self.cc, "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
                "-I", str(ROOT / "include"), "-o", "snippet", "snippet.c", str(lib), *NATIVE_LIBS]
        self.run(block, argv, d)
        if block.ok and "compile-only" not in block.attrs:
            self.run(block, [str(d / "snippet")], d)

    # js -------------------------------------------------------------------------------------
    def js_block(self, block: Block) -> None:
        d = self.workdir(block)
        pkg = ROOT / "bindings/node"
        manifest = pkg / "package.json"
        if not manifest.exists():
            block.ok, block.detail = False, "bindings/node/package.json not found"
            return
        import json

        name = json.loads(manifest.read_text())["name"]
        link = d / "node_modules" / name
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to(pkg, target_is_directory=True)
        (d / "snippet.mjs").write_text(block.code)
        self.run(block, ["node", "snippet.mjs"], d, {"MCPAUTH_LIB": str(self.lib_dir / "libmcpauth.so")})

    # rust -----------------------------------------------------------------------------------
    def rust_blocks(self, blocks: list[Block]) -> None:
        if not blocks:
            return
        crate = ROOT / "target" / "docs-snippets" / "rust"
        examples = crate / "examples"
        if examples.exists():
            shutil.rmtree(examples)
        examples.mkdir(parents=True)
        # The workspace's library crates a snippet may use, where they exist.
        libraries = {"mcp-auth": "core", "mcp-auth-bridge": "bridge", "mcp-auth-demo-server": "examples/demo-server"}
        deps = "".join(
            f'{name} = {{ path = "{ROOT / path}" }}\n'
            for name, path in libraries.items()
            if (ROOT / path / "Cargo.toml").exists()
        )
        (crate / "Cargo.toml").write_text(
            '[package]\nname = "mcp-auth-docs-snippets"\nversion = "0.0.0"\nedition = "2024"\n'
            f'publish = false\n\n[dependencies]\n{deps}serde_json = "1"\n\n'
            "# Not part of the repository's workspace.\n[workspace]\n"
        )
        (crate / "src").mkdir(exist_ok=True)
        (crate / "src" / "lib.rs").write_text("//! Generated by docs/snippets/run.py.\n")
        shutil.copy(ROOT / "Cargo.lock", crate / "Cargo.lock")
        names = {}
        for b in blocks:
            name = re.sub(r"\W", "_", f"{b.file.stem}_{b.line}").lower()
            names[id(b)] = name
            code = b.code
            if not re.search(r"\bfn\s+main\s*\(", code):
                code = (
                    "fn main() -> Result<(), Box<dyn std::error::Error>> {\n"
                    + code
                    + "    Ok(())\n}\n"
                )
            (examples / f"{name}.rs").write_text(code)
        target = ROOT / "target"
        env = dict(os.environ, CARGO_TARGET_DIR=str(target))
        base = [self.cargo, "build", "-q", "--manifest-path", str(crate / "Cargo.toml")]
        whole = subprocess.run([*base, "--examples"], env=env, capture_output=True, text=True)
        for b in blocks:
            name = names[id(b)]
            if whole.returncode != 0:
                one = subprocess.run([*base, "--example", name], env=env, capture_output=True, text=True)
                if one.returncode != 0:
                    b.ok, b.detail = False, f"does not compile\n{one.stderr.strip()}"
                    continue
            if "compile-only" in b.attrs:
                b.ok = True
                continue
            d = self.workdir(b)
            self.run(b, [str(target / "debug" / "examples" / name)], d)


LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def broken_links(path: Path) -> list[str]:
    """Relative links (outside code blocks) whose file does not exist."""
    text = path.read_text(encoding="utf-8")
    prose = re.sub(r"(?ms)^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[ \t]*$", "", text)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    broken = []
    for m in LINK.finditer(prose):
        target = m["target"].split("#", 1)[0]
        if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue
        if not (path.parent / target).exists():
            broken.append(m["target"])
    return broken


def main(argv: list[str]) -> int:
    listing = "--list" in argv
    keep = "--keep" in argv
    files = [Path(a).resolve() for a in argv if not a.startswith("--")]
    if not files:
        files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bindings/python/README.md"]
    blocks = [b for f in files if f.exists() for b in parse(f)]

    failed: list[Block] = []
    unmarked = [b for b in blocks if not b.lang]
    for b in unmarked:
        b.ok, b.detail = False, "a fence without an info string: say what it is (```text, ```json, ...)"
    if listing:
        for b in blocks:
            kind = "runs" if b.runs else ("no-run" if b.lang in RUNNABLE else "documentation")
            print(f"{b.where:<40} {b.lang or '?':<8} {kind}")
        return 0

    scratch = Path(tempfile.mkdtemp(prefix="mcp-auth-docs-"))
    runner = Runner(scratch)
    try:
        runnable = [b for b in blocks if b.runs]
        for b in runnable:
            b.url = runner.servers.url(b.options.get("topology", "default"))
            b.code = b.code.replace(PLACEHOLDER, b.url)
        runner.rust_blocks([b for b in runnable if b.lang == "rust"])
        for b in runnable:
            {"python": runner.python_block, "sh": runner.sh_block, "console": runner.sh_block,
             "c": runner.c_block, "js": runner.js_block, "rust": lambda _b: None}[b.lang](b)
            print(f"{'ok  ' if b.ok else 'FAIL'} {b.where:<40} {b.lang}", flush=True)
    finally:
        runner.servers.stop()
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"docs: scratch directories kept in {scratch}")

    ran = [b for b in blocks if b.runs]
    failed = [b for b in blocks if b.ok is False]
    for b in failed:
        print(f"\n--- FAIL {b.where} ({b.lang})\n{b.code.rstrip()}\n--- output:\n{b.detail[-4000:]}")
    skipped = sum(1 for b in blocks if b.lang in RUNNABLE and "no-run" in b.attrs)
    shown = len(blocks) - len(ran) - skipped - len(unmarked)
    passed = sum(1 for b in ran if b.ok)
    links = [(f, t) for f in files for t in broken_links(f)]
    for f, target in links:
        print(f"docs: FAIL {f.relative_to(ROOT) if f.is_relative_to(ROOT) else f}: link to a missing file: {target}")
    print(f"\ndocs: {passed} passed, {len(failed) + len(links)} failed "
          f"({skipped} marked no-run, {shown} documentation-only blocks, {len(files)} files)")
    return 1 if failed or links else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
