//! The sensitive-word filter in use: each node keeps one [`WordMatcher`] per app and applies it
//! to every user-visible text a member writes; the app's backend manages the list.
//!
//! **Hot reload.** Every change to a list raises the app's `word_list_version` in the same
//! transaction. Every member request already reads the app row (the session join, or the app
//! by key in the dialects), so a node learns that its matcher is old from the request itself,
//! with no extra read: the first request that carries a newer version reads the list and
//! builds the matcher on the blocking pool, while the app's other requests wait for that one
//! build (one per app and node at a time) instead of each building their own. Apps that never
//! had a word (version 0) cost nothing.
//!
//! **What is screened** (after validation, on what will be stored): text content; html text
//! (never tags or attributes); link title and description; a group subject at creation; at
//! self-registration the username and `ext_info.nickname`. A username is refused by a word of
//! either action: a masked login name would be a different name to log in with. Image URLs,
//! custom messages (their shape is the app's own) and `ext_data` are not screened.
//!
//! **Not screened:** what the app's backend writes (server API sends, as a member or as the
//! system sender, and groups it creates; members it provisions) and what the operator's CLI
//! does: those are the app's own words, and the list exists to filter members' input.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use serde_json::Value;

use crate::caller::{AppCaller, Caller};
use crate::error::{Error, Result};
use crate::filter::{self, Verdict, WordMatcher, MAX_WORD_CHARS};
use crate::ids::AppId;
use crate::model::{App, FilterWord, MessageType, Page, WordAction, WordsChanged};
use crate::Core;

/// Words one call may add, change or remove.
pub const MAX_WORDS_PER_CALL: usize = 10_000;

/// The matchers of this node, one slot per app.
#[derive(Default)]
pub(crate) struct Matchers {
    slots: Mutex<HashMap<AppId, Arc<Slot>>>,
    /// Word lists read and matchers built since start.
    loads: std::sync::atomic::AtomicU64,
}

/// One app's matcher, and the lock its rebuilds take turns on.
struct Slot {
    current: RwLock<Arc<WordMatcher>>,
    rebuild: tokio::sync::Mutex<()>,
}

impl Slot {
    fn current(&self) -> Arc<WordMatcher> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Matchers {
    fn slot(&self, app: AppId) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots
            .entry(app)
            .or_insert_with(|| {
                Arc::new(Slot {
                    current: RwLock::new(Arc::new(WordMatcher::empty(0))),
                    rebuild: tokio::sync::Mutex::new(()),
                })
            })
            .clone()
    }
}

impl Core {
    /// How many times this node read a word list and built a matcher since it started (one per
    /// app and list version, however many requests asked at once).
    pub fn word_list_loads(&self) -> u64 {
        self.inner
            .matchers
            .loads
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The word matcher for `app` at (at least) the version its row carries.
    pub async fn word_matcher(&self, app: &App) -> Result<Arc<WordMatcher>> {
        if app.word_list_version == 0 {
            return Ok(Arc::new(WordMatcher::empty(0)));
        }
        let slot = self.inner.matchers.slot(app.id);
        let current = slot.current();
        if current.version() >= app.word_list_version {
            return Ok(current);
        }
        let _turn = slot.rebuild.lock().await;
        let current = slot.current();
        if current.version() >= app.word_list_version {
            return Ok(current);
        }
        let list = self.store().word_list(app.id).await?;
        self.inner
            .matchers
            .loads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let started = std::time::Instant::now();
        let built =
            tokio::task::spawn_blocking(move || WordMatcher::build(list.version, &list.words))
                .await
                .map_err(|e| Error::Internal(Box::new(e)))?
                .map_err(|e| Error::Internal(Box::new(e)))?;
        tracing::info!(
            app.id = %app.id,
            words = built.len(),
            version = built.version(),
            duration_ms = started.elapsed().as_millis() as u64,
            "word list of app {} loaded: {} words (version {})",
            app.id, built.len(), built.version()
        );
        let built = Arc::new(built);
        *slot.current.write().unwrap_or_else(PoisonError::into_inner) = built.clone();
        Ok(built)
    }

    /// A validated message body with the app's words applied to its user-visible text fields
    /// (text and html content, link title and description). Unchanged for the app's backend.
    pub(crate) async fn screen_message(
        &self,
        caller: &Caller,
        kind: MessageType,
        mut data: Value,
    ) -> Result<Value> {
        let fields: &[(&str, &'static str)] = match kind {
            MessageType::Text | MessageType::Html => &[("content", "data.content")],
            MessageType::Link => &[("title", "data.title"), ("desc", "data.desc")],
            MessageType::Image | MessageType::Custom => return Ok(data),
        };
        if caller.by_app() {
            return Ok(data);
        }
        let matcher = self.word_matcher(caller.app()).await?;
        for &(key, field) in fields {
            if let Some(Value::String(text)) = data.get_mut(key) {
                let verdict = match kind {
                    MessageType::Html => matcher.screen_html(text),
                    _ => matcher.screen_text(text),
                };
                apply(verdict, text, field)?;
            }
        }
        Ok(data)
    }

    /// A group subject with the app's words applied (unchanged for the app's backend).
    pub(crate) async fn screen_subject(&self, caller: &Caller, subject: &str) -> Result<String> {
        let mut subject = subject.trim().to_owned();
        if !caller.by_app() {
            let matcher = self.word_matcher(caller.app()).await?;
            apply(matcher.screen_text(&subject), &mut subject, "subject")?;
        }
        Ok(subject)
    }

    /// Self-registration: a username containing any word of the list is refused, whatever the
    /// word's action; `ext_info.nickname` is screened like a text. Returns the `ext_info` to
    /// store.
    pub(crate) async fn screen_registration(
        &self,
        app: &App,
        username: &str,
        mut ext_info: Option<Value>,
    ) -> Result<Option<Value>> {
        let matcher = self.word_matcher(app).await?;
        if matcher.occurs_in(username) {
            return Err(Error::ContentRejected { field: "username" });
        }
        if let Some(Value::String(nickname)) = ext_info.as_mut().and_then(|v| v.get_mut("nickname"))
        {
            apply(matcher.screen_text(nickname), nickname, "ext_info.nickname")?;
        }
        Ok(ext_info)
    }

    /// A page of the app's words, in the database's text order after `after`.
    pub async fn words(
        &self,
        app: &AppCaller,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<FilterWord>> {
        let limit = super::page_limit("limit", limit)?;
        Ok(self.store().words_page(app.app_id(), after, limit).await?)
    }

    /// Adds words to the app's list or changes their action: 1..=10 000 per call, each
    /// 1..=100 characters with at least one letter or digit. Words are stored folded (see
    /// [`filter::normalise_word`]), so `ＢＡＤ` and `b.a.d` are the word `bad`; when one call
    /// names a folded word twice, its last action counts.
    pub async fn put_words(
        &self,
        app: &AppCaller,
        words: Vec<(String, WordAction)>,
    ) -> Result<WordsChanged> {
        let keys = fold_words(words.iter().map(|(w, _)| w.as_str()))?;
        let mut chosen: HashMap<String, WordAction> = HashMap::with_capacity(keys.len());
        for (key, (_, action)) in keys.into_iter().zip(&words) {
            chosen.insert(key, *action);
        }
        let mut words: Vec<(String, WordAction)> = chosen.into_iter().collect();
        words.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(self
            .store()
            .put_words(app.app_id(), words, self.now())
            .await?)
    }

    /// Removes words from the app's list (as given or folded; unlisted ones are ignored).
    pub async fn remove_words(&self, app: &AppCaller, words: Vec<String>) -> Result<WordsChanged> {
        let mut keys = fold_words(words.iter().map(String::as_str))?;
        keys.sort();
        keys.dedup();
        Ok(self.store().remove_words(app.app_id(), keys).await?)
    }
}

/// Applies a verdict to `text` in place; a rejection names `field`.
fn apply(verdict: Verdict, text: &mut String, field: &'static str) -> Result<()> {
    match verdict {
        Verdict::Clean => Ok(()),
        Verdict::Masked(masked) => {
            *text = masked;
            Ok(())
        }
        Verdict::Rejected => Err(Error::ContentRejected { field }),
    }
}

/// The folded forms of 1..=[`MAX_WORDS_PER_CALL`] words, each checked.
fn fold_words<'a>(words: impl ExactSizeIterator<Item = &'a str>) -> Result<Vec<String>> {
    if words.len() == 0 || words.len() > MAX_WORDS_PER_CALL {
        return Err(Error::invalid(
            "words",
            format!("give 1..{MAX_WORDS_PER_CALL} words per call"),
        ));
    }
    words
        .enumerate()
        .map(|(i, w)| {
            crate::validate::no_nul("words", w)?;
            let key = filter::normalise_word(w);
            if w.chars().count() > MAX_WORD_CHARS || key.is_empty() {
                return Err(Error::invalid(
                    "words",
                    format!(
                        "each word is 1..{MAX_WORD_CHARS} characters with at least one letter or \
                         digit (punctuation, symbols and spaces are not matched); word {} is \
                         not",
                        i + 1
                    ),
                ));
            }
            Ok(key)
        })
        .collect()
}
