"""The URLs a webhook may have (docs/api.md §7), with the addresses a resolver could give, and the signature."""

from __future__ import annotations

import time

import pytest

from infra.local.verify_signature import verify
from orders.dynamodb import from_attribute, to_attribute
from orders.notification.webhooks import MAX_URL_LENGTH, UnsafeUrl, check, is_public, signature


def resolving_to(*addresses: str):
    return lambda host, port: list(addresses)


PUBLIC = resolving_to("93.184.215.14")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # loopback
        "127.255.0.9",
        "10.0.0.1",  # private
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",  # carrier-grade NAT
        "169.254.169.254",  # the cloud metadata service (link-local)
        "169.254.170.2",  # ECS task metadata
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "192.0.2.10",  # documentation
        "::1",  # IPv6 loopback
        "::",
        "fe80::1",  # link-local
        "fe80::1%eth0",
        "fc00::1",  # unique-local
        "fd00:ec2::254",  # the metadata service over IPv6
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "::ffff:10.1.2.3",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo whose client is 10.0.0.1
        "ff02::1",  # multicast
        "2001:db8::1",  # documentation
    ],
)
def test_a_host_resolving_to_any_non_public_address_is_refused(address):
    assert not is_public(address)
    with pytest.raises(UnsafeUrl, match="not a public address"):
        check("https://hooks.example.com/orders", resolver=resolving_to(address))


def test_one_bad_address_among_good_ones_is_enough_to_refuse():
    with pytest.raises(UnsafeUrl):
        check("https://hooks.example.com/", resolver=resolving_to("93.184.215.14", "10.0.0.7"))


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.215.14"])
def test_public_addresses_are_allowed(address):
    target = check("https://hooks.example.com:8443/orders?x=1", resolver=resolving_to(address))
    assert (target.host, target.port, target.path, target.address) == (
        "hooks.example.com",
        8443,
        "/orders?x=1",
        address,
    )


@pytest.mark.parametrize(
    "spelling",
    ["2130706433", "0x7f000001", "017700000001", "0177.0.0.1", "0x7f.1", "127.1", "[::1]", "[::ffff:7f00:1]", "0"],
)
def test_odd_spellings_of_local_addresses_resolve_to_what_they_are_and_are_refused(spelling):
    # The system resolver reads these as numbers (no DNS): decimal, hex, octal, short forms, IPv6 literals.
    with pytest.raises(UnsafeUrl):
        check(f"https://{spelling}/hook")


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://hooks.example.com/", "must start with https://"),
        ("ftp://hooks.example.com/", "must start with https://"),
        ("https://user:secret@hooks.example.com/", "user info"),
        ("https://user@hooks.example.com/", "user info"),
        ("https://@hooks.example.com/", "user info"),
        ("https:///path", "no host"),
        ("https://hooks.example.com:99999/", "malformed"),
        ("https://hooks.example.com/a b", "no spaces"),
        ("https://hooks.example.com/\u00e9", "ASCII"),
        ("https://hooks.example.com/\n", "control"),
        ("https://hooks.example.com/#frag", "fragment"),
        ("https://hooks.example.com:0/", "port must be 1 to 65535"),  # was called on 443
        ("https://hooks.example.com:00/", "port must be 1 to 65535"),
        ("https://hooks.example.com/" + "a" * MAX_URL_LENGTH, "at most 2048"),
        ("http://localhost:8080/", "must start with https://"),  # deployed: no local hosts
    ],
)
def test_the_deployed_rules_refuse_each_kind_of_url(url, reason):
    with pytest.raises(UnsafeUrl, match=reason):
        check(url, resolver=PUBLIC)


def test_locally_http_to_localhost_and_127_0_0_1_is_allowed_and_nothing_else_local():
    assert check("http://localhost:8080/hook", allow_local=True).address == "127.0.0.1"
    assert check("http://127.0.0.1:9/hook", allow_local=True).port == 9
    with pytest.raises(UnsafeUrl):
        check("http://10.0.0.1/hook", allow_local=True)
    with pytest.raises(UnsafeUrl):
        check("http://2130706433/hook", allow_local=True)
    with pytest.raises(UnsafeUrl):
        check("http://hooks.example.com/", allow_local=True, resolver=PUBLIC)


def test_a_host_that_does_not_resolve_is_refused():
    with pytest.raises(UnsafeUrl, match="does not resolve"):
        check("https://hooks.example.com/", resolver=resolving_to())


# -- the signature, checked with the README's receiver code ----------------------------------------


def test_the_signature_verifies_with_the_readme_code_and_nothing_else_does():
    body = b'{"event_id":"ord_x:2"}'
    header = signature("whsec_abc", body)
    assert verify("whsec_abc", header, body)
    assert not verify("whsec_other", header, body)
    assert not verify("whsec_abc", header, body + b" ")
    assert not verify("whsec_abc", header.replace("v1=", "v1=0"), body)
    assert not verify("whsec_abc", "garbage", body)
    assert not verify("whsec_abc", "", body)


def test_a_signature_more_than_five_minutes_old_is_a_replay():
    body = b"{}"
    assert verify("s", signature("s", body, at=int(time.time()) - 299), body)
    assert not verify("s", signature("s", body, at=int(time.time()) - 301), body)
    assert not verify("s", signature("s", body, at=int(time.time()) + 301), body)


def test_the_signature_is_the_documented_hmac():
    import hashlib
    import hmac

    header = signature("key", b"body", at=1700000000)
    assert header == "t=1700000000,v1=" + hmac.new(b"key", b"1700000000.body", hashlib.sha256).hexdigest()


def test_sets_of_text_round_trip_through_dynamodb_json():
    assert to_attribute(frozenset({"b", "a"})) == {"SS": ["a", "b"]}
    assert from_attribute({"SS": ["a", "b"]}) == frozenset({"a", "b"})
