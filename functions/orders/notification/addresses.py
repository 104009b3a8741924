"""Which IP addresses a webhook may reach: IANA's special-purpose address registries, written out as data.

An address is allowed when the most specific block that holds it is globally reachable. Every
address is in some block: each family starts from its whole space (IPv4's 0.0.0.0/0 allowed; IPv6's
::/0 refused, as only 2000::/3 is allocated for global unicast), and the rows below carve it. A
block whose addresses carry an IPv4 address (IPv4-mapped, the NAT64 well-known prefix, 6to4) is
judged by the IPv4 address inside. Nothing here asks `ipaddress` whether an address is global,
private or reserved: those tables changed between patch releases of Python (3.11.7 calls
192.0.0.192 global), and the rules must be the same on every interpreter.

Sources, with their own names for the blocks and their "Globally Reachable" column (N/A is
refused):

- IANA IPv4 Special-Purpose Address Registry, https://www.iana.org/assignments/iana-ipv4-special-registry/
- IANA IPv6 Special-Purpose Address Registry, https://www.iana.org/assignments/iana-ipv6-special-registry/
- IANA IPv4 Address Space Registry (224.0.0.0/4 multicast) and IPv6 Address Space Registry
  (2000::/3 global unicast; fec0::/10 site-local, deprecated; ff00::/8 multicast)
- the cloud providers' metadata services, refused by name even where a larger block already refuses
  them, so that no edit of that block can let them through

Written on 2026-12-06 from what was known of those registries then (entries up to RFC 9780's dummy
IPv6 prefix and RFC 9665's SRP anycast); the registries could not be reached from the machine this
was written on, so compare with them when touching this list.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import Enum

IPV4_SPECIAL = "IANA IPv4 Special-Purpose Address Registry"
IPV6_SPECIAL = "IANA IPv6 Special-Purpose Address Registry"
IPV4_SPACE = "IANA IPv4 Address Space Registry"
IPV6_SPACE = "IANA IPv6 Address Space Registry"
CLOUD = "cloud metadata service"


class Embedded(Enum):
    """Where a block's addresses carry an IPv4 address, which then decides."""

    LAST_32_BITS = "the last 32 bits"  # ::ffff:a.b.c.d, 64:ff9b::a.b.c.d
    SIXTOFOUR = "bits 16 to 47"  # 2002:aabb:ccdd::/48


# (block, name, reference, globally reachable (None: the registry's N/A), source, embedded IPv4)
_ROWS: tuple[tuple[str, str, str, bool | None, str, Embedded | None], ...] = (
    # -- IPv4 ------------------------------------------------------------------------------------
    ("0.0.0.0/0", "IPv4 unicast space", "RFC 791", True, IPV4_SPACE, None),
    ("0.0.0.0/8", '"This network"', "RFC 791, section 3.2", False, IPV4_SPECIAL, None),
    ("0.0.0.0/32", '"This host on this network"', "RFC 1122, section 3.2.1.3", False, IPV4_SPECIAL, None),
    ("10.0.0.0/8", "Private-Use", "RFC 1918", False, IPV4_SPECIAL, None),
    ("100.64.0.0/10", "Shared Address Space", "RFC 6598", False, IPV4_SPECIAL, None),
    ("127.0.0.0/8", "Loopback", "RFC 1122, section 3.2.1.3", False, IPV4_SPECIAL, None),
    ("169.254.0.0/16", "Link Local", "RFC 3927", False, IPV4_SPECIAL, None),
    ("172.16.0.0/12", "Private-Use", "RFC 1918", False, IPV4_SPECIAL, None),
    ("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890, section 2.1", False, IPV4_SPECIAL, None),
    ("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", False, IPV4_SPECIAL, None),
    ("192.0.0.8/32", "IPv4 dummy address", "RFC 7600", False, IPV4_SPECIAL, None),
    ("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", True, IPV4_SPECIAL, None),
    ("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", True, IPV4_SPECIAL, None),
    ("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050", False, IPV4_SPECIAL, None),
    ("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050", False, IPV4_SPECIAL, None),
    ("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", False, IPV4_SPECIAL, None),
    ("192.31.196.0/24", "AS112-v4", "RFC 7535", True, IPV4_SPECIAL, None),
    ("192.52.193.0/24", "AMT", "RFC 7450", True, IPV4_SPECIAL, None),
    ("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", None, IPV4_SPECIAL, None),
    ("192.88.99.2/32", "6a44-relay anycast address", "RFC 6751", False, IPV4_SPECIAL, None),
    ("192.168.0.0/16", "Private-Use", "RFC 1918", False, IPV4_SPECIAL, None),
    ("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", True, IPV4_SPECIAL, None),
    ("198.18.0.0/15", "Benchmarking", "RFC 2544", False, IPV4_SPECIAL, None),
    ("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", False, IPV4_SPECIAL, None),
    ("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", False, IPV4_SPECIAL, None),
    ("224.0.0.0/4", "Multicast", "RFC 5771", False, IPV4_SPACE, None),
    ("240.0.0.0/4", "Reserved", "RFC 1112, section 4", False, IPV4_SPECIAL, None),
    ("255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919, section 7", False, IPV4_SPECIAL, None),
    (
        "169.254.169.254/32",
        "AWS, Azure, GCP, Oracle Cloud and others' instance metadata",
        "provider docs",
        False,
        CLOUD,
        None,
    ),
    ("169.254.170.2/32", "AWS ECS task metadata", "provider docs", False, CLOUD, None),
    ("100.100.100.200/32", "Alibaba Cloud instance metadata", "provider docs", False, CLOUD, None),
    ("192.0.0.192/32", "Oracle Cloud instance metadata", "provider docs", False, CLOUD, None),
    # -- IPv6 ------------------------------------------------------------------------------------
    ("::/0", "not allocated for global unicast (only 2000::/3 is)", "RFC 4291", False, IPV6_SPACE, None),
    ("2000::/3", "Global Unicast", "RFC 4291", True, IPV6_SPACE, None),
    ("::/128", "Unspecified Address", "RFC 4291", False, IPV6_SPECIAL, None),
    ("::1/128", "Loopback Address", "RFC 4291", False, IPV6_SPECIAL, None),
    ("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", False, IPV6_SPECIAL, Embedded.LAST_32_BITS),
    ("64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", True, IPV6_SPECIAL, Embedded.LAST_32_BITS),
    ("64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215", False, IPV6_SPECIAL, None),
    ("100::/64", "Discard-Only Address Block", "RFC 6666", False, IPV6_SPECIAL, None),
    ("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", False, IPV6_SPECIAL, None),
    ("2001::/23", "IETF Protocol Assignments", "RFC 2928", False, IPV6_SPECIAL, None),
    ("2001::/32", "TEREDO", "RFC 4380, RFC 8190", None, IPV6_SPECIAL, None),
    ("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", True, IPV6_SPECIAL, None),
    ("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", True, IPV6_SPECIAL, None),
    ("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", True, IPV6_SPECIAL, None),
    ("2001:2::/48", "Benchmarking", "RFC 5180", False, IPV6_SPECIAL, None),
    ("2001:3::/32", "AMT", "RFC 7450", True, IPV6_SPECIAL, None),
    ("2001:4:112::/48", "AS112-v6", "RFC 7535", True, IPV6_SPECIAL, None),
    ("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", None, IPV6_SPECIAL, None),
    ("2001:20::/28", "ORCHIDv2", "RFC 7343", True, IPV6_SPECIAL, None),
    ("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", True, IPV6_SPECIAL, None),
    ("2001:db8::/32", "Documentation", "RFC 3849", False, IPV6_SPECIAL, None),
    ("2002::/16", "6to4", "RFC 3056", None, IPV6_SPECIAL, Embedded.SIXTOFOUR),
    ("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", True, IPV6_SPECIAL, None),
    ("3fff::/20", "Documentation", "RFC 9637", False, IPV6_SPECIAL, None),
    ("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", False, IPV6_SPECIAL, None),
    ("fc00::/7", "Unique-Local", "RFC 4193, RFC 8190", False, IPV6_SPECIAL, None),
    ("fe80::/10", "Link-Local Unicast", "RFC 4291", False, IPV6_SPECIAL, None),
    ("fec0::/10", "Site-Local (deprecated)", "RFC 3879", False, IPV6_SPACE, None),
    ("ff00::/8", "Multicast", "RFC 4291", False, IPV6_SPACE, None),
    ("fd00:ec2::254/128", "AWS instance metadata over IPv6", "provider docs", False, CLOUD, None),
)


@dataclass(frozen=True)
class Block:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    name: str
    reference: str
    globally_reachable: bool | None  # None: the registry's "N/A", refused
    source: str
    embedded: Embedded | None = None

    def __str__(self) -> str:
        return f"{self.network}, {self.name} ({self.reference}; {self.source})"


BLOCKS: tuple[Block, ...] = tuple(
    Block(ipaddress.ip_network(network), name, reference, reachable, source, embedded)
    for network, name, reference, reachable, source, embedded in _ROWS
)


@dataclass(frozen=True)
class Verdict:
    """Whether an address may be called, and the block that decided it, in words."""

    allowed: bool
    why: str


def judge(address: str) -> Verdict:
    """The verdict on one address as a resolver gives it (an IPv6 zone, `%eth0`, is ignored)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    block = _most_specific(ip)
    if block.embedded is not None:
        inside = _embedded_ipv4(int(ip), block.embedded)
        verdict = judge(str(inside))
        return Verdict(verdict.allowed, f"{ip} carries {inside} ({block.network}, {block.name}): {verdict.why}")
    return Verdict(block.globally_reachable is True, f"{block}")


def _most_specific(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Block:
    holding = [block for block in BLOCKS if block.network.version == ip.version and ip in block.network]
    return max(holding, key=lambda block: block.network.prefixlen)  # 0.0.0.0/0 and ::/0 hold every address


def _embedded_ipv4(value: int, where: Embedded) -> ipaddress.IPv4Address:
    if where is Embedded.SIXTOFOUR:
        return ipaddress.IPv4Address((value >> 80) & 0xFFFFFFFF)
    return ipaddress.IPv4Address(value & 0xFFFFFFFF)
