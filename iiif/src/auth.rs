//! The JSON of IIIF Authorization: Auth 2.0 (probe, access, token and logout services, probe
//! results, token messages) and Auth 1.0 (cookie, token and logout services for 2.x documents,
//! token responses). Plain strings from configuration become `{"en": [...]}` language maps
//! in 2.0 and stay strings in 1.0.

use serde_json::{Map, Value, json};

/// The Auth 2.0 JSON-LD context.
pub const CONTEXT_2: &str = "http://iiif.io/api/auth/2/context.json";
/// The Auth 1.0 JSON-LD context.
pub const CONTEXT_1: &str = "http://iiif.io/api/auth/1/context.json";

/// How a visitor reaches an access service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessKind {
    Clickthrough,
    Login,
    Kiosk,
    External,
}

impl AccessKind {
    /// The Auth 2.0 profile.
    pub fn profile_2(self) -> &'static str {
        match self {
            AccessKind::Clickthrough | AccessKind::Login => "active",
            AccessKind::Kiosk => "kiosk",
            AccessKind::External => "external",
        }
    }

    /// The Auth 1.0 cookie-service profile URI.
    pub fn profile_1(self) -> &'static str {
        match self {
            AccessKind::Clickthrough => "http://iiif.io/api/auth/1/clickthrough",
            AccessKind::Login => "http://iiif.io/api/auth/1/login",
            AccessKind::Kiosk => "http://iiif.io/api/auth/1/kiosk",
            AccessKind::External => "http://iiif.io/api/auth/1/external",
        }
    }
}

/// One access service with its token and logout services, as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccessService {
    pub kind: AccessKind,
    /// The access page (not for external services).
    pub id: Option<String>,
    pub label: String,
    pub heading: Option<String>,
    pub note: Option<String>,
    pub confirm_label: Option<String>,
    /// The Auth 2.0 token service.
    pub token: String,
    /// The Auth 1.0 token service.
    pub token_1: String,
    pub logout: String,
}

/// What a restricted resource carries in documents: its probe and the access services.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Restriction {
    pub probe: String,
    pub services: Vec<AccessService>,
}

/// `{"en": [text]}`.
pub fn language_map(text: &str) -> Value {
    json!({ "en": [text] })
}

fn insert_text(object: &mut Map<String, Value>, key: &str, text: &Option<String>, map: bool) {
    if let Some(text) = text {
        let value = if map {
            language_map(text)
        } else {
            Value::String(text.clone())
        };
        object.insert(key.into(), value);
    }
}

/// The Auth 2.0 probe service of a resource, with its access services nested inside it.
pub fn probe_service(probe: &str, services: &[AccessService]) -> Value {
    let access: Vec<Value> = services.iter().map(access_service_2).collect();
    json!({ "id": probe, "type": "AuthProbeService2", "service": access })
}

fn access_service_2(service: &AccessService) -> Value {
    let mut object = Map::new();
    if let Some(id) = &service.id {
        object.insert("id".into(), json!(id));
    }
    object.insert("type".into(), json!("AuthAccessService2"));
    object.insert("profile".into(), json!(service.kind.profile_2()));
    object.insert("label".into(), language_map(&service.label));
    insert_text(&mut object, "heading", &service.heading, true);
    insert_text(&mut object, "note", &service.note, true);
    insert_text(&mut object, "confirmLabel", &service.confirm_label, true);
    object.insert(
        "service".into(),
        json!([
            { "id": service.token, "type": "AuthAccessTokenService2" },
            { "id": service.logout, "type": "AuthLogoutService2",
              "label": language_map(&format!("Log out of {}", service.label)) }
        ]),
    );
    Value::Object(object)
}

/// A probe's answer: the status the resource would get, a substitute when it is refused and
/// one exists, and what to tell the visitor.
pub fn probe_result(
    status: u16,
    substitute: Option<Value>,
    heading: Option<&str>,
    note: Option<&str>,
) -> Value {
    let mut object = Map::new();
    object.insert("@context".into(), json!(CONTEXT_2));
    object.insert("type".into(), json!("AuthProbeResult2"));
    object.insert("status".into(), json!(status));
    if let Some(substitute) = substitute {
        object.insert("substitute".into(), json!([substitute]));
    }
    if let Some(heading) = heading {
        object.insert("heading".into(), language_map(heading));
        if let Some(note) = note {
            object.insert("note".into(), language_map(note));
        }
    }
    Value::Object(object)
}

/// The Auth 2.0 token service's success message.
pub fn token_message(token: &str, expires_in: i64, message_id: &str) -> Value {
    json!({
        "@context": CONTEXT_2,
        "type": "AuthAccessToken2",
        "accessToken": token,
        "expiresIn": expires_in,
        "messageId": message_id,
    })
}

/// The Auth 2.0 token errors (IIIF-REFERENCE §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    InvalidRequest,
    InvalidOrigin,
    MissingAspect,
    InvalidAspect,
    ExpiredAspect,
    Unavailable,
}

impl TokenError {
    pub fn profile(self) -> &'static str {
        match self {
            TokenError::InvalidRequest => "invalidRequest",
            TokenError::InvalidOrigin => "invalidOrigin",
            TokenError::MissingAspect => "missingAspect",
            TokenError::InvalidAspect => "invalidAspect",
            TokenError::ExpiredAspect => "expiredAspect",
            TokenError::Unavailable => "unavailable",
        }
    }

    /// The Auth 1.0 error code closest to this one.
    pub fn code_1(self) -> &'static str {
        match self {
            TokenError::InvalidRequest => "invalidRequest",
            TokenError::InvalidOrigin => "invalidOrigin",
            TokenError::MissingAspect => "missingCredentials",
            TokenError::InvalidAspect | TokenError::ExpiredAspect => "invalidCredentials",
            TokenError::Unavailable => "unavailable",
        }
    }

    /// The HTTP status of an Auth 1.0 JSON error.
    pub fn status_1(self) -> u16 {
        match self {
            TokenError::InvalidRequest | TokenError::InvalidOrigin => 400,
            TokenError::MissingAspect | TokenError::InvalidAspect | TokenError::ExpiredAspect => {
                401
            }
            TokenError::Unavailable => 503,
        }
    }
}

/// The Auth 2.0 token service's error message.
pub fn token_error(error: TokenError, message_id: &str, heading: &str, note: &str) -> Value {
    json!({
        "@context": CONTEXT_2,
        "type": "AuthAccessTokenError2",
        "profile": error.profile(),
        "messageId": message_id,
        "heading": language_map(heading),
        "note": language_map(note),
    })
}

/// Auth 1.0 cookie services for Image 2.x and Presentation 2.x documents, each with its token
/// and logout services.
pub fn cookie_services_1(services: &[AccessService]) -> Vec<Value> {
    services
        .iter()
        .map(|service| {
            let mut object = Map::new();
            object.insert("@context".into(), json!(CONTEXT_1));
            if let Some(id) = &service.id {
                object.insert("@id".into(), json!(id));
            }
            object.insert("profile".into(), json!(service.kind.profile_1()));
            object.insert("label".into(), json!(service.label));
            insert_text(&mut object, "header", &service.heading, false);
            insert_text(&mut object, "description", &service.note, false);
            insert_text(&mut object, "confirmLabel", &service.confirm_label, false);
            object.insert(
                "service".into(),
                json!([
                    { "@id": service.token_1, "profile": "http://iiif.io/api/auth/1/token" },
                    { "@id": service.logout, "profile": "http://iiif.io/api/auth/1/logout",
                      "label": format!("Log out of {}", service.label) }
                ]),
            );
            Value::Object(object)
        })
        .collect()
}

/// The Auth 1.0 token response (JSON, or the postMessage payload when `message_id` is given).
pub fn token_1(token: &str, expires_in: i64, message_id: Option<&str>) -> Value {
    let mut value = json!({ "accessToken": token, "expiresIn": expires_in });
    if let Some(id) = message_id {
        value["messageId"] = json!(id);
    }
    value
}

/// The Auth 1.0 token error.
pub fn token_error_1(error: TokenError, description: &str, message_id: Option<&str>) -> Value {
    let mut value = json!({ "error": error.code_1(), "description": description });
    if let Some(id) = message_id {
        value["messageId"] = json!(id);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login() -> AccessService {
        AccessService {
            kind: AccessKind::Login,
            id: Some("https://x.org/auth/2/acme/access/staff".into()),
            label: "Example Library".into(),
            heading: Some("Restricted".into()),
            note: None,
            confirm_label: Some("Log in".into()),
            token: "https://x.org/auth/2/acme/token".into(),
            token_1: "https://x.org/auth/1/acme/token".into(),
            logout: "https://x.org/auth/2/acme/logout/staff".into(),
        }
    }

    #[test]
    fn auth_2_services_nest_probe_access_token_logout() {
        let probe = probe_service("https://x.org/auth/2/probe/acme/1/a", &[login()]);
        assert_eq!(probe["type"], "AuthProbeService2");
        let access = &probe["service"][0];
        assert_eq!(access["type"], "AuthAccessService2");
        assert_eq!(access["profile"], "active");
        assert_eq!(access["label"]["en"][0], "Example Library");
        assert_eq!(access["confirmLabel"]["en"][0], "Log in");
        assert!(access.get("note").is_none());
        assert_eq!(access["service"][0]["type"], "AuthAccessTokenService2");
        assert_eq!(access["service"][1]["type"], "AuthLogoutService2");
        assert!(access["service"][1]["label"]["en"][0].is_string());
    }

    #[test]
    fn auth_1_services_carry_their_context_and_profiles() {
        let services = cookie_services_1(&[login()]);
        assert_eq!(services[0]["@context"], CONTEXT_1);
        assert_eq!(services[0]["profile"], "http://iiif.io/api/auth/1/login");
        assert_eq!(services[0]["header"], "Restricted");
        assert_eq!(
            services[0]["service"][0]["profile"],
            "http://iiif.io/api/auth/1/token"
        );
    }

    #[test]
    fn probe_results_and_token_messages() {
        let result = probe_result(
            401,
            Some(json!({"id": "s", "type": "ImageService3"})),
            Some("Login required"),
            Some("Staff only"),
        );
        assert_eq!(result["type"], "AuthProbeResult2");
        assert_eq!(result["status"], 401);
        assert_eq!(result["substitute"][0]["id"], "s");
        assert_eq!(result["note"]["en"][0], "Staff only");
        let ok = probe_result(200, None, None, None);
        assert!(ok.get("substitute").is_none() && ok.get("heading").is_none());
        let error = token_error(TokenError::MissingAspect, "m1", "h", "n");
        assert_eq!(error["profile"], "missingAspect");
        assert_eq!(error["messageId"], "m1");
        assert_eq!(token_message("t", 300, "m2")["type"], "AuthAccessToken2");
        assert_eq!(token_1("t", 300, None).get("messageId"), None);
        assert_eq!(
            token_error_1(TokenError::ExpiredAspect, "d", Some("m"))["error"],
            "invalidCredentials"
        );
    }
}
