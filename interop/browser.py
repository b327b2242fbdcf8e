#!/usr/bin/env python3
"""The interop suite's user: the `$BROWSER` the library launches with the authorization URL.

It does what a person does in a browser, over HTTP: opens the URL (keeping cookies), fills
oidc-provider's login form (any login and password), presses "Continue" on the consent page,
and follows the final redirect to the host's loopback redirect URI, so the loopback-browser
path (RFC 8252) runs for real. Each page it saw goes to $INTEROP_BROWSER_LOG (one JSON line).
Runs in the background (the launcher must return at once) and exits when done.
"""

from __future__ import annotations

import html
import http.cookiejar
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

FORM = re.compile(r'<form([^>]*)>(.*?)</form>', re.S)
INPUT = re.compile(r"<input[^>]*>")
ATTR = re.compile(r'(\w+)="([^"]*)"')


def note(record: dict[str, object]) -> None:
    path = os.environ.get("INTEROP_BROWSER_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")


def user(url: str) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    response = opener.open(url, timeout=30)
    for _ in range(6):  # device flow: code, confirm, login, consent
        page = response.read().decode("utf-8", "replace")
        note({"page": response.geturl(), "status": response.status})
        # The first POST form, its attributes in any order (oidc-provider's device pages put
        # `method` first).
        form = next((f for f in FORM.finditer(page) if 'method="post"' in f.group(1)), None)
        if form is None:
            return  # the loopback listener's page: the redirect was delivered
        action = urllib.parse.urljoin(response.geturl(), html.unescape(dict(ATTR.findall(form.group(1)))["action"]))
        fields = {}
        for tag in INPUT.findall(form.group(2)):
            attrs = dict(ATTR.findall(tag))
            if "name" in attrs:
                fields[attrs["name"]] = html.unescape(attrs.get("value", ""))
        if fields.get("prompt") == "login":
            fields.update(login="interop-user", password="any")
        note({"submit": fields.get("prompt"), "action": action})
        response = opener.open(action, urllib.parse.urlencode(fields).encode(), timeout=30)
    raise SystemExit("browser: too many pages")


def main() -> None:
    url = sys.argv[-1]
    if os.environ.get("INTEROP_BROWSER_FOREGROUND") != "1" and os.fork() != 0:
        return  # the launcher returns at once, like a real browser's
    try:
        user(url)
    except (urllib.error.URLError, OSError, SystemExit) as e:
        note({"error": str(e)})
        os._exit(1)
    os._exit(0)


if __name__ == "__main__":
    main()
