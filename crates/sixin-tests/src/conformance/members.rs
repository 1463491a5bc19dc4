use std::time::Duration;

use sixin_core::error::{Entity, Error};

use crate::Harness;

pub async fn apps_are_created_listed_and_toggled(h: &Harness) {
    let app = h.core.create_app("forum", true).await.unwrap();
    assert_eq!(app.key.as_str().len(), 32);
    assert!(app
        .key
        .as_str()
        .bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
    assert!(app.require_sign);
    let found = h
        .core
        .app_by_key(&app.key.as_str().to_lowercase())
        .await
        .unwrap();
    assert_eq!(found, app);
    assert!(h
        .core
        .apps()
        .await
        .unwrap()
        .iter()
        .any(|a| a.key == app.key));
    let off = h
        .core
        .set_require_sign(app.key.as_str(), false)
        .await
        .unwrap();
    assert!(!off.require_sign);
    assert!(
        !h.core
            .app_by_key(app.key.as_str())
            .await
            .unwrap()
            .require_sign
    );
    assert!(matches!(
        h.core.app_by_key("nope").await,
        Err(Error::UnknownApp)
    ));
    let unknown = "0123456789ABCDEF0123456789ABCDEF";
    assert!(matches!(
        h.core.app_by_key(unknown).await,
        Err(Error::UnknownApp)
    ));
    assert!(matches!(
        h.core.set_require_sign(unknown, true).await,
        Err(Error::UnknownApp)
    ));
}

pub async fn usernames_are_unique_per_app_only(h: &Harness) {
    let (a, b) = (h.app().await, h.app().await);
    let m = h.core.register(
        &a,
        "alice",
        "pass-phrase-1",
        Some(serde_json::json!({"age": "18"})),
        None,
    );
    let m = m.await.unwrap();
    assert_eq!(m.ext_info["age"], "18");
    assert_eq!(m.uuid.as_str().len(), 32);
    let dup = h
        .core
        .register(&a, "alice", "pass-phrase-2", None, None)
        .await;
    assert!(
        matches!(dup, Err(Error::Conflict(Entity::Username))),
        "{dup:?}"
    );
    let other = h
        .core
        .register(&b, "alice", "pass-phrase-1", None, None)
        .await
        .unwrap();
    assert_ne!(other.uuid, m.uuid);
    assert!(matches!(
        h.core.register(&a, "bob", "short", None, None).await,
        Err(Error::Invalid { .. })
    ));
    let bad_ext = h.core.register(
        &a,
        "bob",
        "pass-phrase-1",
        Some(serde_json::json!([1])),
        None,
    );
    assert!(matches!(
        bad_ext.await,
        Err(Error::Invalid {
            field: "ext_info",
            ..
        })
    ));
    assert!(matches!(
        h.core.login(&a, "bob", "pass-phrase-1", None).await,
        Err(Error::BadCredentials)
    ));
}

pub async fn sessions_expire_and_logout_revokes(h: &Harness) {
    let app = h.app().await;
    let p = h.person(&app, "alice").await;
    assert!(matches!(
        h.core.login(&app, "alice", "wrong-pass", None).await,
        Err(Error::BadCredentials)
    ));
    assert!(matches!(
        h.core.login(&app, "nobody", "pass-phrase-1", None).await,
        Err(Error::BadCredentials)
    ));
    let caller = h.core.authenticate(&p.token).await.unwrap();
    assert_eq!(caller.member_id(), p.member.id);
    let by_uuid = h
        .core
        .authenticate_member(&app, p.member.uuid.as_str(), &p.token)
        .await;
    assert_eq!(by_uuid.unwrap().member_id(), p.member.id);
    let other = h.person(&app, "bob").await;
    let wrong = h
        .core
        .authenticate_member(&app, other.member.uuid.as_str(), &p.token)
        .await;
    assert!(matches!(wrong, Err(Error::Unauthenticated)));

    let second = h
        .core
        .login(&app, "alice", "pass-phrase-1", None)
        .await
        .unwrap();
    h.core.logout(&p.token).await.unwrap();
    assert!(matches!(
        h.core.authenticate(&p.token).await,
        Err(Error::Unauthenticated)
    ));
    assert!(matches!(
        h.core.logout(&p.token).await,
        Err(Error::Unauthenticated)
    ));
    h.core.authenticate(&second.token).await.unwrap();

    h.clock
        .advance(h.core.config().session_ttl + Duration::from_secs(1));
    assert!(matches!(
        h.core.authenticate(&second.token).await,
        Err(Error::Unauthenticated)
    ));
    assert!(matches!(
        h.core.authenticate("").await,
        Err(Error::Unauthenticated)
    ));
}

pub async fn banned_members_lose_sessions_and_cannot_log_in(h: &Harness) {
    let app = h.app().await;
    let p = h.person(&app, "troll").await;
    let banned = h
        .core
        .set_banned(
            &app,
            p.member.uuid.as_str(),
            Some(sixin_core::store::Ban::default()),
        )
        .await
        .unwrap();
    assert!(banned.banned);
    assert!(matches!(
        h.core.authenticate(&p.token).await,
        Err(Error::Unauthenticated)
    ));
    assert!(matches!(
        h.core.login(&app, "troll", "pass-phrase-1", None).await,
        Err(Error::Banned)
    ));
    h.core
        .set_banned(&app, p.member.uuid.as_str(), None)
        .await
        .unwrap();
    h.core
        .login(&app, "troll", "pass-phrase-1", None)
        .await
        .unwrap();
}
