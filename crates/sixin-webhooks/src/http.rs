//! The HTTP side of a delivery: one POST per try. Redirects are not followed (a 3xx is a
//! failed try, like any non-2xx), environment proxies are not used, and every address a host
//! name resolves to must pass the core's target policy, so a name pointed at a private address
//! after the endpoint was saved is refused too.

use std::error::Error as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, USER_AGENT};
use sixin_core::service::{Attempt, Outcome};
use sixin_core::Core;

/// Resolves host names with the system resolver, keeping only the addresses the core allows.
struct Guard {
    core: Core,
}

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        let core = self.core.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = all
                .into_iter()
                .filter(|a| core.webhook_address_allowed(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!(
                    "{host} resolves only to private, loopback or link-local addresses, which \
                     webhooks may not call (webhooks.allow_private_targets)"
                )
                .into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// The client every try of this node goes through.
pub(crate) fn client(core: &Core, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(Guard { core: core.clone() }))
        .build()
        .expect("a client with a resolver, timeouts and no proxy always builds")
}

/// The address an IP-literal URL names, when the policy refuses it (a host name is checked by
/// the resolver instead).
fn refused_literal(core: &Core, url: &str) -> Option<IpAddr> {
    let ip = match url::Url::parse(url).ok()?.host()? {
        url::Host::Ipv4(ip) => IpAddr::V4(ip),
        url::Host::Ipv6(ip) => IpAddr::V6(ip),
        url::Host::Domain(_) => return None,
    };
    (!core.webhook_address_allowed(ip)).then_some(ip)
}

/// Why an IP-literal URL may not be called, if it may not.
pub(crate) fn refused(core: &Core, url: &str) -> Option<String> {
    refused_literal(core, url).map(|ip| {
        format!("{ip} is a private, loopback or link-local address, which webhooks may not call")
    })
}

/// Makes the try: the answer's status, or why there was none.
pub(crate) async fn post(client: &reqwest::Client, core: &Core, attempt: &Attempt) -> Outcome {
    if let Some(why) = refused(core, &attempt.url) {
        return Outcome::NoAnswer(why);
    }
    let mut req = client
        .post(&attempt.url)
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, concat!("sixin/", env!("CARGO_PKG_VERSION")))
        .body(attempt.body.clone());
    for (name, value) in &attempt.headers {
        req = req.header(*name, value);
    }
    match req.send().await {
        // The body is not read: only the status counts.
        Ok(res) => Outcome::Answered(res.status().as_u16()),
        Err(e) => Outcome::NoAnswer(describe(&e)),
    }
}

/// What went wrong, in words, with the causes (the URL left out: it is the endpoint's own).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "no answer in time"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut text = what.to_owned();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
