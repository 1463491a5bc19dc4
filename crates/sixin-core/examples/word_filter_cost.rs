//! What the word filter costs, without a server: building a matcher for 10,000 Chinese words
//! (half mask, half reject, as `sixin-bench --scenario words` loads them) and screening the
//! bench's 52-character mixed text, and a text 100 times longer, none of which matches.
//! `cargo run --release -p sixin-core --example word_filter_cost` (see BENCHMARKS.md).

use std::hint::black_box;
use std::time::Instant;

use sixin_core::filter::{Verdict, WordMatcher};
use sixin_core::model::WordAction;

const TAIL: &str = "：今天天气不错，我们一起去公园散步吧。";

fn main() {
    let pool: Vec<char> = (0x4E00..=0x9FA5u32)
        .filter_map(char::from_u32)
        .filter(|c| !TAIL.contains(*c))
        .collect();
    let words: Vec<(String, WordAction)> = (0..10_000usize)
        .map(|i| {
            let mut w = String::new();
            w.push(pool[i % pool.len()]);
            w.push(pool[(i * 7 + 13) % pool.len()]);
            if i % 3 == 0 {
                w.push(pool[(i * 11 + 5) % pool.len()]);
            }
            let action = if i % 2 == 0 {
                WordAction::Mask
            } else {
                WordAction::Reject
            };
            (w, action)
        })
        .collect();
    let started = Instant::now();
    let matcher = WordMatcher::build(1, &words).expect("10,000 short words build");
    println!("build, 10000 words: {:?}", started.elapsed());
    let text = format!("bench message 12345 from worker 7{TAIL}");
    for (text, rounds) in [(text.clone(), 200_000u32), (text.repeat(100), 2_000)] {
        let started = Instant::now();
        for _ in 0..rounds {
            assert_eq!(matcher.screen_text(black_box(&text)), Verdict::Clean);
        }
        let each = started.elapsed() / rounds;
        println!(
            "screen, {} characters: {each:?} per text",
            text.chars().count()
        );
    }
}
