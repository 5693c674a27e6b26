//! Where a request comes from: the peer's address, or the client a trusted proxy names in `X-Forwarded-For`.
//!
//! `X-Forwarded-For` is written by whoever sends the request, so it is read only when the peer is a configured
//! proxy (`HAMKORI_TRUSTED_PROXIES`), and then from the right: each trusted proxy appends the address it saw,
//! so the first address from the right that is not a trusted proxy is the client. Anything further left was
//! written by the client itself and is never believed.

use std::net::{IpAddr, SocketAddr};

use actix_web::dev::Payload;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use ipnet::{IpNet, Ipv6Net};

/// The proxies whose `X-Forwarded-For` is believed (none by default).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Trusts these ranges.
    pub fn new(ranges: Vec<IpNet>) -> Self {
        Self(ranges)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(&ip))
    }

    /// The client of a request from `peer` carrying these `X-Forwarded-For` values (in the order received).
    pub fn client(&self, peer: IpAddr, forwarded: &[&str]) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded.iter().flat_map(|h| h.split(',')).collect();
        let mut nearest = peer;
        for hop in hops.into_iter().rev() {
            match parse_hop(hop) {
                Some(ip) if self.trusts(ip) => nearest = ip,
                Some(ip) => return ip,
                // A trusted proxy always writes an address; what it passed on unread is not evidence.
                None => return nearest,
            }
        }
        nearest
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The client of a request, as the login throttle keys it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// The throttling key: an IPv4 address, or an IPv6 /64 (one subscriber's network: anyone holding one
    /// address of it holds them all). Requests with no peer address (in-process tests) share one key.
    pub fn key(&self) -> String {
        match self.0 {
            None => "unknown".to_owned(),
            Some(IpAddr::V4(ip)) => ip.to_string(),
            Some(IpAddr::V6(ip)) => Ipv6Net::new(ip, 64)
                .map(|net| net.trunc().to_string())
                .unwrap_or_else(|_| ip.to_string()),
        }
    }
}

impl FromRequest for ClientAddr {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let client = req.peer_addr().map(|peer| {
            let forwarded: Vec<&str> = req
                .headers()
                .get_all("x-forwarded-for")
                .filter_map(|v| v.to_str().ok())
                .collect();
            match req.app_data::<Data<TrustedProxies>>() {
                Some(proxies) => proxies.client(peer.ip(), &forwarded),
                None => peer.ip().to_canonical(),
            }
        });
        std::future::ready(Ok(ClientAddr(client)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::new(vec![
            "10.0.0.0/8".parse().expect("cidr"),
            "192.0.2.7/32".parse().expect("cidr"),
        ])
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        assert_eq!(
            proxies().client(ip("198.51.100.9"), &["203.0.113.1"]),
            ip("198.51.100.9")
        );
        assert_eq!(
            TrustedProxies::default().client(ip("10.1.1.1"), &["203.0.113.1"]),
            ip("10.1.1.1")
        );
    }

    #[test]
    fn a_trusted_chain_is_read_from_the_right_up_to_the_first_untrusted_hop() {
        let p = proxies();
        assert_eq!(
            p.client(ip("10.0.0.1"), &["203.0.113.1"]),
            ip("203.0.113.1")
        );
        // The client wrote the left-most entry itself: it is not believed.
        assert_eq!(
            p.client(ip("10.0.0.1"), &["1.2.3.4, 203.0.113.1, 192.0.2.7"]),
            ip("203.0.113.1")
        );
        assert_eq!(
            p.client(ip("10.0.0.1"), &["1.2.3.4", "203.0.113.1:5555"]),
            ip("203.0.113.1")
        );
        assert_eq!(p.client(ip("10.0.0.1"), &[]), ip("10.0.0.1"));
        assert_eq!(
            p.client(ip("10.0.0.1"), &["junk, 10.2.2.2"]),
            ip("10.2.2.2")
        );
        assert_eq!(
            p.client(ip("::ffff:10.0.0.1"), &["203.0.113.1"]),
            ip("203.0.113.1")
        );
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a = ClientAddr(Some(ip("2001:db8:1:2::5")));
        let b = ClientAddr(Some(ip("2001:db8:1:2:ffff::1")));
        let c = ClientAddr(Some(ip("2001:db8:1:3::5")));
        assert_eq!(a.key(), "2001:db8:1:2::/64");
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), c.key());
        assert_eq!(ClientAddr(Some(ip("203.0.113.1"))).key(), "203.0.113.1");
    }
}
