//! `--scenario delivery`: how long a message takes from the sender's acknowledgement to its
//! receipt on the event stream.
//!
//! - direct: one receiver holds one stream; the sender sends `--messages` texts `bench-N` one
//!   after another (no waiting for receipts between sends).
//! - group: `--group-size` members (the sender included) each hold one stream; the sender
//!   sends `--group-messages` texts to the group, each once the previous one reached every
//!   stream or [`GROUP_RECEIPT_WAIT`] passed. The sender's own stream counts as a receiver
//!   (its other devices get their own sends).
//!
//! For each acknowledged message it records when the POST started, when its answer was read
//! (the acknowledgement), and when each stream got the frame. `ack → receipt` is signed: the
//! event may reach a stream before the sender has read its HTTP answer.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use reqwest::{StatusCode, Url};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::events::{self, HeldTally, Latency, Opened};
use super::{endpoint, expect_status, Bench, Member};

/// After the last send, how long to wait for receipts still on their way.
const FINAL_RECEIPT_WAIT: Duration = Duration::from_secs(5);
/// How long one group message may take to reach every stream before the next is sent.
const GROUP_RECEIPT_WAIT: Duration = Duration::from_secs(10);
/// Bound on stopping and closing every held stream.
const STOP_WAIT: Duration = Duration::from_secs(15);

pub(super) struct Plan {
    pub messages: u64,
    pub group_size: usize,
    pub group_messages: u64,
    /// Caps the sends of each part, and opening the group's streams.
    pub duration: Duration,
}

#[derive(Debug, Serialize)]
struct Report {
    scenario: &'static str,
    url: String,
    duration_secs: u64,
    members: usize,
    direct: Part,
    group: GroupPart,
    rss_kib_before: Option<u64>,
    rss_kib_group_connected: Option<u64>,
    rss_kib_after: Option<u64>,
}

#[derive(Debug, Serialize)]
struct GroupPart {
    conversation_id: i64,
    group_size: usize,
    streams: Opened,
    #[serde(flatten)]
    part: Part,
}

/// One part (direct or group): its sends and their receipts.
#[derive(Debug, Serialize)]
struct Part {
    messages_planned: u64,
    /// Messages acknowledged (201).
    messages_sent: u64,
    send_errors: u64,
    first_send_error: Option<String>,
    /// Sending stopped because --duration-secs passed.
    deadline_hit: bool,
    elapsed_secs: f64,
    /// Streams that should get each message.
    receivers_per_message: usize,
    /// Receipts of acknowledged messages (first receipt per stream and message).
    receipts: u64,
    /// Receipts still missing after the final wait (should be 0).
    missing_receipts: u64,
    /// Messages some stream never got.
    incomplete_messages: u64,
    duplicate_receipts: u64,
    /// Receipts that arrived before the sender had read the acknowledgement.
    received_before_ack: u64,
    /// The HTTP round trip of the send.
    send_to_ack: Latency,
    /// Signed: negative when the frame arrived before the acknowledgement.
    ack_to_receipt: Latency,
    send_to_receipt: Latency,
    /// Per message: until the last stream got it (messages every stream got).
    ack_to_last_receipt: Latency,
    streams_held: HeldTally,
}

/// A receipt: which stream got which `bench-N`, when.
type Receipt = (usize, u64, Instant);

/// Receipts by message counter.
struct Receipts {
    by_seq: Vec<Vec<Instant>>,
    seen: HashSet<(usize, u64)>,
    /// First receipts of messages in range.
    total: u64,
    duplicates: u64,
}

impl Receipts {
    fn new(messages: u64) -> Receipts {
        Receipts {
            by_seq: vec![Vec::new(); usize::try_from(messages).unwrap_or(0)],
            seen: HashSet::new(),
            total: 0,
            duplicates: 0,
        }
    }

    fn record(&mut self, (stream, seq, at): Receipt) {
        let Some(times) = usize::try_from(seq)
            .ok()
            .and_then(|i| self.by_seq.get_mut(i))
        else {
            return;
        };
        if self.seen.insert((stream, seq)) {
            times.push(at);
            self.total += 1;
        } else {
            self.duplicates += 1;
        }
    }

    fn count(&self, seq: u64) -> usize {
        usize::try_from(seq)
            .ok()
            .and_then(|i| self.by_seq.get(i))
            .map_or(0, Vec::len)
    }

    /// Records receipts until `done` holds or `until` passes, then whatever is already queued.
    async fn collect(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<Receipt>,
        until: Instant,
        done: impl Fn(&Receipts) -> bool,
    ) {
        let until = tokio::time::Instant::from_std(until);
        while !done(self) {
            match tokio::time::timeout_at(until, rx.recv()).await {
                Ok(Some(r)) => self.record(r),
                _ => break,
            }
        }
        while let Ok(r) = rx.try_recv() {
            self.record(r);
        }
    }
}

/// When one send started and when its answer had been read.
#[derive(Debug, Clone, Copy)]
struct Sent {
    start: Instant,
    ack: Instant,
}

/// Sends as a loop would, recording each message's timing by its counter.
struct Sends {
    by_seq: Vec<Option<Sent>>,
    acked: u64,
    errors: u64,
    first_error: Option<String>,
    deadline_hit: bool,
    started: Instant,
}

impl Sends {
    fn new(messages: u64) -> Sends {
        Sends {
            by_seq: vec![None; usize::try_from(messages).unwrap_or(0)],
            acked: 0,
            errors: 0,
            first_error: None,
            deadline_hit: false,
            started: Instant::now(),
        }
    }

    /// Sends `bench-{seq}` (to a member or into a conversation, per `target`) and records it.
    async fn send(
        &mut self,
        bench: &Bench,
        url: &Url,
        token: &str,
        target: &Value,
        seq: u64,
    ) -> Option<Sent> {
        let mut body = json!({"type": "text", "data": {"content": format!("bench-{seq}")}});
        if let (Some(body), Some(target)) = (body.as_object_mut(), target.as_object()) {
            body.extend(target.clone());
        }
        let start = Instant::now();
        let result = async {
            let resp = bench
                .client
                .post(url.clone())
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = resp.status();
            let text = resp.bytes().await.map_err(|e| e.to_string())?;
            let ack = Instant::now();
            if status == StatusCode::CREATED {
                Ok(ack)
            } else {
                Err(format!(
                    "POST /v1/messages answered {status}: {}",
                    String::from_utf8_lossy(&text)
                ))
            }
        }
        .await;
        match result {
            Ok(ack) => {
                let sent = Sent { start, ack };
                if let Some(slot) = usize::try_from(seq)
                    .ok()
                    .and_then(|i| self.by_seq.get_mut(i))
                {
                    *slot = Some(sent);
                }
                self.acked += 1;
                Some(sent)
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert(e);
                None
            }
        }
    }

    /// The part's figures, from these sends and the receipts of `per_message` streams each.
    fn summarize(&self, receipts: &Receipts, per_message: usize, held: HeldTally) -> Part {
        let (mut ack_us, mut start_us, mut last_us, mut http_us) = (vec![], vec![], vec![], vec![]);
        let (mut missing, mut incomplete, mut before_ack, mut got_total) = (0, 0, 0, 0);
        for (seq, sent) in self.by_seq.iter().enumerate() {
            let Some(sent) = sent else { continue };
            let got = receipts.by_seq.get(seq).map_or(&[][..], Vec::as_slice);
            http_us.push(events::signed_us(sent.ack, sent.start));
            got_total += got.len() as u64;
            for &at in got {
                ack_us.push(events::signed_us(at, sent.ack));
                start_us.push(events::signed_us(at, sent.start));
                if at < sent.ack {
                    before_ack += 1;
                }
            }
            if got.len() >= per_message {
                if let Some(&last) = got.iter().max() {
                    last_us.push(events::signed_us(last, sent.ack));
                }
            } else {
                incomplete += 1;
                missing += (per_message - got.len()) as u64;
            }
        }
        Part {
            messages_planned: self.by_seq.len() as u64,
            messages_sent: self.acked,
            send_errors: self.errors,
            first_send_error: self.first_error.clone(),
            deadline_hit: self.deadline_hit,
            elapsed_secs: self.started.elapsed().as_secs_f64(),
            receivers_per_message: per_message,
            receipts: got_total,
            missing_receipts: missing,
            incomplete_messages: incomplete,
            duplicate_receipts: receipts.duplicates,
            received_before_ack: before_ack,
            send_to_ack: Latency::from_us(http_us),
            ack_to_receipt: Latency::from_us(ack_us),
            send_to_receipt: Latency::from_us(start_us),
            ack_to_last_receipt: Latency::from_us(last_us),
            streams_held: held,
        }
    }
}

pub(super) async fn run(bench: &Bench, plan: Plan) -> anyhow::Result<()> {
    let members = bench.provision(2 + plan.group_size).await?;
    let rss_kib_before = bench.server_rss_kib();
    let (pair, group) = members.split_at(2);

    tracing::info!("delivery, direct: {} messages", plan.messages);
    let direct = direct(bench, &pair[0], &pair[1], &plan).await?;

    tracing::info!(
        "delivery, group: {} members, {} messages",
        plan.group_size,
        plan.group_messages
    );
    let (group, rss_kib_group_connected) = group_part(bench, group, &plan).await?;

    let report = Report {
        scenario: "delivery",
        url: bench.base.to_string(),
        duration_secs: plan.duration.as_secs(),
        members: members.len(),
        direct,
        group,
        rss_kib_before,
        rss_kib_group_connected,
        rss_kib_after: bench.server_rss_kib(),
    };
    if bench.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

/// The direct part: `sender` sends to `receiver`, whose one stream reads.
async fn direct(
    bench: &Bench,
    sender: &Member,
    receiver: &Member,
    plan: &Plan,
) -> anyhow::Result<Part> {
    let events_url = events::events_url(&bench.base)?;
    let messages_url = endpoint(&bench.base, "/v1/messages")?;
    let (ws, _) = events::open(&events_url, &receiver.token)
        .await
        .map_err(|e| anyhow!("the receiver's event stream did not open: {e}"))?;
    let deadline = Instant::now() + plan.duration;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (tx, mut rx) = mpsc::unbounded_channel::<Receipt>();
    let mut holders = JoinSet::new();
    let hold_until = deadline + FINAL_RECEIPT_WAIT + STOP_WAIT;
    holders.spawn(events::hold(ws, stop_rx, hold_until, move |at, frame| {
        if let Some(seq) = events::bench_seq(frame) {
            let _ = tx.send((0, seq, at));
        }
    }));

    let mut sends = Sends::new(plan.messages);
    let target = json!({"to": receiver.uuid});
    for seq in 0..plan.messages {
        if Instant::now() >= deadline {
            sends.deadline_hit = true;
            break;
        }
        sends
            .send(bench, &messages_url, &sender.token, &target, seq)
            .await;
    }
    let mut receipts = Receipts::new(plan.messages);
    let acked = sends.acked;
    receipts
        .collect(&mut rx, Instant::now() + FINAL_RECEIPT_WAIT, |r| {
            r.total >= acked
        })
        .await;
    let held = events::stop_all(&stop_tx, &mut holders, STOP_WAIT).await;
    Ok(sends.summarize(&receipts, 1, held))
}

/// The group part: `members[0]` creates a group of all `members`, every member opens one
/// stream, then `members[0]` sends to the group.
async fn group_part(
    bench: &Bench,
    members: &[Member],
    plan: &Plan,
) -> anyhow::Result<(GroupPart, Option<u64>)> {
    let events_url = events::events_url(&bench.base)?;
    let messages_url = endpoint(&bench.base, "/v1/messages")?;
    let (owner, others) = members.split_first().context("a group needs members")?;
    let created = expect_status(
        bench
            .client
            .post(endpoint(&bench.base, "/v1/groups")?)
            .bearer_auth(&owner.token)
            .json(&json!({
                "subject": "bench delivery",
                "members": others.iter().map(|m| m.uuid.as_str()).collect::<Vec<_>>(),
            }))
            .send()
            .await,
        StatusCode::CREATED,
        "POST /v1/groups",
    )
    .await?;
    let conversation_id = created["id"].as_i64().context("group without id")?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let (tx, mut rx) = mpsc::unbounded_channel::<Receipt>();
    let mut holders = JoinSet::new();
    // Opening, sending, and the waits after them, with room to spare: holders are stopped
    // explicitly well before this.
    let hold_until = Instant::now() + 2 * plan.duration + GROUP_RECEIPT_WAIT + 2 * STOP_WAIT;
    let tokens: Vec<String> = members.iter().map(|m| m.token.clone()).collect();
    let streams = events::open_many(
        &events_url,
        &tokens,
        Instant::now() + plan.duration,
        |i, ws| {
            let tx = tx.clone();
            holders.spawn(events::hold(
                ws,
                stop_rx.clone(),
                hold_until,
                move |at, frame| {
                    let in_group = frame["message"]["conversation_id"] == conversation_id;
                    if let (true, Some(seq)) = (in_group, events::bench_seq(frame)) {
                        let _ = tx.send((i, seq, at));
                    }
                },
            ));
        },
    )
    .await;
    drop(tx);
    if streams.established < members.len() {
        events::stop_all(&stop_tx, &mut holders, STOP_WAIT).await;
        bail!(
            "only {} of the group's {} event streams opened; first errors: {:?}",
            streams.established,
            members.len(),
            streams.first_errors
        );
    }
    let rss_connected = bench.server_rss_kib();

    let deadline = Instant::now() + plan.duration;
    let mut sends = Sends::new(plan.group_messages);
    let mut receipts = Receipts::new(plan.group_messages);
    let target = json!({"conversation_id": conversation_id});
    let everyone = members.len();
    for seq in 0..plan.group_messages {
        if Instant::now() >= deadline {
            sends.deadline_hit = true;
            break;
        }
        let Some(sent) = sends
            .send(bench, &messages_url, &owner.token, &target, seq)
            .await
        else {
            continue;
        };
        receipts
            .collect(&mut rx, sent.ack + GROUP_RECEIPT_WAIT, |r| {
                r.count(seq) >= everyone
            })
            .await;
    }
    let expected = sends.acked * everyone as u64;
    receipts
        .collect(&mut rx, Instant::now() + FINAL_RECEIPT_WAIT, |r| {
            r.total >= expected
        })
        .await;
    let held = events::stop_all(&stop_tx, &mut holders, STOP_WAIT).await;
    let part = sends.summarize(&receipts, everyone, held);
    Ok((
        GroupPart {
            conversation_id,
            group_size: everyone,
            streams,
            part,
        },
        rss_connected,
    ))
}

fn print_table(r: &Report) {
    let (d, g) = (&r.direct, &r.group);
    println!("sixin bench delivery: {}", r.url);
    println!(
        "direct: {} of {} messages acknowledged ({} errors{}) in {:.1}s, sent one after \
         another; receipts {}, missing {}, duplicates {}",
        d.messages_sent,
        d.messages_planned,
        d.send_errors,
        if d.deadline_hit {
            ", stopped by --duration-secs"
        } else {
            ""
        },
        d.elapsed_secs,
        d.receipts,
        d.missing_receipts,
        d.duplicate_receipts,
    );
    println!(
        "group {}: {} members, {} streams open (handshakes {:.1}s); {} of {} messages \
         acknowledged ({} errors{}) in {:.1}s, each to every stream (the sender's own \
         included); receipts {}, missing {} ({} messages incomplete), duplicates {}",
        g.conversation_id,
        g.group_size,
        g.streams.established,
        g.streams.elapsed_secs,
        g.part.messages_sent,
        g.part.messages_planned,
        g.part.send_errors,
        if g.part.deadline_hit {
            ", stopped by --duration-secs"
        } else {
            ""
        },
        g.part.elapsed_secs,
        g.part.receipts,
        g.part.missing_receipts,
        g.part.incomplete_messages,
        g.part.duplicate_receipts,
    );
    for (what, e) in [
        ("direct", &d.first_send_error),
        ("group", &g.part.first_send_error),
    ] {
        if let Some(e) = e {
            println!("first {what} send error: {e}");
        }
    }
    for (what, held) in [("direct", &d.streams_held), ("group", &g.part.streams_held)] {
        if held.closed_early > 0 {
            println!(
                "{what}: {} streams closed before the end: {:?}",
                held.closed_early, held.first_close_reasons
            );
        }
    }
    println!();
    events::print_latency_header("");
    events::print_latency("direct send→ack (HTTP)", &d.send_to_ack);
    events::print_latency("direct ack→receipt", &d.ack_to_receipt);
    events::print_latency("direct send→receipt", &d.send_to_receipt);
    events::print_latency("group send→ack (HTTP)", &g.part.send_to_ack);
    events::print_latency("group ack→receipt", &g.part.ack_to_receipt);
    events::print_latency("group send→receipt", &g.part.send_to_receipt);
    events::print_latency("group ack→last member", &g.part.ack_to_last_receipt);
    println!(
        "ack→receipt is signed: negative when the frame reached the stream before the sender \
         had read its HTTP answer ({} direct and {} group receipts did).",
        d.received_before_ack, g.part.received_before_ack
    );
    if r.rss_kib_before.is_some() {
        let kib = |v: Option<u64>| v.map(|k| k.to_string()).unwrap_or_default();
        println!(
            "server RSS KiB: {} after provisioning, {} with the group connected, {} at the end",
            kib(r.rss_kib_before),
            kib(r.rss_kib_group_connected),
            kib(r.rss_kib_after)
        );
    }
}
