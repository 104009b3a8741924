"""The local stack's two kinds of callers, over HTTP: a seller in the portal and the warehouse system.

`Portal` sends the raw ID token that /_local/tokens hands out, as the browser does; `Warehouse`
signs with SigV4 (service execute-api, botocore) using the credentials of
/_local/warehouse-credentials. The demo seeding, the end-to-end tests, the hardening suite and the
bench all call the stack through these, and `sigv4_headers` is the one signer they share.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TIMEOUT = 10


def session() -> requests.Session:
    http = requests.Session()
    http.trust_env = False  # loopback only, whatever proxy the environment names
    return http


def sigv4_headers(
    credentials: Credentials,
    region: str,
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    """The headers of `method url` with `body`, signed as the warehouse signs (service execute-api)."""
    request = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers or {}))
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return dict(request.headers)


class Portal:
    """A seller in the portal: every request carries the raw ID token, as the browser sends it."""

    def __init__(self, api_url: str, seller_id: str, http: requests.Session | None = None):
        self.api_url = api_url
        self.seller_id = seller_id
        self.http = http or session()
        answer = self.http.post(f"{api_url}/_local/tokens", json={"seller_id": seller_id}, timeout=TIMEOUT)
        answer.raise_for_status()
        self.token = answer.json()["id_token"]

    def request(self, method: str, path: str, body: Any = None, **headers: str) -> requests.Response:
        headers = {"Authorization": self.token, **headers}
        return self.http.request(method, f"{self.api_url}{path}", json=body, headers=headers, timeout=TIMEOUT)


class Warehouse:
    """The warehouse system: SigV4 (service execute-api) with the credentials the stack hands out."""

    def __init__(
        self,
        api_url: str,
        credentials: Credentials | None = None,
        region: str | None = None,
        http: requests.Session | None = None,
    ):
        self.api_url = api_url
        self.http = http or session()
        if credentials is None:
            issued = self.http.post(f"{api_url}/_local/warehouse-credentials", timeout=TIMEOUT).json()
            credentials = Credentials(issued["access_key_id"], issued["secret_access_key"])
            region = issued["region"]
        self.credentials = credentials
        self.region = region or "eu-west-2"

    def signed(self, path: str, body: Any, **headers: str) -> tuple[str, bytes, dict[str, str]]:
        """The URL, body and headers of a signed POST, to send as they are or to tamper with."""
        url, data = f"{self.api_url}{path}", json.dumps(body).encode()
        signed = sigv4_headers(
            self.credentials, self.region, "POST", url, data, {"Content-Type": "application/json", **headers}
        )
        return url, data, signed

    def post(self, path: str, body: Any) -> requests.Response:
        url, data, headers = self.signed(path, body)
        return self.http.post(url, data=data, headers=headers, timeout=TIMEOUT)

    def get(self, path: str) -> requests.Response:
        """A signed GET of `path` (its query string included, as sent)."""
        url = f"{self.api_url}{path}"
        headers = sigv4_headers(self.credentials, self.region, "GET", url, None)
        return self.http.get(url, headers=headers, timeout=TIMEOUT)

    def request(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.get(path) if method == "GET" else self.post(path, body)

    def move(self, order_id: str, status: str) -> requests.Response:
        return self.post(f"/warehouse/orders/{order_id}/status", {"status": status})

    def decide(self, order_id: str, decision: str, reason_code: str | None = None) -> requests.Response:
        body = {"decision": decision, **({"reason_code": reason_code} if reason_code else {})}
        return self.post(f"/warehouse/orders/{order_id}/cancellation-decision", body)
