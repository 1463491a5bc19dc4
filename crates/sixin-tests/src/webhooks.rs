//! Webhook test support: [`Receiver`], a real HTTP endpoint on loopback that records every
//! request and answers as the test says (a status, or hanging until the caller gives up), and
//! that can be stopped (its port closed, open connections cut) and restarted on the same port;
//! [`verify`], the Standard Webhooks check a receiving backend makes, written independently of
//! sixin's signer; and [`Rig`], a server over a harness with a delivery worker running.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Status(u16),
    /// Never answers (the caller's timeout ends it).
    Hang,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `webhook-id`.
    pub fn id(&self) -> String {
        self.header("webhook-id").unwrap_or_default().to_owned()
    }

    /// The outbox position in `webhook-id` (`msg_<n>`).
    pub fn position(&self) -> i64 {
        self.id()
            .strip_prefix("msg_")
            .and_then(|n| n.parse().ok())
            .unwrap_or(-1)
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    pub fn kind(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_owned()
    }
}

#[derive(Default)]
struct Plan {
    script: VecDeque<Answer>,
    /// Answers for bodies containing a text, before the script.
    by_body: Vec<(String, Answer)>,
    got: Vec<Received>,
}

/// A webhook endpoint on `127.0.0.1`.
pub struct Receiver {
    pub addr: SocketAddr,
    plan: Arc<Mutex<Plan>>,
    serving: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// Listens on a fresh loopback port, answering 200 unless told otherwise.
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let plan = Arc::new(Mutex::new(Plan::default()));
        let serving = Some(tokio::spawn(serve(listener, plan.clone())));
        Receiver {
            addr,
            plan,
            serving,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The next requests get these answers, in order; after them, 200.
    pub fn script(&self, answers: &[Answer]) {
        self.plan
            .lock()
            .unwrap()
            .script
            .extend(answers.iter().copied());
    }

    /// Every request whose body contains `text` gets `answer`.
    pub fn when_body_has(&self, text: &str, answer: Answer) {
        let by_body = &mut self.plan.lock().unwrap().by_body;
        by_body.push((text.to_owned(), answer));
    }

    /// Forgets every scripted answer: 200 from now on.
    pub fn answer_normally(&self) {
        let mut plan = self.plan.lock().unwrap();
        plan.script.clear();
        plan.by_body.clear();
    }

    /// Closes the port and cuts every open connection.
    pub fn stop(&mut self) {
        if let Some(task) = self.serving.take() {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        self.stop();
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serving = Some(tokio::spawn(serve(listener, self.plan.clone())));
    }

    /// Everything received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.plan.lock().unwrap().got.clone()
    }

    /// Waits (at most `within`) until `done` holds for what was received; then returns it.
    pub async fn until(
        &self,
        within: Duration,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = self.received();
            if done(&got) {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "receiver {}: not done within {within:?}; got {:?}",
                self.addr,
                got.iter().map(|r| (r.id(), r.kind())).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until at least `n` distinct events (by `webhook-id`) arrived.
    pub async fn distinct(&self, n: usize, within: Duration) -> Vec<Received> {
        self.until(within, |got| first_arrivals(got).len() >= n)
            .await;
        first_arrivals(&self.received())
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The first arrival of each event, in arrival order (later arrivals are duplicates: delivery
/// is at least once).
pub fn first_arrivals(got: &[Received]) -> Vec<Received> {
    let mut seen = std::collections::HashSet::new();
    got.iter()
        .filter(|r| seen.insert(r.id()))
        .cloned()
        .collect()
}

/// Accepts connections until aborted; aborting drops every connection task with it.
async fn serve(listener: TcpListener, plan: Arc<Mutex<Plan>>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let plan = plan.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |req| answer(req, plan.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

async fn answer(
    req: Request<Incoming>,
    plan: Arc<Mutex<Plan>>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    let body = String::from_utf8_lossy(&body.unwrap_or_default()).into_owned();
    let answer = {
        let mut plan = plan.lock().unwrap();
        let by_body = plan.by_body.iter().find(|(t, _)| body.contains(t.as_str()));
        let answer = match by_body {
            Some((_, a)) => *a,
            None => plan.script.pop_front().unwrap_or(Answer::Status(200)),
        };
        plan.got.push(Received { headers, body });
        answer
    };
    match answer {
        Answer::Status(s) => {
            let mut res = Response::new(Full::new(Bytes::from_static(b"ok")));
            *res.status_mut() = hyper::StatusCode::from_u16(s).unwrap();
            Ok(res)
        }
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(Response::new(Full::new(Bytes::new())))
        }
    }
}

/// Checks a request as the Standard Webhooks specification tells a receiver to: the
/// `webhook-signature` holds `v1,` + base64(HMAC-SHA256(base64-decoded secret after `whsec_`,
/// "{webhook-id}.{webhook-timestamp}.{body}")), and the timestamp is within 5 minutes of now.
pub fn verify(secret: &str, r: &Received) -> Result<(), String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").ok_or("no whsec_ prefix")?)
        .map_err(|e| e.to_string())?;
    let id = r.header("webhook-id").ok_or("no webhook-id")?;
    let ts = r
        .header("webhook-timestamp")
        .ok_or("no webhook-timestamp")?;
    let sigs = r
        .header("webhook-signature")
        .ok_or("no webhook-signature")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let ts_n: i64 = ts.parse().map_err(|_| "timestamp is not a number")?;
    if (now - ts_n).abs() > 300 {
        return Err(format!("timestamp {ts} is not within 5 minutes of {now}"));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.{}", r.body).as_bytes());
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    let ok = sigs
        .split(' ')
        .filter_map(|s| s.split_once(','))
        .any(|(v, sig)| v == "v1" && sig == expected);
    ok.then_some(())
        .ok_or_else(|| format!("no v1 signature matches in {sigs:?}"))
}

mod rig;
pub use rig::{live_config, Rig};
