"""One webhook POST against receivers on loopback (docs/api.md §7): 5 s at most, whatever the receiver does.

The deadline is on the whole call (connect, TLS, sending, the status line, the headers, the body read),
not on each read: a receiver that trickles its answer a byte at a time is cut off at the deadline and
the delivery is a failure, retried later, never "delivered". Each phase is held up in turn, with a
deadline of a second so that the file stays quick; the trickle runs against the real 5 s.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from infra.local.webhook_receiver import Receiver, SlowReceiver
from orders.notification import client, webhooks
from orders.notification.client import DEADLINE_SECONDS, Target
from orders.notification.webhooks import post

BODY = b'{"event_id":"ord_x:2"}'
HEADERS = {"X-Event-Id": "ord_x:2", "X-Event-Type": "ORDER_CANCELLED", "X-Signature": "t=1,v1=00"}
SHORT = 1.0  # the deadline of the tests of each phase


def target(port: int, *, scheme: str = "http", host: str = "127.0.0.1", path: str = "/hook") -> Target:
    return Target(scheme, host, port, path, "127.0.0.1")


def timed(*args, **kwargs) -> tuple[webhooks.Answer, float]:
    started = time.monotonic()
    answer = post(*args, **kwargs)
    return answer, time.monotonic() - started


@pytest.fixture(autouse=True)
def no_kept_connections():
    client.forget_connections()
    yield
    client.forget_connections()


def test_a_receiver_trickling_its_answer_a_byte_every_half_second_is_cut_off_at_5_s_and_not_delivered():
    # The red team's receiver: a 59-byte answer, one byte every 0.5 s, would hold a per-read timeout for 29.5 s.
    with SlowReceiver(mode="trickle", pace=0.5) as slow:
        answer, elapsed = timed(target(slow.port), BODY, HEADERS)
        assert not answer.delivered and answer.status is None
        assert "5 s" in (answer.error or "")
        assert DEADLINE_SECONDS - 0.1 < elapsed < DEADLINE_SECONDS + 0.5, elapsed
        [held] = slow.connections
        assert held.requested_at is not None and 0 < held.sent < len(slow.answer)  # it had begun answering
        gone = _wait(lambda: held.left_at)
        assert gone - held.accepted_at < DEADLINE_SECONDS + 0.5  # the connection itself was closed at the deadline


@pytest.mark.parametrize(
    "mode, pace",
    [
        ("silent", 0.0),  # accepts, reads the request, never answers
        ("trickle", 0.2),  # the status line and headers a byte at a time
        ("unread", 0.0),  # never reads: the request's send blocks once the socket buffers are full
    ],
)
def test_every_phase_of_the_call_is_under_the_one_deadline(mode, pace):
    body = BODY if mode != "unread" else b"x" * (16 << 20)  # more than any socket buffer holds
    with SlowReceiver(mode=mode, pace=pace) as slow:
        answer, elapsed = timed(target(slow.port), body, HEADERS, deadline=SHORT)
    assert not answer.delivered and "1 s" in (answer.error or "")
    assert SHORT - 0.1 < elapsed < SHORT + 0.5, (mode, elapsed)


def test_a_2xx_whose_body_trickles_past_the_deadline_is_not_delivered():
    # The status line and headers arrive at once; the body (read for at most 4 KiB) does not finish in time.
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"
    with SlowReceiver(mode="trickle", pace=0.2, answer=head + b"x" * 40, prompt=len(head)) as slow:
        answer, elapsed = timed(target(slow.port), BODY, HEADERS, deadline=SHORT)
    assert not answer.delivered and answer.status is None and "1 s" in (answer.error or "")
    assert SHORT - 0.1 < elapsed < SHORT + 0.5


def test_a_connection_that_is_never_accepted_fails_at_the_deadline():
    # A listener whose backlog is full drops further SYNs: connect() waits.
    with socket.create_server(("127.0.0.1", 0), backlog=0) as full:
        port = full.getsockname()[1]
        fillers = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.2)  # let the kernel queue them (no condition to wait on: the backlog is the kernel's)
        try:
            answer, elapsed = timed(target(port), BODY, HEADERS, deadline=SHORT)
        finally:
            for filler in fillers:
                filler.close()
    assert not answer.delivered
    assert elapsed < SHORT + 0.5


def test_a_tls_handshake_that_never_comes_fails_at_the_deadline():
    with SlowReceiver(mode="unread") as slow:
        answer, elapsed = timed(
            target(slow.port, scheme="https", host="hooks.example.com"), BODY, HEADERS, deadline=SHORT
        )
    assert not answer.delivered and SHORT - 0.1 < elapsed < SHORT + 0.5


# -- what a prompt receiver gets ------------------------------------------------------------------


KEEP_ALIVE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def test_a_prompt_2xx_is_delivered_and_its_connection_serves_the_next_delivery():
    with SlowReceiver(slow_for=0, answer=KEEP_ALIVE) as quick:
        first, elapsed = timed(target(quick.port), BODY, HEADERS)
        second = post(target(quick.port), BODY, HEADERS)
        assert (first.status, second.status) == (200, 200) and first.delivered and elapsed < 1
        [held] = quick.connections
        assert held.requests == 2  # one connection, kept for the next call
        assert client.kept_connections() == 1


def test_a_kept_connection_the_receiver_has_closed_meanwhile_is_replaced():
    with SlowReceiver(slow_for=0, answer=KEEP_ALIVE, hang_up=True) as quick:
        assert post(target(quick.port), BODY, HEADERS).delivered
        _wait(lambda: quick.connections[0].left_at)  # it hung up after answering
        assert post(target(quick.port), BODY, HEADERS).delivered
        assert [held.requests for held in quick.connections] == [1, 1]


def test_a_prompt_2xx_from_a_receiver_that_closes_its_connections_is_delivered():
    with Receiver() as receiver:
        assert [post(target(receiver.port), BODY, HEADERS).status for _ in range(2)] == [200, 200]
        assert len(receiver.deliveries) == 2 and client.kept_connections() == 0


def test_an_error_status_is_an_answer_not_delivered():
    with Receiver() as receiver:
        receiver.script = lambda path, number: 503
        answer = post(target(receiver.port), BODY, HEADERS)
    assert (answer.status, answer.delivered) == (503, False)


def test_a_long_answer_is_read_for_4_kib_at_most_and_its_connection_dropped():
    answer_body = b"y" * 100_000
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(answer_body)}\r\n\r\n".encode()
    with SlowReceiver(mode="silent", slow_for=0, answer=head + answer_body) as quick:
        answer = post(target(quick.port), BODY, HEADERS)
    assert answer.delivered
    assert client.kept_connections() == 0


def test_the_request_names_the_urls_host_and_the_documented_headers():
    with SlowReceiver(slow_for=0) as quick:
        post(Target("http", "localhost", quick.port, "/hook?x=1", "127.0.0.1"), BODY, HEADERS)
        [held] = quick.connections
    lines = held.request_headers.split("\r\n")
    assert lines[0] == "POST /hook?x=1 HTTP/1.1"
    sent = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in lines[1:]}
    assert sent["host"] == f"localhost:{quick.port}"
    assert sent["content-type"] == "application/json" and sent["content-length"] == str(len(BODY))
    assert sent["x-event-id"] == "ord_x:2" and sent["user-agent"] == client.USER_AGENT


# -- TLS to the checked address, verified against the URL's host -------------------------------------


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    """An HTTPS receiver on loopback with a certificate for hooks.example.com from a test CA the client trusts."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder(name("test CA"), name("test CA"), ca_key.public_key(), 1, now, now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder(name("test CA"), name("hooks"), key.public_key(), 2, now, now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example.com")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    trusting = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    monkeypatch.setattr(client, "_tls_context", lambda: trusting)

    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    names: list[str | None] = []
    server_context.sni_callback = lambda sock, server_name, context: names.append(server_name)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                with server_context.wrap_socket(raw, server_side=True) as tls:
                    answer(tls)
            except (OSError, ssl.SSLError):
                pass

    def answer(tls: ssl.SSLSocket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            received = tls.recv(65536)
            if not received:
                return  # the client went before its request was whole (it refused the certificate)
            request += received
        tls.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        tls.recv(1)  # until the client goes

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1], names
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)  # wakes the thread in accept(), which close() alone does not
    listener.close()


def test_tls_goes_to_the_checked_address_and_verifies_the_urls_host(tls_receiver):
    port, names = tls_receiver
    answer = post(Target("https", "hooks.example.com", port, "/hook", "127.0.0.1"), BODY, HEADERS)
    assert (answer.status, answer.delivered) == (204, True)
    assert names == ["hooks.example.com"]  # SNI: the URL's host, though the connection went to 127.0.0.1


def test_tls_to_a_certificate_of_another_host_is_refused(tls_receiver):
    port, _ = tls_receiver
    answer = post(Target("https", "other.example.com", port, "/hook", "127.0.0.1"), BODY, HEADERS)
    assert not answer.delivered and answer.status is None and "SSL" in (answer.error or "")


def _wait(read, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while (found := read()) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return found
