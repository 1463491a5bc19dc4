//! Password logins, guarded twice: per client IP (`logins_per_ip`, counted in this node's
//! token buckets) and per account (the failed-login lockout, kept in the database, so every
//! node sharing it enforces one lockout).

use std::net::IpAddr;

use crate::error::{Error, Result, Throttle};
use crate::ids::Timestamp;
use crate::limits::{BucketKey, Quota};
use crate::model::{App, Login};
use crate::rules::{self, Lockout, LoginAttempt};
use crate::{validate, Core};

impl Core {
    /// Checks a username and password sent from the client IP `from` and opens a session
    /// (native `POST /v1/sessions`, YesApi `App.User.Login`/`LoginExt`).
    ///
    /// - [`Error::RateLimited`] (`logins`) when `from` has used up the app's `logins_per_ip`
    ///   on this node; without an IP (an in-process caller) no per-IP limit applies.
    /// - [`Error::RateLimited`] (`failed_logins`) while the account is locked after too many
    ///   wrong passwords in a row ([`rules::lockout_secs`]): the password is not checked.
    /// - [`Error::BadCredentials`] for an unknown username, a member without a password, or a
    ///   wrong password alike (an unknown username costs a hash too, so timing tells nothing).
    /// - A right password resets the account's failures; [`Error::Banned`] after that for a
    ///   banned member.
    pub async fn login(
        &self,
        app: &App,
        username: &str,
        password: &str,
        from: Option<IpAddr>,
    ) -> Result<Login> {
        validate::no_nul("username", username)?;
        validate::no_nul("password", password)?;
        let limits = self.limits_for(app);
        if let Some(ip) = from {
            self.take_ip_token(BucketKey::Logins(app.id, ip), limits.logins_per_ip)?;
        }
        let creds = match self.store().credentials(app.id, username).await? {
            Some(c) if !c.password_hash.is_empty() => c,
            _ => {
                let _ = self.hash_password(password).await;
                return Err(Error::BadCredentials);
            }
        };
        let (lockout, now) = (limits.lockout(), self.now());
        // A locked account is refused on a read, so a flood of guesses writes nothing …
        let seen =
            rules::login_attempt(creds.failed_logins, creds.login_locked_until, now, lockout);
        if let LoginAttempt::Locked { until, failures } = seen {
            return Err(locked(until, failures, lockout, now));
        }
        // … and every other attempt is counted before the password is checked, in one
        // transaction, so concurrent guesses on any node cannot slip past the lock.
        let member = creds.member.id;
        let counted = self
            .store()
            .count_login_attempt(app.id, member, lockout, now)
            .await?;
        if let LoginAttempt::Locked { until, failures } = counted {
            return Err(locked(until, failures, lockout, now));
        }
        if !self.verify_password(password, creds.password_hash).await {
            tracing::debug!(app.id = %app.id, member.id = %member, "wrong password");
            return Err(Error::BadCredentials);
        }
        self.store().reset_failed_logins(app.id, member).await?;
        self.open_session(app, creds.member, self.config().session_ttl)
            .await
    }

    /// Takes one token from a per-IP bucket of this node: [`Error::RateLimited`] when empty.
    pub(super) fn take_ip_token(&self, key: BucketKey, quota: Quota) -> Result<()> {
        self.buckets()
            .take(key, quota, 1, self.now())
            .map_err(Error::RateLimited)
    }
}

/// The refusal of a locked account: policy `failed_logins`, the free failures per the lock in
/// force, and when it lifts.
fn locked(until: Timestamp, failures: u32, lockout: Lockout, now: Timestamp) -> Error {
    let ms_left = u64::try_from(until.0.saturating_sub(now.0)).unwrap_or(0);
    Error::RateLimited(Throttle {
        policy: "failed_logins",
        quota: u64::from(lockout.free),
        window_secs: rules::lockout_secs(failures, lockout).max(1),
        retry_after_secs: ms_left.div_ceil(1000).max(1),
    })
}
