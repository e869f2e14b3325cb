"""HTTP settings for every loopback form, IPv6 included (it was not bracketed in the auth URL)."""
from __future__ import annotations

from pathlib import Path

from server.corpus import Corpus
from server.mcp import create_server
from server.mcp.http_security import auth_settings, http_options, url_host
from tests.conftest import make_services

TOKEN = "s3cret-token-for-tests-0123456789"


def test_ipv6_hosts_are_bracketed_in_urls() -> None:
    assert url_host("::1") == "[::1]" and url_host("127.0.0.1") == "127.0.0.1" and url_host("[::1]") == "[::1]"
    assert str(auth_settings("::1", 8765).issuer_url).startswith("http://[::1]:8765")


def test_a_token_server_on_ipv6_loopback_builds(tiny_corpus: Corpus, tmp_path: Path) -> None:
    server = create_server(make_services(tiny_corpus, tmp_path), token=TOKEN, host="::1", port=8765)
    assert server is not None
    options = http_options("::1", 8765, ["rt.internal"])
    hosts = options["transport_security"].allowed_hosts
    assert "[::1]:8765" in hosts and "rt.internal:8765" in hosts
