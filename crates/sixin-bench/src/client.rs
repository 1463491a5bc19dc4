//! The HTTP side every scenario shares: [`Bench`] (the server, a client, the app, the process
//! to watch), the loopback check, provisioning members, posting a message, and reading the
//! server's memory from /proc.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::{ensure, Context as _};
use futures::{StreamExt as _, TryStreamExt as _};
use reqwest::{Client, StatusCode, Url};
use serde_json::{json, Value};

/// Requests that take longer than this count as errors.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Concurrent registrations/logins while provisioning members (argon2 is the bottleneck).
const PROVISION_PARALLELISM: usize = 8;
const PASSWORD: &str = "bench-password";

/// A bench member: its credentials on the server.
pub struct Member {
    pub username: String,
    pub uuid: String,
    pub token: String,
}

/// What every scenario shares: the server, an HTTP client, the app, the process to watch.
pub struct Bench {
    pub base: Url,
    pub client: Client,
    app_key: String,
    pid: Option<u32>,
    pub json: bool,
}

impl Bench {
    /// Checks that `url` is on this machine and answers `/healthz`; `max_c` sizes the pool.
    pub async fn connect(
        url: &str,
        app_key: &str,
        pid: Option<u32>,
        json: bool,
        max_c: usize,
    ) -> anyhow::Result<Bench> {
        let base = loopback_url(url)?;
        let client = Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .pool_max_idle_per_host(max_c * 2)
            .tcp_nodelay(true)
            .build()?;
        check_server(&client, &base).await?;
        Ok(Bench {
            base,
            client,
            app_key: app_key.to_owned(),
            pid,
            json,
        })
    }

    /// The app the bench registers its members in.
    pub fn app_key(&self) -> &str {
        &self.app_key
    }

    /// `path` on the server.
    pub fn endpoint(&self, path: &str) -> anyhow::Result<Url> {
        Ok(self.base.join(path)?)
    }

    /// The server's resident memory, with `--pid`.
    pub fn server_rss_kib(&self) -> Option<u64> {
        self.pid.and_then(rss_kib)
    }

    /// Registers and logs in `n` fresh members, a few at a time.
    pub async fn provision(&self, n: usize) -> anyhow::Result<Vec<Member>> {
        tracing::info!("registering and logging in {n} members");
        let run_id = format!("{:x}", std::process::id() ^ rand_suffix());
        let members_url = self.endpoint("/v1/members")?;
        let sessions_url = self.endpoint("/v1/sessions")?;
        futures::stream::iter(0..n)
            .map(|i| {
                let username = format!("bench-{run_id}-{i}");
                let creds =
                    json!({"app_key": self.app_key, "username": username, "password": PASSWORD});
                self.provision_one(members_url.clone(), sessions_url.clone(), creds)
            })
            .buffered(PROVISION_PARALLELISM)
            .try_collect()
            .await
    }

    async fn provision_one(
        &self,
        members: Url,
        sessions: Url,
        creds: Value,
    ) -> anyhow::Result<Member> {
        let member = self
            .post_json(members, None, &creds, "POST /v1/members")
            .await?;
        let session = self
            .post_json(sessions, None, &creds, "POST /v1/sessions")
            .await?;
        let uuid = member["uuid"].as_str().context("member without uuid")?;
        let token = session["token"].as_str().context("session without token")?;
        Ok(Member {
            username: creds["username"].as_str().unwrap_or_default().to_owned(),
            uuid: uuid.to_owned(),
            token: token.to_owned(),
        })
    }

    /// POSTs `body` (as `token`, if any), expects 201 Created and returns the JSON answer.
    pub async fn post_json(
        &self,
        url: Url,
        token: Option<&str>,
        body: &Value,
        what: &str,
    ) -> anyhow::Result<Value> {
        let mut req = self.client.post(url).json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.with_context(|| format!("{what} failed"))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        ensure!(
            status != StatusCode::TOO_MANY_REQUESTS,
            "{what} answered {status}: {text}. Every bench request comes from one IP: raise the \
             bench app's per-IP limits first, e.g. `sixin app set-limits --app KEY --json \
             '{{\"registrations_per_ip\": {{\"per\": 1000000, \"burst\": 1000000}}, \
             \"logins_per_ip\": {{\"per\": 1000000, \"burst\": 1000000}}}}'`"
        );
        ensure!(
            status == StatusCode::CREATED,
            "{what} answered {status}: {text}"
        );
        serde_json::from_str(&text).with_context(|| format!("{what} answered non-JSON: {text}"))
    }
}

/// The app's backend: server API calls, each with a fresh HS256 token signed with the app
/// secret.
pub struct ServerApi<'a> {
    bench: &'a Bench,
    app_key: &'a str,
    app_secret: &'a str,
}

impl<'a> ServerApi<'a> {
    pub fn new(bench: &'a Bench, app_key: &'a str, app_secret: &'a str) -> ServerApi<'a> {
        ServerApi {
            bench,
            app_key,
            app_secret,
        }
    }

    /// `method path` with `body`; the JSON answer (`null` when empty), if it is a success.
    pub async fn call(&self, method: &str, path: &str, body: Value) -> anyhow::Result<Value> {
        let url = self.bench.endpoint(path)?;
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let resp = self
            .bench
            .client
            .request(method.clone(), url)
            .bearer_auth(self.token()?)
            .json(&body)
            .timeout(Duration::from_secs(120))
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        ensure!(
            status.is_success(),
            "{method} {path} answered {status}: {text}"
        );
        tracing::info!("{method} {path}: {text}");
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    fn token(&self) -> anyhow::Result<String> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
        let claims = json!({
            "iss": self.app_key,
            "aud": "sixin-server",
            "iat": now.as_secs(),
            "exp": now.as_secs() + 60,
            "jti": format!("bench-{}-{}", std::process::id(), now.as_nanos()),
        });
        let key = jsonwebtoken::EncodingKey::from_secret(self.app_secret.as_bytes());
        Ok(jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &key,
        )?)
    }
}

/// POSTs a message to `/v1/messages` (`url`) as `token`; Ok once the 201 answer was read
/// (reading it returns the connection to the pool), else what went wrong.
pub async fn post_message(
    client: &Client,
    url: &Url,
    token: &str,
    body: &Value,
) -> Result<(), String> {
    let resp = client
        .post(url.clone())
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let text = resp.bytes().await.map_err(|e| e.to_string())?;
    if status == StatusCode::CREATED {
        Ok(())
    } else {
        let text = String::from_utf8_lossy(&text);
        Err(format!("POST /v1/messages answered {status}: {text}"))
    }
}

/// The base URL, if it names this machine.
fn loopback_url(raw: &str) -> anyhow::Result<Url> {
    let url = Url::parse(raw).with_context(|| format!("--url {raw:?} is not a URL"))?;
    ensure!(
        url.scheme() == "http",
        "--url must be http://… (the bench talks plain HTTP to a local server)"
    );
    let host = url.host_str().unwrap_or_default();
    let ip_text = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || ip_text.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    ensure!(
        loopback,
        "refusing to load {host}: sixin-bench only targets this machine \
         (127.0.0.1, ::1 or localhost)"
    );
    Ok(url)
}

async fn check_server(client: &Client, base: &Url) -> anyhow::Result<()> {
    let url = base.join("/healthz")?;
    let resp = client
        .get(url.clone())
        .send()
        .await
        .with_context(|| format!("no server answers at {url}: start one with `sixin serve`"))?;
    ensure!(
        resp.status().is_success(),
        "{url} answered {}: the server is not healthy",
        resp.status()
    );
    Ok(())
}

/// Some bits that differ between runs, so usernames never collide with an earlier run's.
fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(0)
}

/// The resident set size of process `pid`, in KiB, from /proc (Linux).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_are_accepted() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:8080/",
            "http://127.1.2.3",
        ] {
            assert!(loopback_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1:8080",
            "http://example.com",
            "https://127.0.0.1",
            "nonsense",
        ] {
            assert!(loopback_url(bad).is_err(), "{bad}");
        }
    }
}
