//! Rotating an app secret: one statement keeps the replaced secret as the previous one until a
//! deadline, and the core accepts it exactly until then.

use std::time::Duration;

use sixin_core::error::Error;
use sixin_core::ids::{AppId, AppSecret, Timestamp};
use sixin_core::model::PreviousSecret;

use crate::Harness;

fn names(secrets: impl Iterator<Item = AppSecret>) -> Vec<String> {
    secrets.map(|s| s.0).collect()
}

pub async fn secret_rotation_keeps_the_previous_secret_until_its_deadline(h: &Harness) {
    let (app, other) = (h.app().await, h.app().await);
    assert_eq!(app.previous_secret, None);
    let first = app.secret.clone();
    let s = &h.store;

    // The store: the replaced secret becomes the previous one, in one statement.
    let until = Timestamp(1_000);
    let second = AppSecret::generate();
    let rotated = s
        .rotate_secret(app.id, second.clone(), until)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rotated.secret, second);
    let previous = PreviousSecret {
        secret: first.clone(),
        until,
    };
    assert_eq!(rotated.previous_secret, Some(previous));
    let reread = s.app_by_key(&app.key).await.unwrap().unwrap();
    assert_eq!(reread, rotated);
    // Rotating again forgets the older secret; other apps and unknown ids are untouched.
    let third = AppSecret::generate();
    let again = s
        .rotate_secret(app.id, third.clone(), Timestamp(2_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.secret, third);
    let kept = again.previous_secret.as_ref().unwrap();
    assert_eq!((&kept.secret, kept.until), (&second, Timestamp(2_000)));
    let unknown = s
        .rotate_secret(AppId(i64::MAX), AppSecret::generate(), until)
        .await
        .unwrap();
    assert_eq!(unknown, None);
    assert_eq!(s.app_by_key(&other.key).await.unwrap().unwrap(), other);

    // The core: a fresh secret, the old one accepted until now + grace, then never.
    let backend = h.backend(&again).await;
    let before = h.core.app_by_key(app.key.as_str()).await.unwrap();
    let app = h
        .core
        .rotate_secret(&backend, Some(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_ne!(app.secret, before.secret);
    let accepted = |a: &sixin_core::model::App| names(h.core.accepted_secrets(a).cloned());
    assert_eq!(
        accepted(&app),
        [app.secret.0.clone(), before.secret.0.clone()]
    );
    h.clock.advance(Duration::from_millis(59_999));
    assert_eq!(accepted(&app).len(), 2);
    h.clock.advance(Duration::from_millis(1));
    assert_eq!(accepted(&app), vec![app.secret.0.clone()]);
    // Grace 0 stops the old secret at once; by default it is `secret_grace`.
    let zero = h
        .core
        .rotate_secret(&backend, Some(Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(accepted(&zero), vec![zero.secret.0.clone()]);
    let default = h.core.rotate_secret(&backend, None).await.unwrap();
    let grace = h.core.config().secret_grace;
    assert_eq!(
        default.previous_secret.as_ref().map(|p| p.until),
        Some(h.core.now().plus(grace))
    );
    // More than 30 days is refused and writes nothing.
    let long = Duration::from_secs(30 * 24 * 3600 + 1);
    let refused = h.core.rotate_secret(&backend, Some(long)).await;
    assert!(
        matches!(
            refused,
            Err(Error::Invalid {
                field: "grace_secs",
                ..
            })
        ),
        "{refused:?}"
    );
    let unchanged = h.core.app_by_key(app.key.as_str()).await.unwrap();
    assert_eq!(unchanged, default);
}
