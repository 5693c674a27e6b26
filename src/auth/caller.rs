//! Who is calling: the `Caller` (maybe anonymous) and `Actor` (authenticated) extractors.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use uuid::Uuid;

use super::{Role, Sessions, TokenKeys};
use crate::http::ApiError;
use crate::http::request_id::RequestId;

/// An authenticated user, as its access token describes it, plus the id of the request it makes.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user id.
    pub id: Uuid,
    /// The role.
    pub role: Role,
    /// The organisation of an `ngo_member`.
    pub organization_id: Option<Uuid>,
    /// The agency of an `agency_officer`.
    pub agency_id: Option<Uuid>,
    /// The councils of a `secretary`.
    pub council_ids: Vec<Uuid>,
    /// The server's id of the request, written into audit rows.
    pub request_id: String,
    /// The id the client sent for the request, when it was a plain token; written into audit rows beside ours.
    pub client_request_id: Option<String>,
}

/// The caller of a public endpoint: an actor, or nobody.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The authenticated user, if a token was sent.
    pub actor: Option<Actor>,
}

impl Caller {
    /// The caller's role, if authenticated.
    pub fn role(&self) -> Option<Role> {
        self.actor.as_ref().map(|a| a.role)
    }
}

const INVALID: &str = "The access token is malformed, expired or not issued by this server.";
const ENDED: &str = "The session of this access token has ended or its rights have changed; refresh it or sign in again.";

/// The actor a request's bearer token names: none without an `Authorization` header, 401 for a bad token or a
/// session that no longer stands.
pub async fn authenticate(req: HttpRequest) -> Result<Option<Actor>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let invalid = || ApiError::Unauthorized(INVALID);
    let value = value.to_str().map_err(|_| invalid())?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(invalid)?;
    // The keys and the session check are registered on their own (see `build_app`), so that this extractor
    // needs no app state.
    let keys = req
        .app_data::<Data<TokenKeys>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the token keys are not registered")))?;
    let claims = keys.verify(token).ok_or_else(invalid)?;
    let sessions = req.app_data::<Data<Sessions>>().cloned().ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("the session check is not registered"))
    })?;
    if !sessions.admits(&claims).await? {
        return Err(ApiError::Unauthorized(ENDED));
    }
    let (request_id, client_request_id) = req
        .extensions()
        .get::<RequestId>()
        .map(|r| (r.id.clone(), r.client.clone()))
        .unwrap_or_default();
    Ok(Some(Actor {
        id: claims.sub,
        role: claims.role,
        organization_id: claims.org,
        agency_id: claims.agency,
        council_ids: claims.councils,
        request_id,
        client_request_id,
    }))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    /// A bad token is refused even on public endpoints: the client meant to authenticate and should know.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(req).await.map(|actor| Caller { actor }) })
    }
}

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            authenticate(req).await?.ok_or(ApiError::Unauthorized(
                "This operation needs a bearer access token.",
            ))
        })
    }
}
