"""Which addresses a webhook may reach (docs/api.md §7), address by address, whatever the interpreter's own tables.

The blocks are written out here again, apart from orders/notification/addresses.py's data: for each
one the first, the last and a middle address get the verdict the registry's "Globally Reachable"
column gives (the most specific entry deciding), and a few public neighbours just outside a block
are allowed. `ipaddress`'s is_global, is_private and the rest changed between patch releases of
Python (3.11.7 calls 192.0.0.192 global): the verdicts must not read them at all.
"""

from __future__ import annotations

import ipaddress

import pytest

from orders.notification.addresses import BLOCKS, judge
from orders.notification.webhooks import UnsafeUrl, check, is_public

# Every block that refuses, as IANA's special-purpose registries (IPv4, IPv6), the IPv4 and IPv6 address
# space registries and the cloud providers name them. Blocks inside another one that refuses are listed
# too: each must refuse on its own.
REFUSED = [
    # IPv4 special-purpose registry, Globally Reachable: False (or N/A)
    "0.0.0.0/8",  # "this network"
    "0.0.0.0/32",
    "10.0.0.0/8",  # private-use
    "100.64.0.0/10",  # shared address space (carrier-grade NAT)
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link local
    "172.16.0.0/12",
    "192.0.0.0/24",  # IETF protocol assignments
    "192.0.0.0/29",  # IPv4 service continuity prefix
    "192.0.0.8/32",  # IPv4 dummy address
    "192.0.0.170/32",  # NAT64/DNS64 discovery
    "192.0.0.171/32",
    "192.0.2.0/24",  # TEST-NET-1
    "192.88.99.0/24",  # deprecated 6to4 relay anycast (N/A)
    "192.88.99.2/32",  # 6a44 relay anycast
    "192.168.0.0/16",
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",  # TEST-NET-2
    "203.0.113.0/24",  # TEST-NET-3
    "240.0.0.0/4",  # reserved
    "255.255.255.255/32",  # limited broadcast
    # IPv4 address space registry
    "224.0.0.0/4",  # multicast
    # cloud metadata services
    "169.254.169.254/32",  # AWS, Azure, GCP, Oracle and most others
    "169.254.170.2/32",  # AWS ECS task metadata
    "100.100.100.200/32",  # Alibaba Cloud
    "192.0.0.192/32",  # Oracle Cloud
    "fd00:ec2::254/128",  # AWS over IPv6
    # IPv6 special-purpose registry, Globally Reachable: False (or N/A)
    "::/128",  # unspecified
    "::1/128",  # loopback
    "64:ff9b:1::/48",  # local-use IPv4/IPv6 translation
    "100::/64",  # discard-only
    "100:0:0:1::/64",  # dummy IPv6 prefix
    "2001::/23",  # IETF protocol assignments
    "2001::/32",  # Teredo (N/A)
    "2001:2::/48",  # benchmarking
    "2001:10::/28",  # deprecated ORCHID (N/A)
    "2001:db8::/32",  # documentation
    "3fff::/20",  # documentation
    "5f00::/16",  # SRv6 SIDs
    "fc00::/7",  # unique local
    "fe80::/10",  # link-local unicast
    # IPv6 address space registry
    "fec0::/10",  # site-local (deprecated)
    "ff00::/8",  # multicast
    "::/8",  # reserved by IETF (the IPv4-compatible ::a.b.c.d among it)
    "4000::/3",  # unassigned: only 2000::/3 is global unicast
    "e000::/4",
]

# The registry's globally reachable entries inside a block that refuses: the most specific entry decides.
ALLOWED = [
    "192.0.0.9/32",  # Port Control Protocol anycast
    "192.0.0.10/32",  # TURN anycast
    "192.31.196.0/24",  # AS112-v4
    "192.52.193.0/24",  # AMT
    "192.175.48.0/24",  # AS112 direct delegation
    "2001:1::1/128",  # PCP anycast
    "2001:1::2/128",  # TURN anycast
    "2001:1::3/128",  # DNS-SD SRP anycast
    "2001:3::/32",  # AMT
    "2001:4:112::/48",  # AS112-v6
    "2001:20::/28",  # ORCHIDv2
    "2001:30::/28",  # drone remote ID DETs
    "2620:4f:8000::/48",  # AS112 direct delegation
]

# Public addresses just outside a block that refuses.
PUBLIC_NEIGHBOURS = [
    "1.0.0.0",  # after 0/8
    "9.255.255.255",  # around 10/8
    "11.0.0.0",
    "100.63.255.255",  # around 100.64/10
    "100.128.0.0",
    "126.255.255.255",  # around 127/8
    "128.0.0.0",
    "169.253.255.255",  # around 169.254/16
    "169.255.0.0",
    "172.15.255.255",  # around 172.16/12
    "172.32.0.0",
    "191.255.255.255",  # before 192.0.0/24
    "192.0.1.0",  # between 192.0.0/24 and 192.0.2/24
    "192.0.3.0",
    "192.88.98.255",  # around 192.88.99/24
    "192.88.100.0",
    "192.167.255.255",  # around 192.168/16
    "192.169.0.0",
    "198.17.255.255",  # around 198.18/15
    "198.20.0.0",
    "198.51.99.255",  # around 198.51.100/24
    "198.51.101.0",
    "203.0.112.255",  # around 203.0.113/24
    "203.0.114.0",
    "223.255.255.255",  # before multicast
    "2000::",  # the first of 2000::/3
    "2001:200::",  # after 2001::/23
    "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",  # around 2001:db8::/32
    "2001:db9::",
    "2001:ffff::",
    "2003::",  # after 6to4
    "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff",  # around 3fff::/20
    "3fff:1000::",
    "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",  # the last of 2000::/3
    "2606:4700:4700::1111",
]
# Blocks whose addresses carry an IPv4 address in their last 32 bits: judged by that address.
EMBEDDING = {"IPv4-mapped": "::ffff:0:0", "NAT64 well-known prefix": "64:ff9b::"}


def three(network: str) -> list[str]:
    """The first, the last and a middle address of a block."""
    block = ipaddress.ip_network(network)
    middle = block.network_address + block.num_addresses // 2
    return [str(block.network_address), str(block.broadcast_address), str(middle)]


def _refused_cases():
    for network in REFUSED:
        for address in three(network):
            if not any(ipaddress.ip_address(address) in ipaddress.ip_network(allowed) for allowed in ALLOWED):
                yield pytest.param(address, id=f"{network} {address}")


@pytest.mark.parametrize("address", list(_refused_cases()))
def test_every_address_of_a_block_that_is_not_globally_reachable_is_refused(address):
    verdict = judge(address)
    assert not verdict.allowed, verdict
    assert not is_public(address)


@pytest.mark.parametrize(
    "address", [pytest.param(a, id=f"{n} {a}") for n in ALLOWED for a in three(n)] + PUBLIC_NEIGHBOURS
)
def test_globally_reachable_addresses_are_allowed(address):
    verdict = judge(address)
    assert verdict.allowed, verdict
    assert is_public(address)


def test_192_0_0_192_the_oracle_cloud_metadata_service_is_refused_by_name():
    verdict = judge("192.0.0.192")
    assert not verdict.allowed
    assert "192.0.0.192/32" in verdict.why and "Oracle" in verdict.why
    with pytest.raises(UnsafeUrl, match=r"192\.0\.0\.192, which is not a public address \(.*Oracle"):
        check("https://hooks.example.com/", resolver=lambda host, port: ["192.0.0.192"])


@pytest.mark.parametrize("prefix", EMBEDDING.values(), ids=EMBEDDING.keys())
@pytest.mark.parametrize(
    "inside, allowed",
    [("8.8.8.8", True), ("93.184.215.14", True), ("127.0.0.1", False), ("10.1.2.3", False), ("169.254.169.254", False)]
    + [("192.0.0.192", False), ("0.0.0.0", False), ("255.255.255.255", False), ("100.64.0.1", False)],
)
def test_an_ipv4_mapped_or_nat64_address_is_judged_by_the_ipv4_address_inside(prefix, inside, allowed):
    address = str(ipaddress.IPv6Address(int(ipaddress.IPv6Address(prefix)) | int(ipaddress.IPv4Address(inside))))
    assert judge(address).allowed is allowed, (address, judge(address))


@pytest.mark.parametrize(
    "inside, allowed", [("8.8.8.8", True), ("127.0.0.1", False), ("10.0.0.1", False), ("192.0.0.192", False)]
)
def test_a_6to4_address_is_judged_by_the_ipv4_address_inside(inside, allowed):
    address = ipaddress.IPv6Address((0x2002 << 112) | (int(ipaddress.IPv4Address(inside)) << 80) | 1)
    assert judge(str(address)).allowed is allowed


def test_teredo_is_refused_whatever_its_client():
    # 2001:0::/32, server 65.54.227.120, client 93.184.215.14 (obfuscated): Globally Reachable N/A, inside 2001::/23
    client = int(ipaddress.IPv4Address("93.184.215.14")) ^ 0xFFFFFFFF
    address = ipaddress.IPv6Address((0x20010000 << 96) | (0x4136E378 << 64) | (0x8000 << 48) | (0x63BF << 32) | client)
    assert address.teredo is not None and str(address.teredo[1]) == "93.184.215.14"
    assert not judge(str(address)).allowed


def test_a_scoped_ipv6_address_is_judged_without_its_zone():
    assert not judge("fe80::1%eth0").allowed
    assert judge("2606:4700:4700::1111%1").allowed


def test_the_verdict_names_the_block_and_the_registry_name():
    assert "10.0.0.0/8" in judge("10.1.2.3").why and "Private-Use" in judge("10.1.2.3").why
    assert "2000::/3" in judge("4000::1").why


def test_the_verdicts_do_not_read_the_interpreters_own_tables(monkeypatch):
    """is_global, is_private & co. differ between Python patch releases: make them lie, and nothing changes."""

    def lying(self):
        raise AssertionError("the rules read the interpreter's own tables")

    for cls in (ipaddress.IPv4Address, ipaddress.IPv6Address, ipaddress.IPv4Network, ipaddress.IPv6Network):
        for name in ("is_global", "is_private", "is_reserved", "is_link_local", "is_loopback", "is_multicast"):
            monkeypatch.setattr(cls, name, property(lying))
        if hasattr(cls, "is_site_local"):
            monkeypatch.setattr(cls, "is_site_local", property(lying))
    for address in ["192.0.0.192", "8.8.8.8", "::ffff:10.0.0.1", "2002:808:808::1", "fec0::1", "3fff::1"]:
        judge(address)
    assert not judge("192.0.0.192").allowed and judge("8.8.8.8").allowed


def test_every_block_of_the_data_has_a_name_a_reference_and_a_source():
    for block in BLOCKS:
        assert block.name and block.reference and block.source, block
    networks = [block.network for block in BLOCKS]
    assert len(networks) == len(set(networks)), "a block listed twice"
    listed = {str(block.network) for block in BLOCKS}
    assert set(REFUSED) - {"::/8", "4000::/3", "e000::/4"} <= listed  # those three: outside 2000::/3
    assert set(ALLOWED) <= listed
