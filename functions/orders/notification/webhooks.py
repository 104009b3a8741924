"""Sellers' webhook endpoints (docs/api.md §7): which URLs may be called, the signature, and the call.

A URL is checked when a channel is registered and again before every delivery, since DNS can
change: deployed, only `https://`, no user info, at most 2,048 characters, and a host whose every
address is globally reachable by IANA's special-purpose registries (addresses.py: no loopback,
private, link-local, unique-local, multicast, reserved, documentation or cloud metadata address,
in any spelling: the addresses are the resolver's, and IPv4-mapped, NAT64 and 6to4 IPv6 addresses
are judged by the IPv4 address inside). The call (client.py) then goes to the very address that
was checked (the TLS name is still the URL's host), within a hard deadline of 5 s on the whole
call (the name lookup before it has 5 s of its own), follows no redirect, and reads at most 4 KiB of the answer.

Locally (settings.allow_local_webhooks) `http://localhost` and `http://127.0.0.1` are allowed too.
"""

from __future__ import annotations

import hashlib
import hmac
import queue
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from orders.notification import addresses
from orders.notification.client import DEADLINE_SECONDS, Answer, Target, post

__all__ = ["Answer", "Target", "UnsafeUrl", "check", "is_public", "post", "resolve", "signature"]

MAX_URL_LENGTH = 2048
# getaddrinfo has no timeout of its own: a seller's name server that never answers held a delivery 9 s
# and more (the resolver's own retries), outside the POST's deadline. A lookup gets as long as a POST.
RESOLVE_SECONDS = DEADLINE_SECONDS
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})

Resolver = Callable[[str, int], Iterable[str]]


class UnsafeUrl(ValueError):
    """A URL the service will not call; the message says why, in words for the seller."""


def resolve(host: str, port: int, *, within: float = RESOLVE_SECONDS) -> list[str]:
    """Every address the system resolver gives for `host` (numeric spellings included: 2130706433, 0x7f.1),
    within `within` seconds: the lookup runs on a thread of its own, left to finish alone when it is late."""
    answers: queue.SimpleQueue[list[Any] | Exception] = queue.SimpleQueue()

    def lookup() -> None:
        try:
            answers.put(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (socket.gaierror, UnicodeError, OSError) as error:
            answers.put(error)

    threading.Thread(target=lookup, name="resolve", daemon=True).start()
    try:
        found = answers.get(timeout=within)
    except queue.Empty:
        raise UnsafeUrl(f"the host {host} did not resolve within {within:g} s") from None
    if isinstance(found, Exception):
        raise UnsafeUrl(f"the host {host} does not resolve") from found
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def is_public(address: str) -> bool:
    """Whether an address is one the internet routes to anybody (not this machine's, a network's or a cloud's)."""
    return addresses.judge(address).allowed


def check(url: str, *, allow_local: bool = False, resolver: Resolver | None = None) -> Target:
    """The target of a URL the rules allow; UnsafeUrl saying why otherwise. `resolver`: `resolve` unless given."""
    parts, port = _split(url)
    host = (parts.hostname or "").lower()
    local = allow_local and host in LOCAL_HOSTS
    if parts.scheme != "https" and not (local and parts.scheme == "http"):
        allowed = (
            "https:// (or, on the local stack, http://localhost and http://127.0.0.1)" if allow_local else "https://"
        )
        raise UnsafeUrl(f"the URL must start with {allowed}")
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if local:
        return Target(parts.scheme, host, port, path, "127.0.0.1")
    found = list((resolver or resolve)(host, port))
    if not found:
        raise UnsafeUrl(f"the host {host} does not resolve")
    for address in found:
        verdict = addresses.judge(address)
        if not verdict.allowed:
            raise UnsafeUrl(f"the host {host} resolves to {address}, which is not a public address ({verdict.why})")
    return Target(parts.scheme, host, port, path, found[0])


def _split(url: str) -> tuple[urllib.parse.SplitResult, int | None]:
    """The URL's parts and port, once it is plain ASCII of a sane length with a host and nothing hidden."""
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"the URL must be at most {MAX_URL_LENGTH} characters")
    if any(ord(character) < 0x21 or ord(character) == 0x7F for character in url) or not url.isascii():
        raise UnsafeUrl("the URL must be ASCII with no spaces or control characters (percent-encode the rest)")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeUrl(f"the URL is malformed ({error})") from error
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeUrl("the URL must not carry user info (user:password@)")
    if not parts.hostname:
        raise UnsafeUrl("the URL has no host")
    if port == 0:  # else read as "no port": the call would go to 443 where the URL says 0
        raise UnsafeUrl("the URL's port must be 1 to 65535")
    if parts.fragment:
        raise UnsafeUrl("the URL must not have a fragment (#...)")
    return parts, port


# -- the signature ------------------------------------------------------------------------------


def signature(secret: str, body: bytes, at: int | None = None) -> str:
    """`X-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`."""
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
