//! [`WordStore`] and [`ReportStore`] for [`Db`], the same way as [`Store`](sixin_core::Store):
//! each method moves its arguments into one job of [`ops::words`] or [`ops::reports`].

use async_trait::async_trait;
use sixin_core::ids::{AppId, ReportId, Timestamp};
use sixin_core::model::{
    FilterWord, Page, Report, ReportStatus, WordAction, WordList, WordsChanged,
};
use sixin_core::store::{NewReport, ReportStore, StoreResult, WordStore};

use super::{job, Backend, Db};
use crate::ops::{reports, words};

#[async_trait]
impl<B: Backend> WordStore for Db<B> {
    async fn words_page(
        &self,
        app: AppId,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Page<FilterWord>> {
        let after = after.map(str::to_owned);
        read!(self, |ex| words::words_page(ex, app, after, limit))
    }
    async fn word_list(&self, app: AppId) -> StoreResult<WordList> {
        read!(self, |ex| words::word_list(ex, app))
    }
    async fn put_words(
        &self,
        app: AppId,
        list: Vec<(String, WordAction)>,
        now: Timestamp,
    ) -> StoreResult<WordsChanged> {
        write!(self, |ex| words::put_words(ex, app, list, now))
    }
    async fn remove_words(&self, app: AppId, list: Vec<String>) -> StoreResult<WordsChanged> {
        write!(self, |ex| words::remove_words(ex, app, list))
    }
}

#[async_trait]
impl<B: Backend> ReportStore for Db<B> {
    async fn create_report(&self, app: AppId, new: NewReport) -> StoreResult<(Report, bool)> {
        write!(self, |ex| reports::create_report(ex, app, new))
    }
    async fn reports(
        &self,
        app: AppId,
        status: Option<ReportStatus>,
        after: Option<ReportId>,
        limit: u32,
    ) -> StoreResult<Page<Report>> {
        read!(self, |ex| reports::reports(ex, app, status, after, limit))
    }
    async fn resolve_report(
        &self,
        app: AppId,
        id: ReportId,
        resolution: String,
        now: Timestamp,
    ) -> StoreResult<Option<Report>> {
        write!(self, |ex| reports::resolve_report(
            ex, app, id, resolution, now
        ))
    }
}
