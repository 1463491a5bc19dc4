//! The store conformance suite: one `pub async fn` per guarantee, run against SQLite and
//! PostgreSQL by [`conformance_tests!`](crate::conformance_tests). Each case makes its own app,
//! so cases share a database and run in parallel; concurrency cases use bounded counts and
//! assert ordering facts, never timings.

mod app_acts;
mod blocks;
mod close;
mod events;
mod groups;
mod logins;
mod members;
mod paging;
mod reads;
mod reports;
mod secret;
mod send;
mod send_limits;
mod server;
mod streams;
mod unread;
mod webhooks;
mod words;

pub use app_acts::*;
pub use blocks::*;
pub use close::*;
pub use events::*;
pub use groups::*;
pub use logins::*;
pub use members::*;
pub use paging::*;
pub use reads::*;
pub use reports::*;
pub use secret::*;
pub use send::*;
pub use send_limits::*;
pub use server::*;
pub use streams::*;
pub use unread::*;
pub use webhooks::*;
pub use words::*;

/// Expands to one `#[tokio::test]` per conformance case, each calling `$make()` for a fresh
/// [`Harness`](crate::Harness) (returning `None` means the backend is not configured: skip).
/// Attributes before `$make` go on every case: the PostgreSQL suite passes
/// `#[cfg_attr(not(sixin_test_pg), ignore = "…")]` so that without a database its cases are
/// reported as ignored, not passed.
#[macro_export]
macro_rules! conformance_tests {
    ($(#[$attr:meta])* $make:path) => {
        $crate::conformance_tests!(@cases [$(#[$attr])*] $make;
            apps_are_created_listed_and_toggled,
            usernames_are_unique_per_app_only,
            sessions_expire_and_logout_revokes,
            banned_members_lose_sessions_and_cannot_log_in,
            first_send_creates_one_direct_conversation_per_pair,
            concurrent_first_sends_share_one_conversation,
            bad_sends_are_rejected_and_write_nothing,
            a_stranger_cannot_write_into_a_direct_conversation_by_id,
            send_is_idempotent_on_client_key,
            multi_send_reports_each_recipient,
            multi_send_limits_recipients,
            history_pages_both_ways_without_gap_or_duplicate,
            history_paging_never_skips_under_concurrent_sends,
            history_offset_windows,
            history_with_a_member_is_empty_before_the_first_message,
            unread_counts_are_kept_per_conversation_and_in_total,
            marking_one_message_read_counts_once,
            unread_pages_never_skip_or_repeat_and_the_total_stays_right,
            the_unread_total_follows_every_kind_of_change,
            read_flags_show_both_sides,
            conversation_list_orders_by_activity_with_cursor_paging,
            conversation_list_pages_back_up_to_newer_activity,
            conversation_list_pages_one_kind_by_cursor,
            delete_for_me_hides_for_one_member_only,
            recall_works_within_the_window_for_the_sender_only,
            groups_enforce_owner_rights_and_membership,
            removed_member_keeps_nothing_new,
            every_read_is_scoped_to_its_app,
            concurrent_group_sends_keep_unread_exact,
            committed_writes_are_published_to_their_audience,
            event_streams_are_gapless_and_equal_what_was_published,
            events_since_pages_and_asks_to_resync_when_it_cannot_continue,
            crossing_multi_sends_neither_deadlock_nor_skip_positions,
            streams_resume_by_position_without_gap_or_duplicate,
            the_store_live_seam_holds_under_concurrent_sends,
            streams_ask_to_resync_when_they_cannot_replay,
            slow_streams_end_as_lagged_without_holding_up_senders,
            streams_per_member_are_capped,
            streams_only_carry_the_members_own_events,
            a_position_gap_is_filled_from_the_store,
            a_stream_notices_its_session_ending,
            closing_finishes_submitted_writes_then_refuses_work,
            members_are_upserted_by_external_id_once_per_app,
            concurrent_upserts_of_one_id_create_one_member,
            server_tokens_are_single_use_until_they_expire,
            bans_and_mutes_keep_expiry_and_reason,
            member_pages_walk_the_app_in_id_order,
            registration_policy_is_kept_per_app,
            time_limited_bans_and_mutes_lapse_by_themselves,
            the_app_changes_any_group_within_its_limit,
            nobody_writes_to_the_system_sender,
            members_are_found_by_external_ids_in_their_app_only,
            secret_rotation_keeps_the_previous_secret_until_its_deadline,
            word_lists_are_stored_folded_paged_and_versioned,
            the_word_filter_masks_and_rejects_every_text_a_member_sends,
            multi_send_and_groups_are_screened_once_for_everyone,
            registration_screens_the_username_and_nickname,
            a_new_list_version_reaches_every_core_on_its_next_request,
            reports_are_filed_on_what_the_reporter_can_see,
            reports_are_listed_and_resolved_by_their_app_only,
            reports_per_member_are_capped_per_day,
            blocks_are_idempotent_listed_newest_first_and_lifted,
            a_blocked_member_cannot_message_the_blocker,
            multi_send_refuses_a_blocking_recipient_alone,
            members_cannot_put_who_blocks_them_in_a_group,
            who_may_message_follows_the_member_then_the_app_default,
            erasing_a_member_deletes_their_blocks_both_ways,
            the_daily_cap_on_new_direct_conversations_slides_over_24_hours,
            concurrent_openings_are_counted_exactly,
            the_sends_bucket_limits_each_member_and_multi_send_pays_per_recipient,
            changes_reach_the_outbox_only_while_the_app_has_an_enabled_endpoint,
            every_change_type_is_queued_in_commit_order,
            a_refused_change_writes_no_outbox_row,
            webhook_payloads_name_members_as_the_backend_knows_them,
            webhook_endpoints_are_confined_to_their_app,
            replays_requeue_from_a_position_in_order,
            webhook_leases_go_to_one_node_until_they_expire,
            unwanted_events_are_skipped_without_a_request,
            failed_logins_lock_the_account_with_a_growing_delay,
            concurrent_guesses_cannot_pass_the_lockout,
            the_store_counts_login_attempts_as_the_rule_decides,
            registrations_and_logins_are_limited_per_ip_and_app,
            an_apps_own_limits_are_checked_stored_and_cleared,
            common_blank_and_repeated_passwords_are_refused,
        );
    };
    (@cases $attrs:tt $make:path; $($case:ident),* $(,)?) => {
        $( $crate::conformance_tests!(@case $attrs $make; $case); )*
    };
    (@case [$(#[$attr:meta])*] $make:path; $case:ident) => {
        $(#[$attr])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $case() {
            let Some(h) = $make().await else { return };
            $crate::conformance::$case(&h).await;
        }
    };
}
