"""Pure-function benchmark, same sitting: the reference (pip `mcp` 2.3.0) and `mcp_auth` (the
Python binding), same inputs (core/benches/fixtures, byte-identical to the reference's own
benchmark), same timer as the reference's python_sdk_bench.py (best-of-N repeats, median
reported). Prints one JSON document.

Usage: python bench/py/pure.py [--quick] [--only ref|binding]
"""

import json
import os
import statistics
import sys
import time
import warnings

warnings.simplefilter("ignore")
QUICK = "--quick" in sys.argv
ONLY = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
FIX = os.path.join(os.path.dirname(__file__), "..", "..", "core", "benches", "fixtures")
WWW_AUTH = open(os.path.join(FIX, "www_authenticate.txt")).read().strip()
ASM_JSON = open(os.path.join(FIX, "asm.json"), "rb").read()
PRM_JSON = open(os.path.join(FIX, "prm.json"), "rb").read()
TOKEN_JSON = open(os.path.join(FIX, "token.json"), "rb").read()
MULTI = (
    'DPoP algs="ES256 RS256", error="invalid_token", Basic realm="legacy", '
    'Bearer realm="mcp", error="insufficient_scope", scope="files:read files:write", '
    'resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"'
)
SERVER = "https://mcp.example.com/mcp"
HDR_URL = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"


def bench(fn, target_s=0.1, repeats=5):
    if QUICK:
        target_s, repeats = 0.05, 3
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt > 0.02:
            break
        n *= 2
    iters = max(1, int(n * target_s / dt))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        samples.append((time.perf_counter() - t0) / iters * 1e9)
    return statistics.median(samples)


def cases(mod, models, header_arg):
    prm = models.ProtectedResourceMetadata.model_validate_json(PRM_JSON)
    asm = models.OAuthMetadata.model_validate_json(ASM_JSON)
    grants = ["authorization_code", "refresh_token"]
    h = header_arg(WWW_AUTH)
    hm = header_arg(MULTI)
    return [
        ("header: resource_metadata + scope + error (3 fields)",
         lambda: (mod.extract_field_from_www_auth(h, "resource_metadata"), mod.extract_field_from_www_auth(h, "scope"),
                  mod.extract_field_from_www_auth(h, "error"))),
        ("header: extract scope (1 field)", lambda: mod.extract_field_from_www_auth(h, "scope")),
        ("header: multi-challenge, resource_metadata", lambda: mod.extract_field_from_www_auth(hm, "resource_metadata")),
        ("PRM URLs (header URL, 3)", lambda: mod.build_protected_resource_metadata_discovery_urls(HDR_URL, SERVER)),
        ("PRM URLs (no header, 2)", lambda: mod.build_protected_resource_metadata_discovery_urls(None, SERVER)),
        ("AS URLs (issuer /tenant1, 3)",
         lambda: mod.build_oauth_authorization_server_metadata_discovery_urls("https://auth.example.com/tenant1", SERVER)),
        ("AS URLs (root issuer, 2)",
         lambda: mod.build_oauth_authorization_server_metadata_discovery_urls("https://auth.example.com", SERVER)),
        ("scope select (PRM scopes + offline_access)", lambda: mod.get_client_metadata_scopes(None, prm, asm, grants)),
        ("scope select (challenge scope)",
         lambda: mod.get_client_metadata_scopes("files:read files:write", prm, asm, grants)),
        ("scope union", lambda: mod.union_scopes("files:read offline_access", "files:write files:read")),
        (f"AS metadata JSON ({len(ASM_JSON)} B)", lambda: models.OAuthMetadata.model_validate_json(ASM_JSON)),
        (f"PRM JSON ({len(PRM_JSON)} B)", lambda: models.ProtectedResourceMetadata.model_validate_json(PRM_JSON)),
        (f"token JSON ({len(TOKEN_JSON)} B)", lambda: models.OAuthToken.model_validate_json(TOKEN_JSON)),
    ]


def main():
    out = {}
    if ONLY in (None, "ref"):
        import httpx2
        from mcp.client.auth import utils as ref
        from mcp.shared import auth as ref_models

        out["reference"] = {
            name: bench(fn)
            for name, fn in cases(ref, ref_models, lambda v: httpx2.Response(401, headers={"WWW-Authenticate": v}))
        }
    if ONLY in (None, "binding"):
        import mcp_auth

        out["binding"] = {name: bench(fn) for name, fn in cases(mcp_auth, mcp_auth, lambda v: v)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
