//! A member's data, for the app's backend: [`Core::export_member`] opens an [`Export`], which
//! yields the member, then each of their conversations followed by every message they can see
//! in it, page by page — nothing is gathered in memory beyond one page, so an export of any
//! size streams. [`Core::erase_member`] erases a member, leaving tombstones.

use crate::bus::Revocation;
use crate::caller::{AppCaller, Caller};
use crate::config::MAX_PAGE;
use crate::error::{Error, Result};
use crate::ids::{MemberUuid, MessageId};
use crate::model::{ConversationSummary, HistoryItem, Member};
use crate::service::MemberLookup;
use crate::store::{HistoryWindow, ListQuery, ListWindow};
use crate::{rules, Core};

/// One record of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportRecord {
    /// The member, first, as things stand now.
    Member(Member),
    /// One of their conversations, before its messages.
    Conversation(ConversationSummary),
    /// A message of the conversation before it, as the member sees it (oldest first).
    Message(HistoryItem),
}

/// Where an export stands. One per export, so the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
enum Stage {
    Member(Member),
    /// The next conversation-list page starts after this window.
    Conversations(ListWindow),
    /// Messages of `current` after `after`, then the list continues from `next`.
    Messages {
        current: ConversationSummary,
        after: MessageId,
        rest: Vec<ConversationSummary>,
        next: Option<ListWindow>,
    },
    Done,
}

/// A member's export in progress: call [`Export::next_page`] until it answers `None`.
pub struct Export {
    core: Core,
    member: Caller,
    stage: Stage,
}

impl Core {
    /// Opens the export of the member `by` names (banned and muted members included).
    /// [`Error::NotFound`](crate::Error::NotFound) if there is none.
    pub async fn export_member(&self, caller: &AppCaller, by: MemberLookup<'_>) -> Result<Export> {
        let member = self.find_member(caller, by).await?;
        let shown = self.in_force(member.clone());
        Ok(Export {
            core: self.clone(),
            member: Caller::new(caller.app().clone(), member),
            stage: Stage::Member(shown),
        })
    }
}

/// What erasing a member did.
#[derive(Debug, Clone, PartialEq)]
pub struct Erased {
    /// The erased member's uuid (now a tombstone's).
    pub uuid: MemberUuid,
    /// How many groups they left.
    pub groups_left: usize,
}

impl Core {
    /// Erases the member `by` names. Their sessions end and their open event streams close on
    /// every node; their messages stay in others' history as tombstones (data `{}`,
    /// `recalled_at` set, the sender a deleted member named `sixin:deleted:<uuid>`) and unread
    /// counts drop as for a recall; they leave every group (ownership passing as when an owner
    /// leaves); their profile, password and external id are gone, so the app may provision its
    /// id again as a new member. The app's system sender cannot be erased.
    pub async fn erase_member(&self, caller: &AppCaller, by: MemberLookup<'_>) -> Result<Erased> {
        let member = self.find_member(caller, by).await?;
        if rules::is_system(member.external_id.as_deref()) {
            return Err(Error::invalid(
                "external_id",
                "the app's system sender cannot be erased",
            ));
        }
        let name = format!("sixin:deleted:{}", member.uuid);
        let changes = self
            .store()
            .erase_member(caller.app_id(), member.id, &name, self.now())
            .await?;
        let revocation = Revocation {
            app: caller.app_id(),
            member: member.id,
            session: None,
        };
        self.bus().revoke(revocation).await;
        let uuid = member.uuid.clone();
        let speaker = Caller::new(caller.app().clone(), member);
        for change in &changes {
            self.announce_membership(&speaker, change).await;
        }
        Ok(Erased {
            uuid,
            groups_left: changes.len(),
        })
    }
}

impl Export {
    /// The next records, in order: at most one page of conversations or of messages at a time.
    /// `None` when the export is complete.
    pub async fn next_page(&mut self) -> Result<Option<Vec<ExportRecord>>> {
        match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Done => Ok(None),
            Stage::Member(m) => {
                self.stage = Stage::Conversations(ListWindow::First);
                Ok(Some(vec![ExportRecord::Member(m)]))
            }
            Stage::Conversations(window) => self.conversations(window).await,
            Stage::Messages {
                current,
                after,
                rest,
                next,
            } => self.messages(current, after, rest, next).await,
        }
    }

    async fn conversations(&mut self, window: ListWindow) -> Result<Option<Vec<ExportRecord>>> {
        let query = ListQuery {
            kind: None,
            window,
            limit: MAX_PAGE,
        };
        let page = self.core.conversations(&self.member, query).await?;
        let next = match (page.has_more, page.items.last()) {
            (true, Some(last)) => Some(ListWindow::After {
                last_activity_at: last.activity_at,
                id: last.conversation.id,
            }),
            _ => None,
        };
        let mut items = page.items.into_iter();
        let Some(first) = items.next() else {
            return Ok(None);
        };
        let record = ExportRecord::Conversation(first.clone());
        self.stage = Stage::Messages {
            current: first,
            after: MessageId(0),
            rest: items.rev().collect(),
            next,
        };
        Ok(Some(vec![record]))
    }

    async fn messages(
        &mut self,
        current: ConversationSummary,
        after: MessageId,
        mut rest: Vec<ConversationSummary>,
        next: Option<ListWindow>,
    ) -> Result<Option<Vec<ExportRecord>>> {
        let id = current.conversation.id;
        let window = HistoryWindow::After(after);
        let page = self
            .core
            .history(&self.member, id, window, MAX_PAGE)
            .await?;
        let last = page.items.last().map(|i| i.message.id);
        let records: Vec<_> = page.items.into_iter().map(ExportRecord::Message).collect();
        self.stage = match (page.has_more, last) {
            (true, Some(after)) => Stage::Messages {
                current,
                after,
                rest,
                next,
            },
            _ => match rest.pop() {
                Some(following) => {
                    let record = ExportRecord::Conversation(following.clone());
                    self.stage = Stage::Messages {
                        current: following,
                        after: MessageId(0),
                        rest,
                        next,
                    };
                    let mut out = records;
                    out.push(record);
                    return Ok(Some(out));
                }
                None => next.map_or(Stage::Done, Stage::Conversations),
            },
        };
        Ok(Some(records))
    }
}
