//! sixin-core: the product. Everything sixin decides is decided here; HTTP dialects, the CLI and
//! the event stream are adapters that translate into calls on [`Core`], and stores only store.
//!
//! Map of the crate:
//! - [`ids`]: newtypes for every identifier (`AppId`, `MemberUuid`, `MessageId`, …).
//! - [`model`]: the domain values the core hands out (`Member`, `Message`, `Conversation`, …).
//! - [`error`]: [`Error`], by meaning; each adapter maps it to its own codes.
//! - [`caller`]: [`Caller`], the authenticated member every member-scoped call requires, and
//!   [`AppCaller`], the authenticated app backend every server API call requires.
//! - [`clock`]: the [`Clock`] trait, so tests control time (recall window, session expiry).
//! - [`config`]: [`CoreConfig`], typed limits and lifetimes, and their validation.
//! - [`limits`]: [`Limits`](limits::Limits), the rate limits and flood controls, per app.
//! - [`validate`]: message-body rules and html sanitising, usernames, passwords, subjects.
//! - [`filter`]: the sensitive-word matcher (normalisation, Aho-Corasick, masking).
//! - [`passwords`]: new passwords too easy to guess (an embedded list of common ones).
//! - [`auth`]: password hashing, session tokens (stored hashed), app keys and secrets.
//! - [`rules`]: who may do what (group roles, ownership, recall, event audiences), as pure
//!   functions the services and the store's transactions both call.
//! - [`store`]: the [`Store`] trait every backend implements, and its plain-data inputs.
//! - [`bus`]: the [`Bus`] trait and [`LocalBus`]; the core publishes an [`Event`] after a commit.
//! - [`service`]: [`Core`], the use cases, split by capability.
//! - [`webhook`]: webhook events and payloads, endpoints, signing, retries, target checks.

pub mod auth;
pub mod bus;
pub mod caller;
pub mod clock;
pub mod config;
pub mod error;
pub mod filter;
pub mod ids;
pub mod limits;
pub mod model;
pub mod passwords;
pub mod rules;
pub mod service;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod validate;
pub mod webhook;

pub use bus::{Bus, Event, EventKind, LocalBus, MemberEvent, Revocation, Signal};
pub use caller::{AppCaller, Caller};
pub use clock::{Clock, SystemClock};
pub use config::{CoreConfig, CoreConfigError};
pub use error::{Entity, Error, Result, Throttle};
pub use service::Core;
pub use store::Store;
