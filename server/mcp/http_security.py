"""HTTP access control: bearer token, Host/Origin checks (DNS rebinding), body size bound."""
from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.transport_security import TransportSecuritySettings

__all__ = ["StaticTokenVerifier", "auth_settings", "http_options", "url_host", "MAX_BODY_BYTES"]

MAX_BODY_BYTES = 1_000_000


class StaticTokenVerifier:
    """Accepts exactly one shared bearer token, compared in constant time."""

    def __init__(self, token: str) -> None:
        if len(token) < 16:
            raise ValueError("the bearer token must be at least 16 characters; generate one with `openssl rand -hex 24`")
        self._token = token

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token.encode(), self._token.encode()):
            return AccessToken(token=token, client_id="readtrail-client", scopes=["read"])
        return None


def url_host(host: str) -> str:
    """A host as it appears in a URL: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def auth_settings(host: str, port: int) -> AuthSettings:
    url = f"http://{url_host(host)}:{port}"
    # One shared secret, no authorization server: a token carries no audience to check.
    return AuthSettings(issuer_url=url, resource_server_url=f"{url}/mcp", required_scopes=["read"],
                        validate_token_resource=False)


def http_options(host: str, port: int, allowed_hosts: Iterable[str] = ()) -> dict[str, Any]:
    """Arguments for MCPServer.run(transport='streamable-http'). Host/Origin are always checked:
    loopback names by default, plus `allowed_hosts` (Settings.allowed_hosts)."""
    names = {"127.0.0.1", "localhost", "[::1]", url_host(host)}
    names.update(allowed_hosts)
    hosts = sorted({f"{n}:{port}" for n in names} | set(names))
    origins = sorted({f"http://{n}:{port}" for n in names} | {f"https://{n}:{port}" for n in names})
    security = TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)
    return {
        "host": host, "port": port, "streamable_http_path": "/mcp",
        "transport_security": security, "max_request_body_size": MAX_BODY_BYTES,
    }
