//! Closing a store: what was submitted finishes, what comes later is refused, nothing
//! acknowledged is lost.

use std::collections::BTreeSet;

use sixin_core::error::Error;
use sixin_core::store::{HistoryWindow, StoreError};

use crate::Harness;

pub async fn closing_finishes_submitted_writes_then_refuses_work(h: &Harness) {
    const SENDS: usize = 40;
    let app = h.app().await;
    let (a, b) = (h.person(&app, "alice").await, h.person(&app, "bob").await);
    let first = h.text(&a, &b, "before").await;
    let conversation = first.conversation.id;

    // Sends racing the close: each is either acknowledged or refused as unavailable.
    let mut racing = Vec::new();
    for i in 0..SENDS {
        let (core, caller) = (h.core.clone(), a.caller.clone());
        let req = crate::text_to(
            sixin_core::service::Recipient::Member(b.member.uuid.to_string()),
            &format!("racing {i}"),
        );
        racing.push(tokio::spawn(async move { core.send(&caller, req).await }));
    }
    h.core.close().await.expect("close");
    let mut acked = BTreeSet::from([first.message.id]);
    for task in racing {
        match task.await.expect("send task") {
            Ok(sent) => {
                acked.insert(sent.message.id);
            }
            Err(Error::Unavailable) => {}
            Err(e) => panic!("a send racing close failed with {e:?}"),
        }
    }

    // Closed: reads and writes are refused, closing again is harmless.
    assert!(matches!(h.core.apps().await, Err(Error::Unavailable)));
    assert!(matches!(
        h.store.apps().await,
        Err(StoreError::Unavailable(_))
    ));
    h.core.close().await.expect("a second close");

    // Everything acknowledged is there when the database is opened again.
    let store = h.db.open().await;
    let page = store
        .history(
            a.caller.app_id(),
            a.member.id,
            conversation,
            HistoryWindow::Latest,
            100,
        )
        .await
        .unwrap()
        .expect("alice is a member");
    let found: BTreeSet<_> = page.items.iter().map(|i| i.message.id).collect();
    let missing: Vec<_> = acked.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "acknowledged, then lost by close: {missing:?}"
    );
    store.close().await.expect("close the reopened store");
}
