//! Event streams: [`Core::subscribe`] opens a member's stream from a position, and
//! [`EventStream::next`] yields what they missed (from the store) and then what happens (live),
//! in position order, with no gap and no duplicate at the seam.
//!
//! How it stays gapless: one dispatcher task per core reads the [`Bus`](crate::Bus) and routes
//! each event to the bounded buffers of the connected members it concerns (the [`Hub`]). A
//! stream registers its buffer *before* it reads the store, so anything committed after the
//! read arrives live; positions it already has are skipped. A live event that is not the next
//! position (the bus reordered, or a node's events were lost) or a [`Signal::Gap`] makes the
//! stream read the store again from its last position. A stream whose buffer fills (the client
//! reads too slowly) is unregistered: it drains what it has and ends with
//! [`StreamItem::Lagged`], so a slow client never holds up a sender or another client, and
//! resumes by position when it reconnects.
//!
//! A [`Signal::Revoked`] (logout, ban) ends the streams of the sessions it names at once, with
//! [`StreamItem::SessionEnded`], even before their buffered events: the session is already gone
//! from the store. Adapters also re-check the session at each heartbeat, in case a revocation
//! was lost on the way.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use tokio::sync::{broadcast, mpsc, watch};

use crate::auth;
use crate::bus::{Event, MemberEvent, Signal};
use crate::error::{Error, Result};
use crate::ids::{AppId, MemberId, Position, TokenHash};
use crate::store::Events;
use crate::Core;

/// How many events one store read returns while catching up.
const CATCH_UP_PAGE: u32 = 100;

/// What an [`EventStream`] yields.
#[derive(Debug, Clone, PartialEq)]
// Each item is moved once from the stream to its writer; boxing events would only add an
// allocation per event.
#[allow(clippy::large_enum_variant)]
pub enum StreamItem {
    /// The next event of the member's stream (position = previous + 1).
    Event(MemberEvent),
    /// The stream cannot be replayed from where the client asked (too far behind, ahead of the
    /// stream, or older than what is kept). The client should reload its state (conversation
    /// list, unread counts) from the API; the stream goes on from `latest`.
    Resync { latest: Position },
    /// The client fell more than the buffer behind live delivery: the stream ends here and the
    /// client should reconnect from its last position.
    Lagged,
    /// The session the stream was opened with ended (logout, ban): the stream ends here.
    SessionEnded,
}

/// One member's open event stream. Dropping it unregisters it.
pub struct EventStream {
    core: Core,
    app: AppId,
    member: MemberId,
    token: TokenHash,
    /// The app-signed member token the stream was opened with, if it was one.
    signed: Option<String>,
    last: Position,
    backlog: VecDeque<MemberEvent>,
    /// Set when the store may hold events after `last` that live delivery will not bring.
    behind: bool,
    _slot: Registration,
    rx: mpsc::Receiver<Feed>,
    /// Becomes `true` when a revocation names this stream's session.
    ended: watch::Receiver<bool>,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("app", &self.app)
            .field("member", &self.member)
            .field("last", &self.last)
            .field("behind", &self.behind)
            .finish_non_exhaustive()
    }
}

impl Core {
    /// Opens the event stream of the member whose session `token` is, resuming after `after`
    /// (their last seen position), or from now when `None`. At most
    /// [`CoreConfig::max_streams_per_member`](crate::CoreConfig) streams per member are open at
    /// once on this node; one more is [`Error::TooManyStreams`].
    pub async fn subscribe(&self, token: &str, after: Option<Position>) -> Result<EventStream> {
        let caller = self.authenticate(token).await?;
        if let Some(p) = after {
            if p.0 < 0 {
                return Err(Error::invalid("after", "must be a position (0 or more)"));
            }
        }
        let (app, member) = (caller.app_id(), caller.member_id());
        let hub = self.hub();
        // An app-signed token has no session row: the heartbeat re-verifies the token itself.
        let signed = super::member_tokens::is_signed(token).then(|| token.to_owned());
        let token = auth::token_hash(token);
        let (slot, rx, ended) = hub.register(
            (app, member, token.clone()),
            self.config().max_streams_per_member,
            self.config().stream_buffer,
        )?;
        // Recorded as present before the read: a message committed from here on does not name
        // this member offline (the offline hint of `message.created` webhooks).
        if let Some(presence) = hub.presence.get() {
            let _ = presence.touch((app, member)).await;
        }
        // Registered first: whatever commits from here on reaches `rx`.
        let (last, behind) = match after {
            Some(p) => (p, true),
            None => match self
                .store()
                .events_since(app, member, Position(0), 0)
                .await?
            {
                Events::Page { latest, .. } | Events::Resync { latest } => (latest, false),
            },
        };
        Ok(EventStream {
            core: self.clone(),
            app,
            member,
            token,
            signed,
            last,
            backlog: VecDeque::new(),
            behind,
            _slot: slot,
            rx,
            ended,
        })
    }

    /// This core's hub, with its dispatcher started on first use.
    fn hub(&self) -> Arc<Hub> {
        let hub = &self.inner.hub;
        hub.dispatcher.get_or_init(|| {
            let rx = self.inner.bus.subscribe();
            tokio::spawn(dispatch(Arc::downgrade(hub), rx));
            let presence = super::presence::Presence::start(
                Arc::downgrade(hub),
                Arc::clone(&self.inner.store),
                Arc::clone(&self.inner.clock),
                self.node().to_owned(),
            );
            let _ = hub.presence.set(presence);
        });
        Arc::clone(hub)
    }

    /// Event streams open on this node right now.
    pub fn open_streams(&self) -> usize {
        self.inner.hub.open.load(Ordering::Relaxed) as usize
    }
}

impl EventStream {
    /// The position of the last event yielded (or the start position): what to resume after.
    pub fn position(&self) -> Position {
        self.last
    }

    /// The next item: missed events from the store first, then live ones. Waits until there is
    /// one. Errors are store failures; the stream may be retried or dropped.
    pub async fn next(&mut self) -> Result<StreamItem> {
        loop {
            if *self.ended.borrow() {
                return Ok(StreamItem::SessionEnded);
            }
            if let Some(e) = self.backlog.pop_front() {
                if e.position <= self.last {
                    continue;
                }
                self.last = e.position;
                return Ok(StreamItem::Event(e));
            }
            if self.behind {
                if let Some(resync) = self.catch_up().await? {
                    return Ok(resync);
                }
                continue;
            }
            let feed = tokio::select! {
                biased;
                // Err: the hub dropped the slot (lagged); `rx` says so next.
                Ok(()) = self.ended.changed() => continue,
                feed = self.rx.recv() => feed,
            };
            match feed {
                Some(Feed::Event {
                    event,
                    position,
                    unread_total,
                }) => {
                    if position <= self.last {
                        continue;
                    }
                    if position.0 == self.last.0 + 1 {
                        self.last = position;
                        return Ok(StreamItem::Event(MemberEvent {
                            position,
                            unread_total,
                            created_at: event.created_at,
                            kind: event.kind.clone(),
                        }));
                    }
                    self.behind = true;
                }
                Some(Feed::Gap) => self.behind = true,
                // The hub dropped our buffer because it was full (the hub itself lives as long
                // as `core`, which this stream holds).
                None => return Ok(StreamItem::Lagged),
            }
        }
    }

    /// Whether the session the stream was opened with is still live (not logged out, expired,
    /// or the member banned). Adapters call it now and then (on each heartbeat) and close the
    /// stream when it is not.
    pub async fn check_session(&self) -> Result<()> {
        match &self.signed {
            Some(token) => self.core.member_token_caller(token).await.map(|_| ()),
            None => self.core.session_caller(&self.token).await.map(|_| ()),
        }
    }

    /// Reads the next page after `last` from the store; `Some` when the client must resync.
    async fn catch_up(&mut self) -> Result<Option<StreamItem>> {
        let page = self
            .core
            .store()
            .events_since(self.app, self.member, self.last, CATCH_UP_PAGE)
            .await?;
        match page {
            Events::Page { latest, .. }
                if latest.0 - self.last.0 > self.core.config().max_replay as i64 =>
            {
                self.resync(latest)
            }
            Events::Page { events, .. } => {
                self.behind = events.len() >= CATCH_UP_PAGE as usize;
                self.backlog.extend(events);
                Ok(None)
            }
            Events::Resync { latest } => self.resync(latest),
        }
    }

    fn resync(&mut self, latest: Position) -> Result<Option<StreamItem>> {
        self.last = latest;
        self.behind = false;
        self.backlog.clear();
        Ok(Some(StreamItem::Resync { latest }))
    }
}

/// What the hub puts in a stream's buffer.
enum Feed {
    Event {
        event: Arc<Event>,
        position: Position,
        unread_total: u64,
    },
    /// Events may have been missed: read the store.
    Gap,
}

struct Slot {
    id: u64,
    tx: mpsc::Sender<Feed>,
    /// The session the stream was opened with, and how to tell it that it ended.
    token: TokenHash,
    ended: watch::Sender<bool>,
}

/// Routes bus signals to the open streams of this node, by member.
#[derive(Default)]
pub(crate) struct Hub {
    slots: Mutex<HashMap<(AppId, MemberId), Vec<Slot>>>,
    next_id: AtomicU64,
    open: AtomicU64,
    dispatcher: OnceLock<()>,
    /// Records which members have streams here (started with the dispatcher).
    presence: OnceLock<super::presence::Presence>,
}

/// A stream's place in the hub; removes it when dropped.
struct Registration {
    hub: Weak<Hub>,
    key: (AppId, MemberId),
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(hub) = self.hub.upgrade() {
            hub.open.fetch_sub(1, Ordering::Relaxed);
            let mut slots = hub.lock();
            if let Some(list) = slots.get_mut(&self.key) {
                list.retain(|s| s.id != self.id);
                if list.is_empty() {
                    slots.remove(&self.key);
                }
            }
            drop(slots);
            if let Some(presence) = hub.presence.get() {
                presence.touch_later(self.key);
            }
        }
    }
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(AppId, MemberId), Vec<Slot>>> {
        // A panic while holding the lock cannot leave the map half-updated (every change is
        // one push, retain or remove), so a poisoned lock is still usable.
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `key` has a stream registered here (one that lagged no longer counts).
    pub(crate) fn has_streams(&self, key: (AppId, MemberId)) -> bool {
        self.lock().get(&key).is_some_and(|list| !list.is_empty())
    }

    fn register(
        self: &Arc<Self>,
        (app, member, token): (AppId, MemberId, TokenHash),
        max: usize,
        buffer: usize,
    ) -> Result<(Registration, mpsc::Receiver<Feed>, watch::Receiver<bool>)> {
        let (tx, rx) = mpsc::channel(buffer.max(1));
        let (ended, ended_rx) = watch::channel(false);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let key = (app, member);
        {
            let mut slots = self.lock();
            let list = slots.entry(key).or_default();
            // Slots of lagged streams are already gone; closed ones linger until their drop.
            if list.len() >= max {
                return Err(Error::TooManyStreams { max });
            }
            list.push(Slot {
                id,
                tx,
                token,
                ended,
            });
        }
        self.open.fetch_add(1, Ordering::Relaxed);
        let reg = Registration {
            hub: Arc::downgrade(self),
            key,
            id,
        };
        Ok((reg, rx, ended_rx))
    }

    /// Hands `signal` to every stream it concerns, never waiting: a full buffer unregisters
    /// its stream (it drains and ends as lagged).
    fn route(&self, signal: &Signal) {
        let mut slots = self.lock();
        match signal {
            Signal::Event(event) => {
                for d in &event.deliveries {
                    let key = (event.app, d.member);
                    let Some(list) = slots.get_mut(&key) else {
                        continue;
                    };
                    list.retain(|s| {
                        offer(
                            s,
                            Feed::Event {
                                event: Arc::clone(event),
                                position: d.position,
                                unread_total: d.unread_total,
                            },
                        )
                    });
                    if list.is_empty() {
                        slots.remove(&key);
                    }
                }
            }
            Signal::Gap => {
                for list in slots.values_mut() {
                    list.retain(|s| offer(s, Feed::Gap));
                }
                slots.retain(|_, list| !list.is_empty());
            }
            Signal::Revoked(r) => {
                let key = (r.app, r.member);
                if let Some(list) = slots.get(&key) {
                    for s in list.iter().filter(|s| r.ends(r.app, r.member, &s.token)) {
                        s.ended.send_replace(true);
                    }
                }
            }
        }
    }
}

/// Offers `feed` to a slot; whether the slot stays registered.
fn offer(slot: &Slot, feed: Feed) -> bool {
    match slot.tx.try_send(feed) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_) | mpsc::error::TrySendError::Closed(_)) => false,
    }
}

/// The dispatcher: bus → hub, until the bus closes or the core is dropped.
async fn dispatch(hub: Weak<Hub>, mut rx: broadcast::Receiver<Signal>) {
    loop {
        let signal = match rx.recv().await {
            Ok(signal) => signal,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "event dispatcher lagged; streams will catch up");
                Signal::Gap
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let Some(hub) = hub.upgrade() else { return };
        hub.route(&signal);
    }
}
