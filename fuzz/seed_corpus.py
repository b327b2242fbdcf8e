#!/usr/bin/env python3
"""Write the seed corpora under fuzz/corpus/<target>/ from the reference vectors
(core/tests/vectors/python-sdk-2.3.0.json) and a few hand-written hostile inputs.

Seeds are named seed-<sha1 prefix>, so running this again is idempotent and never removes
what a fuzzing run added.

    seed_corpus.py [DIR]    write into DIR/<target>/ instead of fuzz/corpus/<target>/

The committed corpora (fuzz/corpus) hold these seeds plus the inputs of fuzzing runs that reach
code the seeds do not (see fuzz/cmin.sh); `make fuzz` writes its new inputs under
fuzz/target/corpus instead. Input layouts (see fuzz/targets.rs): fields are separated by NUL;
response targets take a status byte first (index into [200, 201, 202, 204, 301, 302, 400, 401,
403, 404, 429, 500, 503]), then an optional `Location` and NUL, then the body.
"""

import hashlib
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "core", "tests", "vectors", "python-sdk-2.3.0.json")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
STATUSES = [200, 201, 202, 204, 301, 302, 400, 401, 403, 404, 429, 500, 503]

seeds = {}


def add(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    seeds.setdefault(target, set()).add(data)


def js(v):
    return json.dumps(v, separators=(",", ":"))


def status_byte(status):
    return bytes([STATUSES.index(status)])


def main():
    v = json.load(open(VECTORS))

    # ---- challenge
    for c in v["www_authenticate_extract_field"]["cases"]:
        if c.get("header") is not None:
            add("challenge", c["header"])
    for c in v["extract_resource_metadata_status_gate"]:
        if c.get("header"):
            add("challenge", c["header"])
    for h in [
        'Bearer realm="mcp", error="invalid_token", error_description="The access token expired", '
        'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp", '
        'scope="files:read files:write"',
        'Bearer error="insufficient_scope", scope="mcp:basic mcp:write"',
        'Basic realm="x", Bearer scope="a", DPoP algs="ES256"',
        'Negotiate abc==, Bearer resource_metadata=https://a.example/prm',
        'Bearer scope="a \\"b\\" c", error_description="bad scope=foo"',
        'Bearer scope="unterminated',
        ', , Bearer , scope = "x" ,',
        'Bearer error_description="caf\u00e9 \u00ff"',
        'Bearer realm="a"\nscope="b"\nDPoP error="x"',
        'Bearer scope=""',
        'scope="orphan", Bearer realm="r"',
        'Bearer Scope="x", SCOPE="y", resource_metadata="u"',
    ]:
        add("challenge", h)
    add("challenge", b'Bearer error_description="\xe9\xff\x80", scope="s"')

    # ---- JSON models
    for c in v["OAuthToken_parse"]:
        add("json_token", js(c["input"]))
    for c in v["OAuthMetadata_parse"]:
        add("json_as_metadata", js(c["input"]))
    for c in v["asm_response_status_handling"]:
        if c.get("body"):
            add("json_as_metadata", c["body"])
    for c in v["ProtectedResourceMetadata_parse"]:
        add("json_prm", c["input_raw"] if "input_raw" in c else js(c["input"]))
    for c in v["OAuthClientMetadata_and_DCR_body"]["cases"]:
        add("json_client_metadata", js(c["input"]))
    for c in v["OAuthClientInformationFull_parse"]:
        add("json_client_info", js(c["input"]))
    for c in v["prepare_token_auth"]["cases"]:
        add("json_client_info", js(c["client_info"]))
    for t in [
        {"access_token": "a\r\nX-Injected: 1", "token_type": "Bearer"},
        {"access_token": "a", "token_type": "mac"},
        {"access_token": "a", "token_type": "DPoP", "expires_in": "3600.0"},
        {"access_token": "a", "expires_in": -5, "refresh_token": "r", "id_token": "x.y.z"},
        {"token_type": "bearer"},
    ]:
        add("json_token", js(t))
    add("json_as_metadata", js({
        "issuer": "https://AS.example.com:443",
        "authorization_endpoint": "https://as.example.com/./a/../authorize",
        "token_endpoint": "https://as.example.com/token\r\n",
        "registration_endpoint": "",
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": "true",
        "client_id_metadata_document_supported": 1,
        "response_types_supported": None,
    }))
    add("json_prm", js({
        "resource": "https://api.example.com/mcp",
        "authorization_servers": ["http://evil.example", "https://xn--bcher-kva.de"],
        "bearer_methods_supported": None,
        "scopes_supported": ["mcp:read"],
    }))

    # ---- responses
    for c in v["registration_response"]:
        add("registration_response", status_byte(c["status"]) + c["body"].encode())
    for c in v["OAuthToken_parse"]:
        add("token_response", status_byte(200) + js(c["input"]).encode())
    for status, body in [
        (400, '{"error":"invalid_grant","error_description":"refresh token already used"}'),
        (401, '{"error":"invalid_client"}'),
        (500, "<!DOCTYPE html><html><body><h1>Error 500</h1></body></html>"),
        (200, '{"issuer": "http://127.0.0.1", oops not json'),
        (200, '{"access_token": null, "token_type": "Bearer"}'),
        (201, '{"access_token": "x", "token_type": "mac"}'),
    ]:
        add("token_response", status_byte(status) + body.encode())
    add("token_response", status_byte(302) + b"https://u:p@evil.example/steal?code=abc\x00")
    add("registration_response",
        status_byte(302) + b"https://evil.example/r?x=1\x00" + b'{"client_id":"x"}')
    add("registration_response", status_byte(201) + b'{"client_secret":"s","issuer":"https://x"}')

    # ---- URL builders
    for c in v["prm_discovery_urls"]:
        add("discovery_urls", (c.get("www_auth_url") or "") + "\0" + c["server_url"])
    for c in v["asm_discovery_urls"]:
        add("discovery_urls", (c.get("auth_server_url") or "") + "\0" + c["server_url"])
    for a, b in [
        ("", "https://evil.com\\@good.com/mcp"),
        ("https://as.example.com//x/../..", "https://[::1]:8443/v1/mcp/;p?q#f"),
        ("HTTPS://User:Pw@As.Example.COM:443/tenant/", "\t https://a.example/\r\nmcp"),
        ("https://[::1/x", "https:///x"),
    ]:
        add("discovery_urls", a + "\0" + b)
    for f in [
        ["https://as.example.com/authorize", "cid-123", "http://localhost:3030/callback",
         "https://api.example.com/mcp", "files:read offline_access"],
        ["https://as.example.com/authorize?client_id=evil&state=x", "c", "http://localhost/cb",
         "", ""],
        ["https://as.example.com/a?x=1#frag", "c&d=e", "myapp:/cb", "r#x", "a+b %20"],
        ["not a url", "c", "r"],
    ]:
        add("authorization_url", "\0".join(f))

    # ---- redirect
    for loc in [
        "http://localhost:3000/callback?code=abc&state=xyz&iss=https%3A%2F%2Fas.example.com",
        "http://localhost:3000/callback?code=a&code=b&state=s",
        "http://localhost:3000/callback?error=access_denied&error_description=no&state=s",
        "http://localhost:3000/callback?state=s",
        "http://localhost:3000/callback?code=&state=s",
        "http://localhost:3000/callback#code=frag&state=s",
        "http://localhost:3000/callbackx?code=a",
        "https://login.example.com/?code=a&state=s",
        "code=a&state=s&iss=x&iss=y",
        "http://localhost:3000/callback?code=%E9&state=%00",
    ]:
        add("redirect_location", loc)

    # ---- URL hygiene
    for c in v["check_resource_allowed"]:
        add("url_hygiene", c["requested"] + "\0" + c["configured"])
    for c in v["resource_url_from_server_url"]:
        add("url_hygiene", (c["url"] or "") + "\0")
    for c in v["is_valid_client_metadata_url"]:
        add("url_hygiene", (c["url"] or "") + "\0")
    for c in v["issuers_match"]:
        add("url_hygiene", c["a"] + "\0" + c["b"])
    add("url_hygiene", "https://user:pw@as.example.com:8443/cb?code=SECRET#frag\0http://u@[::1]:1?x@y")

    # ---- host JSON
    for o in [
        {"server_url": "https://mcp.example.com/mcp", "client_name": "h", "scope": "a",
         "client_id": "id", "client_secret": "s", "token_endpoint_auth_method": "client_secret_basic",
         "timeout_ms": 30000, "storage": {"type": "memory"}, "redirect": {"type": "headless"}},
        {"server_url": "http://127.0.0.1:1/mcp", "grant": "client_credentials", "client_id": "x"},
        {"server_url": "https://a/mcp", "private_key_pem": "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----",
         "signing_algorithm": "ES256", "client_id": "k"},
        {"server_url": "https://a/mcp", "unknown": 1},
    ]:
        add("host_json", js(o) + "\0" + js({"resource_metadata_url": "https://proxy.example/prm"}))
    add("host_json", js([["WWW-Authenticate", 'Bearer resource_metadata="https://u/prm"'],
                         ["Access-Control-Expose-Headers", "x"]]) + "\0" + js({"cors": {}}))

    out = sys.argv[1] if len(sys.argv) > 1 else CORPUS
    total = 0
    for target, items in sorted(seeds.items()):
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for data in sorted(items):
            name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
            total += 1
    print(f"{total} seeds in {len(seeds)} targets", file=sys.stderr)


if __name__ == "__main__":
    main()
