//! Every time the page waits or counts by, in one place: retries and stalls, signing ahead,
//! part URLs, progress, loading, drawing and the upload tokens kept. Milliseconds throughout.

// Used by `upload/queue.rs`.
/// Transient failures are retried until a file has made no progress for this long (a short S3
/// outage, a dropped Wi-Fi, a laptop lid closed for a minute all fit in it).
pub const RETRY_WINDOW_MS: f64 = 300_000.0;
/// A signing or uploading file with no progress for this long is aborted and retried.
pub const STALL_MS: f64 = 30_000.0;
/// The first retry waits about this long; each later one twice as long, up to `MAX_BACKOFF_MS`.
pub const BACKOFF_BASE_MS: f64 = 1_000.0;
pub const MAX_BACKOFF_MS: f64 = 30_000.0;
/// A form signed ahead is used only this soon after it was signed (policies live 10 minutes by
/// default; the expired-policy path covers a signer configured shorter).
pub const SIGNED_AHEAD_FRESH_MS: f64 = 60_000.0;
/// A form signed ahead is used only while at least this long remains before its `expiresAt`
/// (room for the upload to start, and for a browser clock a little ahead of the signer's; one
/// further behind gets S3's refusal of an expired policy, which is signed again).
pub const SIGNED_AHEAD_MARGIN_MS: f64 = 60_000.0;
/// A throttled answer that asks for at most this long a wait is not shown as an error.
pub const QUIET_THROTTLE_MS: u32 = 10_000;
/// The wait before a multipart upload's second abort (and each later one grows by it).
pub const ABORT_AGAIN_MS: u32 = 1_000;

// Used by `upload/multipart.rs`.
/// A part URL is used only while at least this long remains before it expires.
pub const URL_MARGIN_MS: f64 = 60_000.0;

// Used by `upload/progress.rs`.
/// How often a new speed sample is taken; shorter windows make the number jump.
pub const SPEED_WINDOW_MS: f64 = 500.0;

// Used by `upload/sign_batch.rs`.
/// A sign request out for this long stops counting toward `SIGN_REQUESTS_AT_ONCE` (less than the
/// queue's 30 s stall timeout, so the files it stalled find a place when signed again).
pub const SIGN_ANSWER_MS: f64 = 20_000.0;

// Used by `app/mod.rs`.
/// Uploads redraw the page at most this often (10 times a second): enough for moving bars, and
/// the browser's main thread stays free for the uploads themselves (measured against radosgw,
/// where the S3 server shares the machine's CPU: a redraw per frame cost a tenth of the
/// throughput).
pub const DRAW_INTERVAL_MS: f64 = 100.0;

// Used by `browser/sent.rs`.
/// The signer's upload tokens live an hour (`signer::config::TOKEN_TTL_SECONDS`).
pub const TOKEN_LIFE_MS: f64 = 3_600_000.0;
