"""mcp_auth for ``httpx``: ``McpAuth`` is an ``httpx.Auth`` (the same flow as
``mcp_auth.httpx2.McpAuth``)."""

from __future__ import annotations

import httpx

from ._auth import AuthFlow

__all__ = ["McpAuth"]


class McpAuth(AuthFlow, httpx.Auth):
    """``httpx.Auth`` over an ``mcp_auth.Client``."""

    _url_type = httpx.URL
