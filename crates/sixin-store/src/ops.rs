//! Every store operation's transaction body, written once and instantiated per backend by
//! [`store_ops!`]. The caller provides `type Conn` (the driver's connection type) and the
//! row-lock suffix: ` FOR UPDATE` on PostgreSQL, where concurrent transactions must queue on
//! the conversation row, and nothing on SQLite, whose single writer already serialises writes.
//! Both backends take `$N` parameters, numbered in order of first appearance.
//!
//! Locks are always taken in one order — message row, conversation row, membership rows — so
//! concurrent transactions cannot deadlock.

macro_rules! store_ops {
    (lock = $lock:literal, share = $share:literal) => {
        use sixin_core::error::Entity;
        use sixin_core::ids::*;
        use sixin_core::model::*;
        use sixin_core::store::*;

        use crate::errors::{db, unique};
        use crate::rows::*;

        pub(crate) async fn create_app(conn: &mut Conn, new: NewApp) -> StoreResult<App> {
            let sql = format!(
                "INSERT INTO apps (key, secret, name, require_sign, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING {APP_COLS}"
            );
            let row: AppRow = sqlx::query_as(&sql)
                .bind(new.key.as_str())
                .bind(&new.secret.0)
                .bind(&new.name)
                .bind(new.require_sign)
                .bind(new.created_at.0)
                .fetch_one(&mut *conn)
                .await
                .map_err(unique(Entity::App))?;
            row.into_app()
        }

        pub(crate) async fn app_by_key(conn: &mut Conn, key: &AppKey) -> StoreResult<Option<App>> {
            let sql = format!("SELECT {APP_COLS} FROM apps WHERE key = $1");
            let row: Option<AppRow> =
                sqlx::query_as(&sql).bind(key.as_str()).fetch_optional(&mut *conn).await.map_err(db)?;
            row.map(AppRow::into_app).transpose()
        }

        pub(crate) async fn apps(conn: &mut Conn) -> StoreResult<Vec<App>> {
            let sql = format!("SELECT {APP_COLS} FROM apps ORDER BY id");
            let rows: Vec<AppRow> = sqlx::query_as(&sql).fetch_all(&mut *conn).await.map_err(db)?;
            rows.into_iter().map(AppRow::into_app).collect()
        }

        pub(crate) async fn set_require_sign(
            conn: &mut Conn,
            key: &AppKey,
            on: bool,
        ) -> StoreResult<Option<App>> {
            let sql = format!("UPDATE apps SET require_sign = $1 WHERE key = $2 RETURNING {APP_COLS}");
            let row: Option<AppRow> = sqlx::query_as(&sql)
                .bind(on)
                .bind(key.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
            row.map(AppRow::into_app).transpose()
        }

        pub(crate) async fn create_member(
            conn: &mut Conn,
            app: AppId,
            new: NewMember,
        ) -> StoreResult<Member> {
            let sql = format!(
                "INSERT INTO members (app_id, uuid, username, password_hash, ext_info, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING {MEMBER_COLS}"
            );
            let row: MemberRow = sqlx::query_as(&sql)
                .bind(app.0)
                .bind(new.uuid.as_str())
                .bind(&new.username)
                .bind(&new.password_hash)
                .bind(new.ext_info.to_string())
                .bind(new.created_at.0)
                .fetch_one(&mut *conn)
                .await
                .map_err(unique(Entity::Username))?;
            row.into_member()
        }

        pub(crate) async fn member(
            conn: &mut Conn,
            app: AppId,
            by: MemberRef<'_>,
        ) -> StoreResult<Option<Member>> {
            let (column, id, text) = match by {
                MemberRef::Id(id) => ("id", id.0, ""),
                MemberRef::Uuid(u) => ("uuid", 0, u.as_str()),
                MemberRef::Username(u) => ("username", 0, u),
            };
            let sql = format!("SELECT {MEMBER_COLS} FROM members WHERE app_id = $1 AND {column} = $2");
            let query = sqlx::query_as::<_, MemberRow>(&sql).bind(app.0);
            let query = if column == "id" { query.bind(id) } else { query.bind(text) };
            let row = query.fetch_optional(&mut *conn).await.map_err(db)?;
            row.map(MemberRow::into_member).transpose()
        }

        pub(crate) async fn members_by_uuids(
            conn: &mut Conn,
            app: AppId,
            uuids: &[MemberUuid],
        ) -> StoreResult<Vec<Member>> {
            if uuids.is_empty() {
                return Ok(Vec::new());
            }
            let params: Vec<String> = (0..uuids.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT {MEMBER_COLS} FROM members WHERE app_id = $1 AND uuid IN ({})",
                params.join(", ")
            );
            let mut query = sqlx::query_as::<_, MemberRow>(&sql).bind(app.0);
            for u in uuids {
                query = query.bind(u.as_str());
            }
            let rows = query.fetch_all(&mut *conn).await.map_err(db)?;
            rows.into_iter().map(MemberRow::into_member).collect()
        }

        pub(crate) async fn credentials(
            conn: &mut Conn,
            app: AppId,
            username: &str,
        ) -> StoreResult<Option<(Member, String)>> {
            #[derive(sqlx::FromRow)]
            struct Row {
                #[sqlx(flatten)]
                member: MemberRow,
                password_hash: String,
            }
            let sql = format!(
                "SELECT {MEMBER_COLS}, password_hash FROM members WHERE app_id = $1 AND username = $2"
            );
            let row: Option<Row> = sqlx::query_as(&sql)
                .bind(app.0)
                .bind(username)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
            row.map(|r| Ok((r.member.into_member()?, r.password_hash))).transpose()
        }

        pub(crate) async fn set_banned(
            conn: &mut Conn,
            app: AppId,
            member: MemberId,
            banned: bool,
        ) -> StoreResult<Option<Member>> {
            let sql = format!(
                "UPDATE members SET banned = $1 WHERE id = $2 AND app_id = $3 RETURNING {MEMBER_COLS}"
            );
            let row: Option<MemberRow> = sqlx::query_as(&sql)
                .bind(banned)
                .bind(member.0)
                .bind(app.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
            if banned && row.is_some() {
                sqlx::query("DELETE FROM sessions WHERE member_id = $1")
                    .bind(member.0)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
            }
            row.map(MemberRow::into_member).transpose()
        }

        pub(crate) async fn create_session(
            conn: &mut Conn,
            app: AppId,
            new: NewSession,
        ) -> StoreResult<()> {
            sqlx::query("DELETE FROM sessions WHERE member_id = $1 AND expires_at <= $2")
                .bind(new.member.0)
                .bind(new.created_at.0)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            sqlx::query(
                "INSERT INTO sessions (token_hash, app_id, member_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&new.token_hash.0)
            .bind(app.0)
            .bind(new.member.0)
            .bind(new.created_at.0)
            .bind(new.expires_at.0)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            Ok(())
        }

        pub(crate) async fn session(
            conn: &mut Conn,
            token: &TokenHash,
            now: Timestamp,
        ) -> StoreResult<Option<SessionInfo>> {
            let row: Option<SessionRow> = sqlx::query_as(SESSION_SELECT)
                .bind(&token.0)
                .bind(now.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
            row.map(SessionRow::into_session).transpose()
        }

        pub(crate) async fn delete_session(conn: &mut Conn, token: &TokenHash) -> StoreResult<bool> {
            let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(&token.0)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            Ok(done.rows_affected() > 0)
        }

        fn direct_key(a: MemberId, b: MemberId) -> String {
            format!("{}:{}", a.0.min(b.0), a.0.max(b.0))
        }

        /// The direct conversation of a pair, created (with both memberships) on first use.
        async fn direct_for_send(
            conn: &mut Conn,
            app: AppId,
            sender: MemberId,
            peer: MemberId,
            now: Timestamp,
        ) -> StoreResult<ConversationId> {
            let key = direct_key(sender, peer);
            let inserted: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO conversations \
                 (app_id, kind, owner_id, direct_key, created_at, last_activity_at, member_count) \
                 VALUES ($1, 'direct', $2, $3, $4, $4, 2) \
                 ON CONFLICT (app_id, direct_key) DO NOTHING RETURNING id",
            )
            .bind(app.0)
            .bind(sender.0)
            .bind(&key)
            .bind(now.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
            if let Some((id,)) = inserted {
                sqlx::query(
                    "INSERT INTO conversation_members (conversation_id, member_id, app_id, role, \
                     joined_at, read_updated_at, last_activity_at) \
                     VALUES ($1, $2, $3, 'member', $4, $4, $4), ($1, $5, $3, 'member', $4, $4, $4)",
                )
                .bind(id)
                .bind(sender.0)
                .bind(app.0)
                .bind(now.0)
                .bind(peer.0)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                return Ok(ConversationId(id));
            }
            let (id,): (i64,) =
                sqlx::query_as("SELECT id FROM conversations WHERE app_id = $1 AND direct_key = $2")
                    .bind(app.0)
                    .bind(&key)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db)?;
            Ok(ConversationId(id))
        }

        async fn conversation_row(conn: &mut Conn, id: ConversationId) -> StoreResult<Conversation> {
            let sql = format!("SELECT {CONVERSATION_COLS} FROM conversations WHERE id = $1");
            let row: ConversationRow =
                sqlx::query_as(&sql).bind(id.0).fetch_one(&mut *conn).await.map_err(db)?;
            row.into_conversation()
        }

        async fn audience(conn: &mut Conn, id: ConversationId) -> StoreResult<Vec<MemberId>> {
            let rows: Vec<(i64,)> = sqlx::query_as(
                "SELECT member_id FROM conversation_members WHERE conversation_id = $1 ORDER BY member_id",
            )
            .bind(id.0)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
            Ok(rows.into_iter().map(|(id,)| MemberId(id)).collect())
        }

        async fn message_by_id(conn: &mut Conn, id: i64) -> StoreResult<Message> {
            let sql = format!("{MESSAGE_SELECT} WHERE m.id = $1");
            let row: MessageRow = sqlx::query_as(&sql).bind(id).fetch_one(&mut *conn).await.map_err(db)?;
            row.into_message()
        }

        /// Locks the conversation (in the app) and returns its kind and last message id.
        async fn lock_conversation(
            conn: &mut Conn,
            app: AppId,
            id: ConversationId,
        ) -> StoreResult<Option<(String, i64)>> {
            sqlx::query_as(concat!(
                "SELECT kind, last_message_id FROM conversations WHERE id = $1 AND app_id = $2",
                $lock
            ))
            .bind(id.0)
            .bind(app.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)
        }

        async fn role_of(conn: &mut Conn, id: ConversationId, member: MemberId) -> StoreResult<Option<String>> {
            let row: Option<(String,)> = sqlx::query_as(
                "SELECT role FROM conversation_members WHERE conversation_id = $1 AND member_id = $2",
            )
            .bind(id.0)
            .bind(member.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
            Ok(row.map(|(r,)| r))
        }

        pub(crate) async fn send(
            conn: &mut Conn,
            app: AppId,
            sender: MemberId,
            to: SendTarget,
            content: &NewContent,
        ) -> StoreResult<Sent> {
            let conversation = match to {
                SendTarget::Direct(peer) => {
                    direct_for_send(conn, app, sender, peer, content.created_at).await?
                }
                SendTarget::Conversation(id) => id,
            };
            // Message ids are drawn only after this lock, so within a conversation they grow
            // in commit order and paging by id can never skip a message.
            if lock_conversation(conn, app, conversation).await?.is_none() {
                return Err(StoreError::Refused(Refusal::NotMember));
            }
            let me: Option<(String, String)> = sqlx::query_as(
                "SELECT m.uuid, m.username FROM conversation_members cm \
                 JOIN members m ON m.id = cm.member_id \
                 WHERE cm.conversation_id = $1 AND cm.member_id = $2",
            )
            .bind(conversation.0)
            .bind(sender.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
            let Some((sender_uuid, sender_username)) = me else {
                return Err(StoreError::Refused(Refusal::NotMember));
            };
            if let Some(key) = &content.client_msg_id {
                let sql = format!(
                    "{MESSAGE_SELECT} WHERE m.sender_id = $1 AND m.conversation_id = $2 \
                     AND m.client_msg_id = $3"
                );
                let existing: Option<MessageRow> = sqlx::query_as(&sql)
                    .bind(sender.0)
                    .bind(conversation.0)
                    .bind(key)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db)?;
                if let Some(row) = existing {
                    return Ok(Sent {
                        message: row.into_message()?,
                        conversation: conversation_row(conn, conversation).await?,
                        created: false,
                        audience: audience(conn, conversation).await?,
                    });
                }
            }
            let data = content.data.to_string();
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO messages (app_id, conversation_id, sender_id, kind, data, ext_data, \
                 client_msg_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(app.0)
            .bind(conversation.0)
            .bind(sender.0)
            .bind(content.kind.as_str())
            .bind(&data)
            .bind(&content.ext_data)
            .bind(&content.client_msg_id)
            .bind(content.created_at.0)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
            let sql = format!(
                "UPDATE conversations SET last_message_id = $1, last_activity_at = $2, \
                 message_count = message_count + 1 WHERE id = $3 RETURNING {CONVERSATION_COLS}"
            );
            let row: ConversationRow = sqlx::query_as(&sql)
                .bind(id)
                .bind(content.created_at.0)
                .bind(conversation.0)
                .fetch_one(&mut *conn)
                .await
                .map_err(db)?;
            let members: Vec<(i64,)> = sqlx::query_as(
                "UPDATE conversation_members SET last_activity_at = $1, \
                 unread_count = unread_count + CASE WHEN member_id = $2 THEN 0 ELSE 1 END \
                 WHERE conversation_id = $3 RETURNING member_id",
            )
            .bind(content.created_at.0)
            .bind(sender.0)
            .bind(conversation.0)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
            let mut audience: Vec<MemberId> = members.into_iter().map(|(m,)| MemberId(m)).collect();
            audience.sort();
            let message = Message {
                id: MessageId(id),
                conversation,
                sender,
                sender_uuid: MemberUuid::parse(&sender_uuid)
                    .ok_or_else(|| StoreError::Other("corrupt member uuid".into()))?,
                sender_username,
                kind: content.kind,
                data: content.data.clone(),
                ext_data: content.ext_data.clone(),
                client_msg_id: content.client_msg_id.clone(),
                created_at: content.created_at,
                recalled_at: None,
            };
            Ok(Sent { message, conversation: row.into_conversation()?, created: true, audience })
        }

        pub(crate) async fn send_many(
            conn: &mut Conn,
            app: AppId,
            sender: MemberId,
            recipients: &[MemberId],
            content: &NewContent,
        ) -> StoreResult<Vec<Sent>> {
            let mut out = Vec::with_capacity(recipients.len());
            for peer in recipients {
                out.push(send(conn, app, sender, SendTarget::Direct(*peer), content).await?);
            }
            Ok(out)
        }

        /// The viewer's membership: (last_read_id, visible_from, unread_count).
        async fn membership(
            conn: &mut Conn,
            app: AppId,
            member: MemberId,
            conversation: ConversationId,
            lock: bool,
        ) -> StoreResult<Option<(i64, i64, i64)>> {
            let sql = if lock {
                concat!(
                    "SELECT last_read_id, visible_from, unread_count FROM conversation_members \
                     WHERE conversation_id = $1 AND member_id = $2 AND app_id = $3",
                    $lock
                )
            } else {
                "SELECT last_read_id, visible_from, unread_count FROM conversation_members \
                 WHERE conversation_id = $1 AND member_id = $2 AND app_id = $3"
            };
            sqlx::query_as(sql)
                .bind(conversation.0)
                .bind(member.0)
                .bind(app.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)
        }

        pub(crate) async fn history(
            conn: &mut Conn,
            app: AppId,
            viewer: MemberId,
            conversation: ConversationId,
            window: HistoryWindow,
            limit: u32,
        ) -> StoreResult<Option<Page<HistoryItem>>> {
            if membership(conn, app, viewer, conversation, false).await?.is_none() {
                return Ok(None);
            }
            let fetch = i64::from(limit) + 1;
            let base = format!("{ITEM_SELECT} AND m.conversation_id = $2");
            let (sql, anchor, descending) = match window {
                HistoryWindow::Latest => {
                    (format!("{base} AND m.id > $3 ORDER BY m.id DESC LIMIT $4"), 0, true)
                }
                HistoryWindow::Before(id) => {
                    (format!("{base} AND m.id < $3 ORDER BY m.id DESC LIMIT $4"), id.0, true)
                }
                HistoryWindow::After(id) => {
                    (format!("{base} AND m.id > $3 ORDER BY m.id ASC LIMIT $4"), id.0, false)
                }
                HistoryWindow::Offset { skip, newest_first } => {
                    let order = if newest_first { "DESC" } else { "ASC" };
                    let sql = format!("{base} ORDER BY m.id {order} LIMIT $4 OFFSET $3");
                    (sql, i64::from(skip), newest_first)
                }
            };
            let mut rows: Vec<MessageRow> = sqlx::query_as(&sql)
                .bind(viewer.0)
                .bind(conversation.0)
                .bind(anchor)
                .bind(fetch)
                .fetch_all(&mut *conn)
                .await
                .map_err(db)?;
            let has_more = rows.len() as i64 > i64::from(limit);
            rows.truncate(limit as usize);
            if descending {
                rows.reverse();
            }
            let items = rows.into_iter().map(MessageRow::into_item).collect::<StoreResult<_>>()?;
            Ok(Some(Page { items, has_more }))
        }

        pub(crate) async fn direct_conversation(
            conn: &mut Conn,
            app: AppId,
            a: MemberId,
            b: MemberId,
        ) -> StoreResult<Option<ConversationId>> {
            let row: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM conversations WHERE app_id = $1 AND direct_key = $2")
                    .bind(app.0)
                    .bind(direct_key(a, b))
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db)?;
            Ok(row.map(|(id,)| ConversationId(id)))
        }

        /// Whether `member` currently counts `message` as unread.
        async fn is_unread(
            conn: &mut Conn,
            member: MemberId,
            message: i64,
            sender: i64,
            recalled: bool,
            last_read_id: i64,
        ) -> StoreResult<bool> {
            if sender == member.0 || recalled || message <= last_read_id {
                return Ok(false);
            }
            let row: Option<(i64,)> = sqlx::query_as(
                "SELECT message_id FROM message_reads WHERE member_id = $1 AND message_id = $2 \
                 UNION ALL \
                 SELECT message_id FROM message_hides WHERE member_id = $1 AND message_id = $2",
            )
            .bind(member.0)
            .bind(message)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
            Ok(row.is_none())
        }

        async fn lower_unread(
            conn: &mut Conn,
            conversation: i64,
            member: MemberId,
            now: Timestamp,
        ) -> StoreResult<i64> {
            let (unread,): (i64,) = sqlx::query_as(
                "UPDATE conversation_members SET \
                 unread_count = CASE WHEN unread_count > 0 THEN unread_count - 1 ELSE 0 END, \
                 read_updated_at = $1 WHERE conversation_id = $2 AND member_id = $3 \
                 RETURNING unread_count",
            )
            .bind(now.0)
            .bind(conversation)
            .bind(member.0)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
            Ok(unread)
        }

        /// A message `member` can see, locked for share: (conversation, sender, recalled).
        async fn visible_message(
            conn: &mut Conn,
            app: AppId,
            member: MemberId,
            message: MessageId,
        ) -> StoreResult<Option<(i64, i64, Option<i64>)>> {
            sqlx::query_as(concat!(
                "SELECT m.conversation_id, m.sender_id, m.recalled_at FROM messages m \
                 JOIN conversation_members v ON v.conversation_id = m.conversation_id \
                 AND v.member_id = $1 WHERE m.id = $2 AND m.app_id = $3 AND m.id > v.visible_from \
                 AND NOT EXISTS (SELECT 1 FROM message_hides h WHERE h.member_id = $1 \
                 AND h.message_id = m.id)",
                $share
            ))
            .bind(member.0)
            .bind(message.0)
            .bind(app.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)
        }

        fn count(n: i64) -> u32 {
            u32::try_from(n.max(0)).unwrap_or(u32::MAX)
        }

        pub(crate) async fn mark_read(
            conn: &mut Conn,
            app: AppId,
            reader: MemberId,
            conversation: ConversationId,
            target: ReadTarget,
            now: Timestamp,
        ) -> StoreResult<ReadOutcome> {
            let message = match target {
                ReadTarget::All => None,
                ReadTarget::One(id) => {
                    let found = visible_message(conn, app, reader, id).await?;
                    match found {
                        Some(m) if m.0 == conversation.0 => Some((id, m)),
                        _ => {
                            if membership(conn, app, reader, conversation, false).await?.is_none() {
                                return Err(StoreError::Refused(Refusal::NotMember));
                            }
                            return Err(StoreError::NotFound(Entity::Message));
                        }
                    }
                }
            };
            let Some((last_read, _, unread)) =
                membership(conn, app, reader, conversation, true).await?
            else {
                return Err(StoreError::Refused(Refusal::NotMember));
            };
            let Some((id, (_, sender, recalled))) = message else {
                sqlx::query(
                    "UPDATE conversation_members SET unread_count = 0, read_updated_at = $1, \
                     last_read_id = (SELECT last_message_id FROM conversations WHERE id = $2) \
                     WHERE conversation_id = $2 AND member_id = $3",
                )
                .bind(now.0)
                .bind(conversation.0)
                .bind(reader.0)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                sqlx::query("DELETE FROM message_reads WHERE member_id = $1 AND conversation_id = $2")
                    .bind(reader.0)
                    .bind(conversation.0)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                return Ok(ReadOutcome { marked: count(unread), unread: 0 });
            };
            if !is_unread(conn, reader, id.0, sender, recalled.is_some(), last_read).await? {
                return Ok(ReadOutcome { marked: 0, unread: count(unread) });
            }
            sqlx::query(
                "INSERT INTO message_reads (member_id, message_id, conversation_id) VALUES ($1, $2, $3)",
            )
            .bind(reader.0)
            .bind(id.0)
            .bind(conversation.0)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            let left = lower_unread(conn, conversation.0, reader, now).await?;
            Ok(ReadOutcome { marked: 1, unread: count(left) })
        }

        pub(crate) async fn unread(
            conn: &mut Conn,
            app: AppId,
            member: MemberId,
        ) -> StoreResult<UnreadCounts> {
            let rows: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT conversation_id, unread_count FROM conversation_members \
                 WHERE member_id = $1 AND app_id = $2 AND unread_count > 0 ORDER BY conversation_id",
            )
            .bind(member.0)
            .bind(app.0)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
            let total = rows.iter().map(|(_, n)| u64::from(count(*n))).sum();
            let conversations = rows.into_iter().map(|(c, n)| (ConversationId(c), count(n))).collect();
            Ok(UnreadCounts { total, conversations })
        }

        pub(crate) async fn conversations(
            conn: &mut Conn,
            app: AppId,
            member: MemberId,
            query: ListQuery,
        ) -> StoreResult<Page<ConversationSummary>> {
            let (after_at, after_id, offset) = match query.window {
                ListWindow::First => (None, None, 0i64),
                ListWindow::After { last_activity_at, id } => (Some(last_activity_at.0), Some(id.0), 0),
                ListWindow::Offset(n) => (None, None, i64::from(n)),
            };
            let sql = "SELECT c.id, c.app_id, c.kind, c.subject, c.owner_id, c.created_at, \
                c.last_activity_at, c.message_count, c.member_count, \
                cm.unread_count, cm.last_activity_at AS activity, \
                m.id AS m_id, m.sender_id AS m_sender_id, s.uuid AS m_sender_uuid, \
                s.username AS m_sender_username, m.kind AS m_kind, m.data AS m_data, \
                m.ext_data AS m_ext_data, m.client_msg_id AS m_client_msg_id, \
                m.created_at AS m_created_at, m.recalled_at AS m_recalled_at, \
                CASE WHEN m.id IS NULL THEN FALSE \
                WHEN m.sender_id = cm.member_id THEN NOT EXISTS (SELECT 1 FROM conversation_members o \
                    WHERE o.conversation_id = m.conversation_id AND o.member_id <> m.sender_id \
                    AND o.last_read_id < m.id AND o.visible_from < m.id \
                    AND NOT EXISTS (SELECT 1 FROM message_reads r \
                        WHERE r.member_id = o.member_id AND r.message_id = m.id)) \
                ELSE (m.id <= cm.last_read_id OR EXISTS (SELECT 1 FROM message_reads r \
                    WHERE r.member_id = cm.member_id AND r.message_id = m.id)) END AS m_is_read, \
                p.id AS p_id, p.uuid AS p_uuid, p.username AS p_username, p.ext_info AS p_ext_info \
                FROM conversation_members cm \
                JOIN conversations c ON c.id = cm.conversation_id \
                LEFT JOIN messages m ON m.id = (SELECT MAX(x.id) FROM messages x \
                    WHERE x.conversation_id = c.id AND x.id > cm.visible_from \
                    AND NOT EXISTS (SELECT 1 FROM message_hides h \
                        WHERE h.member_id = cm.member_id AND h.message_id = x.id)) \
                LEFT JOIN members s ON s.id = m.sender_id \
                LEFT JOIN members p ON c.kind = 'direct' AND p.id = (SELECT o.member_id \
                    FROM conversation_members o WHERE o.conversation_id = c.id \
                    AND o.member_id <> cm.member_id LIMIT 1) \
                WHERE cm.member_id = $1 AND cm.app_id = $2 AND ($3 IS NULL OR c.kind = $3) \
                AND ($4 IS NULL OR cm.last_activity_at < $4 \
                    OR (cm.last_activity_at = $4 AND cm.conversation_id < $5)) \
                ORDER BY cm.last_activity_at DESC, cm.conversation_id DESC LIMIT $6 OFFSET $7";
            let mut rows: Vec<ListRow> = sqlx::query_as(sql)
                .bind(member.0)
                .bind(app.0)
                .bind(query.kind.map(ConversationKind::as_str))
                .bind(after_at)
                .bind(after_id)
                .bind(i64::from(query.limit) + 1)
                .bind(offset)
                .fetch_all(&mut *conn)
                .await
                .map_err(db)?;
            let has_more = rows.len() > query.limit as usize;
            rows.truncate(query.limit as usize);
            let items = rows.into_iter().map(ListRow::into_summary).collect::<StoreResult<_>>()?;
            Ok(Page { items, has_more })
        }

        pub(crate) async fn conversation_count(
            conn: &mut Conn,
            app: AppId,
            member: MemberId,
            kind: Option<ConversationKind>,
        ) -> StoreResult<u64> {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM conversation_members cm \
                 JOIN conversations c ON c.id = cm.conversation_id \
                 WHERE cm.member_id = $1 AND cm.app_id = $2 AND ($3 IS NULL OR c.kind = $3)",
            )
            .bind(member.0)
            .bind(app.0)
            .bind(kind.map(ConversationKind::as_str))
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
            Ok(u64::try_from(n).unwrap_or(0))
        }

        pub(crate) async fn conversation(
            conn: &mut Conn,
            app: AppId,
            viewer: MemberId,
            id: ConversationId,
        ) -> StoreResult<Option<ConversationDetail>> {
            if membership(conn, app, viewer, id, false).await?.is_none() {
                return Ok(None);
            }
            let conversation = conversation_row(conn, id).await?;
            let rows: Vec<ParticipantRow> =
                sqlx::query_as(PARTICIPANT_SELECT).bind(id.0).fetch_all(&mut *conn).await.map_err(db)?;
            let participants = rows.into_iter().map(ParticipantRow::into_participant).collect::<StoreResult<_>>()?;
            let mut ends = Vec::with_capacity(2);
            for order in ["ASC", "DESC"] {
                let sql = format!("{ITEM_SELECT} AND m.conversation_id = $2 ORDER BY m.id {order} LIMIT 1");
                let row: Option<MessageRow> = sqlx::query_as(&sql)
                    .bind(viewer.0)
                    .bind(id.0)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db)?;
                ends.push(row.map(MessageRow::into_message).transpose()?);
            }
            let (visible_count,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM messages m JOIN conversation_members v \
                 ON v.conversation_id = m.conversation_id AND v.member_id = $1 \
                 WHERE m.conversation_id = $2 AND m.id > v.visible_from AND NOT EXISTS \
                 (SELECT 1 FROM message_hides h WHERE h.member_id = $1 AND h.message_id = m.id)",
            )
            .bind(viewer.0)
            .bind(id.0)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
            let last_message = ends.pop().flatten();
            let first_message = ends.pop().flatten();
            Ok(Some(ConversationDetail { conversation, participants, first_message, last_message, visible_count }))
        }

        pub(crate) async fn participants(
            conn: &mut Conn,
            app: AppId,
            viewer: MemberId,
            id: ConversationId,
        ) -> StoreResult<Option<Vec<Profile>>> {
            if membership(conn, app, viewer, id, false).await?.is_none() {
                return Ok(None);
            }
            let rows: Vec<ParticipantRow> =
                sqlx::query_as(PARTICIPANT_SELECT).bind(id.0).fetch_all(&mut *conn).await.map_err(db)?;
            rows.into_iter().map(|r| Ok(r.into_participant()?.profile)).collect::<StoreResult<_>>().map(Some)
        }

        pub(crate) async fn hide_message(
            conn: &mut Conn,
            app: AppId,
            member: MemberId,
            message: MessageId,
        ) -> StoreResult<MessageUpdate> {
            let Some((conversation, sender, recalled)) =
                visible_message(conn, app, member, message).await?
            else {
                // Hiding an already-hidden message is not an error.
                let hidden: Option<(i64,)> = sqlx::query_as(
                    "SELECT h.message_id FROM message_hides h JOIN messages m ON m.id = h.message_id \
                     WHERE h.member_id = $1 AND h.message_id = $2 AND m.app_id = $3",
                )
                .bind(member.0)
                .bind(message.0)
                .bind(app.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
                return match hidden {
                    Some(_) => Ok(MessageUpdate {
                        message: message_by_id(conn, message.0).await?,
                        audience: vec![member],
                    }),
                    None => Err(StoreError::NotFound(Entity::Message)),
                };
            };
            let conv = ConversationId(conversation);
            let Some((last_read, _, _)) = membership(conn, app, member, conv, true).await? else {
                return Err(StoreError::NotFound(Entity::Message));
            };
            let unread =
                is_unread(conn, member, message.0, sender, recalled.is_some(), last_read).await?;
            sqlx::query(
                "INSERT INTO message_hides (member_id, message_id, conversation_id) VALUES ($1, $2, $3)",
            )
            .bind(member.0)
            .bind(message.0)
            .bind(conversation)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            if unread {
                sqlx::query(
                    "UPDATE conversation_members SET unread_count = \
                     CASE WHEN unread_count > 0 THEN unread_count - 1 ELSE 0 END \
                     WHERE conversation_id = $1 AND member_id = $2",
                )
                .bind(conversation)
                .bind(member.0)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            }
            Ok(MessageUpdate { message: message_by_id(conn, message.0).await?, audience: vec![member] })
        }

        pub(crate) async fn recall(
            conn: &mut Conn,
            app: AppId,
            sender: MemberId,
            message: MessageId,
            not_before: Timestamp,
            now: Timestamp,
        ) -> StoreResult<MessageUpdate> {
            let row: Option<(i64, i64, i64, Option<i64>)> = sqlx::query_as(concat!(
                "SELECT conversation_id, sender_id, created_at, recalled_at FROM messages \
                 WHERE id = $1 AND app_id = $2",
                $lock
            ))
            .bind(message.0)
            .bind(app.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
            let Some((conversation, author, created_at, recalled_at)) = row else {
                return Err(StoreError::NotFound(Entity::Message));
            };
            let conv = ConversationId(conversation);
            if author != sender.0 {
                return match visible_message(conn, app, sender, message).await? {
                    Some(_) => Err(StoreError::Refused(Refusal::NotSender)),
                    None => Err(StoreError::NotFound(Entity::Message)),
                };
            }
            if recalled_at.is_none() {
                if created_at < not_before.0 {
                    return Err(StoreError::Refused(Refusal::RecallWindowPassed));
                }
                sqlx::query(
                    "UPDATE conversation_members SET unread_count = \
                     CASE WHEN unread_count > 0 THEN unread_count - 1 ELSE 0 END \
                     WHERE conversation_id = $1 AND member_id <> $2 AND last_read_id < $3 \
                     AND visible_from < $3 \
                     AND NOT EXISTS (SELECT 1 FROM message_reads r \
                        WHERE r.member_id = conversation_members.member_id AND r.message_id = $3) \
                     AND NOT EXISTS (SELECT 1 FROM message_hides h \
                        WHERE h.member_id = conversation_members.member_id AND h.message_id = $3)",
                )
                .bind(conversation)
                .bind(sender.0)
                .bind(message.0)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                sqlx::query("UPDATE messages SET data = '{}', recalled_at = $1 WHERE id = $2")
                    .bind(now.0)
                    .bind(message.0)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
            }
            Ok(MessageUpdate {
                message: message_by_id(conn, message.0).await?,
                audience: audience(conn, conv).await?,
            })
        }

        async fn insert_members(
            conn: &mut Conn,
            app: AppId,
            conversation: i64,
            members: &[MemberId],
            role: &str,
            visible_from: i64,
            now: Timestamp,
        ) -> StoreResult<()> {
            for m in members {
                sqlx::query(
                    "INSERT INTO conversation_members (conversation_id, member_id, app_id, role, \
                     joined_at, visible_from, last_read_id, read_updated_at, last_activity_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6, $5, $5)",
                )
                .bind(conversation)
                .bind(m.0)
                .bind(app.0)
                .bind(role)
                .bind(now.0)
                .bind(visible_from)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            }
            Ok(())
        }

        pub(crate) async fn create_group(
            conn: &mut Conn,
            app: AppId,
            new: NewGroup,
        ) -> StoreResult<MembershipChange> {
            if new.members.len() + 1 > new.max_members {
                return Err(StoreError::Refused(Refusal::GroupFull { max: new.max_members }));
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO conversations (app_id, kind, subject, owner_id, created_at, \
                 last_activity_at, member_count) VALUES ($1, 'group', $2, $3, $4, $4, $5) RETURNING id",
            )
            .bind(app.0)
            .bind(&new.subject)
            .bind(new.owner.0)
            .bind(new.created_at.0)
            .bind(new.members.len() as i64 + 1)
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
            insert_members(conn, app, id, &[new.owner], "owner", 0, new.created_at).await?;
            insert_members(conn, app, id, &new.members, "member", 0, new.created_at).await?;
            let conversation = conversation_row(conn, ConversationId(id)).await?;
            let audience = audience(conn, ConversationId(id)).await?;
            Ok(MembershipChange { conversation, changed: audience.clone(), audience })
        }

        /// Locks a group and checks the actor's standing: (last_message_id, actor's role).
        async fn group_for_change(
            conn: &mut Conn,
            app: AppId,
            actor: MemberId,
            group: ConversationId,
        ) -> StoreResult<(i64, String)> {
            let Some((kind, last_message_id)) = lock_conversation(conn, app, group).await? else {
                return Err(StoreError::Refused(Refusal::NotMember));
            };
            let Some(role) = role_of(conn, group, actor).await? else {
                return Err(StoreError::Refused(Refusal::NotMember));
            };
            if kind != "group" {
                return Err(StoreError::Refused(Refusal::NotGroup));
            }
            Ok((last_message_id, role))
        }

        pub(crate) async fn add_members(
            conn: &mut Conn,
            app: AppId,
            actor: MemberId,
            group: ConversationId,
            members: &[MemberId],
            max_members: usize,
            now: Timestamp,
        ) -> StoreResult<MembershipChange> {
            let (last_message_id, role) = group_for_change(conn, app, actor, group).await?;
            if role != "owner" {
                return Err(StoreError::Refused(Refusal::NotOwner));
            }
            let current = audience(conn, group).await?;
            let mut added: Vec<MemberId> =
                members.iter().copied().filter(|m| !current.contains(m)).collect();
            added.sort();
            added.dedup();
            if current.len() + added.len() > max_members {
                return Err(StoreError::Refused(Refusal::GroupFull { max: max_members }));
            }
            insert_members(conn, app, group.0, &added, "member", last_message_id, now).await?;
            sqlx::query("UPDATE conversations SET member_count = member_count + $1 WHERE id = $2")
                .bind(added.len() as i64)
                .bind(group.0)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            Ok(MembershipChange {
                conversation: conversation_row(conn, group).await?,
                changed: added,
                audience: audience(conn, group).await?,
            })
        }

        pub(crate) async fn remove_member(
            conn: &mut Conn,
            app: AppId,
            actor: MemberId,
            group: ConversationId,
            member: MemberId,
            _now: Timestamp,
        ) -> StoreResult<MembershipChange> {
            let (_, role) = group_for_change(conn, app, actor, group).await?;
            if actor != member && role != "owner" {
                return Err(StoreError::Refused(Refusal::NotOwner));
            }
            let Some(removed_role) = role_of(conn, group, member).await? else {
                return Err(StoreError::NotFound(Entity::Member));
            };
            for sql in [
                "DELETE FROM conversation_members WHERE conversation_id = $1 AND member_id = $2",
                "DELETE FROM message_reads WHERE conversation_id = $1 AND member_id = $2",
                "DELETE FROM message_hides WHERE conversation_id = $1 AND member_id = $2",
            ] {
                sqlx::query(sql).bind(group.0).bind(member.0).execute(&mut *conn).await.map_err(db)?;
            }
            sqlx::query("UPDATE conversations SET member_count = member_count - 1 WHERE id = $1")
                .bind(group.0)
                .execute(&mut *conn)
                .await
                .map_err(db)?;
            if removed_role == "owner" {
                let heir: Option<(i64,)> = sqlx::query_as(
                    "SELECT member_id FROM conversation_members WHERE conversation_id = $1 \
                     ORDER BY joined_at, member_id LIMIT 1",
                )
                .bind(group.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
                if let Some((heir,)) = heir {
                    sqlx::query(
                        "UPDATE conversation_members SET role = 'owner' \
                         WHERE conversation_id = $1 AND member_id = $2",
                    )
                    .bind(group.0)
                    .bind(heir)
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                    sqlx::query("UPDATE conversations SET owner_id = $1 WHERE id = $2")
                        .bind(heir)
                        .bind(group.0)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                }
            }
            Ok(MembershipChange {
                conversation: conversation_row(conn, group).await?,
                changed: vec![member],
                audience: audience(conn, group).await?,
            })
        }
    };
}

pub(crate) use store_ops;
