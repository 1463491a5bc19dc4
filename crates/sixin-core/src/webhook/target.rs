//! Where webhooks may go. An endpoint URL is absolute `http` or `https`. Unless the operator
//! allows private targets (`webhooks.allow_private_targets`), sixin refuses to call loopback,
//! private, link-local and other non-public addresses, so an app's backend cannot use webhooks
//! to reach into the operator's own network: an IP literal (or `localhost`) is refused when
//! the endpoint is saved, and every address a host name resolves to is checked again by the
//! worker before each connection.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Result};

/// The longest endpoint URL accepted.
pub const MAX_URL_CHARS: usize = 2048;

/// Checks an endpoint URL and returns it normalised. [`Error::Invalid`] (`url`) for anything
/// but an absolute http(s) URL with a host and without credentials, or, unless
/// `allow_private`, one naming a non-public address.
pub fn check_url(url: &str, allow_private: bool) -> Result<String> {
    let bad = |reason: &str| Error::invalid("url", reason.to_owned());
    if url.chars().count() > MAX_URL_CHARS {
        return Err(bad("must be at most 2048 characters"));
    }
    let parsed = url::Url::parse(url).map_err(|_| bad("must be an absolute http(s) URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("must be an http or https URL"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("must not contain a user name or password"));
    }
    let private = match parsed.host() {
        None => return Err(bad("must name a host")),
        Some(url::Host::Ipv4(ip)) => !address_allowed(IpAddr::V4(ip), false),
        Some(url::Host::Ipv6(ip)) => !address_allowed(IpAddr::V6(ip), false),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
    };
    if private && !allow_private {
        return Err(bad(
            "names a private, loopback or link-local address; the operator allows those with \
             webhooks.allow_private_targets",
        ));
    }
    Ok(parsed.to_string())
}

/// Whether the worker may connect to `ip`: any address when `allow_private`, else public
/// unicast addresses only.
pub fn address_allowed(ip: IpAddr, allow_private: bool) -> bool {
    allow_private
        || match ip {
            IpAddr::V4(v4) => v4_public(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4_public(v4),
                None => v6_public(v6),
            },
        }
}

fn v4_public(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b); // 100.64.0.0/10, carrier-grade NAT
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || shared)
}

fn v6_public(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = first & 0xfe00 == 0xfc00; // fc00::/7
    let link_local = first & 0xffc0 == 0xfe80; // fe80::/10
    !(ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() || unique_local || link_local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_with_a_public_host_are_accepted_by_default() {
        assert_eq!(
            check_url("https://hooks.example.com/sixin", false).unwrap(),
            "https://hooks.example.com/sixin"
        );
        for bad in [
            "ftp://example.com/",
            "hooks.example.com",
            "https://user:pw@example.com/",
            "http://127.0.0.1:9000/",
            "http://localhost/",
            "http://10.1.2.3/",
            "http://192.168.0.10/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_url("http://127.0.0.1:9000/", true).is_ok());
        assert!(check_url("ftp://127.0.0.1/", true).is_err());
    }

    #[test]
    fn resolved_addresses_are_checked_the_same_way() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(address_allowed(ip("93.184.216.34"), false));
        assert!(address_allowed(ip("2606:2800:220:1::1"), false));
        for private in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "100.64.0.1",
            "fe80::1",
            "::1",
        ] {
            assert!(!address_allowed(ip(private), false), "{private}");
            assert!(address_allowed(ip(private), true), "{private}");
        }
    }
}
