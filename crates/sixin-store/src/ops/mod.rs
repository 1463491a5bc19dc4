//! Every store operation's transaction body, written once for both backends against the small
//! [`Exec`] interface and organised by capability. The executor supplies the row-lock
//! suffixes: ` FOR UPDATE` on PostgreSQL, where concurrent transactions must queue on the
//! conversation row, and nothing on SQLite, whose single writer already serialises writes.
//! Both backends take `$N` parameters.
//!
//! Locks are always taken in one order — a member row (only by the sends that count the
//! sender's new direct conversations, and by an erase), message row, conversation row,
//! membership rows, stream rows — so concurrent transactions cannot deadlock.
//!
//! Nothing here decides who may do what: where a transaction must re-check a permission on
//! what it reads at commit time, it calls [`sixin_core::rules`] and applies the answer.
//!
//! - `apps`, `members` (members and sessions), `logins` (credentials and the failed-login
//!   lockout), `send`, `history`, `reads`, `conversations`, `hide_recall`, `groups`, `events`
//!   (per-member streams), `blocks` (blocks, who may message a member, and the facts their
//!   checks read): one file per capability.
//! - `outbox`: the webhook outbox, written inside the transactions of the changes it records;
//!   `webhooks` and `webhook_queue`: endpoints, deliveries and the delivery worker's leases.
//! - `presence`: which members have an event stream open on which node (the offline hint).
//! - `words` (an app's word list), `reports` (members' reports): the safety controls.
//! - `shared`: row look-ups and locks the capabilities share.

pub(crate) mod apps;
pub(crate) mod blocks;
pub(crate) mod conversations;
pub(crate) mod events;
pub(crate) mod groups;
pub(crate) mod hide_recall;
pub(crate) mod history;
pub(crate) mod logins;
pub(crate) mod members;
pub(crate) mod outbox;
pub(crate) mod presence;
pub(crate) mod prune;
pub(crate) mod reads;
pub(crate) mod reports;
pub(crate) mod send;
mod shared;
pub(crate) mod webhook_queue;
pub(crate) mod webhooks;
pub(crate) mod words;

/// What every capability file imports.
mod prelude {
    pub(super) use std::time::Duration;

    pub(super) use sixin_core::error::Entity;
    pub(super) use sixin_core::ids::*;
    pub(super) use sixin_core::model::*;
    pub(super) use sixin_core::store::*;
    pub(super) use sixin_core::{rules, EventKind};

    pub(super) use super::events::{append, lock_streams, Unread};
    pub(super) use super::shared::*;
    pub(super) use crate::exec::{params, unique, Exec};
    pub(super) use crate::rows::*;
}
