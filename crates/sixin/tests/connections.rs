//! The listener keeps answering `/healthz` while a crowd of clients holds connections: 1,100
//! idle sockets against a server whose open-file limit is 1,024, and 3,000 clients sending a
//! request head one byte at a time. Timings are measured and printed, never asserted tightly.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

use std::path::Path;
use std::time::{Duration, Instant};

use sixin_tests::process::{Server, Sixin};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const SIXIN: Sixin = Sixin::at(env!("CARGO_BIN_EXE_sixin"));

/// Each `/healthz` must answer within this long (a generous bound, not a performance claim).
const HEALTHZ_WITHIN: Duration = Duration::from_secs(5);

/// Raises this test process's open-file limit so it can hold thousands of sockets; whether it
/// has at least `need`.
fn enough_descriptors(need: u64) -> bool {
    let now = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0);
    if now < need {
        eprintln!("skipped: the open-file hard limit is {now}, this test needs {need}");
    }
    now >= need
}

/// Writes `[http]` settings to DIR/sixin.toml and starts `PREFIX… sixin serve` with it.
fn serve(dir: &Path, prefix: &[&str], http: &str) -> Server {
    let db = format!("sqlite://{}/conn.db", dir.display());
    let config = dir.join("sixin.toml");
    std::fs::write(&config, format!("[http]\n{http}\n")).unwrap();
    let config = config.display().to_string();
    SIXIN.serve_via(dir, prefix, &["--config", &config, "--database-url", &db])
}

/// `GET /healthz` on a fresh connection: how long it took. Panics unless 200 within the bound.
async fn healthz(server: &Server) -> Duration {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(HEALTHZ_WITHIN)
        .build()
        .unwrap();
    let started = Instant::now();
    let response = client.get(server.url("/healthz")).send().await;
    let took = started.elapsed();
    let response = response.unwrap_or_else(|e| panic!("/healthz failed after {took:?}: {e}"));
    assert_eq!(response.status(), 200);
    took
}

fn address(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_past_the_open_file_limit_leave_healthz_answering() {
    if !enough_descriptors(4_500) {
        return;
    }
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: prlimit (util-linux) is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Long timeouts: the idle sockets stay open, so only the connection cap can make room.
    let server = serve(
        dir.path(),
        &["prlimit", "--nofile=1024:1024", "--"],
        "header_read_timeout_secs = 120\nkeep_alive_idle_secs = 120",
    );
    let said = |text: &str| server.log().iter().any(|l| l.contains(text));
    for _ in 0..100 {
        if said("accepting up to") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(said("open-file limit 1024"), "the fd limit is logged");
    assert!(
        said("accepting up to 960 connections"),
        "the cap fits the fd limit"
    );
    let addr = address(&server);

    let mut idle = Vec::with_capacity(1_100);
    let started = Instant::now();
    for _ in 0..1_100 {
        match tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(&addr)).await {
            Ok(Ok(stream)) => idle.push(stream),
            other => panic!("connection {} failed: {other:?}", idle.len()),
        }
    }
    println!(
        "opened {} idle connections in {:?}",
        idle.len(),
        started.elapsed()
    );
    let mut times = Vec::new();
    for _ in 0..10 {
        times.push(healthz(&server).await);
    }
    println!("/healthz with 1,100 idle connections open: {times:?}");
    // The server closed the oldest idle connections to stay within its cap.
    let mut closed = 0;
    for stream in &mut idle[..50] {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte)).await;
        if matches!(read, Ok(Ok(0)) | Ok(Err(_))) {
            closed += 1;
        }
    }
    println!("{closed} of the 50 oldest idle connections were closed by the server");
    assert_eq!(closed, 50, "the oldest idle connections make room");
    drop(idle);
    healthz(&server).await;
}

/// One slow client: connects, then sends a request head one byte every `every` until the
/// server closes the connection (or `max_bytes` are sent). How long the server let it live,
/// or `None` if it never closed it.
async fn slow_client(addr: String, every: Duration, max_bytes: usize) -> Option<Duration> {
    const HEAD: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: sixin\r\nX-Slow: aaaaaaaaaaaaaaaa\r\n";
    let stream = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(&addr))
        .await
        .ok()?
        .ok()?;
    let opened = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    let trickle = async move {
        for byte in HEAD.iter().cycle().take(max_bytes) {
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(every).await;
        }
        std::future::pending::<()>().await;
    };
    let closed = async move {
        let mut buf = [0u8; 256];
        if let Ok(n @ 1..) = reader.read(&mut buf).await {
            panic!("a slow client got an answer to an incomplete head: {n} bytes");
        }
    };
    tokio::select! {
        () = trickle => None,
        () = closed => Some(opened.elapsed()),
        () = tokio::time::sleep(every * u32::try_from(max_bytes).unwrap()) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_header_clients_are_cut_off_while_healthz_answers() {
    const CLIENTS: usize = 3_000;
    if !enough_descriptors(4_500) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = serve(
        dir.path(),
        &[],
        "header_read_timeout_secs = 2\nkeep_alive_idle_secs = 60",
    );
    let addr = address(&server);
    let started = Instant::now();
    // 3,000 clients, one byte every 500 ms for at most 8 s (16 bytes: never a complete head),
    // connecting over the first second.
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let addr = addr.clone();
            tokio::spawn(async move {
                let stagger = u64::try_from(i % 100).unwrap() * 10;
                tokio::time::sleep(Duration::from_millis(stagger)).await;
                slow_client(addr, Duration::from_millis(500), 16).await
            })
        })
        .collect();
    let mut times = Vec::new();
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        times.push(healthz(&server).await);
    }
    println!("/healthz during {CLIENTS} slow clients: {times:?}");
    let mut lived = Vec::with_capacity(CLIENTS);
    for client in clients {
        lived.push(client.await.unwrap());
    }
    println!("slow clients finished after {:?}", started.elapsed());
    let never_closed = lived.iter().filter(|l| l.is_none()).count();
    assert_eq!(never_closed, 0, "every slow client is cut off");
    let mut lived: Vec<Duration> = lived.into_iter().flatten().collect();
    lived.sort();
    println!(
        "slow clients lived: min {:?}, median {:?}, max {:?}",
        lived[0],
        lived[lived.len() / 2],
        lived[lived.len() - 1]
    );
    assert!(
        lived[0] >= Duration::from_millis(1_500),
        "cut off by the header deadline, not before: {:?}",
        lived[0]
    );
    healthz(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_connections_idle_too_long_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(
        dir.path(),
        &[],
        "header_read_timeout_secs = 30\nkeep_alive_idle_secs = 1",
    );
    let mut stream = TcpStream::connect(address(&server)).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: sixin\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
    let idle_from = Instant::now();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await;
    let lived = idle_from.elapsed();
    println!("an idle keep-alive connection was closed after {lived:?}");
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    assert!(lived >= Duration::from_millis(800), "{lived:?}");
}

/// Whether the server has closed `stream` (EOF or reset within `within`).
async fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(within, stream.read(&mut byte)).await;
    matches!(read, Ok(Ok(0)) | Ok(Err(_)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_closes_the_oldest_idle_connections() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(
        dir.path(),
        &[],
        "max_connections = 4\nheader_read_timeout_secs = 60\nkeep_alive_idle_secs = 60",
    );
    let addr = address(&server);
    let mut idle = Vec::new();
    for _ in 0..10 {
        idle.push(TcpStream::connect(&addr).await.unwrap());
        // Let the server accept them in order.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = healthz(&server).await;
    println!("/healthz past a cap of 4 with 10 idle connections: {took:?}");
    for (i, stream) in idle.iter_mut().enumerate().take(7) {
        assert!(
            closed_by_server(stream, Duration::from_secs(5)).await,
            "connection {i} is among the oldest idle ones"
        );
    }
    let newest = idle.last_mut().unwrap();
    assert!(
        !closed_by_server(newest, Duration::from_millis(300)).await,
        "the newest idle connection stays open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_connections_with_nothing_in_progress_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve(
        dir.path(),
        &[],
        "shutdown_grace_secs = 30\nheader_read_timeout_secs = 30\nkeep_alive_idle_secs = 30",
    );
    let addr = address(&server);
    let mut fresh = TcpStream::connect(&addr).await.unwrap();
    let mut kept = TcpStream::connect(&addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: sixin\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = kept.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let pid = server.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    assert!(closed_by_server(&mut fresh, Duration::from_secs(10)).await);
    assert!(closed_by_server(&mut kept, Duration::from_secs(10)).await);
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM (shutdown_grace_secs is 30)"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!(
        "stopped {:?} after SIGTERM with two idle connections open",
        started.elapsed()
    );
    assert!(exit.success(), "{exit}");
}
