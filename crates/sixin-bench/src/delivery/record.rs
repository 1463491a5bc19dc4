//! What the delivery scenario records: each send's timing by its counter ([`Sends`]), each
//! stream's first receipt of each message ([`Receipts`]), and the [`Part`] figures made of both.

use std::collections::HashSet;
use std::time::Instant;

use reqwest::Url;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::client::{self, Bench};
use crate::stats::{signed_us, Latency};
use crate::ws::HeldTally;

/// One part (direct or group): its sends and their receipts.
#[derive(Debug, Serialize)]
pub struct Part {
    pub messages_planned: u64,
    /// Messages acknowledged (201).
    pub messages_sent: u64,
    pub send_errors: u64,
    pub first_send_error: Option<String>,
    /// Sending stopped because --duration-secs passed.
    pub deadline_hit: bool,
    pub elapsed_secs: f64,
    /// Streams that should get each message.
    pub receivers_per_message: usize,
    /// Receipts of acknowledged messages (first receipt per stream and message).
    pub receipts: u64,
    /// Receipts still missing after the final wait (should be 0).
    pub missing_receipts: u64,
    /// Messages some stream never got.
    pub incomplete_messages: u64,
    pub duplicate_receipts: u64,
    /// Receipts that arrived before the sender had read the acknowledgement.
    pub received_before_ack: u64,
    /// The HTTP round trip of the send.
    pub send_to_ack: Latency,
    /// Signed: negative when the frame arrived before the acknowledgement.
    pub ack_to_receipt: Latency,
    pub send_to_receipt: Latency,
    /// Per message: until the last stream got it (messages every stream got).
    pub ack_to_last_receipt: Latency,
    pub streams_held: HeldTally,
}

/// A receipt: which stream got which `bench-N`, when.
pub type Receipt = (usize, u64, Instant);

/// Receipts by message counter.
pub struct Receipts {
    by_seq: Vec<Vec<Instant>>,
    seen: HashSet<(usize, u64)>,
    /// First receipts of messages in range.
    pub total: u64,
    duplicates: u64,
}

impl Receipts {
    pub fn new(messages: u64) -> Receipts {
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

    pub fn count(&self, seq: u64) -> usize {
        usize::try_from(seq)
            .ok()
            .and_then(|i| self.by_seq.get(i))
            .map_or(0, Vec::len)
    }

    /// Records receipts until `done` holds or `until` passes, then whatever is already queued.
    pub async fn collect(
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
pub struct Sent {
    start: Instant,
    pub ack: Instant,
}

/// Sends as a loop would, recording each message's timing by its counter.
pub struct Sends {
    by_seq: Vec<Option<Sent>>,
    pub acked: u64,
    errors: u64,
    first_error: Option<String>,
    pub deadline_hit: bool,
    started: Instant,
}

/// The samples of one part, in microseconds, and its counts.
#[derive(Default)]
struct Samples {
    send_to_ack: Vec<i64>,
    ack_to_receipt: Vec<i64>,
    send_to_receipt: Vec<i64>,
    ack_to_last: Vec<i64>,
    receipts: u64,
    missing: u64,
    incomplete: u64,
    before_ack: u64,
}

impl Samples {
    /// Adds one acknowledged message and the receipts `got` of it (`per_message` expected).
    fn add(&mut self, sent: Sent, got: &[Instant], per_message: usize) {
        self.send_to_ack.push(signed_us(sent.ack, sent.start));
        self.receipts += got.len() as u64;
        for &at in got {
            self.ack_to_receipt.push(signed_us(at, sent.ack));
            self.send_to_receipt.push(signed_us(at, sent.start));
            self.before_ack += u64::from(at < sent.ack);
        }
        if got.len() < per_message {
            self.incomplete += 1;
            self.missing += (per_message - got.len()) as u64;
        } else if let Some(&last) = got.iter().max() {
            self.ack_to_last.push(signed_us(last, sent.ack));
        }
    }
}

impl Sends {
    pub fn new(messages: u64) -> Sends {
        Sends {
            by_seq: vec![None; usize::try_from(messages).unwrap_or(0)],
            acked: 0,
            errors: 0,
            first_error: None,
            deadline_hit: false,
            started: Instant::now(),
        }
    }

    /// Sends `bench-{seq}` as `token` (to a member or into a conversation, per `target`, a
    /// JSON object) to `/v1/messages` (`url`) and records it.
    pub async fn send(
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
        if let Err(e) = client::post_message(&bench.client, url, token, &body).await {
            self.errors += 1;
            self.first_error.get_or_insert(e);
            return None;
        }
        let sent = Sent {
            start,
            ack: Instant::now(),
        };
        let slot = usize::try_from(seq)
            .ok()
            .and_then(|i| self.by_seq.get_mut(i));
        if let Some(slot) = slot {
            *slot = Some(sent);
        }
        self.acked += 1;
        Some(sent)
    }

    /// The part's figures, from these sends and the receipts of `per_message` streams each.
    pub fn summarize(&self, receipts: &Receipts, per_message: usize, held: HeldTally) -> Part {
        let mut s = Samples::default();
        for (seq, sent) in self.by_seq.iter().enumerate() {
            if let Some(sent) = sent {
                let got = receipts.by_seq.get(seq).map_or(&[][..], Vec::as_slice);
                s.add(*sent, got, per_message);
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
            receipts: s.receipts,
            missing_receipts: s.missing,
            incomplete_messages: s.incomplete,
            duplicate_receipts: receipts.duplicates,
            received_before_ack: s.before_ack,
            send_to_ack: Latency::from_us(s.send_to_ack),
            ack_to_receipt: Latency::from_us(s.ack_to_receipt),
            send_to_receipt: Latency::from_us(s.send_to_receipt),
            ack_to_last_receipt: Latency::from_us(s.ack_to_last),
            streams_held: held,
        }
    }
}
