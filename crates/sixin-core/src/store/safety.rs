//! The store's side of the safety controls, as two traits every [`Store`](super::Store) also
//! implements: [`WordStore`] (an app's word list and its version) and [`ReportStore`]
//! (members' reports and their review). Same conventions as `Store`: one transaction per
//! method, confined to the app given; each guarantee has a conformance case.

use async_trait::async_trait;

use super::StoreResult;
use crate::ids::{AppId, MemberId, MessageId, ReportId, Timestamp};
use crate::model::{
    FilterWord, Page, Report, ReportCategory, ReportStatus, WordAction, WordList, WordsChanged,
};

/// An app's word list. Every change raises the app's `word_list_version` in the same
/// transaction, so every node that reads the app row afterwards sees that its matcher is old.
#[async_trait]
pub trait WordStore: Send + Sync {
    /// A page of the app's words in ascending order of the word (the database's text order),
    /// those after `after` when given.
    async fn words_page(
        &self,
        app: AppId,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Page<FilterWord>>;
    /// The app's whole list and its version, read in one transaction (a matcher built from it
    /// is exactly that version).
    async fn word_list(&self, app: AppId) -> StoreResult<WordList>;
    /// Adds the words, or changes the action of those already listed, and raises the version,
    /// in one transaction. `words` are already folded and distinct. Refused as
    /// [`rules::word_list_fits`](crate::rules::word_list_fits) decides on the resulting count
    /// (then nothing changes).
    async fn put_words(
        &self,
        app: AppId,
        words: Vec<(String, WordAction)>,
        now: Timestamp,
    ) -> StoreResult<WordsChanged>;
    /// Removes the words listed (others are ignored) and, if any was removed, raises the
    /// version, in one transaction.
    async fn remove_words(&self, app: AppId, words: Vec<String>) -> StoreResult<WordsChanged>;
}

/// What a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportTarget {
    /// A member of the app (not the reporter).
    Member(MemberId),
    /// A message the reporter can see: they are a current member of its conversation and it
    /// was sent after they joined (one they hid for themselves counts). Its sender is the
    /// reported member.
    Message(MessageId),
}

/// A new report; the reason is already checked.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub reporter: MemberId,
    pub target: ReportTarget,
    pub category: ReportCategory,
    pub reason: String,
    pub created_at: Timestamp,
}

/// Members' reports, for the app's backend to review.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Files a report, in one transaction that takes the reporter's row lock: while the
    /// reporter has an open report on the same target (the same message; or the same member,
    /// without a message), that report is returned with `false` and nothing is written.
    /// Otherwise [`rules::may_report`](crate::rules::may_report) decides on the reporter's
    /// reports of the last day, and the report is stored with the message's content as it is
    /// now. `NotFound(Message)` for a message the reporter cannot see; `NotFound(Member)` for a
    /// member of another app; `Refused(OwnReport)` for the reporter's own message or self.
    async fn create_report(&self, app: AppId, new: NewReport) -> StoreResult<(Report, bool)>;
    /// A page of the app's reports in id order (oldest first), with this status (any when
    /// `None`), those after `after` when given.
    async fn reports(
        &self,
        app: AppId,
        status: Option<ReportStatus>,
        after: Option<ReportId>,
        limit: u32,
    ) -> StoreResult<Page<Report>>;
    /// Resolves a report with the backend's `resolution`. Resolving a resolved report changes
    /// nothing and returns it as it is (the first resolution stands). `None` when the app has no
    /// such report.
    async fn resolve_report(
        &self,
        app: AppId,
        id: ReportId,
        resolution: String,
        now: Timestamp,
    ) -> StoreResult<Option<Report>>;
}
