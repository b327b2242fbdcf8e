"""Storage objects: the shapes the client accepts, adapted to the core's keyed interface.

The core keys tokens by protected resource (the server's canonical URL) and client
registrations by authorization server issuer (SEP-2352). A storage object may offer either:

- the **keyed** methods ``get_tokens(resource)``, ``set_tokens(resource, tokens)``,
  ``remove_tokens(resource)``, ``get_client_info(issuer)``, ``set_client_info(issuer, info)``;
- or the reference SDK's **unkeyed** ``TokenStorage`` protocol: ``get_tokens()``,
  ``set_tokens(tokens)``, ``get_client_info()``, ``set_client_info(info)`` (one server per
  storage object), optionally ``remove_tokens()``.

Which one is decided per method by its signature. Methods may be ``async`` (as in the reference
protocol). ``get_*`` may return this package's models, dicts, JSON text or pydantic models;
``set_*`` receive this package's models (which also offer pydantic's ``model_dump`` and
``model_dump_json``).

**The refresh lease** (optional, docs/fleet.md): a storage object shared by several processes
may add ``acquire_lease(key, owner, ttl)`` and ``release_lease(key, owner)``. The client then
refreshes a token once per expiry across all of them: it takes the lease for the resource
(``key``; ``owner`` is a random string unique to this acquisition; ``ttl`` in seconds), re-reads
the stored token, adopts it if another process already refreshed, and otherwise refreshes,
stores and releases. ``acquire_lease`` returns once the lease is held and raises when it cannot
be taken (after waiting about ``ttl`` for another holder); the lease must end by itself (a
deadline of ``ttl``, or the holder's death for an OS lock such as ``fcntl.flock``).
``release_lease`` releases it only if ``owner`` still holds it. Without these methods the
storage keeps the in-process behaviour: the threads of one client refresh once, but two
processes whose tokens expire together may both refresh.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ._compat import resolve
from ._native import OAuthClientInformationFull, OAuthToken

__all__ = ["KeyedTokenStorage", "TokenStorage", "MemoryStorage", "adapt_storage"]


@runtime_checkable
class KeyedTokenStorage(Protocol):
    """Storage keyed like the core: tokens per resource, registrations per issuer."""

    def get_tokens(self, resource: str) -> OAuthToken | None: ...
    def set_tokens(self, resource: str, tokens: OAuthToken) -> None: ...
    def remove_tokens(self, resource: str) -> None: ...
    def get_client_info(self, issuer: str) -> OAuthClientInformationFull | None: ...
    def set_client_info(self, issuer: str, info: OAuthClientInformationFull) -> None: ...


@runtime_checkable
class TokenStorage(Protocol):
    """The reference SDK's protocol (one server per object; the methods may be async)."""

    def get_tokens(self) -> Any: ...
    def set_tokens(self, tokens: OAuthToken) -> Any: ...
    def get_client_info(self) -> Any: ...
    def set_client_info(self, client_info: OAuthClientInformationFull) -> Any: ...


class MemoryStorage:
    """A keyed in-memory storage (the default is the core's own; this one is inspectable)."""

    def __init__(self) -> None:
        self.tokens: dict[str, OAuthToken] = {}
        self.clients: dict[str, OAuthClientInformationFull] = {}

    def get_tokens(self, resource: str) -> OAuthToken | None:
        return self.tokens.get(resource)

    def set_tokens(self, resource: str, tokens: OAuthToken) -> None:
        self.tokens[resource] = tokens

    def remove_tokens(self, resource: str) -> None:
        self.tokens.pop(resource, None)

    def get_client_info(self, issuer: str) -> OAuthClientInformationFull | None:
        return self.clients.get(issuer)

    def set_client_info(self, issuer: str, info: OAuthClientInformationFull) -> None:
        self.clients[issuer] = info

    def remove_client_info(self, issuer: str) -> None:
        self.clients.pop(issuer, None)


def _positional_arity(method: Any) -> int:
    """How many positional arguments a bound method takes (a large number for ``*args``)."""
    import inspect

    try:
        sig = inspect.signature(method)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return 1
    n = 0
    for p in sig.parameters.values():
        if p.kind == p.VAR_POSITIONAL:
            return 99
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            n += 1
    return n


class _Adapted:
    """The keyed, synchronous view of a storage object, called by the core."""

    def __init__(self, storage: Any) -> None:
        self.storage = storage
        for name in ("get_tokens", "set_tokens", "get_client_info", "set_client_info"):
            if not callable(getattr(storage, name, None)):
                raise TypeError(
                    f"storage object {type(storage).__name__} has no {name}() method "
                    "(see mcp_auth.TokenStorage and mcp_auth.KeyedTokenStorage)"
                )
        self._keyed_get_tokens = _positional_arity(storage.get_tokens) >= 1
        self._keyed_set_tokens = _positional_arity(storage.set_tokens) >= 2
        self._keyed_get_client = _positional_arity(storage.get_client_info) >= 1
        self._keyed_set_client = _positional_arity(storage.set_client_info) >= 2

    def get_tokens(self, resource: str) -> Any:
        s = self.storage
        return resolve(s.get_tokens(resource) if self._keyed_get_tokens else s.get_tokens())

    def set_tokens(self, resource: str, tokens: OAuthToken) -> None:
        s = self.storage
        resolve(s.set_tokens(resource, tokens) if self._keyed_set_tokens else s.set_tokens(tokens))

    def remove_tokens(self, resource: str) -> None:
        s = self.storage
        for name in ("remove_tokens", "delete_tokens", "clear_tokens"):
            method = getattr(s, name, None)
            if callable(method):
                resolve(method(resource) if _positional_arity(method) >= 1 else method())
                return
        raise TypeError(
            f"storage object {type(s).__name__} cannot forget tokens: add remove_tokens()"
        )

    def get_client_info(self, issuer: str) -> Any:
        s = self.storage
        return resolve(s.get_client_info(issuer) if self._keyed_get_client else s.get_client_info())

    def set_client_info(self, issuer: str, info: OAuthClientInformationFull) -> None:
        s = self.storage
        resolve(s.set_client_info(issuer, info) if self._keyed_set_client else s.set_client_info(info))

    def acquire_lease(self, key: str, owner: str, ttl: float) -> bool:
        """``True`` once the storage's lease is held; ``False`` when it has none."""
        method = getattr(self.storage, "acquire_lease", None)
        if not callable(method):
            return False
        resolve(method(key, owner, ttl))
        return True

    def release_lease(self, key: str, owner: str) -> None:
        method = getattr(self.storage, "release_lease", None)
        if callable(method):
            resolve(method(key, owner))

    def remove_client_info(self, issuer: str) -> bool:
        """Whether the object could forget it (False: it has no such method; the core then
        reports a storage error for an explicit `forget_client`, and only notes it in the trace
        when it forgets a registration the server refused as unknown)."""
        s = self.storage
        for name in ("remove_client_info", "delete_client_info", "clear_client_info"):
            method = getattr(s, name, None)
            if callable(method):
                resolve(method(issuer) if _positional_arity(method) >= 1 else method())
                return True
        return False


def adapt_storage(storage: Any) -> _Adapted:
    """The keyed synchronous view of ``storage`` (see the module docs for the shapes)."""
    return _Adapted(storage)
