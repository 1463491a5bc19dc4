//! The server API's store guarantees and core rules: members by the app's own id, single-use
//! server tokens, bans and mutes with expiry, member pages, the registration policy.

use std::time::Duration;

use serde_json::json;
use sixin_core::error::{Entity, Error};
use sixin_core::ids::{MemberUuid, Timestamp};
use sixin_core::model::{MessageType, Registration};
use sixin_core::service::{MemberLookup, MultiSend, Recipient};
use sixin_core::store::{Ban, MemberRef, StoreError, UpsertMember, Upserted};

use crate::{text_to, Harness};

fn upsert(external_id: &str, username: Option<&str>) -> UpsertMember {
    UpsertMember {
        external_id: external_id.to_owned(),
        uuid: MemberUuid::generate(),
        username: username.map(str::to_owned),
        ext_info: None,
        created_at: Timestamp(1),
    }
}

pub async fn members_are_upserted_by_external_id_once_per_app(h: &Harness) {
    let (a, b) = (h.app().await, h.app().await);
    let s = &h.store;
    let (m, done) = s
        .upsert_member(a.id, upsert("u-1", Some("ann")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (done, m.external_id.as_deref()),
        (Upserted::Created, Some("u-1"))
    );
    assert_eq!(m.ext_info, json!({}));
    let mut rename = upsert("u-1", Some("anne"));
    rename.ext_info = Some(json!({"nick": "A"}));
    let (m2, done) = s.upsert_member(a.id, rename).await.unwrap().unwrap();
    assert_eq!(
        (done, m2.id, m2.uuid.clone()),
        (Upserted::Updated, m.id, m.uuid.clone())
    );
    assert_eq!(
        (m2.username.as_str(), &m2.ext_info),
        ("anne", &json!({"nick": "A"}))
    );
    // Without a username: updates an existing member, creates nobody.
    assert!(s
        .upsert_member(a.id, upsert("u-2", None))
        .await
        .unwrap()
        .is_none());
    assert!(s
        .member(a.id, MemberRef::ExternalId("u-2"))
        .await
        .unwrap()
        .is_none());
    // A taken username, on create or on rename, is a conflict that writes nothing.
    let taken = s.upsert_member(a.id, upsert("u-3", Some("anne"))).await;
    assert!(
        matches!(taken, Err(StoreError::Conflict(Entity::Username))),
        "{taken:?}"
    );
    assert!(s
        .member(a.id, MemberRef::ExternalId("u-3"))
        .await
        .unwrap()
        .is_none());
    s.upsert_member(a.id, upsert("u-4", Some("bob")))
        .await
        .unwrap();
    let clash = s.upsert_member(a.id, upsert("u-4", Some("anne"))).await;
    assert!(matches!(clash, Err(StoreError::Conflict(Entity::Username))));
    let bob = s
        .member(a.id, MemberRef::ExternalId("u-4"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob.username, "bob");
    // The same id in another app is another member; lookups never cross apps.
    let (other, _) = s
        .upsert_member(b.id, upsert("u-1", Some("ann")))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(other.id, m.id);
    let found = s
        .member(b.id, MemberRef::ExternalId("u-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, other.id);
    // Provisioned members have no password: login refuses them like a wrong one.
    let creds = s.credentials(a.id, "anne").await.unwrap().unwrap();
    assert_eq!(creds.password_hash, "");
    let login = h.core.login(&a, "anne", "", None).await;
    assert!(matches!(login, Err(Error::BadCredentials)), "{login:?}");
}

pub async fn concurrent_upserts_of_one_id_create_one_member(h: &Harness) {
    let app = h.app().await.id;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = h.store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .upsert_member(app, upsert("same", Some(&format!("name{i}"))))
                .await
        }));
    }
    let mut created = 0;
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let (m, done) = t.await.unwrap().unwrap().unwrap();
        created += usize::from(done == Upserted::Created);
        ids.insert(m.id);
    }
    assert_eq!((created, ids.len()), (1, 1));
}

pub async fn server_tokens_are_single_use_until_they_expire(h: &Harness) {
    let (a, b) = (h.app().await, h.app().await);
    let s = &h.store;
    let (now, exp) = (Timestamp(1_000), Timestamp(61_000));
    assert!(s.use_server_token(a.id, "j1", exp, now).await.unwrap());
    assert!(
        !s.use_server_token(a.id, "j1", exp, now).await.unwrap(),
        "replay"
    );
    assert!(
        s.use_server_token(b.id, "j1", exp, now).await.unwrap(),
        "per app"
    );
    // Once expired, the record is pruned (the token itself is refused as expired by then).
    assert!(s
        .use_server_token(a.id, "j1", Timestamp(200_000), exp)
        .await
        .unwrap());
    // Concurrent uses of one jti: exactly one wins.
    let mut tasks = Vec::new();
    let app = a.id;
    for _ in 0..8 {
        let store = s.clone();
        tasks.push(tokio::spawn(async move {
            store.use_server_token(app, "race", exp, now).await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap().unwrap());
    }
    assert_eq!(wins, 1);
}

pub async fn bans_and_mutes_keep_expiry_and_reason(h: &Harness) {
    let app = h.app().await;
    let p = h.person(&app, "pat").await;
    let s = &h.store;
    let ban = Ban {
        until: Some(Timestamp(5_000)),
        reason: Some("spam".into()),
    };
    let m = s
        .set_banned(app.id, p.member.id, Some(ban), h.core.now())
        .await
        .unwrap()
        .unwrap();
    assert!(m.banned);
    assert_eq!(
        (m.banned_until, m.ban_reason.as_deref()),
        (Some(Timestamp(5_000)), Some("spam"))
    );
    let m = s
        .set_banned(app.id, p.member.id, None, h.core.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (m.banned, m.banned_until, m.ban_reason),
        (false, None, None)
    );
    let m = s
        .set_muted(app.id, p.member.id, Some(Some(Timestamp(9))), h.core.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((m.muted, m.muted_until), (true, Some(Timestamp(9))));
    let m = s
        .set_muted(app.id, p.member.id, Some(None), h.core.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((m.muted, m.muted_until), (true, None));
    let m = s
        .set_muted(app.id, p.member.id, None, h.core.now())
        .await
        .unwrap()
        .unwrap();
    assert!(!m.muted);
    // Confined to the app.
    let other = h.app().await;
    assert!(s
        .set_muted(other.id, p.member.id, Some(None), h.core.now())
        .await
        .unwrap()
        .is_none());
    assert!(s
        .set_banned(other.id, p.member.id, Some(Ban::default()), h.core.now())
        .await
        .unwrap()
        .is_none());
}

pub async fn member_pages_walk_the_app_in_id_order(h: &Harness) {
    let (app, other) = (h.app().await, h.app().await);
    for i in 0..5 {
        h.store
            .upsert_member(app.id, upsert(&format!("e{i}"), Some(&format!("n{i}"))))
            .await
            .unwrap();
    }
    h.store
        .upsert_member(other.id, upsert("x", Some("x")))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    for _ in 0..5 {
        let page = h.store.members_page(app.id, after, 2).await.unwrap();
        seen.extend(page.items.iter().map(|m| m.username.clone()));
        after = page.items.last().map(|m| m.id);
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seen, ["n0", "n1", "n2", "n3", "n4"]);
}

pub async fn registration_policy_is_kept_per_app(h: &Harness) {
    let (app, other) = (h.app().await, h.app().await);
    assert_eq!(app.registration, Registration::Open);
    let backend = h.backend(&app).await;
    let closed = h
        .core
        .set_registration(&backend, Registration::Closed)
        .await
        .unwrap();
    assert_eq!(closed.registration, Registration::Closed);
    let refused = h
        .core
        .register(&closed, "newbie", "pass-phrase-1", None, None)
        .await;
    assert!(
        matches!(refused, Err(Error::RegistrationClosed)),
        "{refused:?}"
    );
    assert!(h
        .store
        .member(app.id, MemberRef::Username("newbie"))
        .await
        .unwrap()
        .is_none());
    // The operator (CLI) and the backend still create members; other apps are untouched.
    h.core
        .create_member(&closed, "by-cli", "pass-phrase-1", None)
        .await
        .unwrap();
    h.core
        .upsert_member(&backend, "e1", Some("by-api"), None)
        .await
        .unwrap();
    h.core
        .register(&other, "newbie", "pass-phrase-1", None, None)
        .await
        .unwrap();
    let reread = h.core.app_by_key(app.key.as_str()).await.unwrap();
    assert_eq!(reread.registration, Registration::Closed);
}

pub async fn time_limited_bans_and_mutes_lapse_by_themselves(h: &Harness) {
    let app = h.app().await;
    let backend = h.backend(&app).await;
    h.core
        .upsert_member(&backend, "m1", Some("mia"), None)
        .await
        .unwrap();
    let peer = h.person(&app, "peer").await;
    let now = h.core.now();
    let session = h.core.issue_session(&backend, "m1", None).await.unwrap();
    let until = now.plus(Duration::from_secs(60));
    let ban = Ban {
        until: Some(until),
        reason: Some("cool off".into()),
    };
    let m = h.core.ban_member(&backend, "m1", Some(ban)).await.unwrap();
    assert_eq!(m.ban_reason.as_deref(), Some("cool off"));
    assert!(matches!(
        h.core.authenticate(&session.token).await,
        Err(Error::Unauthenticated)
    ));
    let again = h.core.issue_session(&backend, "m1", None).await;
    assert!(matches!(again, Err(Error::Banned)), "{again:?}");
    h.clock.advance(Duration::from_secs(60));
    let m = h
        .core
        .find_member(&backend, MemberLookup::ExternalId("m1"))
        .await
        .unwrap();
    assert!(!m.banned, "a lapsed ban is shown as none");
    let fresh = h.core.issue_session(&backend, "m1", None).await.unwrap();

    // Mute: reads work, every kind of send is refused, until it lapses.
    let until = h.core.now().plus(Duration::from_secs(30));
    h.core
        .mute_member(&backend, "m1", Some(Some(until)))
        .await
        .unwrap();
    // The mute applies to the caller as authenticated from now on.
    let mia = h.core.authenticate(&fresh.token).await.unwrap();
    let uuid = peer.member.uuid.to_string();
    let one = h
        .core
        .send(&mia, text_to(Recipient::Member(uuid.clone()), "hi"))
        .await;
    assert!(
        matches!(one, Err(Error::Muted { until: Some(t) }) if t == until),
        "{one:?}"
    );
    let many = MultiSend {
        to: vec![uuid.clone()],
        kind: MessageType::Text,
        data: json!({"content": "hi"}),
        ext_data: None,
        client_msg_id: None,
    };
    assert!(matches!(
        h.core.multi_send(&mia, many).await,
        Err(Error::Muted { .. })
    ));
    let to_mia = text_to(Recipient::Member(mia.uuid().to_string()), "hello");
    let sent = h.core.send(&peer.caller, to_mia).await.unwrap();
    let group = h
        .core
        .create_group(&mia, "g", vec![uuid.clone()])
        .await
        .unwrap();
    let in_group = Recipient::Conversation(group.conversation.id);
    assert!(matches!(
        h.core.send(&mia, text_to(in_group, "x")).await,
        Err(Error::Muted { .. })
    ));
    assert_eq!(
        h.core.unread_total(&mia).await.unwrap(),
        1,
        "reading still works"
    );
    assert!(h
        .core
        .conversation(&mia, sent.conversation.id)
        .await
        .is_ok());
    h.clock.advance(Duration::from_secs(30));
    let mia = h.core.authenticate(&fresh.token).await.unwrap();
    h.core
        .send(&mia, text_to(Recipient::Member(uuid), "back"))
        .await
        .unwrap();
}
