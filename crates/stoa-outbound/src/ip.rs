//! Which addresses outgoing requests may reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 ranges that are never reached: Mastodon's `PrivateAddressCheck` list
/// plus what Ruby's `private?`, `loopback?` and `link_local?` add.
const FORBIDDEN_V4: &[(Ipv4Addr, u8)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8),          // "this network"
    (Ipv4Addr::new(10, 0, 0, 0), 8),         // private
    (Ipv4Addr::new(100, 64, 0, 0), 10),      // carrier-grade NAT
    (Ipv4Addr::new(127, 0, 0, 0), 8),        // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16),     // link-local, cloud metadata
    (Ipv4Addr::new(172, 16, 0, 0), 12),      // private
    (Ipv4Addr::new(192, 0, 0, 0), 24),       // IETF protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24),       // TEST-NET-1
    (Ipv4Addr::new(192, 88, 99, 0), 24),     // 6to4 relay anycast
    (Ipv4Addr::new(192, 168, 0, 0), 16),     // private
    (Ipv4Addr::new(198, 18, 0, 0), 15),      // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24),    // TEST-NET-2
    (Ipv4Addr::new(203, 0, 113, 0), 24),     // TEST-NET-3
    (Ipv4Addr::new(224, 0, 0, 0), 4),        // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),        // reserved
    (Ipv4Addr::new(255, 255, 255, 255), 32), // broadcast
];

/// IPv6 ranges that are never reached (Mastodon's list, plus loopback and
/// link-local). Everything outside `2000::/3` is refused as well, see
/// [`is_forbidden_ip`].
const FORBIDDEN_V6: &[(Ipv6Addr, u8)] = &[
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 128), // unspecified
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1), 128), // loopback
    (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96), // NAT64
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48), // local-use NAT64
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64), // discard-only
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32), // Teredo
    (Ipv6Addr::new(0x2001, 0x10, 0, 0, 0, 0, 0, 0), 28), // ORCHID
    (Ipv6Addr::new(0x2001, 0x20, 0, 0, 0, 0, 0, 0), 28), // ORCHIDv2
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16), // 6to4
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7), // unique local
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10), // link-local
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8), // multicast
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation
];

/// Whether outgoing requests must not reach `ip`.
///
/// IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible (`::a.b.c.d`) IPv6
/// addresses are judged as the IPv4 address they carry. The ranges are
/// Mastodon's (`PrivateAddressCheck` plus Ruby's private, loopback and
/// link-local checks); in addition, IPv6 addresses outside
/// global unicast `2000::/3` are refused, as GoToSocial does, which also
/// covers forms such as `::ffff:0:a.b.c.d` that no list names.
///
/// A CIDR in `allowed` (address, prefix length) that contains `ip`, or the
/// IPv4 address it carries, overrides the ranges: like Mastodon's
/// `ALLOWED_PRIVATE_ADDRESSES`.
pub fn is_forbidden_ip(ip: IpAddr, allowed: &[(IpAddr, u8)]) -> bool {
    let unwrapped = unwrap_v4(ip);
    if allowed
        .iter()
        .any(|&(net, len)| cidr_contains(net, len, ip) || cidr_contains(net, len, unwrapped))
    {
        return false;
    }
    match unwrapped {
        IpAddr::V4(v4) => FORBIDDEN_V4.iter().any(|&(net, len)| v4_in(net, len, v4)),
        IpAddr::V6(v6) => {
            !v6_in(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3, v6)
                || FORBIDDEN_V6.iter().any(|&(net, len)| v6_in(net, len, v6))
        }
    }
}

/// The IPv4 address inside an IPv4-mapped or IPv4-compatible IPv6 address.
fn unwrap_v4(ip: IpAddr) -> IpAddr {
    match ip {
        // `to_ipv4` accepts both `::ffff:a.b.c.d` and `::a.b.c.d`. `::` and
        // `::1` become 0.0.0.0 and 0.0.0.1, which 0/8 refuses anyway.
        IpAddr::V6(v6) => v6.to_ipv4().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Whether the CIDR `net/len` contains `ip`. Families never match each other.
pub fn cidr_contains(net: IpAddr, len: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(net), IpAddr::V4(ip)) => v4_in(net, len, ip),
        (IpAddr::V6(net), IpAddr::V6(ip)) => v6_in(net, len, ip),
        _ => false,
    }
}

fn v4_in(net: Ipv4Addr, len: u8, ip: Ipv4Addr) -> bool {
    let len = u32::from(len.min(32));
    let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
    u32::from(net) & mask == u32::from(ip) & mask
}

fn v6_in(net: Ipv6Addr, len: u8, ip: Ipv6Addr) -> bool {
    let len = u32::from(len.min(128));
    let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
    u128::from(net) & mask == u128::from(ip) & mask
}
