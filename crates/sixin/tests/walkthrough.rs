//! README.md's quick start, run as written: the install command names this binary's package,
//! the walk-through's shell blocks (between `<!-- walkthrough -->` and `<!-- /walkthrough -->`)
//! run with bash against the freshly built `sixin` on a free port, and README.zh-CN.md's
//! walk-through has the same commands (comments may differ: they are translated).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns panic on purpose

use std::time::Duration;

use sixin_tests::process::{free_port, Sixin};

const SIXIN: Sixin = Sixin::at(env!("CARGO_BIN_EXE_sixin"));
const README: &str = include_str!("../../../README.md");
const README_ZH: &str = include_str!("../../../README.zh-CN.md");
const INSTALL: &str = "cargo install --path crates/sixin --locked";

/// The contents of the ```sh blocks between the walk-through markers, in order.
fn walkthrough_blocks(readme: &str) -> Vec<String> {
    let start = readme
        .find("<!-- walkthrough -->")
        .expect("a <!-- walkthrough --> marker");
    let end = readme
        .find("<!-- /walkthrough -->")
        .expect("a <!-- /walkthrough --> marker");
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in readme[start..end].lines() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => current = Some(Vec::new()),
            (Some(lines), "```") => {
                blocks.push(lines.join("\n"));
                current = None;
            }
            (Some(lines), _) => lines.push(line),
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "an unclosed ```sh block");
    assert!(!blocks.is_empty(), "no ```sh block in the walk-through");
    blocks
}

/// The commands of a block: comment lines, trailing `  # …` comments and blank lines removed.
fn commands(block: &str) -> Vec<String> {
    block
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| l.split_once("  # ").map_or(l, |(code, _)| code).trim_end())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_installs_this_binary() {
    let quick_start = &README[README.find("## Quick start").unwrap()..];
    let before_walkthrough = &quick_start[..quick_start.find("<!-- walkthrough -->").unwrap()];
    assert!(before_walkthrough.contains(INSTALL), "{before_walkthrough}");
    let manifest = include_str!("../Cargo.toml");
    assert!(manifest.contains("name = \"sixin\""), "{manifest}");
}

#[test]
fn the_readme_walkthrough_runs_as_written() {
    let port = free_port();
    let mut script = String::from(
        "set -euo pipefail\n\
         trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n",
    );
    for block in walkthrough_blocks(README) {
        script.push_str(&block.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}")));
        script.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let out = SIXIN.shell(dir.path(), &script, Duration::from_secs(120));
    let log = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("sixin.log")).ok())
        .collect::<String>();
    let context = format!(
        "stdout:\n{}\nstderr:\n{}\nsixin.log:\n{log}",
        out.stdout, out.stderr
    );
    assert!(out.success, "the walk-through failed\n{context}");

    // Each step answered as the README says.
    let lines: Vec<&str> = out.stdout.lines().collect();
    let expected = [
        (0, "\"data\":{\"content\":\"Lunch?\"}"), // the second send
        (1, "\"content\":\"Hi Bob!\""),           // history: both messages,
        (1, "\"content\":\"Lunch?\""),
        (2, "{\"marked\":2,\"unread\":0}"),
        (3, "\"peer\":{"), // the conversation list
        (
            4,
            "{\"total\":0,\"conversations\":[],\"next_cursor\":null,\"has_more\":false}",
        ),
        (5, "\"ret\":200"), // YesApi Send
        (6, "\"unread_num\":1"),
        (7, "\"code\":200"), // Discuz pm_get
        (7, "\"message\":\"Yes, at noon\""),
        (7, "\"count\":3"),
    ];
    assert_eq!(lines.len(), 8, "one line per answer\n{context}");
    for (line, fragment) in expected {
        assert!(
            lines[line].contains(fragment),
            "answer {line} lacks {fragment}\n{context}"
        );
    }
    assert!(
        log.contains("shutdown") || log.contains("stopped"),
        "the walk-through's last step stops the server\n{context}"
    );
}

#[test]
fn the_chinese_readme_has_the_same_walkthrough() {
    assert!(
        README.contains("(README.zh-CN.md)"),
        "README.md links README.zh-CN.md"
    );
    assert!(
        README_ZH.contains("(README.md)"),
        "README.zh-CN.md links README.md"
    );
    assert!(README_ZH.contains(INSTALL));
    let en: Vec<Vec<String>> = walkthrough_blocks(README)
        .iter()
        .map(|b| commands(b))
        .collect();
    let zh: Vec<Vec<String>> = walkthrough_blocks(README_ZH)
        .iter()
        .map(|b| commands(b))
        .collect();
    assert_eq!(
        en, zh,
        "README.zh-CN.md's walk-through must run the same commands as README.md's"
    );
}
