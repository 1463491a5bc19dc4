//! [`Caller`]: the authenticated member on whose behalf a call runs. Only the core constructs
//! one (from a verified session), so holding a `Caller` proves authentication.

use crate::ids::{AppId, AppKey, MemberId, MemberUuid};
use crate::model::{App, Member};

/// An authenticated member of one app.
#[derive(Debug, Clone)]
pub struct Caller {
    app: App,
    member: Member,
    by_app: bool,
}

impl Caller {
    pub(crate) fn new(app: App, member: Member) -> Self {
        Caller {
            app,
            member,
            by_app: false,
        }
    }

    /// The app's backend acting in `member`'s place (the server API's sends and groups).
    pub(crate) fn for_app(app: App, member: Member) -> Self {
        Caller {
            app,
            member,
            by_app: true,
        }
    }

    /// Whether the app's backend acts in the member's place: the app's own words, which its
    /// word list does not filter.
    pub fn by_app(&self) -> bool {
        self.by_app
    }

    pub fn app_id(&self) -> AppId {
        self.app.id
    }

    pub fn app_key(&self) -> &AppKey {
        &self.app.key
    }

    /// The app, including its secret (dialects need it to sign responses).
    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn member_id(&self) -> MemberId {
        self.member.id
    }

    pub fn uuid(&self) -> &MemberUuid {
        &self.member.uuid
    }

    pub fn member(&self) -> &Member {
        &self.member
    }
}

/// An app's backend, authenticated by a server API token (see
/// [`Core::authenticate_server`](crate::Core::authenticate_server)). Only the core constructs
/// one, so holding an `AppCaller` proves the call comes from the app's backend; every server
/// operation takes one and is confined to its app.
#[derive(Debug, Clone)]
pub struct AppCaller {
    app: App,
}

impl AppCaller {
    pub(crate) fn new(app: App) -> Self {
        AppCaller { app }
    }

    pub fn app_id(&self) -> AppId {
        self.app.id
    }

    pub fn app(&self) -> &App {
        &self.app
    }
}
