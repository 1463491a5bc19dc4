//! Logins under the rate limits: the failed-login lockout (kept in the store, so one lockout
//! on every node), the per-IP registration and login buckets, and an app's own limits.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::json;
use sixin_core::error::Error;
use sixin_core::model::App;
use sixin_core::rules::{Lockout, LoginAttempt};
use sixin_core::Throttle;

use crate::Harness;

/// An app whose lockout is: 3 free wrong passwords, then 10 s, doubling, at most 40 s.
async fn strict_app(h: &Harness) -> App {
    let app = h.app().await;
    let caller = h.core.act_for_app(app.key.as_str()).await.unwrap();
    let over = json!({"failed_logins_free": 3, "failed_login_delay_secs": 10,
        "failed_login_max_delay_secs": 40});
    h.core.set_limits(&caller, Some(over)).await.unwrap()
}

/// The throttle of a refused login, or a panic naming what came instead.
fn throttle<T: std::fmt::Debug>(r: Result<T, Error>) -> Throttle {
    match r {
        Err(Error::RateLimited(t)) => t,
        other => panic!("expected rate_limited, got {other:?}"),
    }
}

fn wrong<T: std::fmt::Debug>(r: Result<T, Error>) {
    assert!(matches!(r, Err(Error::BadCredentials)), "{r:?}");
}

pub async fn failed_logins_lock_the_account_with_a_growing_delay(h: &Harness) {
    let app = strict_app(h).await;
    h.person(&app, "alice").await;
    h.person(&app, "bob").await;
    let login = |pw: &'static str| h.core.login(&app, "alice", pw, None);
    for _ in 0..3 {
        wrong(login("guess-guess").await);
    }
    // Locked for 10 s: even the right password is refused, unchecked.
    let t = throttle(login("pass-phrase-1").await);
    assert_eq!(
        (t.policy, t.quota, t.window_secs, t.retry_after_secs),
        ("failed_logins", 3, 10, 10)
    );
    let creds = h.store.credentials(app.id, "alice").await.unwrap().unwrap();
    assert_eq!(creds.failed_logins, 3);
    assert_eq!(
        creds.login_locked_until,
        Some(h.core.now().plus(Duration::from_secs(10)))
    );
    // Another member of the app is not affected.
    h.core
        .login(&app, "bob", "pass-phrase-1", None)
        .await
        .unwrap();
    // After the wait one more guess goes through; a wrong one doubles the wait …
    h.clock.advance(Duration::from_secs(10));
    wrong(login("guess-guess").await);
    h.clock.advance(Duration::from_secs(19));
    assert_eq!(throttle(login("pass-phrase-1").await).retry_after_secs, 1);
    // … and so on up to the cap (10, 20, 40, 40 s).
    h.clock.advance(Duration::from_secs(1));
    wrong(login("guess-guess").await);
    h.clock.advance(Duration::from_secs(40));
    wrong(login("guess-guess").await);
    assert_eq!(throttle(login("pass-phrase-1").await).retry_after_secs, 40);
    // The right password after the wait resets the count: three free guesses again.
    h.clock.advance(Duration::from_secs(40));
    login("pass-phrase-1").await.unwrap();
    let creds = h.store.credentials(app.id, "alice").await.unwrap().unwrap();
    assert_eq!((creds.failed_logins, creds.login_locked_until), (0, None));
    wrong(login("guess-guess").await);
    wrong(login("guess-guess").await);
    login("pass-phrase-1").await.unwrap();
}

pub async fn concurrent_guesses_cannot_pass_the_lockout(h: &Harness) {
    let app = strict_app(h).await;
    h.person(&app, "carol").await;
    // 24 guesses at once: each is counted before its password is checked, in a transaction
    // the store serialises, so exactly the 3 free ones are checked.
    let guesses = (0..24).map(|_| {
        let (core, app) = (h.core.clone(), app.clone());
        tokio::spawn(async move { core.login(&app, "carol", "guess-guess", None).await })
    });
    let mut outcomes = Vec::new();
    for g in guesses {
        outcomes.push(g.await.unwrap());
    }
    let checked = outcomes
        .iter()
        .filter(|r| matches!(r, Err(Error::BadCredentials)))
        .count();
    let locked = outcomes
        .iter()
        .filter(|r| matches!(r, Err(Error::RateLimited(t)) if t.policy == "failed_logins"))
        .count();
    assert_eq!((checked, locked), (3, 21));
}

pub async fn the_store_counts_login_attempts_as_the_rule_decides(h: &Harness) {
    let (app, other) = (h.app().await, h.app().await);
    let dave = h.person(&app, "dave").await.member;
    let lockout = Lockout {
        free: 2,
        delay_secs: 5,
        max_delay_secs: 60,
    };
    let now = h.core.now();
    let s = &h.store;
    let first = s.count_login_attempt(app.id, dave.id, lockout, now).await;
    let unlocked = LoginAttempt::Counted {
        failures: 1,
        locked_until: None,
    };
    assert_eq!(first.unwrap(), unlocked);
    let second = s.count_login_attempt(app.id, dave.id, lockout, now).await;
    let until = now.plus(Duration::from_secs(5));
    let locking = LoginAttempt::Counted {
        failures: 2,
        locked_until: Some(until),
    };
    assert_eq!(second.unwrap(), locking);
    let third = s.count_login_attempt(app.id, dave.id, lockout, now).await;
    let refused = LoginAttempt::Locked { until, failures: 2 };
    assert_eq!(third.unwrap(), refused, "a locked attempt changes nothing");
    // Confined to the member's app.
    let elsewhere = s.count_login_attempt(other.id, dave.id, lockout, now).await;
    assert!(elsewhere.is_err(), "{elsewhere:?}");
    s.reset_failed_logins(other.id, dave.id).await.unwrap();
    assert_eq!(
        s.credentials(app.id, "dave")
            .await
            .unwrap()
            .unwrap()
            .failed_logins,
        2
    );
    s.reset_failed_logins(app.id, dave.id).await.unwrap();
    let creds = s.credentials(app.id, "dave").await.unwrap().unwrap();
    assert_eq!((creds.failed_logins, creds.login_locked_until), (0, None));
}

pub async fn registrations_and_logins_are_limited_per_ip_and_app(h: &Harness) {
    let (app, other) = (h.app().await, h.app().await);
    let caller = h.core.act_for_app(app.key.as_str()).await.unwrap();
    let quota = json!({"per": 2, "secs": 60, "burst": 2});
    let over = json!({"registrations_per_ip": quota, "logins_per_ip": quota});
    let app = h.core.set_limits(&caller, Some(over)).await.unwrap();
    let ip: Option<IpAddr> = Some("203.0.113.7".parse().unwrap());
    let another: Option<IpAddr> = Some("203.0.113.8".parse().unwrap());
    let reg = |app: &App, name: &str, from| {
        let (core, app, name) = (h.core.clone(), app.clone(), name.to_owned());
        async move {
            core.register(&app, &name, "pass-phrase-1", None, from)
                .await
        }
    };
    reg(&app, "r1", ip).await.unwrap();
    // A refused registration (a taken username) spends a token too.
    assert!(matches!(reg(&app, "r1", ip).await, Err(Error::Conflict(_))));
    let t = throttle(reg(&app, "r2", ip).await);
    assert_eq!(
        (t.policy, t.quota, t.window_secs, t.retry_after_secs),
        ("registrations", 2, 60, 30)
    );
    // Another IP, another app, and a caller without an IP have their own (or no) bucket.
    reg(&app, "r2", another).await.unwrap();
    reg(&other, "r2", ip).await.unwrap();
    reg(&app, "r3", None).await.unwrap();
    // The bucket refills at its rate: one token every 30 s.
    h.clock.advance(Duration::from_secs(30));
    reg(&app, "r4", ip).await.unwrap();

    let login = |from| h.core.login(&app, "r1", "pass-phrase-1", from);
    login(ip).await.unwrap();
    wrong(h.core.login(&app, "r1", "guess-guess", ip).await);
    let t = throttle(login(ip).await);
    assert_eq!((t.policy, t.quota, t.window_secs), ("logins", 2, 60));
    login(another).await.unwrap();
    login(None).await.unwrap();
}

pub async fn an_apps_own_limits_are_checked_stored_and_cleared(h: &Harness) {
    let app = h.app().await;
    let caller = h.core.act_for_app(app.key.as_str()).await.unwrap();
    for bad in [
        json!([1]),
        json!({"nope": 1}),
        json!({"logins_per_ip": {"per": 0}}),
        json!({"failed_login_max_delay_secs": 86_401}),
    ] {
        let refused = h.core.set_limits(&caller, Some(bad.clone())).await;
        assert!(
            matches!(
                refused,
                Err(Error::Invalid {
                    field: "limits",
                    ..
                })
            ),
            "{bad}: {refused:?}"
        );
    }
    let over = json!({"logins_per_ip": {"per": 60}});
    let set = h
        .core
        .set_limits(&caller, Some(over.clone()))
        .await
        .unwrap();
    assert_eq!(set.limits, Some(over));
    let found = h.core.app_by_key(app.key.as_str()).await.unwrap();
    assert_eq!(found.limits, set.limits);
    let effective = h.core.limits_for(&found);
    assert_eq!(effective.logins_per_ip.per, 60);
    assert_eq!(
        effective.logins_per_ip.secs,
        h.core.config().limits.logins_per_ip.secs
    );
    let cleared = h.core.set_limits(&caller, None).await.unwrap();
    assert_eq!(cleared.limits, None);
    assert_eq!(h.core.limits_for(&cleared), h.core.config().limits);
}

pub async fn common_blank_and_repeated_passwords_are_refused(h: &Harness) {
    let app = h.app().await;
    for weak in ["123456", "Password1", "      ", "zzzzzzzz", "iloveyou"] {
        let r = h.core.register(&app, "eve", weak, None, None).await;
        assert!(
            matches!(
                r,
                Err(Error::Invalid {
                    field: "password",
                    ..
                })
            ),
            "{weak:?}: {r:?}"
        );
        let r = h.core.create_member(&app, "eve", weak, None).await;
        assert!(
            matches!(
                r,
                Err(Error::Invalid {
                    field: "password",
                    ..
                })
            ),
            "{r:?}"
        );
    }
    h.core
        .register(&app, "eve", "not-so-common-1", None, None)
        .await
        .unwrap();
}
