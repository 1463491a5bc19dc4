//! Reports: filed by members on what they can see, kept with the message as it was, repeated
//! reports answered with the open one, capped per day, listed and resolved by the app's
//! backend, invisible to other apps.

use std::time::Duration;

use serde_json::json;
use sixin_core::error::{Entity, Error};
use sixin_core::ids::MessageId;
use sixin_core::model::{ReportCategory, ReportStatus};
use sixin_core::rules::REPORTS_PER_DAY;
use sixin_core::service::FileReport;

use crate::{Harness, Person};

fn on_message(id: MessageId, reason: &str) -> FileReport {
    FileReport {
        message: Some(id),
        member: None,
        category: ReportCategory::Harassment,
        reason: reason.to_owned(),
    }
}

fn on_member(p: &Person, reason: &str) -> FileReport {
    FileReport {
        message: None,
        member: Some(p.member.uuid.to_string()),
        category: ReportCategory::Spam,
        reason: reason.to_owned(),
    }
}

pub async fn reports_are_filed_on_what_the_reporter_can_see(h: &Harness) {
    let app = h.app().await;
    let (ann, bob) = (h.person(&app, "ann").await, h.person(&app, "bob").await);
    let cat = h.person(&app, "cat").await;
    let m = h.text(&ann, &bob, "you are awful").await.message;
    let filed = h
        .core
        .report(&bob.caller, on_message(m.id, " threat "))
        .await
        .unwrap();
    assert!(filed.created);
    let r = &filed.report;
    assert_eq!((r.reporter.id, r.member.id), (bob.member.id, ann.member.id));
    assert_eq!(
        (r.reason.as_str(), r.status),
        ("threat", ReportStatus::Open)
    );
    let shown = r.message.as_ref().unwrap();
    assert_eq!((shown.id, shown.conversation), (m.id, m.conversation));
    assert_eq!(shown.data, json!({"content": "you are awful"}));

    // The same open report again: the first one, not a second.
    let again = h
        .core
        .report(&bob.caller, on_message(m.id, "again"))
        .await
        .unwrap();
    assert_eq!((again.created, again.report.id), (false, r.id));
    // Outside the conversation the message does not exist; one's own is not reportable.
    let r2 = h.core.report(&cat.caller, on_message(m.id, "x")).await;
    assert!(
        matches!(r2, Err(Error::NotFound(Entity::Message))),
        "{r2:?}"
    );
    let r2 = h.core.report(&ann.caller, on_message(m.id, "x")).await;
    assert!(matches!(r2, Err(Error::Forbidden(_))), "{r2:?}");
    let r2 = h.core.report(&ann.caller, on_member(&ann, "x")).await;
    assert!(matches!(r2, Err(Error::Forbidden(_))), "{r2:?}");
    // A message the reporter hid is still theirs to report.
    let m2 = h.text(&ann, &bob, "more").await.message;
    h.core.hide(&bob.caller, m2.id).await.unwrap();
    assert!(
        h.core
            .report(&bob.caller, on_message(m2.id, "x"))
            .await
            .unwrap()
            .created
    );
    // Bad requests.
    let mut both = on_message(m.id, "x");
    both.member = Some(ann.member.uuid.to_string());
    assert!(matches!(
        h.core.report(&bob.caller, both).await,
        Err(Error::Invalid { .. })
    ));
    let blank = on_member(&ann, " \n ");
    assert!(matches!(
        h.core.report(&bob.caller, blank).await,
        Err(Error::Invalid { .. })
    ));
    let long = on_member(&ann, &"x".repeat(1001));
    assert!(matches!(
        h.core.report(&bob.caller, long).await,
        Err(Error::Invalid { .. })
    ));

    // A recall afterwards does not change what the report shows.
    h.core.recall(&ann.caller, m.id).await.unwrap();
    let backend = h.backend(&app).await;
    let page = h.core.reports(&backend, None, None, 10).await.unwrap();
    assert_eq!(
        page.items[0].message.as_ref().unwrap().data["content"],
        "you are awful"
    );
}

pub async fn reports_are_listed_and_resolved_by_their_app_only(h: &Harness) {
    let (app, other) = (h.app().await, h.app().await);
    let (ann, bob) = (h.person(&app, "ann").await, h.person(&app, "bob").await);
    let m = h.text(&ann, &bob, "spam spam").await.message;
    let first = h
        .core
        .report(&bob.caller, on_message(m.id, "spam"))
        .await
        .unwrap()
        .report;
    let second = h
        .core
        .report(&ann.caller, on_member(&bob, "rude"))
        .await
        .unwrap()
        .report;
    assert!(second.message.is_none());
    assert_eq!(second.category, ReportCategory::Spam);
    let backend = h.backend(&app).await;
    let open = Some(ReportStatus::Open);
    let page = h.core.reports(&backend, open, None, 1).await.unwrap();
    assert_eq!((page.items[0].id, page.has_more), (first.id, true));
    let page = h
        .core
        .reports(&backend, open, Some(first.id), 1)
        .await
        .unwrap();
    assert_eq!((page.items[0].id, page.has_more), (second.id, false));
    assert_eq!(page.items[0].reporter.username, "ann");

    h.clock.advance(Duration::from_secs(5));
    let done = h
        .core
        .resolve_report(&backend, first.id, "member warned")
        .await
        .unwrap();
    assert_eq!(done.status, ReportStatus::Resolved);
    assert_eq!(done.resolution.as_deref(), Some("member warned"));
    assert_eq!(done.resolved_at, Some(h.core.now()));
    // The first resolution stands.
    let again = h
        .core
        .resolve_report(&backend, first.id, "changed mind")
        .await
        .unwrap();
    assert_eq!(again.resolution.as_deref(), Some("member warned"));
    let ids = |p: sixin_core::model::Page<sixin_core::model::Report>| {
        p.items.iter().map(|r| r.id).collect::<Vec<_>>()
    };
    let open_now = h.core.reports(&backend, open, None, 10).await.unwrap();
    assert_eq!(ids(open_now), [second.id]);
    let resolved = Some(ReportStatus::Resolved);
    let resolved = h.core.reports(&backend, resolved, None, 10).await.unwrap();
    assert_eq!(ids(resolved), [first.id]);
    assert_eq!(
        ids(h.core.reports(&backend, None, None, 10).await.unwrap()),
        [first.id, second.id]
    );
    let blank = h.core.resolve_report(&backend, second.id, " ").await;
    assert!(matches!(blank, Err(Error::Invalid { .. })));

    // Another app sees none of them and cannot resolve them.
    let theirs = h.backend(&other).await;
    assert!(h
        .core
        .reports(&theirs, None, None, 10)
        .await
        .unwrap()
        .items
        .is_empty());
    let r = h.core.resolve_report(&theirs, second.id, "x").await;
    assert!(matches!(r, Err(Error::NotFound(Entity::Report))), "{r:?}");
    // A member of another app cannot be reported.
    let stranger = h.person(&other, "zed").await;
    let r = h.core.report(&bob.caller, on_member(&stranger, "x")).await;
    assert!(matches!(r, Err(Error::NotFound(Entity::Member))), "{r:?}");
}

pub async fn reports_per_member_are_capped_per_day(h: &Harness) {
    let app = h.app().await;
    let (ann, bob) = (h.person(&app, "ann").await, h.person(&app, "bob").await);
    let backend = h.backend(&app).await;
    for _ in 0..REPORTS_PER_DAY {
        h.clock.advance(Duration::from_secs(60));
        let filed = h
            .core
            .report(&bob.caller, on_member(&ann, "x"))
            .await
            .unwrap();
        assert!(filed.created);
        let id = filed.report.id;
        h.core.resolve_report(&backend, id, "seen").await.unwrap();
    }
    let r = h.core.report(&bob.caller, on_member(&ann, "x")).await;
    let Err(Error::RateLimited(t)) = r else {
        panic!("expected rate_limited: {r:?}")
    };
    assert_eq!((t.policy, t.quota, t.window_secs), ("reports", 20, 86_400));
    // The first report leaves the window 24 h after it was filed.
    assert_eq!(
        t.retry_after_secs,
        24 * 3600 - 60 * u64::from(REPORTS_PER_DAY - 1)
    );
    // Others are not held back; and the reporter may report again once the day has passed.
    assert!(h
        .core
        .report(&ann.caller, on_member(&bob, "x"))
        .await
        .is_ok());
    h.clock.advance(Duration::from_secs(t.retry_after_secs));
    assert!(
        h.core
            .report(&bob.caller, on_member(&ann, "x"))
            .await
            .unwrap()
            .created
    );
}
