//! Reports: a member reports a message they can see, or a member, with a category and a
//! reason; the app's backend lists and resolves them (server API).
//!
//! - A message can be reported by a current member of its conversation who could see it when
//!   it was sent (one they hid for themselves still counts: hiding is often the first thing a
//!   harassed member does). The report keeps the message's content as it was at that moment,
//!   so a later recall or erase does not take the evidence away (a message already recalled
//!   is reported as what is left of it: `{}`).
//! - Nobody reports themself or their own message (`403 forbidden`).
//! - Against report spam: a member's open report on the same message (or the same member) is
//!   returned again instead of a new one, and a member files at most
//!   [`REPORTS_PER_DAY`](crate::rules::REPORTS_PER_DAY) reports in any 24 hours (then
//!   [`Error::RateLimited`], policy `reports`).

use crate::caller::{AppCaller, Caller};
use crate::error::{Entity, Error, Result};
use crate::ids::{MessageId, ReportId};
use crate::model::{Page, Report, ReportCategory, ReportStatus};
use crate::store::{NewReport, ReportTarget};
use crate::Core;

/// Longest report reason and resolution, in characters.
pub const MAX_REPORT_TEXT: usize = 1000;

/// A report, as a member files it (not yet validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The reported message …
    pub message: Option<MessageId>,
    /// … or the reported member's uuid: exactly one of the two.
    pub member: Option<String>,
    pub category: ReportCategory,
    pub reason: String,
}

/// A report filed: `created` is `false` when the member's open report on the same target was
/// returned instead.
#[derive(Debug, Clone, PartialEq)]
pub struct Filed {
    pub report: Report,
    pub created: bool,
}

impl Core {
    /// Files a report (see the module documentation). [`Error::NotFound`] for a message the
    /// caller cannot see or an unknown member; [`Error::Invalid`] for a bad reason or target.
    pub async fn report(&self, caller: &Caller, req: FileReport) -> Result<Filed> {
        let reason = report_text("reason", &req.reason)?;
        let target = match (req.message, req.member) {
            (Some(id), None) => ReportTarget::Message(id),
            (None, Some(uuid)) => {
                let member = self.member_by_uuid(caller.app(), &uuid).await?;
                ReportTarget::Member(member.id)
            }
            _ => {
                return Err(Error::invalid(
                    "message_id",
                    "give exactly one of message_id and member",
                ))
            }
        };
        if target == ReportTarget::Member(caller.member_id()) {
            return Err(Error::from(crate::store::Refusal::OwnReport));
        }
        let new = NewReport {
            reporter: caller.member_id(),
            target,
            category: req.category,
            reason,
            created_at: self.now(),
        };
        let (report, created) = self.store().create_report(caller.app_id(), new).await?;
        if created {
            tracing::info!(
                app.id = %caller.app_id(),
                member.id = %caller.member_id(),
                report.id = %report.id,
                "member {} filed report {}", caller.member_id(), report.id
            );
        }
        Ok(Filed { report, created })
    }

    /// A page of the app's reports, oldest first; `status` `None` lists every report.
    pub async fn reports(
        &self,
        app: &AppCaller,
        status: Option<ReportStatus>,
        after: Option<ReportId>,
        limit: u32,
    ) -> Result<Page<Report>> {
        let limit = super::page_limit("limit", limit)?;
        Ok(self
            .store()
            .reports(app.app_id(), status, after, limit)
            .await?)
    }

    /// Resolves one of the app's reports with what the backend decided (1..=1000 characters);
    /// a resolved report keeps its first resolution. [`Error::NotFound`] for another app's.
    pub async fn resolve_report(
        &self,
        app: &AppCaller,
        id: ReportId,
        resolution: &str,
    ) -> Result<Report> {
        let resolution = report_text("resolution", resolution)?;
        self.store()
            .resolve_report(app.app_id(), id, resolution, self.now())
            .await?
            .ok_or(Error::NotFound(Entity::Report))
    }
}

/// A reason or resolution: trimmed, 1..=[`MAX_REPORT_TEXT`] characters, no control characters
/// but line breaks and tabs.
fn report_text(field: &'static str, s: &str) -> Result<String> {
    let s = s.trim();
    let bad = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
    if s.is_empty() || s.chars().count() > MAX_REPORT_TEXT || s.chars().any(bad) {
        return Err(Error::invalid(
            field,
            format!("must be 1..{MAX_REPORT_TEXT} characters without control characters"),
        ));
    }
    Ok(s.to_owned())
}
