use std::net::IpAddr;

use stoa_outbound::{cidr_contains, is_forbidden_ip, Error};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("IP address")
}

#[test]
fn forbidden_ranges() {
    // (first address, last address) of every listed range, plus the unwrapped
    // IPv4-mapped and IPv4-compatible forms.
    let forbidden = [
        "0.0.0.0",
        "0.255.255.255",
        "10.0.0.0",
        "10.255.255.255",
        "100.64.0.0",
        "100.127.255.255",
        "127.0.0.1",
        "127.255.255.254",
        "169.254.0.0",
        "169.254.169.254",
        "172.16.0.0",
        "172.31.255.255",
        "192.0.0.0",
        "192.0.0.255",
        "192.0.2.0",
        "192.0.2.255",
        "192.88.99.0",
        "192.88.99.255",
        "192.168.0.0",
        "192.168.255.255",
        "198.18.0.0",
        "198.19.255.255",
        "198.51.100.0",
        "198.51.100.255",
        "203.0.113.0",
        "203.0.113.255",
        "224.0.0.0",
        "239.255.255.255",
        "240.0.0.0",
        "254.255.255.255",
        "255.255.255.255",
        "::",
        "::1",
        "64:ff9b::",
        "64:ff9b::7f00:1",
        "64:ff9b::ffff:ffff",
        "64:ff9b:1::",
        "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
        "100::",
        "100::ffff:ffff:ffff:ffff",
        "2001::",
        "2001:0:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:10::",
        "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:20::",
        "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:db8::",
        "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
        "2002::",
        "2002:7f00:1::",
        "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "fc00::",
        "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "fe80::",
        "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "ff00::",
        "ff02::1",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "3fff::",
        "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
        // IPv4-mapped and IPv4-compatible forms of forbidden IPv4 addresses.
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "::ffff:0.0.0.0",
        "::127.0.0.1",
        "::10.1.2.3",
        "::0.0.0.2",
        // Outside 2000::/3 (beyond Mastodon's list): IPv4-translated, site-local.
        "::ffff:0:7f00:1",
        "fec0::1",
        "5f00::1",
        "4000::1",
    ];
    for addr in forbidden {
        assert!(is_forbidden_ip(ip(addr), &[]), "{addr} must be forbidden");
    }
}

#[test]
fn public_addresses_allowed() {
    let public = [
        "1.1.1.1",
        "8.8.8.8",
        "9.255.255.255",
        "11.0.0.0",
        "100.63.255.255",
        "100.128.0.0",
        "126.255.255.255",
        "128.0.0.0",
        "169.253.255.255",
        "169.255.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.0.1.0",
        "192.0.3.0",
        "192.88.98.255",
        "192.169.0.0",
        "198.17.255.255",
        "198.20.0.0",
        "198.51.101.0",
        "203.0.114.0",
        "223.255.255.255",
        "2606:4700::1111",
        "2a00:1450:4001::200e",
        "2001:4860:4860::8888",
        "2001:1::1",
        "2001:30::1",
        "2001:db9::1",
        "2003::1",
        "3ffe:ffff::1",
        "3fff:1000::1",
        "::ffff:1.1.1.1",
        "::8.8.8.8",
    ];
    for addr in public {
        assert!(!is_forbidden_ip(ip(addr), &[]), "{addr} must be allowed");
    }
}

#[test]
fn allowed_cidrs_override() {
    let allowed = [
        (ip("127.0.0.1"), 32),
        (ip("10.1.0.0"), 16),
        (ip("fd00::"), 8),
    ];
    assert!(!is_forbidden_ip(ip("127.0.0.1"), &allowed));
    assert!(!is_forbidden_ip(ip("::ffff:127.0.0.1"), &allowed));
    assert!(is_forbidden_ip(ip("127.0.0.2"), &allowed));
    assert!(is_forbidden_ip(ip("::1"), &allowed));
    assert!(!is_forbidden_ip(ip("10.1.200.3"), &allowed));
    assert!(is_forbidden_ip(ip("10.2.0.1"), &allowed));
    assert!(!is_forbidden_ip(ip("fd12::1"), &allowed));
    assert!(is_forbidden_ip(ip("fc00::1"), &allowed));
    // Allowing everything.
    let all = [(ip("0.0.0.0"), 0), (ip("::"), 0)];
    assert!(!is_forbidden_ip(ip("169.254.169.254"), &all));
    assert!(!is_forbidden_ip(ip("::1"), &all));
}

#[test]
fn cidr_matching() {
    assert!(cidr_contains(ip("10.0.0.0"), 8, ip("10.9.9.9")));
    assert!(!cidr_contains(ip("10.0.0.0"), 8, ip("11.0.0.0")));
    assert!(cidr_contains(ip("0.0.0.0"), 0, ip("203.0.113.9")));
    assert!(!cidr_contains(ip("0.0.0.0"), 0, ip("::1")));
    assert!(cidr_contains(ip("2001:db8::"), 32, ip("2001:db8:1::1")));
    assert!(!cidr_contains(ip("2001:db8::"), 32, ip("2001:db9::")));
    assert!(cidr_contains(ip("::1"), 128, ip("::1")));
}

#[test]
fn permanence() {
    let cases = [
        (Error::Status(400), true),
        (Error::Status(401), false),
        (Error::Status(403), true),
        (Error::Status(404), true),
        (Error::Status(408), false),
        (Error::Status(410), true),
        (Error::Status(422), true),
        (Error::Status(429), false),
        (Error::Status(499), true),
        (Error::Status(500), false),
        (Error::Status(501), true),
        (Error::Status(502), false),
        (Error::Status(503), false),
        (Error::Status(302), false),
        (Error::ForbiddenAddress(ip("10.0.0.1")), true),
        (Error::InvalidUrl("x".into()), true),
        (Error::ForbiddenScheme("ftp".into()), true),
        (Error::TooLarge, true),
        (Error::NotActivityJson("application/json".into()), true),
        (Error::Json("eof".into()), true),
        (Error::Timeout, false),
        (Error::TooManyRedirects, false),
        (Error::Network("reset".into()), false),
        (Error::Signing("no key".into()), false),
    ];
    for (error, permanent) in cases {
        assert_eq!(error.is_permanent(), permanent, "{error:?}");
    }
}
