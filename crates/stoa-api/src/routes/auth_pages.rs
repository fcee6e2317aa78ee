//! The browser pages of registration: sign-up, the confirmation link,
//! "forgot your password?" and the password-reset link; and the API's
//! `POST /api/v1/emails/confirmations`. The work is done by
//! `actions::registrations`; these parse, check CSRF (as the OAuth pages do)
//! and render.
//!
//! No answer tells whether an email address is registered: the sign-up form
//! answers a taken address like a new one (and mails its owner), and the
//! reset form always answers the same page.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use stoa_config::RegistrationMode;

use super::oauth::{check_csrf, csrf_token, with_csrf_cookie};
use crate::actions::registrations::{self, Origin, SignUp};
use crate::auth::UnconfirmedAuth;
use crate::error::{ApiError, ApiResult};
use crate::extract::Params;
use crate::html::{self, escape, hidden};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/sign_up", get(sign_up_page).post(sign_up))
        .route("/auth/confirmation", get(confirmation))
        .route(
            "/auth/password/new",
            get(reset_request_page).post(reset_request),
        )
        .route("/auth/password/edit", get(reset_page).post(reset))
        .route("/api/v1/emails/confirmations", post(resend_confirmation))
}

/// The links under the sign-in form.
pub fn sign_in_links(state: &AppState) -> String {
    let mut links = Vec::new();
    if state.settings.registrations.mode != RegistrationMode::Closed {
        links.push("<a href=\"/auth/sign_up\">Sign up</a>");
    }
    if state.settings.mail.is_configured() {
        links.push("<a href=\"/auth/password/new\">Forgot your password?</a>");
    }
    if links.is_empty() {
        String::new()
    } else {
        format!("<p>{}</p>", links.join(" · "))
    }
}

/// An action's refusal as a page, with its status (429 for rate limits).
fn failure_page(error: ApiError) -> Response {
    let message = error.message().to_owned();
    let status = error.into_response().status();
    html::error_page(status, &message)
}

fn error_paragraph(error: Option<&str>) -> String {
    error
        .map(|e| format!("<p class=\"error\">{}</p>", escape(e)))
        .unwrap_or_default()
}

fn closed_page(state: &AppState) -> Response {
    let message = state.settings.registrations.closed_message.trim();
    let message = if message.is_empty() {
        "Registrations are closed on this server."
    } else {
        message
    };
    html::page(
        StatusCode::FORBIDDEN,
        "Registrations closed",
        &format!(
            "<h1>Registrations are closed</h1><p>{}</p>",
            escape(message)
        ),
    )
}

/// What the visitor typed, to fill the form in again.
#[derive(Default, Deserialize)]
struct SignUpForm {
    authenticity_token: Option<String>,
    username: Option<String>,
    email: Option<String>,
    password: Option<String>,
    password_confirmation: Option<String>,
    agreement: Option<bool>,
    reason: Option<String>,
}

fn sign_up_form(
    state: &AppState,
    csrf: &str,
    form: &SignUpForm,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let settings = &state.settings;
    let approval = settings.registrations.mode == RegistrationMode::Approval;
    let rules = &settings.instance.rules;
    let rules_html = if rules.is_empty() {
        String::new()
    } else {
        let items: String = rules
            .iter()
            .map(|rule| format!("<li>{}</li>", escape(rule)))
            .collect();
        format!("<p><strong>Rules of this server</strong></p><ol id=\"rules\">{items}</ol>")
    };
    let intro = if approval {
        "<p>The moderators review every new account before it can be used.</p>"
    } else {
        ""
    };
    let reason = if approval {
        format!(
            "<label for=\"reason\">Why do you want to join?</label>\
             <textarea id=\"reason\" name=\"reason\" rows=\"3\" maxlength=\"1000\" \
             style=\"width:100%;box-sizing:border-box\">{}</textarea>",
            escape(form.reason.as_deref().unwrap_or(""))
        )
    } else {
        String::new()
    };
    let agreement = if rules.is_empty() {
        "I agree to the terms of this server"
    } else {
        "I agree to the rules above"
    };
    html::page(
        status,
        "Sign up",
        &format!(
            "<h1>Create an account on {title}</h1>{intro}{error}\
             <form method=\"post\" action=\"/auth/sign_up\">{csrf}\
             <label for=\"username\">Username</label>\
             <input type=\"text\" id=\"username\" name=\"username\" value=\"{username}\" \
             autocomplete=\"username\" maxlength=\"30\" required>\
             <label for=\"email\">Email address</label>\
             <input type=\"email\" id=\"email\" name=\"email\" value=\"{email}\" \
             autocomplete=\"email\" required>\
             <label for=\"password\">Password</label>\
             <input type=\"password\" id=\"password\" name=\"password\" \
             autocomplete=\"new-password\" minlength=\"8\" maxlength=\"72\" required>\
             <label for=\"password_confirmation\">Confirm the password</label>\
             <input type=\"password\" id=\"password_confirmation\" name=\"password_confirmation\" \
             autocomplete=\"new-password\" minlength=\"8\" maxlength=\"72\" required>\
             {reason}{rules_html}\
             <label><input type=\"checkbox\" name=\"agreement\" value=\"1\" required> {agreement}</label>\
             <button type=\"submit\">Sign up</button></form>",
            title = escape(&settings.instance.title),
            error = error_paragraph(error),
            csrf = hidden("authenticity_token", csrf),
            username = escape(form.username.as_deref().unwrap_or("")),
            email = escape(form.email.as_deref().unwrap_or("")),
        ),
    )
}

/// GET /auth/sign_up
async fn sign_up_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.settings.registrations.mode == RegistrationMode::Closed {
        return closed_page(&state);
    }
    let (csrf, new_csrf) = csrf_token(&headers);
    let page = sign_up_form(&state, &csrf, &SignUpForm::default(), None, StatusCode::OK);
    with_csrf_cookie(&state, page, &csrf, new_csrf)
}

/// What a finished sign-up is told: the same whether the address was new
/// or already taken.
fn signed_up_page(state: &AppState) -> Response {
    let settings = &state.settings;
    let approval = settings.registrations.mode == RegistrationMode::Approval;
    let body = if settings.email_confirmation_required() {
        format!(
            "<h1>Check your email</h1><p>We sent a link to the address you gave. Follow it to \
             confirm the address and finish signing up.{}</p>",
            if approval {
                " Then the moderators will review your application; you will get an email \
                 when they have."
            } else {
                ""
            }
        )
    } else if approval {
        "<h1>Application received</h1><p>The moderators will review your application. You \
         can sign in once it is approved.</p>"
            .to_owned()
    } else {
        "<h1>Welcome</h1><p>Your account has been created. You can now sign in from your \
         app.</p>"
            .to_owned()
    };
    html::page(StatusCode::OK, "Signed up", &body)
}

/// POST /auth/sign_up
async fn sign_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(form): Params<SignUpForm>,
) -> Response {
    if let Err(page) = check_csrf(&headers, form.authenticity_token.as_deref()) {
        return page;
    }
    if state.settings.registrations.mode == RegistrationMode::Closed {
        return closed_page(&state);
    }
    let (csrf, _) = csrf_token(&headers);
    let password = form.password.clone().unwrap_or_default();
    if form.password_confirmation.as_deref() != Some(password.as_str()) {
        return sign_up_form(
            &state,
            &csrf,
            &form,
            Some("The password and its confirmation do not match."),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let sign_up = SignUp {
        username: form.username.clone().unwrap_or_default().trim().to_owned(),
        email: form.email.clone().unwrap_or_default().trim().to_owned(),
        password,
        agreement: form.agreement.unwrap_or(false),
        locale: "en".to_owned(),
        reason: form.reason.clone().unwrap_or_default(),
    };
    match registrations::register(&state, sign_up, Origin::Browser).await {
        Ok(_) => signed_up_page(&state),
        Err(error) if error.message().starts_with("Validation failed") => {
            let message = error.message().to_owned();
            sign_up_form(
                &state,
                &csrf,
                &form,
                Some(&message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(error) => failure_page(error),
    }
}

#[derive(Deserialize)]
struct ConfirmationQuery {
    confirmation_token: Option<String>,
}

/// GET /auth/confirmation?confirmation_token=…: the link of the confirmation mail.
async fn confirmation(
    State(state): State<AppState>,
    Params(query): Params<ConfirmationQuery>,
) -> Response {
    let secret = query.confirmation_token.unwrap_or_default();
    let confirmed = if secret.is_empty() {
        Ok(None)
    } else {
        registrations::confirm(&state, &secret).await
    };
    match confirmed {
        Ok(Some(confirmed)) => {
            let next = if confirmed.approved {
                "You can now sign in from your app."
            } else {
                "Your application now waits for the moderators' review; you will get an email \
                 when they have reviewed it."
            };
            html::page(
                StatusCode::OK,
                "Email confirmed",
                &format!(
                    "<h1>Your email address is confirmed</h1><p>Thank you, @{}. {next}</p>",
                    escape(&confirmed.username)
                ),
            )
        }
        Ok(None) => html::error_page(
            StatusCode::NOT_FOUND,
            "This confirmation link is invalid or has already been used.",
        ),
        Err(error) => failure_page(error),
    }
}

fn reset_request_form(csrf: &str) -> String {
    format!(
        "<h1>Forgot your password?</h1>\
         <p>Enter the email address of your account: we will mail you a link to choose a new \
         password.</p>\
         <form method=\"post\" action=\"/auth/password/new\">{csrf}\
         <label for=\"email\">Email address</label>\
         <input type=\"email\" id=\"email\" name=\"email\" autocomplete=\"email\" required autofocus>\
         <button type=\"submit\">Send the link</button></form>",
        csrf = hidden("authenticity_token", csrf),
    )
}

/// GET /auth/password/new
async fn reset_request_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (csrf, new_csrf) = csrf_token(&headers);
    let page = html::page(StatusCode::OK, "Reset password", &reset_request_form(&csrf));
    with_csrf_cookie(&state, page, &csrf, new_csrf)
}

#[derive(Deserialize)]
struct ResetRequestForm {
    authenticity_token: Option<String>,
    email: Option<String>,
}

/// POST /auth/password/new: always the same answer.
async fn reset_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(form): Params<ResetRequestForm>,
) -> Response {
    if let Err(page) = check_csrf(&headers, form.authenticity_token.as_deref()) {
        return page;
    }
    let email = form.email.unwrap_or_default();
    match registrations::request_password_reset(&state, &email).await {
        Ok(()) => html::page(
            StatusCode::OK,
            "Check your email",
            "<h1>Check your email</h1><p>If this address belongs to an account, you will \
             receive an email with a link to choose a new password in a few minutes. The link \
             works for six hours.</p>",
        ),
        Err(error) => failure_page(error),
    }
}

#[derive(Deserialize)]
struct ResetForm {
    authenticity_token: Option<String>,
    reset_password_token: Option<String>,
    password: Option<String>,
    password_confirmation: Option<String>,
}

fn invalid_reset_link() -> Response {
    html::error_page(
        StatusCode::NOT_FOUND,
        "This link is invalid, has expired or has already been used. Ask for a new one at /auth/password/new.",
    )
}

fn reset_form(csrf: &str, secret: &str, error: Option<&str>, status: StatusCode) -> Response {
    html::page(
        status,
        "Choose a new password",
        &format!(
            "<h1>Choose a new password</h1>{error}\
             <form method=\"post\" action=\"/auth/password/edit\">{csrf}{secret}\
             <label for=\"password\">New password</label>\
             <input type=\"password\" id=\"password\" name=\"password\" \
             autocomplete=\"new-password\" minlength=\"8\" maxlength=\"72\" required autofocus>\
             <label for=\"password_confirmation\">Confirm the new password</label>\
             <input type=\"password\" id=\"password_confirmation\" name=\"password_confirmation\" \
             autocomplete=\"new-password\" minlength=\"8\" maxlength=\"72\" required>\
             <button type=\"submit\">Change the password</button></form>",
            error = error_paragraph(error),
            csrf = hidden("authenticity_token", csrf),
            secret = hidden("reset_password_token", secret),
        ),
    )
}

/// GET /auth/password/edit?reset_password_token=…: the link of the reset mail.
async fn reset_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(form): Params<ResetForm>,
) -> Response {
    let secret = form.reset_password_token.unwrap_or_default();
    if secret.is_empty() {
        return invalid_reset_link();
    }
    match registrations::password_reset_is_valid(&state, &secret).await {
        Ok(true) => {}
        Ok(false) => return invalid_reset_link(),
        Err(error) => return failure_page(error),
    }
    let (csrf, new_csrf) = csrf_token(&headers);
    let page = reset_form(&csrf, &secret, None, StatusCode::OK);
    with_csrf_cookie(&state, page, &csrf, new_csrf)
}

/// POST /auth/password/edit
async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(form): Params<ResetForm>,
) -> Response {
    if let Err(page) = check_csrf(&headers, form.authenticity_token.as_deref()) {
        return page;
    }
    let (csrf, _) = csrf_token(&headers);
    let secret = form.reset_password_token.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    if form.password_confirmation.as_deref() != Some(password.as_str()) {
        return reset_form(
            &csrf,
            &secret,
            Some("The password and its confirmation do not match."),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    match registrations::reset_password(&state, &secret, &password).await {
        Ok(true) => html::page(
            StatusCode::OK,
            "Password changed",
            "<h1>Your password has been changed</h1><p>Every app and browser that was signed \
             in to your account has been signed out. Sign in again with the new password.</p>",
        ),
        Ok(false) => invalid_reset_link(),
        Err(error) if error.message().starts_with("Validation failed") => {
            let message = error.message().to_owned();
            reset_form(
                &csrf,
                &secret,
                Some(&message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(error) => failure_page(error),
    }
}

#[derive(Deserialize)]
struct ResendParams {
    email: Option<String>,
}

/// POST /api/v1/emails/confirmations: mail the confirmation link again (to a
/// new address when `email` is given), with the token of the app the user
/// signed up with.
async fn resend_confirmation(
    State(state): State<AppState>,
    UnconfirmedAuth(auth): UnconfirmedAuth,
    Params(params): Params<ResendParams>,
) -> ApiResult<Json<serde_json::Value>> {
    auth.require("write:accounts")?;
    registrations::resend_confirmation(&state, &auth, params.email.as_deref()).await?;
    Ok(Json(serde_json::json!({})))
}
