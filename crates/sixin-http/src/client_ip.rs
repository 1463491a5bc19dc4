//! The client's IP address, worked out once per request by the `observe` middleware and handed
//! to the handlers that pass it to the core (registration and login, for the per-IP limits).
//!
//! It starts from the TCP peer's address, which the listener puts in the request as axum's
//! [`ConnectInfo<SocketAddr>`]. `X-Forwarded-For` is believed only when that peer is one of the
//! configured trusted proxies (`http.trusted_proxies`, CIDRs; none by default): each proxy
//! appends the address it heard from, so the header is walked from right to left, trusted
//! proxies are skipped, and the first address that is not a trusted proxy is the client. An
//! entry that is not an address ends the walk at the last trusted hop (a well-behaved proxy
//! never writes one), and a header made only of trusted proxies gives its leftmost entry.
//! Anything a client writes into the header itself sits left of what the trusted proxies
//! appended, so it is never reached. A request without a peer address (a router driven
//! in-process, as some tests do) has no client IP, and no per-IP limit applies to it.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Request};
use ipnet::IpNet;

/// The request's client IP (`None`: unknown, so no per-IP limit applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClientIp(pub(crate) Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or(ClientIp(None)))
    }
}

/// Works out the client IP of `req` and stores it in the request for [`ClientIp`].
pub(crate) fn attach<B>(req: &mut Request<B>, trusted: &[IpNet]) {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let ip = client_ip(peer, req.headers(), trusted);
    req.extensions_mut().insert(ClientIp(ip));
}

/// The client IP of a request from `peer` with these headers (see the module documentation).
pub(crate) fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut hop = peer?.to_canonical();
    if !is_trusted(&hop) {
        return Some(hop);
    }
    // Several X-Forwarded-For headers are one list, in order.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for entry in entries.iter().rev() {
        match parse_entry(entry) {
            Some(ip) if is_trusted(&ip) => hop = ip,
            Some(ip) => return Some(ip),
            None => return Some(hop),
        }
    }
    Some(hop)
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:80`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// Parses `http.trusted_proxies` entries: CIDRs (`10.0.0.0/8`, `fd00::/8`) or single addresses.
pub fn parse_trusted_proxy(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{s:?} is not a CIDR (10.0.0.0/8) or an IP address"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_static(v));
        }
        h
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter()
            .map(|s| parse_trusted_proxy(s).unwrap())
            .collect()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
        let h = xff(&["1.1.1.1, 2.2.2.2"]);
        assert_eq!(client_ip(Some(ip("9.9.9.9")), &h, &[]), Some(ip("9.9.9.9")));
        // A peer that is not trusted is believed over the header even when proxies are set.
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(Some(ip("9.9.9.9")), &h, &trusted),
            Some(ip("9.9.9.9"))
        );
        assert_eq!(client_ip(None, &h, &trusted), None);
    }

    #[test]
    fn the_header_is_walked_right_to_left_past_trusted_proxies() {
        let trusted = nets(&["10.0.0.0/8", "192.168.1.7"]);
        let peer = Some(ip("10.0.0.1"));
        // The client wrote 6.6.6.6 itself; the proxies appended 5.5.5.5 and 192.168.1.7.
        let h = xff(&["6.6.6.6, 5.5.5.5", "192.168.1.7"]);
        assert_eq!(client_ip(peer, &h, &trusted), Some(ip("5.5.5.5")));
        // Ports and spaces are allowed; IPv4-mapped IPv6 counts as IPv4.
        let h = xff(&[" 5.5.5.5:4711 ,[::ffff:10.1.2.3]:80"]);
        assert_eq!(client_ip(peer, &h, &trusted), Some(ip("5.5.5.5")));
        let h = xff(&["2001:db8::5"]);
        assert_eq!(client_ip(peer, &h, &trusted), Some(ip("2001:db8::5")));
    }

    #[test]
    fn a_trusted_peer_without_a_usable_header_is_the_client_or_its_last_trusted_hop() {
        let trusted = nets(&["10.0.0.0/8"]);
        let peer = Some(ip("10.0.0.1"));
        assert_eq!(client_ip(peer, &HeaderMap::new(), &trusted), peer);
        // Garbage ends the walk at the last trusted hop.
        let h = xff(&["5.5.5.5, unknown, 10.2.2.2"]);
        assert_eq!(client_ip(peer, &h, &trusted), Some(ip("10.2.2.2")));
        // Only trusted proxies: the leftmost is as far as anyone can tell.
        let h = xff(&["10.3.3.3, 10.2.2.2"]);
        assert_eq!(client_ip(peer, &h, &trusted), Some(ip("10.3.3.3")));
    }

    #[test]
    fn trusted_proxies_are_cidrs_or_addresses() {
        assert!(parse_trusted_proxy("10.0.0.0/8").is_ok());
        assert!(parse_trusted_proxy("::1").unwrap().contains(&ip("::1")));
        assert!(parse_trusted_proxy("10.0.0.0/33").is_err());
        assert!(parse_trusted_proxy("proxy.local").is_err());
    }
}
