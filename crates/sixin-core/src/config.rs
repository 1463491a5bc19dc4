//! [`CoreConfig`]: the limits and lifetimes the core enforces, already validated.

use std::time::Duration;

/// Core settings. The binary builds this from its configuration file and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreConfig {
    /// How long a session token stays valid after login.
    pub session_ttl: Duration,
    /// How long after sending a sender may recall a message.
    pub recall_window: Duration,
    /// The most members a group may have, owner included.
    pub max_group_members: usize,
    /// Argon2 memory cost in KiB (the OWASP minimum, 19 MiB, by default).
    pub argon2_memory_kib: u32,
    /// Argon2 passes.
    pub argon2_iterations: u32,
    /// The most event streams one member may have open on one node (devices, tabs).
    pub max_streams_per_member: usize,
    /// Events buffered per stream for a client that reads slowly; a stream whose buffer fills
    /// ends as lagged and the client resumes by position.
    pub stream_buffer: usize,
    /// The most events replayed to a reconnecting client; further behind, it is told to resync.
    pub max_replay: u64,
}

/// The most recipients of one multi-send (YesApi `MultiSend`: 1..200).
pub const MAX_MULTI_SEND: usize = 200;
/// The largest history or list page.
pub const MAX_PAGE: u32 = 100;

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            recall_window: Duration::from_secs(120),
            max_group_members: 2000,
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            max_streams_per_member: 8,
            stream_buffer: 1024,
            max_replay: 10_000,
        }
    }
}
