"""Calling the local stack over HTTP, with every answer counted and checked for server errors.

`Wire` is a requests session (loopback only, a timeout on every request) that records each
answer in the figures and keeps every 5xx other than 503 and every answer that looks like a
stack trace, for the tests to assert on. The callers are tests/support/local_stack.py's
`Portal` (a seller's ID token) and `Warehouse` (SigV4), speaking through a `Wire`.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import jwt
import requests
from botocore.credentials import Credentials

from infra.local.callers import sigv4_headers
from tests.hardening.figures import FIGURES
from tests.support.local_auth import moto_pool_key
from tests.support.local_stack import Portal, Warehouse, new_seller

TIMEOUT = 10
# What would give away a stack trace or the code's internals in an answer.
LEAKS = ("Traceback", 'File "/', "botocore", "pydantic_core", "site-packages")


class Wire(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # loopback only, whatever proxy the environment names
        self._lock = threading.Lock()
        self.server_errors: list[str] = []
        self.leaks: list[str] = []
        self.answers = 0

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", TIMEOUT)
        answer = super().request(method, url, *args, **kwargs)
        self.record(method, url, answer)
        return answer

    def record(self, method: str, url: str, answer: requests.Response) -> None:
        text = answer.text
        with self._lock:
            self.answers += 1
            FIGURES.add("http_requests")
            if answer.status_code >= 500 and answer.status_code != 503:
                FIGURES.add("server_errors")
                self.server_errors.append(f"{method} {url} -> {answer.status_code} {text[:300]}")
            if any(leak in text for leak in LEAKS):
                FIGURES.add("stack_traces")
                self.leaks.append(f"{method} {url} -> {answer.status_code} {text[:300]}")

    def assert_clean(self) -> None:
        assert self.server_errors == [], self.server_errors[:5]
        assert self.leaks == [], self.leaks[:5]


def seller(api_url: str, wire: Wire, seller_id: str | None = None) -> Portal:
    """A seller of this test alone, whose requests go through `wire`."""
    return Portal(api_url, seller_id or new_seller(), http=wire)


def warehouse(api_url: str, wire: Wire) -> Warehouse:
    return Warehouse(api_url, http=wire)


class SigV4(requests.auth.AuthBase):
    """requests' auth hook that signs the request exactly as it will be sent (body and query included)."""

    def __init__(self, credentials: Credentials, region: str):
        self.credentials = credentials
        self.region = region

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
        keep = {name: value for name, value in prepared.headers.items() if name.lower() in ("content-type",)}
        signed = sigv4_headers(self.credentials, self.region, prepared.method or "GET", prepared.url or "", body, keep)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in signed:
                prepared.headers[name] = signed[name]
            else:
                prepared.headers.pop(name, None)
        return prepared


def token_like(real: str, key: Any, kid: str | None = None, **changes: Any) -> str:
    """A token with the claims of `real`, some changed, signed with `key` (and the same key id)."""
    claims = {**jwt.decode(real, options={"verify_signature": False}), **changes}
    kid = kid or jwt.get_unverified_header(real)["kid"]
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def expired(real: str) -> str:
    """The same token, as the pool would have signed it two hours ago: expired an hour ago."""
    now = int(time.time())
    return token_like(real, moto_pool_key(), iat=now - 7200, auth_time=now - 7200, exp=now - 3600)


def forged(real: str) -> str:
    """The same claims, signed with a key that is not the pool's, under the pool key's id."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return token_like(real, rsa.generate_private_key(public_exponent=65537, key_size=2048))


def body_bytes(body: Any) -> bytes | None:
    return None if body is None else json.dumps(body).encode()
