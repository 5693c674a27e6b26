//! Access tokens (HS256 JWTs with `exp`, `iss`, `aud`) and opaque refresh tokens stored as digests.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Role;

/// The `iss` of every token.
pub const ISSUER: &str = "hamkori";
/// The `aud` of every token.
pub const AUDIENCE: &str = "hamkori-api";
/// Lifetime of an access token.
pub const ACCESS_TTL_SECONDS: i64 = 15 * 60;
/// Lifetime of a refresh token.
pub const REFRESH_TTL_DAYS: i64 = 30;

/// What an access token says about its holder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: Uuid,
    /// The user's role.
    pub role: Role,
    /// The organisation of an `ngo_member`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Uuid>,
    /// The agency of an `agency_officer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<Uuid>,
    /// The councils of a `secretary`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub councils: Vec<Uuid>,
    /// The session (refresh-token family) the token was issued in; it dies with the session.
    pub sid: Uuid,
    /// The user's session version when the token was issued; a change of rights moves it on.
    pub sv: i32,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
}

/// Who an access token is for: the user's rights and the session it belongs to.
#[derive(Debug, Clone)]
pub struct Holder {
    /// The user id.
    pub user_id: Uuid,
    /// The role.
    pub role: Role,
    /// The organisation of an `ngo_member`.
    pub organization_id: Option<Uuid>,
    /// The agency of an `agency_officer`.
    pub agency_id: Option<Uuid>,
    /// The councils of a `secretary`.
    pub council_ids: Vec<Uuid>,
    /// The session (refresh-token family).
    pub session_id: Uuid,
    /// The user's session version.
    pub session_version: i32,
}

/// The signing keys, made once from `JWT_SECRET`.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    /// Keys from a shared secret; the algorithm is pinned to HS256 and `exp`, `iss`, `aud` are required.
    pub fn new(secret: &[u8]) -> anyhow::Result<Self> {
        anyhow::ensure!(
            secret.len() >= 32,
            "JWT_SECRET must be at least 32 bytes long"
        );
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret)
                .map_err(|e| anyhow::anyhow!("bad JWT secret: {e}"))?,
            decoding: DecodingKey::from_secret(secret)
                .map_err(|e| anyhow::anyhow!("bad JWT secret: {e}"))?,
            validation,
        })
    }

    /// Signs an access token for a user in a session.
    pub fn issue(&self, holder: Holder) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: holder.user_id,
            role: holder.role,
            org: holder.organization_id,
            agency: holder.agency_id,
            councils: holder.council_ids,
            sid: holder.session_id,
            sv: holder.session_version,
            iat: now,
            exp: now + ACCESS_TTL_SECONDS,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("signing a token: {e}"))
    }

    /// Verifies an access token's signature, algorithm, expiry, issuer and audience.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// A fresh refresh token: what the client gets, and the digest we store.
pub fn new_refresh_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let digest = digest(&token);
    (token, digest)
}

/// The stored form of a refresh token.
pub fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A random secret for when `JWT_SECRET` is not set.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}
