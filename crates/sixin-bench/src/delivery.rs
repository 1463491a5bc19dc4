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

mod record;

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use serde::Serialize;
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use self::record::{Part, Receipt, Receipts, Sends};
use crate::client::{Bench, Member};
use crate::report::{self, kib, Table, Text};
use crate::ws::{self, Held, Opened};

/// After the last send, how long to wait for receipts still on their way.
const FINAL_RECEIPT_WAIT: Duration = Duration::from_secs(5);
/// How long one group message may take to reach every stream before the next is sent.
const GROUP_RECEIPT_WAIT: Duration = Duration::from_secs(10);
/// Bound on stopping and closing every held stream.
const STOP_WAIT: Duration = Duration::from_secs(15);

pub struct Plan {
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

/// Streams being read, each reporting receipts on one channel.
struct Listening {
    stop: watch::Sender<bool>,
    holders: JoinSet<Held>,
    receipts: mpsc::UnboundedReceiver<Receipt>,
}

impl Listening {
    /// Collects until `expected` receipts in all, for up to [`FINAL_RECEIPT_WAIT`], then stops
    /// the streams and sums up the part.
    async fn finish(mut self, sends: &Sends, mut got: Receipts, per_message: usize) -> Part {
        let expected = sends.acked * per_message as u64;
        let until = Instant::now() + FINAL_RECEIPT_WAIT;
        got.collect(&mut self.receipts, until, |r| r.total >= expected)
            .await;
        let held = ws::stop_all(&self.stop, &mut self.holders, STOP_WAIT).await;
        sends.summarize(&got, per_message, held)
    }
}

pub async fn run(bench: &Bench, plan: Plan) -> anyhow::Result<()> {
    let members = bench.provision(2 + plan.group_size).await?;
    let rss_kib_before = bench.server_rss_kib();
    let (pair, group) = members.split_at(2);

    tracing::info!("delivery, direct: {} messages", plan.messages);
    let direct = direct(bench, &pair[0], &pair[1], &plan).await?;

    let (n, m) = (plan.group_size, plan.group_messages);
    tracing::info!("delivery, group: {n} members, {m} messages");
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
    report::print(bench.json, &report, layout)
}

/// The direct part: `sender` sends to `receiver`, whose one stream reads.
async fn direct(
    bench: &Bench,
    sender: &Member,
    receiver: &Member,
    plan: &Plan,
) -> anyhow::Result<Part> {
    let events_url = ws::events_url(&bench.base)?;
    let messages_url = bench.endpoint("/v1/messages")?;
    let (socket, _) = ws::open(&events_url, &receiver.token)
        .await
        .map_err(|e| anyhow!("the receiver's event stream did not open: {e}"))?;
    let deadline = Instant::now() + plan.duration;
    let (stop, stop_rx) = watch::channel(false);
    let (tx, receipts) = mpsc::unbounded_channel::<Receipt>();
    let mut holders = JoinSet::new();
    let hold_until = deadline + FINAL_RECEIPT_WAIT + STOP_WAIT;
    holders.spawn(ws::hold(socket, stop_rx, hold_until, move |at, frame| {
        if let Some(seq) = ws::bench_seq(frame) {
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
    let listening = Listening {
        stop,
        holders,
        receipts,
    };
    Ok(listening
        .finish(&sends, Receipts::new(plan.messages), 1)
        .await)
}

/// The group part: `members[0]` creates a group of all `members`, every member opens one
/// stream, then `members[0]` sends to the group.
async fn group_part(
    bench: &Bench,
    members: &[Member],
    plan: &Plan,
) -> anyhow::Result<(GroupPart, Option<u64>)> {
    let (owner, others) = members.split_first().context("a group needs members")?;
    let conversation_id = create_group(bench, owner, others).await?;
    let (streams, mut listening) = listen_to_group(bench, members, conversation_id, plan).await?;
    let rss_connected = bench.server_rss_kib();

    let messages_url = bench.endpoint("/v1/messages")?;
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
        let sent = sends.send(bench, &messages_url, &owner.token, &target, seq);
        let Some(sent) = sent.await else { continue };
        let until = sent.ack + GROUP_RECEIPT_WAIT;
        let rx = &mut listening.receipts;
        receipts
            .collect(rx, until, |r| r.count(seq) >= everyone)
            .await;
    }
    let part = listening.finish(&sends, receipts, everyone).await;
    let group = GroupPart {
        conversation_id,
        group_size: everyone,
        streams,
        part,
    };
    Ok((group, rss_connected))
}

/// `owner` creates a group with `others`; returns its conversation id.
async fn create_group(bench: &Bench, owner: &Member, others: &[Member]) -> anyhow::Result<i64> {
    let body = json!({
        "subject": "bench delivery",
        "members": others.iter().map(|m| m.uuid.as_str()).collect::<Vec<_>>(),
    });
    let url = bench.endpoint("/v1/groups")?;
    let created = bench
        .post_json(url, Some(&owner.token), &body, "POST /v1/groups")
        .await?;
    created["id"].as_i64().context("group without id")
}

/// Opens one stream per member, each reporting its receipts of group messages; all must open.
async fn listen_to_group(
    bench: &Bench,
    members: &[Member],
    conversation_id: i64,
    plan: &Plan,
) -> anyhow::Result<(Opened, Listening)> {
    let url = ws::events_url(&bench.base)?;
    let (stop, stop_rx) = watch::channel(false);
    let (tx, receipts) = mpsc::unbounded_channel::<Receipt>();
    let mut holders = JoinSet::new();
    // Opening, sending, and the waits after them, with room to spare: holders are stopped
    // explicitly well before this.
    let hold_until = Instant::now() + 2 * plan.duration + GROUP_RECEIPT_WAIT + 2 * STOP_WAIT;
    let tokens: Vec<String> = members.iter().map(|m| m.token.clone()).collect();
    let open_until = Instant::now() + plan.duration;
    let streams = ws::open_many(&url, &tokens, open_until, |i, socket| {
        let tx = tx.clone();
        holders.spawn(ws::hold(
            socket,
            stop_rx.clone(),
            hold_until,
            move |at, frame| {
                let in_group = frame["message"]["conversation_id"] == conversation_id;
                if let (true, Some(seq)) = (in_group, ws::bench_seq(frame)) {
                    let _ = tx.send((i, seq, at));
                }
            },
        ));
    })
    .await;
    drop(tx);
    if streams.established < members.len() {
        ws::stop_all(&stop, &mut holders, STOP_WAIT).await;
        bail!(
            "only {} of the group's {} event streams opened; first errors: {:?}",
            streams.established,
            members.len(),
            streams.first_errors
        );
    }
    let listening = Listening {
        stop,
        holders,
        receipts,
    };
    Ok((streams, listening))
}

fn layout(r: &Report) -> Text {
    let (d, g) = (&r.direct, &r.group.part);
    let mut text = Text::default();
    text.line(format!("sixin-bench delivery: {}", r.url));
    parts(&mut text, r);
    text.line("").table(Table::latencies(&[
        ("direct send→ack (HTTP)", &d.send_to_ack),
        ("direct ack→receipt", &d.ack_to_receipt),
        ("direct send→receipt", &d.send_to_receipt),
        ("group send→ack (HTTP)", &g.send_to_ack),
        ("group ack→receipt", &g.ack_to_receipt),
        ("group send→receipt", &g.send_to_receipt),
        ("group ack→last member", &g.ack_to_last_receipt),
    ]));
    text.line(format!(
        "ack→receipt is signed: negative when the frame reached the stream before the sender \
         had read its HTTP answer ({} direct and {} group receipts did).",
        d.received_before_ack, g.received_before_ack
    ));
    if r.rss_kib_before.is_some() {
        text.line(format!(
            "server RSS KiB: {} after provisioning, {} with the group connected, {} at the end",
            kib(r.rss_kib_before),
            kib(r.rss_kib_group_connected),
            kib(r.rss_kib_after)
        ));
    }
    text
}

/// The two parts' counts, and their first send error and early closes if any.
fn parts(text: &mut Text, r: &Report) {
    let (d, g) = (&r.direct, &r.group);
    text.line(format!(
        "direct: {} of {} messages acknowledged ({} errors{}) in {:.1}s, sent one after \
         another; receipts {}, missing {}, duplicates {}",
        d.messages_sent,
        d.messages_planned,
        d.send_errors,
        stopped(d.deadline_hit),
        d.elapsed_secs,
        d.receipts,
        d.missing_receipts,
        d.duplicate_receipts,
    ));
    let (streams, p) = (&g.streams, &g.part);
    text.line(format!(
        "group {}: {} members, {} streams open (handshakes {:.1}s); {} of {} messages \
         acknowledged ({} errors{}) in {:.1}s, each to every stream (the sender's own \
         included); receipts {}, missing {} ({} messages incomplete), duplicates {}",
        g.conversation_id,
        g.group_size,
        streams.established,
        streams.elapsed_secs,
        p.messages_sent,
        p.messages_planned,
        p.send_errors,
        stopped(p.deadline_hit),
        p.elapsed_secs,
        p.receipts,
        p.missing_receipts,
        p.incomplete_messages,
        p.duplicate_receipts,
    ));
    for (what, part) in [("direct", d), ("group", p)] {
        if let Some(e) = &part.first_send_error {
            text.line(format!("first {what} send error: {e}"));
        }
        let (n, reasons) = (
            part.streams_held.closed_early,
            &part.streams_held.first_close_reasons,
        );
        if n > 0 {
            text.line(format!(
                "{what}: {n} streams closed before the end: {reasons:?}"
            ));
        }
    }
}

fn stopped(deadline_hit: bool) -> &'static str {
    if deadline_hit {
        ", stopped by --duration-secs"
    } else {
        ""
    }
}
