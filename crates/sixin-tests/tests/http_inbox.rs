//! The web inbox's files over real HTTP: gzipped when `Accept-Encoding` allows it (and then they
//! decompress to the file as committed), plain otherwise, with `Vary: Accept-Encoding` either
//! way. SQLite only: no store is involved.

// Test code: an unwrap that fails is a failing test, with its location.
#![allow(clippy::unwrap_used)]

use std::io::Read;

use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use sixin_http::HttpConfig;
use sixin_tests::{Harness, TestServer};

const FILES: &[(&str, &str)] = &[
    ("/inbox/", include_str!("../../sixin-http/inbox/index.html")),
    (
        "/inbox/app.js",
        include_str!("../../sixin-http/inbox/app.js"),
    ),
    (
        "/inbox/render.js",
        include_str!("../../sixin-http/inbox/render.js"),
    ),
    (
        "/inbox/style.css",
        include_str!("../../sixin-http/inbox/style.css"),
    ),
];

#[tokio::test]
async fn inbox_files_are_gzipped_when_the_client_accepts_it() {
    let t = TestServer::start(Harness::sqlite().await.unwrap(), HttpConfig::default()).await;
    let mut gzipped_total = 0;
    for (path, file) in FILES {
        let r = t
            .client
            .get(t.url(path))
            .header(ACCEPT_ENCODING, "gzip, deflate, br")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()[CONTENT_ENCODING], "gzip", "{path}");
        assert_eq!(r.headers()[VARY], "accept-encoding", "{path}");
        assert!(
            r.headers().contains_key("content-security-policy"),
            "{path}"
        );
        let body = r.bytes().await.unwrap();
        assert!(body.len() < file.len(), "{path}: {} gzipped", body.len());
        gzipped_total += body.len();
        let mut plain = String::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_string(&mut plain)
            .unwrap();
        assert_eq!(&plain, file, "{path} decompresses to the file");

        for refused in [None, Some("identity"), Some("gzip;q=0, br")] {
            let mut req = t.client.get(t.url(path));
            if let Some(v) = refused {
                req = req.header(ACCEPT_ENCODING, v);
            }
            let r = req.send().await.unwrap();
            assert!(
                !r.headers().contains_key(CONTENT_ENCODING),
                "{path} {refused:?}"
            );
            assert_eq!(r.headers()[VARY], "accept-encoding", "{path}");
            assert!(r.headers()[CONTENT_TYPE].to_str().unwrap().contains('/'));
            assert_eq!(&r.text().await.unwrap(), file, "{path} {refused:?}");
        }
    }
    assert!(gzipped_total > 0);
}
