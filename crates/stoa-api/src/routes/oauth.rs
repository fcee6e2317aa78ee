//! OAuth 2 as Mastodon serves it: app registration, the authorization-code
//! flow through a sign-in page and a consent page (PKCE S256 when the client
//! sends a challenge), and the password and client-credentials grants.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use stoa_domain::scope::Scopes;

use crate::auth::{self, AppToken};
use crate::entities;
use crate::error::{ApiError, ApiResult};
use crate::extract::Params;
use crate::html::{self, escape, hidden};
use crate::state::AppState;

pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
const SESSION_COOKIE: &str = "stoa_session";
const CSRF_COOKIE: &str = "stoa_csrf";
const SESSION_DAYS: i64 = 30;
const CODE_MINUTES: i64 = 10;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps", post(create_app))
        .route("/api/v1/apps/verify_credentials", get(verify_app))
        .route(
            "/oauth/authorize",
            get(authorize_page).post(authorize_decision),
        )
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .route("/auth/sign_in", post(sign_in))
        .route("/auth/sign_out", post(sign_out))
}

/// `redirect_uris` arrives as one string (several separated by newlines or
/// spaces) or as an array.
#[derive(Deserialize)]
#[serde(untagged)]
enum RedirectUris {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct CreateApp {
    client_name: Option<String>,
    redirect_uris: Option<RedirectUris>,
    scopes: Option<String>,
    website: Option<String>,
}

fn valid_redirect_uri(uri: &str) -> bool {
    if uri == OOB {
        return true;
    }
    match url::Url::parse(uri) {
        Ok(parsed) => {
            !matches!(parsed.scheme(), "javascript" | "data" | "vbscript" | "file")
                && parsed.fragment().is_none()
        }
        Err(_) => false,
    }
}

/// POST /api/v1/apps
async fn create_app(
    State(state): State<AppState>,
    Params(params): Params<CreateApp>,
) -> ApiResult<Json<entities::RegisteredApplication>> {
    let name = params
        .client_name
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .ok_or_else(|| {
            ApiError::unprocessable("Validation failed: Application name can't be blank")
        })?;
    if name.chars().count() > 60 {
        return Err(ApiError::unprocessable(
            "Validation failed: Application name is too long (maximum is 60 characters)",
        ));
    }
    let redirect_uris: Vec<String> = match params.redirect_uris {
        Some(RedirectUris::One(text)) => text.split_whitespace().map(str::to_owned).collect(),
        Some(RedirectUris::Many(list)) => list,
        None => Vec::new(),
    };
    if redirect_uris.is_empty() {
        return Err(ApiError::unprocessable(
            "Validation failed: Redirect URI can't be blank",
        ));
    }
    if redirect_uris.len() > 10
        || redirect_uris
            .iter()
            .any(|uri| uri.len() > 2000 || !valid_redirect_uri(uri))
    {
        return Err(ApiError::unprocessable(
            "Validation failed: Redirect URI must be an absolute URI.",
        ));
    }
    let scopes = Scopes::parse(params.scopes.as_deref().unwrap_or("read"))
        .map_err(|e| ApiError::unprocessable(format!("Validation failed: Scopes: {e}")))?;
    let website = params
        .website
        .map(|w| w.trim().to_owned())
        .filter(|w| !w.is_empty());
    if website
        .as_ref()
        .is_some_and(|w| w.len() > 2000 || url::Url::parse(w).is_err())
    {
        return Err(ApiError::unprocessable(
            "Validation failed: Website is invalid",
        ));
    }
    let client_id = auth::random_secret();
    let client_secret = auth::random_secret();
    let app = stoa_db::oauth::create_application(
        &state.pool,
        stoa_db::oauth::NewApplication {
            name: &name,
            website: website.as_deref(),
            redirect_uris: &redirect_uris,
            scopes: &scopes.to_vec(),
            client_id: &client_id,
            client_secret: &client_secret,
        },
    )
    .await?;
    Ok(Json(entities::RegisteredApplication {
        id: app.id.to_string(),
        name: app.name,
        website: app.website,
        scopes: app.scopes,
        redirect_uri: app.redirect_uris.join("\n"),
        redirect_uris: app.redirect_uris,
        client_id: app.client_id,
        client_secret: app.client_secret,
        client_secret_expires_at: 0,
        vapid_key: String::new(),
    }))
}

/// GET /api/v1/apps/verify_credentials
async fn verify_app(
    State(state): State<AppState>,
    AppToken(token): AppToken,
) -> ApiResult<Json<serde_json::Value>> {
    let app = stoa_db::oauth::find_applications(&state.pool, &[token.application_id])
        .await?
        .into_iter()
        .next()
        .ok_or_else(ApiError::invalid_token)?;
    Ok(Json(serde_json::json!({
        "id": app.id.to_string(),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes,
        "redirect_uri": app.redirect_uris.join("\n"),
        "redirect_uris": app.redirect_uris,
        "vapid_key": "",
    })))
}

/// The parameters of an authorization request, carried through the sign-in
/// and consent forms.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct AuthorizeParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    force_login: Option<bool>,
}

/// A checked authorization request.
struct ValidRequest {
    app: stoa_db::oauth::Application,
    redirect_uri: String,
    scopes: Scopes,
    code_challenge: Option<String>,
}

/// Errors in `client_id` or `redirect_uri` must not redirect (the URI is not
/// trusted yet); they are shown as a page.
async fn validate_authorize(
    state: &AppState,
    params: &AuthorizeParams,
) -> Result<ValidRequest, Response> {
    let bad = |message: &str| html::error_page(StatusCode::BAD_REQUEST, message);
    let client_id = params.client_id.as_deref().unwrap_or("");
    let app = stoa_db::oauth::find_application_by_client_id(&state.pool, client_id)
        .await
        .map_err(|e| ApiError::from(e).into_response())?
        .ok_or_else(|| bad("Client authentication failed due to unknown client."))?;
    let redirect_uri = match params.redirect_uri.as_deref() {
        Some(uri) if app.redirect_uris.iter().any(|allowed| allowed == uri) => uri.to_owned(),
        None if app.redirect_uris.len() == 1 => app.redirect_uris[0].clone(),
        _ => {
            return Err(bad(
                "The redirect uri included is not valid for this application.",
            ))
        }
    };
    if params.response_type.as_deref() != Some("code") {
        return Err(bad(
            "The authorization server does not support this response type.",
        ));
    }
    let scopes = Scopes::parse(params.scope.as_deref().unwrap_or(""))
        .ok()
        .filter(|scopes| Scopes::from_list(app.scopes.clone()).covers(scopes))
        .ok_or_else(|| bad("The requested scope is invalid, unknown, or malformed."))?;
    let code_challenge = match (
        params.code_challenge.as_deref(),
        params.code_challenge_method.as_deref(),
    ) {
        (None, _) => None,
        (Some(challenge), Some("S256")) if (43..=128).contains(&challenge.len()) => {
            Some(challenge.to_owned())
        }
        _ => {
            return Err(bad(
                "Only the S256 code challenge method is supported, with a 43 to 128 character challenge.",
            ))
        }
    };
    Ok(ValidRequest {
        app,
        redirect_uri,
        scopes,
        code_challenge,
    })
}

pub(crate) fn is_https(state: &AppState) -> bool {
    state.base_url.starts_with("https://")
}

/// The CSRF token of this browser, set on the response if it is new.
pub(crate) fn csrf_token(headers: &HeaderMap) -> (String, bool) {
    match html::cookie(headers, CSRF_COOKIE) {
        Some(token) if token.len() >= 32 => (token.to_owned(), false),
        _ => (auth::random_secret(), true),
    }
}

pub(crate) fn check_csrf(headers: &HeaderMap, submitted: Option<&str>) -> Result<(), Response> {
    match (html::cookie(headers, CSRF_COOKIE), submitted) {
        (Some(expected), Some(given)) if !expected.is_empty() && expected == given => Ok(()),
        _ => Err(html::error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Your session expired or the form was submitted from another site. Go back, reload the page and try again.",
        )),
    }
}

async fn session_account(
    state: &AppState,
    headers: &HeaderMap,
) -> ApiResult<Option<(stoa_db::accounts::Account, stoa_db::accounts::User)>> {
    let Some(secret) = html::cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(account_id) =
        stoa_db::oauth::find_web_session(&state.pool, &auth::secret_hash(secret)).await?
    else {
        return Ok(None);
    };
    let account = stoa_db::accounts::find(&state.pool, account_id).await?;
    let user = stoa_db::accounts::find_user(&state.pool, account_id).await?;
    Ok(account
        .zip(user)
        .filter(|(_, user)| auth::check_user_may_act(state, user).is_ok()))
}

impl AuthorizeParams {
    /// The parameters carried through the sign-in and consent forms, as
    /// (name, value) pairs; absent ones left out.
    fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("response_type", &self.response_type),
            ("client_id", &self.client_id),
            ("redirect_uri", &self.redirect_uri),
            ("scope", &self.scope),
            ("state", &self.state),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.as_deref().map(|value| (name, value)))
    }

    /// Back into a query string, to return to after signing in.
    fn to_query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(self.pairs());
        query.finish()
    }

    /// As hidden inputs of the consent form.
    fn hidden_fields(&self) -> String {
        self.pairs()
            .map(|(name, value)| hidden(name, value))
            .collect()
    }
}

fn sign_in_page(
    state: &AppState,
    csrf: &str,
    return_to: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>", escape(e)))
        .unwrap_or_default();
    html::page(
        status,
        "Sign in",
        &format!(
            "<h1>Sign in to {title}</h1>{error}\
             <form method=\"post\" action=\"/auth/sign_in\">{csrf}{return_to}\
             <label for=\"username\">Email address or username</label>\
             <input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus>\
             <label for=\"password\">Password</label>\
             <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
             <button type=\"submit\">Sign in</button></form>{links}",
            title = escape(&state.settings.instance.title),
            csrf = hidden("authenticity_token", csrf),
            return_to = hidden("return_to", return_to),
            links = super::auth_pages::sign_in_links(state),
        ),
    )
}

pub(crate) fn with_csrf_cookie(
    state: &AppState,
    mut response: Response,
    token: &str,
    new: bool,
) -> Response {
    if new {
        html::set_cookie(&mut response, CSRF_COOKIE, token, 86_400, is_https(state));
    }
    response
}

/// GET /oauth/authorize: sign in if needed, then ask for consent.
async fn authorize_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(params): Params<AuthorizeParams>,
) -> Response {
    let request = match validate_authorize(&state, &params).await {
        Ok(request) => request,
        Err(page) => return page,
    };
    let (csrf, new_csrf) = csrf_token(&headers);
    let signed_in = match session_account(&state, &headers).await {
        Ok(found) => found.filter(|_| params.force_login != Some(true)),
        Err(e) => return e.into_response(),
    };
    let Some((account, _)) = signed_in else {
        let return_to = format!("/oauth/authorize?{}", params.to_query());
        let page = sign_in_page(&state, &csrf, &return_to, None, StatusCode::OK);
        return with_csrf_cookie(&state, page, &csrf, new_csrf);
    };
    let scopes: String = request
        .scopes
        .iter()
        .map(|scope| format!("<li><code>{}</code></li>", escape(scope)))
        .collect();
    let page = html::page(
        StatusCode::OK,
        "Authorize",
        &format!(
            "<h1>Authorize {app}?</h1>\
             <p>{app} wants to use your account <strong>@{user}</strong> on {title} with these permissions:</p>\
             <ul>{scopes}</ul>\
             <form method=\"post\" action=\"/oauth/authorize\">{csrf}{fields}\
             <button type=\"submit\" name=\"decision\" value=\"approve\">Authorize</button> \
             <button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button></form>",
            app = escape(&request.app.name),
            user = escape(&account.username),
            title = escape(&state.settings.instance.title),
            csrf = hidden("authenticity_token", &csrf),
            fields = params.hidden_fields(),
        ),
    );
    with_csrf_cookie(&state, page, &csrf, new_csrf)
}

#[derive(Deserialize)]
struct Decision {
    authenticity_token: Option<String>,
    decision: Option<String>,
    #[serde(flatten)]
    oauth: AuthorizeParams,
}

fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => {
            let mut response = StatusCode::FOUND.into_response();
            response.headers_mut().insert(LOCATION, value);
            response
        }
        Err(_) => html::error_page(StatusCode::BAD_REQUEST, "Invalid redirect URI."),
    }
}

fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        query.append_pair(key, value);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    redirect(&format!("{redirect_uri}{separator}{}", query.finish()))
}

/// POST /oauth/authorize: the consent form's answer.
async fn authorize_decision(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(form): Params<Decision>,
) -> Response {
    if let Err(page) = check_csrf(&headers, form.authenticity_token.as_deref()) {
        return page;
    }
    let request = match validate_authorize(&state, &form.oauth).await {
        Ok(request) => request,
        Err(page) => return page,
    };
    let account = match session_account(&state, &headers).await {
        Ok(Some((account, _))) => account,
        Ok(None) => {
            return html::error_page(StatusCode::UNAUTHORIZED, "You need to sign in first.")
        }
        Err(e) => return e.into_response(),
    };
    let state_param = form.oauth.state.clone().unwrap_or_default();
    let mut extra: Vec<(&str, &str)> = Vec::new();
    if !state_param.is_empty() {
        extra.push(("state", &state_param));
    }
    if form.decision.as_deref() != Some("approve") {
        if request.redirect_uri == OOB {
            return html::page(
                StatusCode::OK,
                "Denied",
                "<h1>Authorization denied</h1><p>You can close this page.</p>",
            );
        }
        let mut pairs = vec![("error", "access_denied")];
        pairs.extend(extra);
        return redirect_with(&request.redirect_uri, &pairs);
    }
    let code = auth::random_secret();
    let stored = stoa_db::oauth::create_authorization_code(
        &state.pool,
        stoa_db::oauth::NewAuthorizationCode {
            code_hash: &auth::secret_hash(&code),
            application_id: request.app.id,
            account_id: account.id,
            scopes: &request.scopes.to_vec(),
            redirect_uri: &request.redirect_uri,
            code_challenge: request.code_challenge.as_deref(),
            expires_at: Utc::now() + Duration::minutes(CODE_MINUTES),
        },
    )
    .await;
    if let Err(e) = stored {
        return ApiError::from(e).into_response();
    }
    if request.redirect_uri == OOB {
        return html::page(
            StatusCode::OK,
            "Authorization code",
            &format!(
                "<h1>Authorization code</h1><p>Copy this code and paste it into {app}:</p>\
                 <code id=\"code\">{code}</code>",
                app = escape(&request.app.name),
                code = escape(&code),
            ),
        );
    }
    let mut pairs = vec![("code", code.as_str())];
    pairs.extend(extra);
    redirect_with(&request.redirect_uri, &pairs)
}

#[derive(Deserialize)]
struct SignInForm {
    authenticity_token: Option<String>,
    username: Option<String>,
    password: Option<String>,
    return_to: Option<String>,
}

/// Only paths on this server may be returned to after sign-in.
fn safe_return_path(raw: Option<&str>) -> String {
    match raw {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// POST /auth/sign_in
async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(form): Params<SignInForm>,
) -> Response {
    if let Err(page) = check_csrf(&headers, form.authenticity_token.as_deref()) {
        return page;
    }
    let return_to = safe_return_path(form.return_to.as_deref());
    let (csrf, _) = csrf_token(&headers);
    let login = form.username.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    let failure = |message: &str| {
        sign_in_page(
            &state,
            &csrf,
            &return_to,
            Some(message),
            StatusCode::UNAUTHORIZED,
        )
    };
    let user = match stoa_db::accounts::find_user_by_login(&state.pool, login.trim()).await {
        Ok(user) => user,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let Some(user) = user else {
        auth::verify_password_decoy(&password);
        return failure("Invalid email address or password.");
    };
    if !auth::verify_password(&password, &user.password_hash) {
        return failure("Invalid email address or password.");
    }
    if let Err(refusal) = auth::check_user_may_act(&state, &user) {
        return failure(refusal.message());
    }
    let secret = auth::random_secret();
    let created = stoa_db::oauth::create_web_session(
        &state.pool,
        &auth::secret_hash(&secret),
        user.account_id,
        Utc::now() + Duration::days(SESSION_DAYS),
    )
    .await;
    if let Err(e) = created {
        return ApiError::from(e).into_response();
    }
    if let Err(e) = stoa_db::accounts::record_sign_in(&state.pool, user.account_id).await {
        tracing::warn!(error = %e, "could not record sign-in time");
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&return_to) {
        response.headers_mut().insert(LOCATION, location);
    }
    html::set_cookie(
        &mut response,
        SESSION_COOKIE,
        &secret,
        SESSION_DAYS * 86_400,
        is_https(&state),
    );
    response
}

#[derive(Deserialize)]
struct SignOutForm {
    authenticity_token: Option<String>,
}

/// POST /auth/sign_out
async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(form): Params<SignOutForm>,
) -> Response {
    if let Err(page) = check_csrf(&headers, form.authenticity_token.as_deref()) {
        return page;
    }
    if let Some(secret) = html::cookie(&headers, SESSION_COOKIE) {
        if let Err(e) =
            stoa_db::oauth::delete_web_session(&state.pool, &auth::secret_hash(secret)).await
        {
            return ApiError::from(e).into_response();
        }
    }
    let mut response = redirect("/");
    html::set_cookie(&mut response, SESSION_COOKIE, "", 0, is_https(&state));
    response
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    scope: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

fn invalid_client() -> ApiError {
    ApiError::oauth(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
    )
}

fn invalid_grant() -> ApiError {
    ApiError::oauth(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
    )
}

fn invalid_scope() -> ApiError {
    ApiError::oauth(
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        "The requested scope is invalid, unknown, or malformed.",
    )
}

/// The client's credentials must match a registered application.
async fn authenticate_client(
    state: &AppState,
    client_id: Option<&str>,
    client_secret: Option<&str>,
) -> ApiResult<stoa_db::oauth::Application> {
    let app = stoa_db::oauth::find_application_by_client_id(&state.pool, client_id.unwrap_or(""))
        .await?
        .ok_or_else(invalid_client)?;
    let given = client_secret.unwrap_or("");
    // Compare digests so the comparison takes the same time for every guess.
    if Sha256::digest(given.as_bytes()) != Sha256::digest(app.client_secret.as_bytes()) {
        return Err(invalid_client());
    }
    Ok(app)
}

fn requested_scopes(
    app: &stoa_db::oauth::Application,
    requested: Option<&str>,
) -> ApiResult<Scopes> {
    let scopes = Scopes::parse(requested.unwrap_or("")).map_err(|_| invalid_scope())?;
    if !Scopes::from_list(app.scopes.clone()).covers(&scopes) {
        return Err(invalid_scope());
    }
    Ok(scopes)
}

/// POST /oauth/token
async fn token(
    State(state): State<AppState>,
    Params(request): Params<TokenRequest>,
) -> ApiResult<Json<entities::OAuthToken>> {
    let app = authenticate_client(
        &state,
        request.client_id.as_deref(),
        request.client_secret.as_deref(),
    )
    .await?;
    let (account_id, scopes) = match request.grant_type.as_deref() {
        Some("authorization_code") => {
            let code = request.code.as_deref().ok_or_else(invalid_grant)?;
            let grant =
                stoa_db::oauth::take_authorization_code(&state.pool, &auth::secret_hash(code))
                    .await?
                    .ok_or_else(invalid_grant)?;
            let redirect_matches = request
                .redirect_uri
                .as_deref()
                .is_none_or(|uri| uri == grant.redirect_uri);
            if grant.application_id != app.id || grant.expires_at < Utc::now() || !redirect_matches
            {
                return Err(invalid_grant());
            }
            if let Some(challenge) = &grant.code_challenge {
                let verifier = request.code_verifier.as_deref().unwrap_or("");
                let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(Sha256::digest(verifier.as_bytes()));
                if computed != *challenge {
                    return Err(invalid_grant());
                }
            }
            let user = stoa_db::accounts::find_user(&state.pool, grant.account_id)
                .await?
                .ok_or_else(invalid_grant)?;
            auth::check_user_may_act(&state, &user)?;
            // The code is spent already: a failure to record must not lose the token.
            if let Err(e) = stoa_db::accounts::record_sign_in(&state.pool, user.account_id).await {
                tracing::warn!(error = %e, "could not record sign-in");
            }
            (Some(grant.account_id), Scopes::from_list(grant.scopes))
        }
        Some("password") => {
            let scopes = requested_scopes(&app, request.scope.as_deref())?;
            let login = request.username.as_deref().unwrap_or("").trim();
            let password = request.password.as_deref().unwrap_or("");
            let user = stoa_db::accounts::find_user_by_login(&state.pool, login).await?;
            let Some(user) = user else {
                auth::verify_password_decoy(password);
                return Err(invalid_grant());
            };
            if !auth::verify_password(password, &user.password_hash) {
                return Err(invalid_grant());
            }
            auth::check_user_may_act(&state, &user)?;
            stoa_db::accounts::record_sign_in(&state.pool, user.account_id).await?;
            (Some(user.account_id), scopes)
        }
        Some("client_credentials") => (None, requested_scopes(&app, request.scope.as_deref())?),
        _ => {
            return Err(ApiError::oauth(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            ))
        }
    };
    let secret = auth::random_secret();
    let token = stoa_db::oauth::create_access_token(
        &state.pool,
        &auth::secret_hash(&secret),
        app.id,
        account_id,
        &scopes.to_vec(),
    )
    .await?;
    Ok(Json(entities::OAuthToken {
        access_token: secret,
        token_type: "Bearer",
        scope: scopes.to_string(),
        created_at: token.created_at.timestamp(),
    }))
}

#[derive(Deserialize)]
struct RevokeRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    token: Option<String>,
}

/// POST /oauth/revoke: always `{}` for an authenticated client (RFC 7009).
async fn revoke(
    State(state): State<AppState>,
    Params(request): Params<RevokeRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    let app = authenticate_client(
        &state,
        request.client_id.as_deref(),
        request.client_secret.as_deref(),
    )
    .await
    .map_err(|_| {
        ApiError::oauth(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            "You are not authorized to revoke this token",
        )
    })?;
    if let Some(token) = request.token.as_deref() {
        stoa_db::oauth::revoke_access_token(&state.pool, &auth::secret_hash(token), app.id).await?;
        state.tokens.forget_token(token);
    }
    Ok(Json(serde_json::json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris() {
        assert!(valid_redirect_uri(OOB));
        assert!(valid_redirect_uri(
            "oauth2redirect://com.keylesspalace.tusky/"
        ));
        assert!(valid_redirect_uri("https://app.example/callback?x=1"));
        assert!(!valid_redirect_uri("javascript:alert(1)"));
        assert!(!valid_redirect_uri("not a uri"));
        assert!(!valid_redirect_uri("https://app.example/cb#frag"));
    }

    #[test]
    fn return_paths_stay_local() {
        assert_eq!(
            safe_return_path(Some("/oauth/authorize?x=1")),
            "/oauth/authorize?x=1"
        );
        assert_eq!(safe_return_path(Some("//evil.example/")), "/");
        assert_eq!(safe_return_path(Some("https://evil.example/")), "/");
        assert_eq!(safe_return_path(Some("/\\evil.example")), "/");
        assert_eq!(safe_return_path(None), "/");
    }
}
