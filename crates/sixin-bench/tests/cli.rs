//! The command line of the real `sixin-bench` binary, without a server.

use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sixin-bench"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("sixin-bench runs")
}

#[test]
fn remote_hosts_are_refused() {
    let out = run(&["--url", "http://192.0.2.1:8080", "--app-key", "X"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("only targets this machine"), "{stderr}");
}

#[test]
fn out_of_range_flags_are_refused_before_any_request() {
    let out = run(&["--app-key", "X", "--concurrency", "0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("--concurrency must be"), "{stderr}");
}
