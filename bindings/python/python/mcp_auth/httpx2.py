"""mcp_auth for ``httpx2``, the HTTP client of the official MCP Python SDK (``mcp`` 2.3).

``McpAuth`` is an ``httpx2.Auth``: give it to the ``httpx2.AsyncClient`` the SDK's
streamable-HTTP transport uses::

    import httpx2
    from mcp.client.streamable_http import streamable_http_client
    from mcp_auth.httpx2 import McpAuth

    auth = McpAuth("https://mcp.example.com/mcp", redirect_handler="browser", storage="file")
    async with httpx2.AsyncClient(auth=auth) as http:
        async with streamable_http_client("https://mcp.example.com/mcp", http_client=http) as (r, w):
            ...

``mcp_auth.sdk.OAuthClientProvider`` is the same with the constructor of the SDK's
``mcp.client.auth.OAuthClientProvider``.
"""

from __future__ import annotations

import httpx2

from ._auth import AuthFlow

__all__ = ["McpAuth"]


class McpAuth(AuthFlow, httpx2.Auth):
    """``httpx2.Auth`` over an ``mcp_auth.Client`` (see ``mcp_auth._auth``)."""

    _url_type = httpx2.URL
