//! `sixin app words list|add|remove|import`: the operator's side of the server API's word
//! list (`/v1/server/words`). Each command acts for the app through [`Core::act_for_app`] and
//! calls the same core operations; running servers pick a change up at their next request for
//! the app (the list's version is on the app row), with no restart.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use serde_json::json;
use sixin_core::model::{WordAction, WordsChanged};
use sixin_core::service::MAX_WORDS_PER_CALL;
use sixin_core::{AppCaller, Core};

#[derive(Debug, Subcommand)]
pub enum WordsCommand {
    /// Print the app's words, one `WORD<TAB>ACTION` line each (the import format), as stored:
    /// folded to lower case, half-width, letters and digits only.
    List {
        /// The app_key.
        key: String,
        /// Print a JSON array of {"word", "action"} instead.
        #[arg(long)]
        json: bool,
    },
    /// Add words, or change their action.
    Add {
        /// The app_key.
        key: String,
        /// The words (1..100 characters each, with at least one letter or digit).
        #[arg(required = true)]
        words: Vec<String>,
        /// reject (refuse the text) or mask (replace the word with *).
        #[arg(long, default_value = "reject", value_parser = parse_action)]
        action: WordAction,
        /// Print {"changed", "version"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove words (as listed, or in any spelling that folds to them).
    Remove {
        /// The app_key.
        key: String,
        #[arg(required = true)]
        words: Vec<String>,
        /// Print {"changed", "version"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add or change the words of FILE: one word per line, optionally followed by whitespace
    /// and its action (reject or mask); blank lines and lines starting with # are skipped.
    Import {
        /// The app_key.
        key: String,
        /// The file (UTF-8).
        file: PathBuf,
        /// The action of lines that name none.
        #[arg(long, default_value = "reject", value_parser = parse_action)]
        action: WordAction,
        /// Print {"changed", "version"} as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `reject` or `mask`.
pub fn parse_action(s: &str) -> Result<WordAction, String> {
    WordAction::parse(s).ok_or_else(|| format!("{s:?} is not a word action: reject or mask"))
}

/// Runs one `sixin app words` command.
pub async fn run(core: &Core, cmd: WordsCommand) -> anyhow::Result<()> {
    let key = match &cmd {
        WordsCommand::List { key, .. }
        | WordsCommand::Add { key, .. }
        | WordsCommand::Remove { key, .. }
        | WordsCommand::Import { key, .. } => key.clone(),
    };
    let app = core
        .act_for_app(&key)
        .await
        .with_context(|| format!("app {key}"))?;
    match cmd {
        WordsCommand::List { json, .. } => list(core, &app, json).await,
        WordsCommand::Add {
            words,
            action,
            json,
            ..
        } => {
            let words = words.into_iter().map(|w| (w, action)).collect();
            let done = core.put_words(&app, words).await?;
            report(&key, done, json);
            Ok(())
        }
        WordsCommand::Remove { words, json, .. } => {
            report(&key, core.remove_words(&app, words).await?, json);
            Ok(())
        }
        WordsCommand::Import {
            file, action, json, ..
        } => import(core, &app, &key, &file, action, json).await,
    }
}

async fn list(core: &Core, app: &AppCaller, as_json: bool) -> anyhow::Result<()> {
    let mut after: Option<String> = None;
    let mut all = Vec::new();
    loop {
        let page = core.words(app, after.as_deref(), 100).await?;
        after = page.items.last().map(|w| w.word.clone());
        all.extend(page.items);
        if !page.has_more {
            break;
        }
    }
    if as_json {
        let out: Vec<_> = all
            .iter()
            .map(|w| json!({"word": w.word, "action": w.action.as_str()}))
            .collect();
        println!("{}", serde_json::Value::Array(out));
    } else {
        for w in &all {
            println!("{}\t{}", w.word, w.action.as_str());
        }
    }
    Ok(())
}

async fn import(
    core: &Core,
    app: &AppCaller,
    key: &str,
    file: &std::path::Path,
    default: WordAction,
    as_json: bool,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("{}", file.display()))?;
    let words = parse_lines(&text, default);
    anyhow::ensure!(!words.is_empty(), "{}: no words", file.display());
    let mut total = WordsChanged {
        changed: 0,
        version: 0,
    };
    for chunk in words.chunks(MAX_WORDS_PER_CALL) {
        let done = core.put_words(app, chunk.to_vec()).await?;
        total.changed += done.changed;
        total.version = done.version;
    }
    report(key, total, as_json);
    Ok(())
}

/// The words of an import file: `WORD` or `WORD ACTION` per line.
fn parse_lines(text: &str, default: WordAction) -> Vec<(String, WordAction)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| match line.rsplit_once(char::is_whitespace) {
            Some((word, action)) => match WordAction::parse(action) {
                Some(action) => (word.trim_end().to_owned(), action),
                None => (line.to_owned(), default),
            },
            None => (line.to_owned(), default),
        })
        .collect()
}

fn report(key: &str, done: WordsChanged, as_json: bool) {
    if as_json {
        println!(
            "{}",
            json!({"changed": done.changed, "version": done.version})
        );
    } else {
        println!(
            "app {key}: {} word(s) changed; word list version {}",
            done.changed, done.version
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_lines_take_an_optional_action() {
        let text = "# a list\n坏蛋 mask\n\n法轮功\nbad word\treject\nmask\n";
        let words = parse_lines(text, WordAction::Reject);
        let want = [
            ("坏蛋", WordAction::Mask),
            ("法轮功", WordAction::Reject),
            ("bad word", WordAction::Reject),
            ("mask", WordAction::Reject),
        ];
        let want: Vec<(String, WordAction)> =
            want.iter().map(|(w, a)| ((*w).to_owned(), *a)).collect();
        assert_eq!(words, want);
    }
}
