//! [`CoreConfig`]: the limits and lifetimes the core enforces, and [`CoreConfig::validate`], the
//! one place that says which values the core can work with.

use std::time::Duration;

/// Core settings. The binary builds this from its configuration file and environment, then
/// checks it with [`CoreConfig::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreConfig {
    /// How long a session token stays valid after login.
    pub session_ttl: Duration,
    /// How long after sending a sender may recall a message.
    pub recall_window: Duration,
    /// The most members a group may have, owner included.
    pub max_group_members: usize,
    /// Argon2 memory cost in KiB (the OWASP minimum, 19 MiB, by default).
    pub argon2_memory_kib: u32,
    /// Argon2 passes.
    pub argon2_iterations: u32,
    /// The most event streams one member may have open on one node (devices, tabs).
    pub max_streams_per_member: usize,
    /// Events buffered per stream for a client that reads slowly; a stream whose buffer fills
    /// ends as lagged and the client resumes by position.
    pub stream_buffer: usize,
    /// The most events replayed to a reconnecting client; further behind, it is told to resync.
    pub max_replay: u64,
    /// Events older than this are pruned too, even within `max_replay` (30 days; zero: no
    /// age limit). A client further back is told to resync.
    pub max_event_age: Duration,
    /// How long a PhalApi access token (`App.Auth.ApplyToken`) stays valid (2 hours).
    pub access_token_ttl: Duration,
    /// The longest lifetime (`exp - iat`) a server API token may claim (5 minutes).
    pub server_token_max_lifetime: Duration,
    /// The longest lifetime (`exp - iat`, or `exp - now` without `iat`) an app-signed member
    /// token may claim (24 hours).
    pub member_token_max_lifetime: Duration,
    /// How long an app's previous secret stays accepted after a rotation that names no grace
    /// period (24 hours; zero: the old secret stops at once).
    pub secret_grace: Duration,
    /// Rate limits and flood controls every app has unless its own `limits` override them.
    pub limits: crate::limits::Limits,
    /// Webhook targets, retries and delivery leases.
    pub webhooks: crate::webhook::WebhookPolicy,
}

/// The most recipients of one multi-send (YesApi `MultiSend`: 1..200).
pub const MAX_MULTI_SEND: usize = 200;
/// How far in the future a server API token's `iat` may be (the app backend's clock may run
/// ahead of this node's).
pub const SERVER_TOKEN_SKEW: Duration = Duration::from_secs(30);
/// The longest [`CoreConfig::server_token_max_lifetime`]: a captured token must die soon.
pub const MAX_SERVER_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// The longest [`CoreConfig::member_token_max_lifetime`] (30 days, a session's default).
pub const MAX_MEMBER_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// The longest grace period of a rotated app secret ([`CoreConfig::secret_grace`] and each
/// rotation's own): 30 days.
pub const MAX_SECRET_GRACE: Duration = Duration::from_secs(30 * 24 * 3600);
/// The largest history or list page.
pub const MAX_PAGE: u32 = 100;
/// The largest [`CoreConfig::stream_buffer`]: each slot may hold an event, per open stream.
pub const MAX_STREAM_BUFFER: usize = 1_000_000;

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            recall_window: Duration::from_secs(120),
            max_group_members: 2000,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            max_streams_per_member: 8,
            stream_buffer: 1024,
            max_replay: 10_000,
            max_event_age: Duration::from_secs(30 * 24 * 3600),
            access_token_ttl: Duration::from_secs(2 * 3600),
            server_token_max_lifetime: Duration::from_secs(300),
            member_token_max_lifetime: Duration::from_secs(24 * 3600),
            secret_grace: Duration::from_secs(24 * 3600),
            limits: crate::limits::Limits::default(),
            webhooks: crate::webhook::WebhookPolicy::default(),
        }
    }
}

/// A [`CoreConfig`] value the core cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {reason}")]
pub struct CoreConfigError {
    /// The name of the offending [`CoreConfig`] field, e.g. `"max_group_members"`.
    pub field: &'static str,
    /// What the value must be, e.g. `"must be at least 2"`.
    pub reason: &'static str,
}

impl CoreConfig {
    /// Ok when every value is one the core can work with; otherwise the first offending field.
    ///
    /// - `session_ttl`, `access_token_ttl`: at least 1 second (shorter tokens expire on issue).
    /// - `recall_window`: any (zero allows no recall).
    /// - `max_group_members`: at least 2, owner included.
    /// - `argon2_memory_kib`: at least 8, Argon2's floor for the one lane sixin hashes with;
    ///   `argon2_iterations`: at least 1.
    /// - `max_streams_per_member`: at least 1; `stream_buffer`: 1..=[`MAX_STREAM_BUFFER`].
    /// - `max_replay`: at most `i64::MAX`, since it is compared with event positions;
    ///   `max_event_age`: any (zero: no age limit).
    /// - `server_token_max_lifetime`: 1 second..=[`MAX_SERVER_TOKEN_LIFETIME`].
    /// - `secret_grace`: 0..=[`MAX_SECRET_GRACE`].
    /// - `limits`: as [`Limits::validate`](crate::limits::Limits::validate) says; the error's
    ///   `field` is then the configuration key (`limits.sends.burst`).
    pub fn validate(&self) -> Result<(), CoreConfigError> {
        let second = Duration::from_secs(1);
        check(
            self.session_ttl >= second,
            "session_ttl",
            "must be at least 1 second",
        )?;
        check(
            self.max_group_members >= 2,
            "max_group_members",
            "must be at least 2",
        )?;
        check(
            self.argon2_memory_kib >= 8,
            "argon2_memory_kib",
            "must be at least 8",
        )?;
        check(
            self.argon2_iterations >= 1,
            "argon2_iterations",
            "must be at least 1",
        )?;
        let streams = self.max_streams_per_member;
        check(streams >= 1, "max_streams_per_member", "must be at least 1")?;
        let buffer = (1..=MAX_STREAM_BUFFER).contains(&self.stream_buffer);
        check(buffer, "stream_buffer", "must be 1..1000000")?;
        let replay = i64::try_from(self.max_replay).is_ok();
        check(replay, "max_replay", "must be at most 9223372036854775807")?;
        let token = self.access_token_ttl >= second;
        check(token, "access_token_ttl", "must be at least 1 second")?;
        let server = (second..=MAX_SERVER_TOKEN_LIFETIME).contains(&self.server_token_max_lifetime);
        check(
            server,
            "server_token_max_lifetime",
            "must be 1..3600 seconds",
        )?;
        let member = (second..=MAX_MEMBER_TOKEN_LIFETIME).contains(&self.member_token_max_lifetime);
        check(
            member,
            "member_token_max_lifetime",
            "must be 1..2592000 seconds (30 days)",
        )?;
        let grace = self.secret_grace <= MAX_SECRET_GRACE;
        check(
            grace,
            "secret_grace",
            "must be 0..2592000 seconds (30 days)",
        )?;
        self.check_webhooks()?;
        // A rate limit's error names its configuration key (`limits.sends.burst`).
        self.limits.validate().map_err(|e| CoreConfigError {
            field: e.key,
            reason: e.reason,
        })
    }

    /// The webhook retry steps are positive and ordered; a lease lasts at least a second.
    fn check_webhooks(&self) -> Result<(), CoreConfigError> {
        let w = &self.webhooks;
        let ms = Duration::from_millis(1);
        check(
            w.retry.first >= ms,
            "webhook_retry_first",
            "must be at least 1 millisecond",
        )?;
        check(
            w.retry.max_delay >= w.retry.first,
            "webhook_retry_max_delay",
            "must be at least the first retry step",
        )?;
        check(
            w.lease >= Duration::from_secs(1),
            "webhook_lease",
            "must be at least 1 second",
        )
    }
}

/// `Err` naming `field` unless `ok`.
fn check(ok: bool, field: &'static str, reason: &'static str) -> Result<(), CoreConfigError> {
    if ok {
        Ok(())
    } else {
        Err(CoreConfigError { field, reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field `validate` refuses once `spoil` has changed the defaults.
    fn refused(spoil: impl FnOnce(&mut CoreConfig)) -> &'static str {
        let mut cfg = CoreConfig::default();
        spoil(&mut cfg);
        cfg.validate().unwrap_err().field
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(CoreConfig::default().validate(), Ok(()));
        let ttl = CoreConfig::default().access_token_ttl;
        assert_eq!(ttl, Duration::from_secs(7200));
    }

    #[test]
    fn each_limit_names_its_field() {
        let session = refused(|c| c.session_ttl = Duration::from_millis(999));
        assert_eq!(session, "session_ttl");
        assert_eq!(refused(|c| c.max_group_members = 1), "max_group_members");
        assert_eq!(refused(|c| c.argon2_memory_kib = 7), "argon2_memory_kib");
        assert_eq!(refused(|c| c.argon2_iterations = 0), "argon2_iterations");
        let streams = refused(|c| c.max_streams_per_member = 0);
        assert_eq!(streams, "max_streams_per_member");
        assert_eq!(refused(|c| c.stream_buffer = 0), "stream_buffer");
        let buffer = refused(|c| c.stream_buffer = MAX_STREAM_BUFFER + 1);
        assert_eq!(buffer, "stream_buffer");
        assert_eq!(refused(|c| c.max_replay = u64::MAX), "max_replay");
        let token = refused(|c| c.access_token_ttl = Duration::ZERO);
        assert_eq!(token, "access_token_ttl");
        let server = refused(|c| c.server_token_max_lifetime = Duration::ZERO);
        assert_eq!(server, "server_token_max_lifetime");
        let member = refused(|c| c.member_token_max_lifetime = Duration::ZERO);
        assert_eq!(member, "member_token_max_lifetime");
        let long = refused(|c| c.server_token_max_lifetime = Duration::from_secs(3601));
        assert_eq!(long, "server_token_max_lifetime");
        let grace = refused(|c| c.secret_grace = MAX_SECRET_GRACE + Duration::from_secs(1));
        assert_eq!(grace, "secret_grace");
        let first = refused(|c| c.webhooks.retry.first = Duration::ZERO);
        assert_eq!(first, "webhook_retry_first");
        let cap = refused(|c| c.webhooks.retry.max_delay = Duration::from_secs(1));
        assert_eq!(cap, "webhook_retry_max_delay");
        assert_eq!(
            refused(|c| c.webhooks.lease = Duration::ZERO),
            "webhook_lease"
        );
        let burst = refused(|c| c.limits.logins_per_ip.burst = 0);
        assert_eq!(burst, "limits.logins_per_ip.burst");
    }

    #[test]
    fn the_bounds_themselves_are_valid() {
        let edge = CoreConfig {
            session_ttl: Duration::from_secs(1),
            recall_window: Duration::ZERO,
            max_group_members: 2,
            argon2_memory_kib: 8,
            argon2_iterations: 1,
            max_streams_per_member: 1,
            stream_buffer: MAX_STREAM_BUFFER,
            max_replay: i64::MAX as u64,
            max_event_age: Duration::MAX,
            access_token_ttl: Duration::from_secs(1),
            server_token_max_lifetime: Duration::from_secs(1),
            member_token_max_lifetime: MAX_MEMBER_TOKEN_LIFETIME,
            secret_grace: MAX_SECRET_GRACE,
            limits: crate::limits::Limits::default(),
            webhooks: crate::webhook::WebhookPolicy::default(),
        };
        assert_eq!(edge.validate(), Ok(()));
        let one = CoreConfig {
            stream_buffer: 1,
            max_replay: 0,
            max_event_age: Duration::ZERO,
            secret_grace: Duration::ZERO,
            ..edge
        };
        assert_eq!(one.validate(), Ok(()));
    }

    #[test]
    fn the_message_is_the_field_then_the_rule() {
        let err = CoreConfig {
            max_group_members: 0,
            ..CoreConfig::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.to_string(), "max_group_members must be at least 2");
    }
}
