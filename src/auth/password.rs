//! Argon2id password hashing, run off the async threads.

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Hashed when the email is unknown, so that a wrong email costs as much time as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2lCk2X8zqfhwXoTPdOV6Xu9M8Mz9NAfY6a5h3z0h2Mg";

/// Each hash or check takes 19 MiB and a core for tens of milliseconds: at most one per core runs at a time, so
/// a flood of logins queues instead of exhausting memory (unbounded, 25 parallel logins once took the server
/// from 267 MiB to over 3 GiB).
fn permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        tokio::sync::Semaphore::new(
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
        )
    })
}

fn hasher() -> Argon2<'static> {
    // OWASP's recommended Argon2id parameters: 19 MiB, 2 passes, 1 lane.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Hashes a password into a PHC string.
pub async fn hash(password: String) -> anyhow::Result<String> {
    let _permit = permits()
        .acquire()
        .await
        .context("the hashing semaphore closed")?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
    .context("the hashing task panicked")?
}

/// How long a password check waits for its turn before the login is turned away: long enough for a burst of
/// honest logins to pass, short enough that a flood gets answers instead of piling up.
pub const VERIFY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Why a password could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Every verifier stayed busy for [`VERIFY_WAIT`]; the caller should answer 503 with `Retry-After`.
    #[error("too many password checks at once")]
    Busy,
    /// The stored hash is malformed or the check failed to run.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// A turn at the password verifiers: a login takes one before it touches the database, so a flood of logins
/// holds at most as many pool connections as there are verifiers, and the rest are turned away without a query.
#[derive(Debug)]
pub struct Turn(
    #[expect(dead_code, reason = "held, not read: the permit is given back on drop")]
    tokio::sync::SemaphorePermit<'static>,
);

/// Waits for a turn at the password verifiers; one that waits longer than [`VERIFY_WAIT`] gives up with
/// [`VerifyError::Busy`], whether the email is known or not, so the answer still says nothing about the account.
pub async fn turn() -> Result<Turn, VerifyError> {
    match tokio::time::timeout(VERIFY_WAIT, permits().acquire()).await {
        Ok(permit) => Ok(Turn(permit.context("the hashing semaphore closed")?)),
        Err(_) => Err(VerifyError::Busy),
    }
}

/// Checks a password against a stored hash during a [`Turn`]; with no hash, burns the same time and fails.
pub async fn verify(
    _turn: &Turn,
    password: String,
    stored: Option<String>,
) -> anyhow::Result<bool> {
    let checked = tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| anyhow::anyhow!("a stored hash is malformed: {e}"))?;
        let ok = hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok::<_, anyhow::Error>(known && ok)
    })
    .await
    .context("the verifying task panicked")??;
    Ok(checked)
}
