//! Who a client is before anything it says is verified: its address, with an IPv6
//! client counted by its /64 (what one machine or subscriber gets) and an IPv4-mapped
//! address as the IPv4 it is. The HTTP edge counts connections by it, the inbox rates.

use std::net::IpAddr;

/// A client address as a bounded-size key: an IPv4 address, or an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerKey {
    V4(u32),
    V6(u64),
}

impl PeerKey {
    pub fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self::V4(v4.to_bits()),
            IpAddr::V6(v6) => Self::V6((v6.to_bits() >> 64) as u64),
        }
    }
}

/// `192.0.2.1`, or an IPv6 client's network: `2001:db8:1:2::/64`.
impl std::fmt::Display for PeerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Self::V4(bits) => write!(f, "{}", std::net::Ipv4Addr::from_bits(bits)),
            Self::V6(net) => write!(
                f,
                "{}/64",
                std::net::Ipv6Addr::from_bits(u128::from(net) << 64)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_is_keyed_by_its_64_and_mapped_ipv4_as_ipv4() {
        let k = |s: &str| PeerKey::of(s.parse().expect("an address"));
        assert_eq!(k("2001:db8:1:2::1"), k("2001:db8:1:2:ffff::9"));
        assert_ne!(k("2001:db8:1:2::1"), k("2001:db8:1:3::1"));
        assert_eq!(k("::ffff:192.0.2.1"), k("192.0.2.1"));
        assert_ne!(k("192.0.2.1"), k("192.0.2.2"));
    }
}
