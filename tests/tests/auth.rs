//! IIIF Authorization Flow 2.0 (and 1.0) over real HTTP, walked as a viewer walks it: probe,
//! access page, token, probe with the token, content with the cookie, logout. For clickthrough,
//! kiosk and login services; with the degraded open sizes, Auth 1.0 info.json semantics, the
//! services manifests carry, and each hardening point (CSRF, origins, forged and foreign
//! tokens, throttled logins and API keys, nothing reflected into HTML).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use vitrine_tests::conformance::assert_presentation_3;
use vitrine_tests::images::grid_png;
use vitrine_tests::visitor::{self, Got, client, field, pair, posted};
use vitrine_tests::{Auth, TestApp, media_fixture};

const VIEWER: &str = "https://viewer.example.org";

/// A visitor's session cookie and access token, when they have them.
type Credentials = (Option<String>, Option<String>);

async fn get(app: &TestApp, path: &str, cookie: Option<&str>, token: Option<&str>) -> Got {
    visitor::get(&app.url(path), cookie, token).await
}

async fn post_form(app: &TestApp, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Got {
    visitor::post_form(&app.url(path), cookie, form).await
}

async fn ok(app: &TestApp, auth: &Auth, query: &str, variables: Value) -> Value {
    app.graphql(auth, query, variables).await.data().clone()
}

async fn restrict(app: &TestApp, auth: &Auth, space: i64, id: &str, roles: &[&str], open: i64) {
    ok(
        app,
        auth,
        "mutation($s: Int!, $id: String!, $r: [String!], $m: Int) { updateAsset(customer: \"acme\", space: $s, id: $id, patch: {roles: $r, maxUnauthorised: $m}) { id } }",
        json!({ "s": space, "id": id, "r": roles, "m": open }),
    )
    .await;
}

async fn service(app: &TestApp, auth: &Auth, input: Value) {
    ok(
        app,
        auth,
        "mutation($i: AuthServiceInput!) { createAuthService(customer: \"acme\", input: $i) { name } }",
        json!({ "i": input }),
    )
    .await;
}

async fn role(app: &TestApp, auth: &Auth, name: &str, service: &str) {
    ok(
        app,
        auth,
        "mutation($n: String!, $s: String!) { createRole(customer: \"acme\", input: {name: $n, authService: $s}) { name } }",
        json!({ "n": name, "s": service }),
    )
    .await;
}

/// Opens an access page from the viewer's origin and submits its form; the answer holds the
/// session cookie.
async fn pass_active_service(app: &TestApp, service: &str, form: &[(&str, &str)]) -> Got {
    visitor::pass_access_page(
        &app.url(&format!("/auth/2/acme/access/{service}")),
        VIEWER,
        None,
        form,
    )
    .await
}

async fn token(
    app: &TestApp,
    cookie: Option<&str>,
    origin: &str,
    message_id: &str,
) -> (Value, Value) {
    let page = get(
        app,
        &format!("/auth/2/acme/token?messageId={message_id}&origin={origin}"),
        cookie,
        None,
    )
    .await;
    assert_eq!(page.status, 200, "token pages are always 200");
    assert!(
        page.headers.get("x-frame-options").is_none(),
        "the token page is framed by viewers"
    );
    posted(&page.text)
}

/// Opens a logout link as a viewer's window does (the browser saying nothing of where it
/// came from): a page that asks, whose button carries the session's logout token; then
/// presses it.
async fn log_out(app: &TestApp, service: &str, cookie: &str) -> Got {
    let path = format!("/auth/2/acme/logout/{service}");
    let asked = get(app, &path, Some(cookie), None).await;
    assert_eq!(asked.status, 200, "{}", asked.text);
    assert!(
        asked.set_cookie("vitrine-auth-acme").is_none(),
        "opening the link ends nothing"
    );
    let token = field(&asked.text, "csrf");
    get(app, &format!("{path}?csrf={token}"), Some(cookie), None).await
}

/// A GET with the cookie and the `Sec-Fetch-Site` a browser would send.
async fn get_from_site(app: &TestApp, path: &str, cookie: &str, site: &str) -> Got {
    let response = client()
        .get(app.url(path))
        .header(COOKIE, cookie)
        .header("sec-fetch-site", site)
        .send()
        .await
        .expect("GET");
    Got::read(response).await
}

struct Book {
    app: TestApp,
    admin: Auth,
    space: i64,
}

async fn book() -> Book {
    let app = TestApp::start().await;
    let admin = app.customer_with_key("acme").await;
    let space = app.create_space(&admin, "acme", "restricted").await;
    for id in ["terms", "room", "staff", "open"] {
        let asset = app
            .register_image(&admin, "acme", space, id, &grid_png(1200, 800))
            .await;
        assert_eq!(asset["status"], "READY", "{asset}");
    }
    Book { app, admin, space }
}

#[tokio::test]
async fn clickthrough_walks_the_whole_auth_2_flow() {
    let Book { app, admin, space } = book().await;
    service(
        &app,
        &admin,
        json!({"name": "terms", "profile": "ACTIVE", "kind": "CLICKTHROUGH",
        "label": "Example Library", "heading": "Terms of use", "note": "Research use only.",
        "confirmLabel": "I agree"}),
    )
    .await;
    role(&app, &admin, "reader", "terms").await;
    restrict(&app, &admin, space, "terms", &["reader"], 200).await;
    let base = format!("/iiif/3/acme/{space}/terms");
    let tile = format!("{base}/0,0,512,512/256,/0/default.jpg");

    // info.json is served to everyone, with probe -> access -> token + logout inside
    let info = get(&app, &format!("{base}/info.json"), None, None).await;
    assert_eq!(info.status, 200, "{}", info.text);
    let info = info.json();
    assert_eq!(
        info["@context"],
        json!([
            "http://iiif.io/api/auth/2/context.json",
            "http://iiif.io/api/image/3/context.json"
        ])
    );
    let probe = &info["service"][0];
    assert_eq!(probe["type"], "AuthProbeService2");
    assert_eq!(
        probe["id"],
        app.url(&format!("/auth/2/probe/acme/{space}/terms"))
    );
    let access = &probe["service"][0];
    assert_eq!(
        (access["type"].as_str(), access["profile"].as_str()),
        (Some("AuthAccessService2"), Some("active"))
    );
    assert_eq!(access["id"], app.url("/auth/2/acme/access/terms"));
    assert_eq!(access["confirmLabel"], json!({"en": ["I agree"]}));
    assert_eq!(access["service"][0]["id"], app.url("/auth/2/acme/token"));
    assert_eq!(access["service"][1]["type"], "AuthLogoutService2");

    // 1. the tokenless probe: 401, with the degraded service as substitute
    let probe_path = format!("/auth/2/probe/acme/{space}/terms");
    let first = get(&app, &probe_path, None, None).await;
    assert_eq!(first.status, 200, "probes always answer 200");
    assert_eq!(first.headers["access-control-allow-origin"], "*");
    let first = first.json();
    assert_eq!(
        (first["type"].as_str(), first["status"].as_i64()),
        (Some("AuthProbeResult2"), Some(401))
    );
    assert_eq!(first["heading"], json!({"en": ["Terms of use"]}));
    let substitute = first["substitute"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(substitute, app.url(&format!("{base}/degraded")));
    // the substitute is open to this visitor: a level 0 service of sizes up to 200 px
    let degraded = get(&app, &format!("{base}/degraded/info.json"), None, None).await;
    assert_eq!(degraded.status, 200);
    let degraded = degraded.json();
    assert_eq!(
        (degraded["profile"].as_str(), degraded["maxWidth"].as_i64()),
        (Some("level0"), Some(200))
    );
    assert!(degraded.get("tiles").is_none() && degraded.get("service").is_none());
    assert!(
        degraded["sizes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["width"].as_i64() <= Some(200))
    );
    assert_eq!(
        get(
            &app,
            &format!("{base}/degraded/full/200,/0/default.jpg"),
            None,
            None
        )
        .await
        .status,
        200
    );
    assert_eq!(
        get(
            &app,
            &format!("{base}/degraded/0,0,100,100/100,/0/default.jpg"),
            None,
            None
        )
        .await
        .status,
        403,
        "the degraded service serves whole images only"
    );
    let over = get(
        &app,
        &format!("{base}/degraded/full/400,/0/default.jpg"),
        None,
        None,
    )
    .await;
    assert_eq!(
        over.status, 400,
        "over the degraded service's maxWidth: {}",
        over.text
    );
    let max = get(
        &app,
        &format!("{base}/degraded/full/max/0/default.jpg"),
        None,
        None,
    )
    .await;
    assert_eq!(max.status, 200, "max is the open size");
    // content: a tile is refused, the open size is not
    assert_eq!(get(&app, &tile, None, None).await.status, 401);
    assert_eq!(
        get(&app, &format!("{base}/full/200,/0/default.jpg"), None, None)
            .await
            .status,
        200
    );
    assert_eq!(
        get(&app, &format!("{base}/full/201,/0/default.jpg"), None, None)
            .await
            .status,
        401
    );
    assert_eq!(
        get(
            &app,
            &format!("{base}/0,0,100,100/100,/0/default.jpg"),
            None,
            None
        )
        .await
        .status,
        401,
        "parts are never open"
    );

    // 2. the access page: a form needing the CSRF cookie that came with it
    let page = get(
        &app,
        &format!("/auth/2/acme/access/terms?origin={VIEWER}"),
        None,
        None,
    )
    .await;
    assert!(page.text.contains("Terms of use") && page.text.contains("I agree"));
    let csrf = field(&page.text, "csrf");
    let csrf_cookie = page.set_cookie("vitrine-csrf").unwrap();
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"));
    let forged = post_form(
        &app,
        "/auth/2/acme/access/terms",
        None,
        &[("csrf", &csrf), ("origin", VIEWER)],
    )
    .await;
    assert_eq!(forged.status, 403, "no CSRF cookie: refused");
    assert!(forged.set_cookie("vitrine-auth-acme").is_none());
    let wrong = post_form(
        &app,
        "/auth/2/acme/access/terms",
        Some(&pair(&csrf_cookie)),
        &[("csrf", "guess"), ("origin", VIEWER)],
    )
    .await;
    assert_eq!(
        wrong.status, 403,
        "a CSRF value that does not match: refused"
    );
    let accepted = post_form(
        &app,
        "/auth/2/acme/access/terms",
        Some(&pair(&csrf_cookie)),
        &[("csrf", &csrf), ("origin", VIEWER)],
    )
    .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    assert!(accepted.text.contains("window.close()"));
    let session = accepted
        .set_cookie("vitrine-auth-acme")
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("Path=/"),
        "{session}"
    );
    let cookie = pair(&session);

    // 3. the token service: postMessage to the viewer's origin, echoing messageId
    let (message, target) = token(&app, Some(&cookie), VIEWER, "m-1").await;
    assert_eq!(target, VIEWER);
    assert_eq!(
        (message["type"].as_str(), message["messageId"].as_str()),
        (Some("AuthAccessToken2"), Some("m-1"))
    );
    let access_token = message["accessToken"].as_str().unwrap().to_owned();
    assert!(
        !cookie.ends_with(&access_token),
        "the token is never the cookie"
    );
    assert!(message["expiresIn"].as_i64().unwrap() > 0);
    // another site's viewer cannot get a token for this session
    let (refused, target) =
        token(&app, Some(&cookie), "https://elsewhere.example.net", "m-2").await;
    assert_eq!(
        (refused["type"].as_str(), refused["profile"].as_str()),
        (Some("AuthAccessTokenError2"), Some("invalidOrigin"))
    );
    assert_eq!(target, "https://elsewhere.example.net");
    let (missing, _) = token(&app, None, VIEWER, "m-3").await;
    assert_eq!(missing["profile"], "missingAspect");
    let (invalid, _) = token(&app, Some("vitrine-auth-acme=not-a-session"), VIEWER, "m-4").await;
    assert_eq!(invalid["profile"], "invalidAspect");

    // 4. the probe with the token: 200; the cookie alone does not count on probes
    let probed = get(&app, &probe_path, None, Some(&access_token))
        .await
        .json();
    assert_eq!(probed["status"], 200);
    assert!(probed.get("substitute").is_none());
    assert_eq!(
        get(&app, &probe_path, Some(&cookie), None).await.json()["status"],
        401
    );

    // 5. content with the cookie: 200; the token alone does not count on content
    let with_cookie = get(&app, &tile, Some(&cookie), None).await;
    assert_eq!(with_cookie.status, 200);
    assert_eq!(with_cookie.headers["cache-control"], "private, max-age=300");
    assert_eq!(
        get(&app, &tile, None, Some(&access_token)).await.status,
        401
    );
    // an open asset stays public and shared-cacheable
    let open = get(
        &app,
        &format!("/iiif/3/acme/{space}/open/0,0,512,512/256,/0/default.jpg"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (open.status, open.headers["cache-control"].to_str().unwrap()),
        (200, "public, max-age=86400")
    );

    // 6. logout ends the session and every token of it
    let logout = log_out(&app, "terms", &cookie).await;
    assert_eq!(logout.status, 200);
    assert!(
        logout
            .text
            .contains("You have logged out of Example Library")
    );
    assert!(
        logout
            .set_cookie("vitrine-auth-acme")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(get(&app, &tile, Some(&cookie), None).await.status, 401);
    assert_eq!(
        get(&app, &probe_path, None, Some(&access_token))
            .await
            .json()["status"],
        401
    );
    let (after, _) = token(&app, Some(&cookie), VIEWER, "m-5").await;
    assert_eq!(after["profile"], "invalidAspect");
    app.stop().await;
}

#[tokio::test]
async fn kiosk_admits_by_client_address_only() {
    let Book { app, admin, space } = book().await;
    service(&app, &admin, json!({"name": "room", "profile": "KIOSK", "label": "Reading room", "ipRanges": ["127.0.0.0/8", "::1/128"]})).await;
    service(&app, &admin, json!({"name": "branch", "profile": "KIOSK", "label": "Branch", "ipRanges": ["10.0.0.0/8"]})).await;
    role(&app, &admin, "on-site", "room").await;
    role(&app, &admin, "branch-only", "branch").await;
    restrict(&app, &admin, space, "room", &["on-site"], 0).await;
    let tile = format!("/iiif/3/acme/{space}/room/0,0,512,512/256,/0/default.jpg");
    let probe_path = format!("/auth/2/probe/acme/{space}/room");

    let probe = get(&app, &probe_path, None, None).await.json();
    assert_eq!(probe["status"], 401);
    assert!(
        probe.get("substitute").is_none(),
        "maxUnauthorised 0: nothing open"
    );
    assert_eq!(
        get(
            &app,
            &format!("/iiif/3/acme/{space}/room/full/100,/0/default.jpg"),
            None,
            None
        )
        .await
        .status,
        401
    );

    // from outside the ranges, even claiming an inside address, the kiosk page refuses
    let mut spoofed = client().get(app.url(&format!("/auth/2/acme/access/branch?origin={VIEWER}")));
    spoofed = spoofed.header("x-forwarded-for", "10.1.2.3");
    let refused = spoofed.send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.headers().get(SET_COOKIE).is_none());

    // from inside: no interaction; the page sets the cookie and closes
    let opened = get(
        &app,
        &format!("/auth/2/acme/access/room?origin={VIEWER}"),
        None,
        None,
    )
    .await;
    assert_eq!(opened.status, 200, "{}", opened.text);
    assert!(opened.text.contains("window.close()"));
    let cookie = pair(
        &opened
            .set_cookie("vitrine-auth-acme")
            .expect("session cookie"),
    );
    let (message, _) = token(&app, Some(&cookie), VIEWER, "k-1").await;
    let access_token = message["accessToken"].as_str().expect("token").to_owned();
    assert_eq!(
        get(&app, &probe_path, None, Some(&access_token))
            .await
            .json()["status"],
        200
    );
    assert_eq!(get(&app, &tile, Some(&cookie), None).await.status, 200);
    log_out(&app, "room", &cookie).await;
    assert_eq!(get(&app, &tile, Some(&cookie), None).await.status, 401);
    app.stop().await;
}

#[tokio::test]
async fn login_viewer_with_wrong_then_right_password() {
    let Book { app, admin, space } = book().await;
    service(&app, &admin, json!({"name": "staff", "profile": "ACTIVE", "kind": "LOGIN", "label": "Example Library staff"})).await;
    service(
        &app,
        &admin,
        json!({"name": "terms", "profile": "ACTIVE", "kind": "CLICKTHROUGH", "label": "Terms"}),
    )
    .await;
    role(&app, &admin, "staff", "staff").await;
    role(&app, &admin, "reader", "terms").await;
    ok(&app, &admin, "mutation { createViewer(customer: \"acme\", input: {username: \"ana\", password: \"correct horse\", roles: [\"staff\"]}) { username roles } }", json!({})).await;
    ok(&app, &admin, "mutation { createViewer(customer: \"acme\", input: {username: \"rea\", password: \"reader pass\", roles: [\"reader\"]}) { username } }", json!({})).await;
    restrict(&app, &admin, space, "staff", &["staff"], -1).await;
    let tile = format!("/iiif/3/acme/{space}/staff/0,0,512,512/256,/0/default.jpg");
    let probe_path = format!("/auth/2/probe/acme/{space}/staff");

    let wrong = pass_active_service(
        &app,
        "staff",
        &[("username", "ana"), ("password", "wrong horse")],
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.text.contains("Wrong username or password"));
    assert!(wrong.set_cookie("vitrine-auth-acme").is_none());
    let unknown = pass_active_service(
        &app,
        "staff",
        &[("username", "nobody"), ("password", "whatever1")],
    )
    .await;
    assert_eq!(
        unknown.status, 401,
        "unknown users look like wrong passwords"
    );
    // a viewer whose roles this service does not grant gets nothing
    let other = pass_active_service(
        &app,
        "staff",
        &[("username", "rea"), ("password", "reader pass")],
    )
    .await;
    assert_eq!(other.status, 403);
    assert!(other.set_cookie("vitrine-auth-acme").is_none());

    let right = pass_active_service(
        &app,
        "staff",
        &[("username", "ana"), ("password", "correct horse")],
    )
    .await;
    assert_eq!(right.status, 200, "{}", right.text);
    let cookie = pair(
        &right
            .set_cookie("vitrine-auth-acme")
            .expect("session cookie"),
    );
    let (message, _) = token(&app, Some(&cookie), VIEWER, "l-1").await;
    let access_token = message["accessToken"].as_str().expect("token").to_owned();
    assert_eq!(
        get(&app, &probe_path, None, Some(&access_token))
            .await
            .json()["status"],
        200
    );
    assert_eq!(get(&app, &tile, Some(&cookie), None).await.status, 200);
    // the session holds staff only: the clickthrough asset still needs its own service
    restrict(&app, &admin, space, "terms", &["reader"], -1).await;
    let terms_tile = format!("/iiif/3/acme/{space}/terms/0,0,512,512/256,/0/default.jpg");
    assert_eq!(
        get(&app, &terms_tile, Some(&cookie), None).await.status,
        401
    );

    // Auth 1.0: the 2.1 info.json is the probe; no lower tier, so 401 with the whole document
    let info_2 = format!("/iiif/2/acme/{space}/staff/info.json");
    let refused = get(&app, &info_2, None, None).await;
    assert_eq!(refused.status, 401);
    let body = refused.json();
    assert_eq!(body["width"], 1200);
    let login = &body["service"][0];
    assert_eq!(login["@context"], "http://iiif.io/api/auth/1/context.json");
    assert_eq!(login["profile"], "http://iiif.io/api/auth/1/login");
    assert_eq!(login["service"][0]["@id"], app.url("/auth/1/acme/token"));
    // the 1.0 token service answers JSON when asked without messageId
    let json_token = get(&app, "/auth/1/acme/token", Some(&cookie), None).await;
    assert_eq!(json_token.status, 200);
    let token_1 = json_token.json()["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get(&app, &info_2, None, Some(&token_1)).await.status, 200);
    let missing = get(&app, "/auth/1/acme/token", None, None).await;
    assert_eq!(
        (missing.status, missing.json()["error"].as_str()),
        (401, Some("missingCredentials"))
    );

    // changing the password ends the viewer's sessions
    ok(&app, &admin, "mutation { updateViewer(customer: \"acme\", username: \"ana\", input: {password: \"battery staple\"}) { username } }", json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(get(&app, &tile, Some(&cookie), None).await.status, 401);
    app.stop().await;
}

#[tokio::test]
async fn degraded_tier_and_manifests_for_older_and_newer_viewers() {
    let Book { app, admin, space } = book().await;
    service(&app, &admin, json!({"name": "terms", "profile": "ACTIVE", "kind": "CLICKTHROUGH", "label": "Example Library"})).await;
    role(&app, &admin, "reader", "terms").await;
    restrict(&app, &admin, space, "terms", &["reader"], 300).await;

    // Auth 1.0: a lower tier exists, so the 2.1 info.json redirects to it
    let info_2 = get(
        &app,
        &format!("/iiif/2/acme/{space}/terms/info.json"),
        None,
        None,
    )
    .await;
    assert_eq!(info_2.status, 302);
    let location = info_2.headers["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        app.url(&format!("/iiif/2/acme/{space}/terms/degraded/info.json"))
    );
    let degraded = get(
        &app,
        &format!("/iiif/2/acme/{space}/terms/degraded/info.json"),
        None,
        None,
    )
    .await
    .json();
    assert_eq!(
        degraded["@id"],
        app.url(&format!("/iiif/2/acme/{space}/terms/degraded"))
    );
    assert_eq!(
        degraded["profile"][0],
        "http://iiif.io/api/image/2/level0.json"
    );
    assert_eq!(degraded["profile"][1]["maxWidth"], 300);
    assert_eq!(
        degraded["service"][0]["profile"], "http://iiif.io/api/auth/1/clickthrough",
        "login stays on offer"
    );
    // an open asset has no degraded service
    assert_eq!(
        get(
            &app,
            &format!("/iiif/3/acme/{space}/open/degraded/info.json"),
            None,
            None
        )
        .await
        .status,
        404
    );

    // Presentation 3: the painted image carries the probe; the document stays valid
    let (status, manifest) = app
        .get_json(&format!("/iiif/manifest/3/acme/{space}/terms"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        manifest["@context"][0],
        "http://iiif.io/api/auth/2/context.json"
    );
    let services = &manifest["items"][0]["items"][0]["items"][0]["body"]["service"];
    let probe = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == "AuthProbeService2")
        .expect("probe");
    assert_eq!(
        probe["id"],
        app.url(&format!("/auth/2/probe/acme/{space}/terms"))
    );
    assert_eq!(probe["service"][0]["profile"], "active");
    assert_presentation_3(&manifest);
    // the canvas and its painting annotation, fetched on their own, name the auth context too
    for piece in ["canvas", "canvas/page/painting"] {
        let (status, document) = app
            .get_json(&format!("/iiif/manifest/3/acme/{space}/terms/{piece}"))
            .await;
        assert_eq!(status, 200, "{piece}");
        assert_eq!(
            document["@context"],
            json!([
                "http://iiif.io/api/auth/2/context.json",
                "http://iiif.io/api/presentation/3/context.json"
            ]),
            "{piece}"
        );
    }
    let (_, open) = app
        .get_json(&format!("/iiif/manifest/3/acme/{space}/open"))
        .await;
    assert_eq!(
        open["@context"],
        "http://iiif.io/api/presentation/3/context.json"
    );
    // Presentation 2.1: the image service carries the Auth 1.0 services
    let (_, manifest_2) = app
        .get_json(&format!("/iiif/manifest/2/acme/{space}/terms"))
        .await;
    let image_service =
        &manifest_2["sequences"][0]["canvases"][0]["images"][0]["resource"]["service"];
    assert_eq!(
        image_service["service"][0]["profile"],
        "http://iiif.io/api/auth/1/clickthrough"
    );
    app.stop().await;
}

#[tokio::test]
async fn media_files_and_foreign_or_forged_tokens_are_refused() {
    let Book { app, admin, space } = book().await;
    service(&app, &admin, json!({"name": "terms", "profile": "ACTIVE", "kind": "CLICKTHROUGH", "label": "Example Library"})).await;
    role(&app, &admin, "reader", "terms").await;
    let audio = app
        .register_file(
            &admin,
            "acme",
            space,
            "tape",
            "audio/mpeg",
            &media_fixture("audio-cbr.mp3"),
        )
        .await;
    assert_eq!(audio["status"], "READY", "{audio}");
    restrict(&app, &admin, space, "tape", &["reader"], 500).await;
    let media = audio["mediaUrl"].as_str().unwrap().to_owned();
    let media_path = media.trim_start_matches(&app.url(""));
    assert_eq!(
        get(&app, media_path, None, None).await.status,
        401,
        "open sizes do not open recordings"
    );
    let probe_path = format!("/auth/2/probe/acme/{space}/tape");
    let probe = get(&app, &probe_path, None, None).await.json();
    assert_eq!(probe["status"], 401);
    assert!(probe.get("substitute").is_none());
    let cookie = pair(
        &pass_active_service(&app, "terms", &[])
            .await
            .set_cookie("vitrine-auth-acme")
            .unwrap(),
    );
    assert_eq!(get(&app, media_path, Some(&cookie), None).await.status, 200);
    let (message, _) = token(&app, Some(&cookie), VIEWER, "a").await;
    let access_token = message["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(
        get(&app, &probe_path, None, Some(&access_token))
            .await
            .json()["status"],
        200
    );

    // an asset whose role no service grants: 403, and no login is offered
    restrict(&app, &admin, space, "staff", &["nobody-grants-this"], -1).await;
    assert_eq!(
        get(
            &app,
            &format!("/iiif/3/acme/{space}/staff/full/100,/0/default.jpg"),
            Some(&cookie),
            None
        )
        .await
        .status,
        403
    );
    assert_eq!(
        get(
            &app,
            &format!("/auth/2/probe/acme/{space}/staff"),
            None,
            None
        )
        .await
        .json()["status"],
        403
    );

    // forged tokens: unsigned, re-signed claims, and tampered payloads
    let [header, payload, signature]: [&str; 3] = access_token
        .split('.')
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sid"] = json!(claims["sid"].as_i64().unwrap() + 1);
    let tampered = URL_SAFE_NO_PAD.encode(claims.to_string());
    for forged in [
        format!("{none_header}.{payload}."),
        format!("{header}.{tampered}.{signature}"),
        format!(
            "{header}.{payload}.{}",
            URL_SAFE_NO_PAD.encode(b"not the signature")
        ),
        "garbage".to_owned(),
    ] {
        assert_eq!(
            get(&app, &probe_path, None, Some(&forged)).await.json()["status"],
            401,
            "{forged}"
        );
    }
    // another customer's session token does not open acme's assets
    let rival = app.customer_with_key("rival").await;
    ok(&app, &rival, "mutation { createAuthService(customer: \"rival\", input: {name: \"terms\", profile: ACTIVE, kind: CLICKTHROUGH, label: \"Rival\"}) { name } }", json!({})).await;
    let page = get(
        &app,
        &format!("/auth/2/rival/access/terms?origin={VIEWER}"),
        None,
        None,
    )
    .await;
    let csrf_cookie = pair(&page.set_cookie("vitrine-csrf").unwrap());
    let csrf = field(&page.text, "csrf");
    let rival_session = post_form(
        &app,
        "/auth/2/rival/access/terms",
        Some(&csrf_cookie),
        &[("csrf", &csrf), ("origin", VIEWER)],
    )
    .await;
    let rival_cookie = pair(
        &rival_session
            .set_cookie("vitrine-auth-rival")
            .expect("rival cookie"),
    );
    let rival_page = get(
        &app,
        &format!("/auth/2/rival/token?messageId=r&origin={VIEWER}"),
        Some(&rival_cookie),
        None,
    )
    .await;
    let rival_token = posted(&rival_page.text).0["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        get(&app, &probe_path, None, Some(&rival_token))
            .await
            .json()["status"],
        401
    );
    // and rival's cookie, renamed to acme's, is not an acme session
    let renamed = rival_cookie.replace("vitrine-auth-rival", "vitrine-auth-acme");
    assert_eq!(
        get(&app, media_path, Some(&renamed), None).await.status,
        401
    );
    app.stop().await;
}

#[tokio::test]
async fn nothing_unvalidated_is_reflected_into_html() {
    let Book { app, admin, .. } = book().await;
    service(
        &app,
        &admin,
        json!({"name": "terms", "profile": "ACTIVE", "kind": "CLICKTHROUGH",
        "label": "<b>Library</b>", "note": "<script>alert('note')</script>"}),
    )
    .await;
    let attack = "%3C%2Fscript%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let page = get(
        &app,
        &format!("/auth/2/acme/token?messageId={attack}&origin=https://a.example"),
        None,
        None,
    )
    .await;
    assert!(!page.text.contains("<script>alert"), "{}", page.text);
    let (message, _) = posted(&page.text);
    assert_eq!(
        message["messageId"], "</script><script>alert(1)</script>",
        "echoed intact, as data"
    );
    let bad_origin = get(
        &app,
        &format!("/auth/2/acme/token?messageId=x&origin={attack}"),
        None,
        None,
    )
    .await;
    assert!(!bad_origin.text.contains("<script>alert"));
    assert_eq!(posted(&bad_origin.text).0["profile"], "invalidOrigin");
    let access = get(
        &app,
        &format!("/auth/2/acme/access/terms?origin={attack}"),
        None,
        None,
    )
    .await;
    assert_eq!(access.status, 400);
    assert!(!access.text.contains("<script>alert"));
    let form = get(
        &app,
        &format!("/auth/2/acme/access/terms?origin={VIEWER}"),
        None,
        None,
    )
    .await;
    assert!(
        form.text
            .contains("&lt;script&gt;alert(&#39;note&#39;)&lt;/script&gt;")
    );
    assert!(!form.text.contains("<script>alert"));
    assert!(
        form.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'nonce-")
    );
    let (message, _) = token(&app, None, VIEWER, "").await;
    assert_eq!(
        message["profile"], "invalidRequest",
        "messageId is required"
    );
    assert_eq!(
        get(&app, "/auth/2/acme/access/nope", None, None)
            .await
            .status,
        404
    );
    assert_eq!(
        get(&app, "/auth/2/ghost/logout/terms", None, None)
            .await
            .status,
        404
    );
    app.stop().await;
}

/// A server allowing `max_failures` failed checks, with customer acme (its key returned), a
/// login service "staff", a role "staff" and a viewer "ana" holding it.
async fn app_with_a_staff_viewer(max_failures: u32) -> (TestApp, Auth) {
    let app = TestApp::builder()
        .config(move |config| {
            config.auth_max_failures = max_failures;
        })
        .start()
        .await;
    let admin = app.customer_with_key("acme").await;
    service(
        &app,
        &admin,
        json!({"name": "staff", "profile": "ACTIVE", "kind": "LOGIN", "label": "Staff"}),
    )
    .await;
    role(&app, &admin, "staff", "staff").await;
    ok(&app, &admin, "mutation { createViewer(customer: \"acme\", input: {username: \"ana\", password: \"correct horse\", roles: [\"staff\"]}) { username } }", json!({})).await;
    (app, admin)
}

#[tokio::test]
async fn failed_logins_and_api_keys_are_throttled() {
    let (app, admin) = app_with_a_staff_viewer(3).await;
    for _ in 0..3 {
        let wrong = pass_active_service(
            &app,
            "staff",
            &[("username", "ana"), ("password", "nope nope")],
        )
        .await;
        assert_eq!(wrong.status, 401);
    }
    let throttled = pass_active_service(
        &app,
        "staff",
        &[("username", "ana"), ("password", "correct horse")],
    )
    .await;
    assert_eq!(throttled.status, 429, "even the right password waits");
    assert!(throttled.headers.get("retry-after").is_some());
    assert!(throttled.set_cookie("vitrine-auth-acme").is_none());

    // API keys: wrong secrets for a key, then even the right one is refused for a while
    let Auth::Basic { key, secret } = &admin else {
        panic!("basic")
    };
    for _ in 0..3 {
        let response = app
            .graphql(
                &Auth::basic(key, "wrong-secret"),
                "{ customers { totalCount } }",
                json!({}),
            )
            .await;
        assert_eq!(response.error_code().as_deref(), Some("UNAUTHENTICATED"));
    }
    let response = app
        .graphql(
            &Auth::basic(key, secret),
            "{ customers { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(response.error_code().as_deref(), Some("TOO_MANY_ATTEMPTS"));
    let login = app
        .graphql(
            &Auth::None,
            "mutation($k: String!, $s: String!) { login(key: $k, secret: $s) }",
            json!({"k": key, "s": secret}),
        )
        .await;
    assert_eq!(login.error_code().as_deref(), Some("TOO_MANY_ATTEMPTS"));
    app.stop().await;
}

#[tokio::test]
async fn auth_services_roles_and_viewers_are_checked() {
    let app = TestApp::start().await;
    let admin = app.customer_with_key("acme").await;
    let create = "mutation($i: AuthServiceInput!) { createAuthService(customer: \"acme\", input: $i) { name } }";
    let cases = [
        (
            json!({"name": "a", "profile": "ACTIVE", "label": "L"}),
            "INVALID_INPUT",
        ),
        (
            json!({"name": "a", "profile": "KIOSK", "label": "L"}),
            "INVALID_INPUT",
        ),
        (
            json!({"name": "a", "profile": "KIOSK", "label": "L", "ipRanges": ["10.0.0.0/33"]}),
            "INVALID_INPUT",
        ),
        (
            json!({"name": "a", "profile": "EXTERNAL", "label": "L"}),
            "INVALID_INPUT",
        ),
        (
            json!({"name": "a", "profile": "EXTERNAL", "label": "L", "trustedCookie": "a b"}),
            "INVALID_INPUT",
        ),
        (
            json!({"name": "A B", "profile": "ACTIVE", "kind": "LOGIN", "label": "L"}),
            "INVALID_NAME",
        ),
        (
            json!({"name": "a", "profile": "ACTIVE", "kind": "LOGIN", "label": ""}),
            "INVALID_NAME",
        ),
        (
            json!({"name": "a", "profile": "ACTIVE", "kind": "LOGIN", "label": "L", "sessionTtl": 1}),
            "INVALID_INPUT",
        ),
    ];
    for (input, code) in cases {
        let response = app.graphql(&admin, create, json!({ "i": input })).await;
        assert_eq!(response.error_code().as_deref(), Some(code), "{input}");
    }
    service(
        &app,
        &admin,
        json!({"name": "staff", "profile": "ACTIVE", "kind": "LOGIN", "label": "Staff"}),
    )
    .await;
    let again = app
        .graphql(
            &admin,
            create,
            json!({"i": {"name": "staff", "profile": "ACTIVE", "kind": "LOGIN", "label": "Staff"}}),
        )
        .await;
    assert_eq!(again.error_code().as_deref(), Some("CONFLICT"));
    let missing_service = app.graphql(&admin, "mutation { createRole(customer: \"acme\", input: {name: \"r\", authService: \"ghost\"}) { name } }", json!({})).await;
    assert_eq!(missing_service.error_code().as_deref(), Some("NOT_FOUND"));
    role(&app, &admin, "staff", "staff").await;
    let short = app.graphql(&admin, "mutation { createViewer(customer: \"acme\", input: {username: \"ana\", password: \"short\", roles: []}) { username } }", json!({})).await;
    assert_eq!(short.error_code().as_deref(), Some("INVALID_INPUT"));
    let unknown_role = app.graphql(&admin, "mutation { createViewer(customer: \"acme\", input: {username: \"ana\", password: \"long enough\", roles: [\"ghost\"]}) { username } }", json!({})).await;
    assert_eq!(unknown_role.error_code().as_deref(), Some("INVALID_INPUT"));
    ok(&app, &admin, "mutation { createViewer(customer: \"acme\", input: {username: \"ana\", password: \"long enough\", roles: [\"staff\"]}) { username } }", json!({})).await;
    // in use: a service that grants a role, a role a viewer holds
    let in_use = app
        .graphql(
            &admin,
            "mutation { deleteAuthService(customer: \"acme\", name: \"staff\") }",
            json!({}),
        )
        .await;
    assert_eq!(in_use.error_code().as_deref(), Some("CONFLICT"));
    let held = app
        .graphql(
            &admin,
            "mutation { deleteRole(customer: \"acme\", name: \"staff\") }",
            json!({}),
        )
        .await;
    assert_eq!(held.error_code().as_deref(), Some("CONFLICT"));
    // kind and profile checks apply to updates too
    let kiosk_field = app.graphql(&admin, "mutation { updateAuthService(customer: \"acme\", name: \"staff\", input: {ipRanges: [\"10.0.0.0/8\"]}) { name } }", json!({})).await;
    assert_eq!(kiosk_field.error_code().as_deref(), Some("INVALID_INPUT"));
    let listed = ok(&app, &admin, "{ customer(name: \"acme\") { authServices { name profile kind label sessionTtl } roles { name authService } viewers { username roles } } }", json!({})).await;
    assert_eq!(
        listed["customer"]["authServices"],
        json!([{"name": "staff", "profile": "ACTIVE", "kind": "LOGIN", "label": "Staff", "sessionTtl": 3600}])
    );
    assert_eq!(
        listed["customer"]["roles"],
        json!([{"name": "staff", "authService": "staff"}])
    );
    assert_eq!(
        listed["customer"]["viewers"],
        json!([{"username": "ana", "roles": ["staff"]}])
    );
    app.stop().await;
}

#[tokio::test]
async fn external_services_trust_upstream_headers_only_from_trusted_proxies() {
    let app = TestApp::builder()
        .public_url("https://iiif.example.org")
        .config(|config| {
            config.auth_trusted_proxies = auth::IpRanges::parse(&["127.0.0.0/8", "::1"]).unwrap();
        })
        .start()
        .await;
    let admin = app.customer_with_key("acme").await;
    let space = app.create_space(&admin, "acme", "sso").await;
    app.register_image(&admin, "acme", space, "page", &grid_png(600, 400))
        .await;
    service(&app, &admin, json!({"name": "sso", "profile": "EXTERNAL", "label": "Campus sign-in", "trustedHeader": "X-Remote-User"})).await;
    service(
        &app,
        &admin,
        json!({"name": "terms", "profile": "ACTIVE", "kind": "CLICKTHROUGH", "label": "Terms"}),
    )
    .await;
    role(&app, &admin, "campus", "sso").await;
    role(&app, &admin, "reader", "terms").await;
    restrict(&app, &admin, space, "page", &["campus", "reader"], -1).await;
    let tile = app.url(&format!(
        "/iiif/3/acme/{space}/page/0,0,256,256/256,/0/default.jpg"
    ));

    // the info.json lists the external service first, without an access page
    let info = get(
        &app,
        &format!("/iiif/3/acme/{space}/page/info.json"),
        None,
        None,
    )
    .await
    .json();
    let offered = &info["service"][0]["service"];
    assert_eq!(offered[0]["profile"], "external");
    assert!(offered[0].get("id").is_none());
    assert_eq!(
        offered[1]["id"],
        "https://iiif.example.org/auth/2/acme/access/terms"
    );

    let with_header = client()
        .get(&tile)
        .header("x-remote-user", "ana")
        .send()
        .await
        .unwrap();
    assert_eq!(with_header.status(), 200);
    assert_eq!(
        get(
            &app,
            &format!("/iiif/3/acme/{space}/page/0,0,256,256/256,/0/default.jpg"),
            None,
            None
        )
        .await
        .status,
        401
    );
    // the token service turns the upstream aspect into a token for the probe
    let page = client()
        .get(app.url(&format!("/auth/2/acme/token?messageId=e&origin={VIEWER}")))
        .header("x-remote-user", "ana")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (message, _) = posted(&page);
    let access_token = message["accessToken"].as_str().expect("token").to_owned();
    let probe = get(
        &app,
        &format!("/auth/2/probe/acme/{space}/page"),
        None,
        Some(&access_token),
    )
    .await;
    assert_eq!(probe.json()["status"], 200);
    // an external service has no access page
    assert_eq!(
        get(&app, "/auth/2/acme/access/sso", None, None)
            .await
            .status,
        404
    );

    // on https the session cookie is SameSite=None and Secure, so viewers elsewhere send it
    let session = pass_active_service(&app, "terms", &[]).await;
    let cookie = session
        .set_cookie("vitrine-auth-acme")
        .expect("session cookie");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=None")
            && cookie.contains("Secure"),
        "{cookie}"
    );
    app.stop().await;

    // without trusted proxies, the same header from the same client counts for nothing
    let app = TestApp::start().await;
    let admin = app.customer_with_key("acme").await;
    let space = app.create_space(&admin, "acme", "sso").await;
    app.register_image(&admin, "acme", space, "page", &grid_png(600, 400))
        .await;
    service(&app, &admin, json!({"name": "sso", "profile": "EXTERNAL", "label": "Campus sign-in", "trustedHeader": "X-Remote-User"})).await;
    role(&app, &admin, "campus", "sso").await;
    restrict(&app, &admin, space, "page", &["campus"], -1).await;
    let tile = app.url(&format!(
        "/iiif/3/acme/{space}/page/0,0,256,256/256,/0/default.jpg"
    ));
    let spoofed = client()
        .get(&tile)
        .header("x-remote-user", "ana")
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), 401);
    app.stop().await;
}

/// Submits an access service's form opened from `origin`, with the visitor's session cookie
/// if they have one.
async fn pass_from(
    app: &TestApp,
    service: &str,
    origin: &str,
    session: Option<&str>,
    form: &[(&str, &str)],
) -> Got {
    let access = app.url(&format!("/auth/2/acme/access/{service}"));
    visitor::pass_access_page(&access, origin, session, form).await
}

/// Issue 18, item 13: accepting a clickthrough from another origin, with a login session
/// open, gives that origin the clickthrough's roles only, never the login's.
#[tokio::test]
async fn roles_stay_with_the_origin_they_were_granted_for() {
    let Book { app, admin, space } = book().await;
    service(
        &app,
        &admin,
        json!({"name": "staff", "profile": "ACTIVE", "kind": "LOGIN", "label": "Staff"}),
    )
    .await;
    service(
        &app,
        &admin,
        json!({"name": "terms", "profile": "ACTIVE", "kind": "CLICKTHROUGH", "label": "Library"}),
    )
    .await;
    role(&app, &admin, "staff", "staff").await;
    role(&app, &admin, "reader", "terms").await;
    ok(&app, &admin, "mutation { createViewer(customer: \"acme\", input: {username: \"ana\", password: \"correct horse\", roles: [\"staff\"]}) { username } }", json!({})).await;
    restrict(&app, &admin, space, "staff", &["staff"], 0).await;
    restrict(&app, &admin, space, "terms", &["reader"], 0).await;

    let login = pass_from(
        &app,
        "staff",
        VIEWER,
        None,
        &[("username", "ana"), ("password", "correct horse")],
    )
    .await;
    assert_eq!(login.status, 200, "{}", login.text);
    let session = pair(&login.set_cookie("vitrine-auth-acme").expect("session"));
    // the same browser accepts a clickthrough that another site opened
    const OTHER: &str = "https://other.example";
    let accepted = pass_from(&app, "terms", OTHER, Some(&session), &[]).await;
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    let session = accepted
        .set_cookie("vitrine-auth-acme")
        .map_or(session, |cookie| pair(&cookie));

    let probe = |id: &'static str, token: String| {
        let app = &app;
        async move {
            get(
                app,
                &format!("/auth/2/probe/acme/{space}/{id}"),
                None,
                Some(&token),
            )
            .await
            .json()["status"]
                .clone()
        }
    };
    let (theirs, _) = token(&app, Some(&session), OTHER, "m-1").await;
    let theirs = theirs["accessToken"].as_str().expect("a token").to_owned();
    assert_eq!(probe("terms", theirs.clone()).await, 200);
    assert_eq!(
        probe("staff", theirs).await,
        401,
        "the other origin does not get the login's roles"
    );
    let (ours, _) = token(&app, Some(&session), VIEWER, "m-2").await;
    let ours = ours["accessToken"].as_str().expect("a token").to_owned();
    assert_eq!(probe("staff", ours.clone()).await, 200);
    assert_eq!(
        probe("terms", ours).await,
        401,
        "nor the login's origin the clickthrough's"
    );
    // an origin granted nothing gets no token at all
    let (none, _) = token(&app, Some(&session), "https://third.example", "m-3").await;
    assert_eq!(none["profile"], "invalidOrigin");
    app.stop().await;
}

/// Issue 18, item 14: the access form's token is bound server-side to the visitor's session
/// (a planted double-submit pair, or a token from the attacker's own page, is refused), posts
/// from another site are refused, and a cross-site logout link ends nothing.
#[tokio::test]
async fn forged_forms_and_cross_site_logouts_are_refused() {
    let Book { app, admin, .. } = book().await;
    service(
        &app,
        &admin,
        json!({"name": "terms", "profile": "ACTIVE", "kind": "CLICKTHROUGH", "label": "Library"}),
    )
    .await;
    role(&app, &admin, "reader", "terms").await;
    let path = "/auth/2/acme/access/terms";
    let planted = post_form(
        &app,
        path,
        Some("vitrine-csrf=planted"),
        &[("csrf", "planted"), ("origin", VIEWER)],
    )
    .await;
    assert_eq!(planted.status, 403, "a planted cookie and field that agree");
    assert!(planted.set_cookie("vitrine-auth-acme").is_none());

    let victim = pair(
        &pass_active_service(&app, "terms", &[])
            .await
            .set_cookie("vitrine-auth-acme")
            .expect("session"),
    );
    // the attacker's own page gives a nonce and token that agree, for no session
    let theirs = get(&app, path, None, None).await;
    let their_nonce = pair(&theirs.set_cookie("vitrine-csrf").unwrap());
    let their_token = field(&theirs.text, "csrf");
    let mixed = post_form(
        &app,
        path,
        Some(&format!("{their_nonce}; {victim}")),
        &[("csrf", &their_token), ("origin", VIEWER)],
    )
    .await;
    assert_eq!(mixed.status, 403, "a token made for another session");
    // the victim's own page, with their session, passes; from another site it does not
    let ours = get(&app, path, Some(&victim), None).await;
    let our_cookies = format!(
        "{}; {victim}",
        pair(&ours.set_cookie("vitrine-csrf").unwrap())
    );
    let our_form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrf", field(&ours.text, "csrf").as_str()),
            ("origin", VIEWER),
        ])
        .finish();
    for (site, origin, status) in [
        ("cross-site", "https://evil.example", 403),
        ("same-origin", app.base_url.as_str(), 200),
    ] {
        let response = client()
            .post(app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(COOKIE, &our_cookies)
            .header("sec-fetch-site", site)
            .header("origin", origin)
            .body(our_form.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{site}");
    }

    // logout: another site's link, image or frame ends nothing
    let logout = "/auth/2/acme/logout/terms";
    for site in ["cross-site", "same-site"] {
        let cross = get_from_site(&app, logout, &victim, site).await;
        assert_eq!(cross.status, 200);
        assert!(cross.set_cookie("vitrine-auth-acme").is_none(), "{site}");
        let (message, _) = token(&app, Some(&victim), VIEWER, "m-1").await;
        assert!(message.get("accessToken").is_some(), "{site}: {message}");
    }
    // a wrong token ends nothing either
    let wrong = get(&app, &format!("{logout}?csrf=guess"), Some(&victim), None).await;
    assert!(wrong.set_cookie("vitrine-auth-acme").is_none());
    // this site's own pages end it at once
    let same = get_from_site(&app, logout, &victim, "same-origin").await;
    assert!(
        same.set_cookie("vitrine-auth-acme")
            .unwrap()
            .contains("Max-Age=0")
    );
    let (message, _) = token(&app, Some(&victim), VIEWER, "m-2").await;
    assert_eq!(message["profile"], "invalidAspect");
    app.stop().await;
}

/// A client whose requests come from `address` (any of 127.0.0.0/8 is this machine).
fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(address.parse::<std::net::IpAddr>().expect("address"))
        .build()
        .expect("client")
}

/// A GraphQL request with a Basic credential from `client`; the error code, if any.
async fn graphql_code_from(
    app: &TestApp,
    client: &reqwest::Client,
    key: &str,
    secret: &str,
) -> Option<String> {
    let body: Value = client
        .post(app.url("/graphql"))
        .basic_auth(key, Some(secret))
        .json(&json!({"query": "{ customer(name: \"acme\") { name } }"}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned)
}

/// Submits a login form from `client`; the status and whether a session cookie was set.
async fn log_in_from(client: &reqwest::Client, app: &TestApp, password: &str) -> (u16, bool) {
    let page = client
        .get(app.url("/auth/2/acme/access/staff"))
        .send()
        .await
        .expect("GET");
    let csrf_cookie = pair(
        page.headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find(|value| value.starts_with("vitrine-csrf="))
            .expect("csrf cookie"),
    );
    let session_cookie = page
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("vitrine-auth-acme="))
        .map(pair);
    let html = page.text().await.expect("body");
    let cookies = match session_cookie {
        Some(session) => format!("{csrf_cookie}; {session}"),
        None => csrf_cookie,
    };
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrf", field(&html, "csrf").as_str()),
            ("username", "ana"),
            ("password", password),
        ])
        .finish();
    let response = client
        .post(app.url("/auth/2/acme/access/staff"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(COOKIE, cookies)
        .body(body)
        .send()
        .await
        .expect("POST");
    let session = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| {
            value.starts_with("vitrine-auth-acme=") && !value.starts_with("vitrine-auth-acme=;")
        });
    (response.status().as_u16(), session)
}

/// Issue 18, item 10: failures are throttled per (credential, client address). Guesses from
/// one address lock that address out, never the owner presenting the right secret from an
/// address that did not fail: the admin key, a customer key and a viewer account alike.
#[tokio::test]
async fn guesses_from_one_address_never_lock_the_owner_out_elsewhere() {
    let (app, admin) = app_with_a_staff_viewer(5).await;
    let attacker = client_from("127.0.0.2");
    let owner = client_from("127.0.0.3");

    let Auth::Basic { key, secret } = &admin else {
        panic!("basic")
    };
    for (key, secret, guesser) in [
        (key.as_str(), secret.as_str(), "127.0.0.4"),
        (
            vitrine_tests::ADMIN_KEY,
            vitrine_tests::ADMIN_SECRET,
            "127.0.0.5",
        ),
    ] {
        let attacker = client_from(guesser);
        for _ in 0..5 {
            assert_eq!(
                graphql_code_from(&app, &attacker, key, "wrong-secret")
                    .await
                    .as_deref(),
                Some("UNAUTHENTICATED")
            );
        }
        // the guessing address is throttled, even with the right secret
        assert_eq!(
            graphql_code_from(&app, &attacker, key, secret)
                .await
                .as_deref(),
            Some("TOO_MANY_ATTEMPTS"),
            "{key}"
        );
        // the owner, from an address that did not fail, is not
        assert_eq!(
            graphql_code_from(&app, &owner, key, secret).await,
            None,
            "{key}: the right secret from another address is accepted"
        );
    }

    for _ in 0..5 {
        assert_eq!(log_in_from(&attacker, &app, "nope nope").await.0, 401);
    }
    assert_eq!(
        log_in_from(&attacker, &app, "correct horse").await,
        (429, false)
    );
    assert_eq!(
        log_in_from(&owner, &app, "correct horse").await,
        (200, true)
    );
    assert_eq!(
        log_in_from(&attacker, &app, "correct horse").await.0,
        429,
        "the guessing address stays throttled"
    );
    app.stop().await;
}

#[tokio::test]
async fn restricted_text_is_searched_only_with_the_role() {
    let Book { app, admin, space } = book().await;
    service(
        &app,
        &admin,
        json!({"name": "terms", "profile": "ACTIVE", "kind": "CLICKTHROUGH", "label": "Library"}),
    )
    .await;
    role(&app, &admin, "reader", "terms").await;
    for (asset, text) in [
        ("terms", "secret marginalia"),
        ("open", "public marginalia"),
    ] {
        ok(&app, &admin, "mutation($s: Int!, $a: String!, $v: String!) { createAnnotation(customer: \"acme\", space: $s, asset: $a, input: {value: $v, motivation: \"supplementing\"}) { id } }", json!({"s": space, "a": asset, "v": text})).await;
    }
    // open sizes do not open the text
    restrict(&app, &admin, space, "terms", &["reader"], 500).await;
    ok(&app, &admin, "mutation { createNamedQuery(customer: \"acme\", input: {name: \"all\", template: \"space=p1\"}) { name } }", json!({})).await;

    let search = |path: String, cookie: Option<String>| {
        let app = &app;
        async move { get(app, &path, cookie.as_deref(), None).await.json() }
    };
    let asset_scope = format!("/iiif/search/2/acme/{space}/terms?q=marginalia");
    let book_scope = format!("/iiif/search/2/acme/query/all/{space}?q=marginalia");
    let complete = format!("/iiif/autocomplete/2/acme/query/all/{space}?q=secr");
    assert_eq!(
        search(asset_scope.clone(), None).await["partOf"]["total"],
        0
    );
    let book = search(book_scope.clone(), None).await;
    assert_eq!(book["partOf"]["total"], 1);
    assert_eq!(book["items"][0]["body"]["value"], "public marginalia");
    assert_eq!(search(complete.clone(), None).await["items"], json!([]));

    // the annotation page is the same text: refused without the role, private with it
    let page_path = format!("/iiif/annotations/3/acme/{space}/terms");
    assert_eq!(get(&app, &page_path, None, None).await.status, 401);
    assert_eq!(
        get(
            &app,
            &format!("/iiif/annotations/3/acme/{space}/open"),
            None,
            None
        )
        .await
        .status,
        200
    );
    let cookie = pair(
        &pass_active_service(&app, "terms", &[])
            .await
            .set_cookie("vitrine-auth-acme")
            .unwrap(),
    );
    let page = get(&app, &page_path, Some(&cookie), None).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["cache-control"], "private, max-age=300");
    assert_eq!(
        page.json()["items"][0]["body"]["value"],
        "secret marginalia"
    );
    // issue 18, item 16: answers given with roles are private, and vary on the credentials
    for path in [&asset_scope, &book_scope, &complete] {
        let with_role = get(&app, path, Some(&cookie), None).await;
        assert_eq!(with_role.headers["cache-control"], "private", "{path}");
        let anonymous = get(&app, path, None, None).await;
        assert_eq!(anonymous.headers["cache-control"], "no-cache", "{path}");
        for answer in [&with_role, &anonymous] {
            let vary = answer.headers["vary"]
                .to_str()
                .unwrap()
                .to_ascii_lowercase();
            assert!(
                vary.contains("authorization") && vary.contains("cookie"),
                "{path}: {vary}"
            );
        }
    }
    assert_eq!(
        search(asset_scope, Some(cookie.clone())).await["partOf"]["total"],
        1
    );
    assert_eq!(
        search(book_scope, Some(cookie.clone())).await["partOf"]["total"],
        2
    );
    assert_eq!(
        search(complete, Some(cookie)).await["items"][0]["value"],
        "secret"
    );
    app.stop().await;
}

#[tokio::test]
async fn every_rest_surface_follows_the_role_matrix() {
    let Book { app, admin, space } = book().await;
    service(
        &app,
        &admin,
        json!({"name": "terms", "profile": "ACTIVE", "kind": "CLICKTHROUGH", "label": "Library"}),
    )
    .await;
    service(
        &app,
        &admin,
        json!({"name": "other", "profile": "ACTIVE", "kind": "CLICKTHROUGH", "label": "Other"}),
    )
    .await;
    role(&app, &admin, "reader", "terms").await;
    role(&app, &admin, "visitor", "other").await;
    let audio = app
        .register_file(
            &admin,
            "acme",
            space,
            "tape",
            "audio/mpeg",
            &media_fixture("audio-cbr.mp3"),
        )
        .await;
    let media = audio["mediaUrl"]
        .as_str()
        .unwrap()
        .trim_start_matches(&app.url(""))
        .to_owned();
    for asset in ["terms", "tape"] {
        restrict(&app, &admin, space, asset, &["reader"], 0).await;
        ok(&app, &admin, "mutation($s: Int!, $a: String!) { createAnnotation(customer: \"acme\", space: $s, asset: $a, input: {value: \"findable words\", motivation: \"supplementing\"}) { id } }", json!({"s": space, "a": asset})).await;
    }
    // another customer's session, with the same role name
    let rival = app.customer_with_key("rival").await;
    ok(&app, &rival, "mutation { createAuthService(customer: \"rival\", input: {name: \"terms\", profile: ACTIVE, kind: CLICKTHROUGH, label: \"Rival\"}) { name } }", json!({})).await;
    ok(&app, &rival, "mutation { createRole(customer: \"rival\", input: {name: \"reader\", authService: \"terms\"}) { name } }", json!({})).await;
    let page = get(
        &app,
        &format!("/auth/2/rival/access/terms?origin={VIEWER}"),
        None,
        None,
    )
    .await;
    let csrf_cookie = pair(&page.set_cookie("vitrine-csrf").unwrap());
    let rival_form = post_form(
        &app,
        "/auth/2/rival/access/terms",
        Some(&csrf_cookie),
        &[("csrf", &field(&page.text, "csrf")), ("origin", VIEWER)],
    )
    .await;
    let rival_cookie = pair(&rival_form.set_cookie("vitrine-auth-rival").unwrap());
    let rival_token = posted(
        &get(
            &app,
            &format!("/auth/2/rival/token?messageId=r&origin={VIEWER}"),
            Some(&rival_cookie),
            None,
        )
        .await
        .text,
    )
    .0["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let session = |service: &'static str| {
        let app = &app;
        async move {
            let cookie = pair(
                &pass_active_service(app, service, &[])
                    .await
                    .set_cookie("vitrine-auth-acme")
                    .unwrap(),
            );
            let token = token(app, Some(&cookie), VIEWER, "t").await.0["accessToken"]
                .as_str()
                .unwrap()
                .to_owned();
            (Some(cookie), Some(token))
        }
    };
    let visitors: Vec<(&str, Credentials)> = vec![
        ("no session", (None, None)),
        (
            "other customer's session",
            (
                Some(rival_cookie.replace("-rival", "-acme")),
                Some(rival_token),
            ),
        ),
        ("wrong role", session("other").await),
        ("right role", session("terms").await),
    ];
    let image = format!("/iiif/3/acme/{space}/terms");
    for (who, (cookie, token)) in &visitors {
        let allowed = *who == "right role";
        let content = if allowed { 200 } else { 401 };
        let surfaces = [
            (format!("{image}/info.json"), 200),
            (format!("/iiif/2/acme/{space}/terms/info.json"), 200),
            (format!("{image}/0,0,512,512/256,/0/default.jpg"), content),
            (format!("{image}/full/max/0/default.jpg"), content),
            (format!("{image}/full/100,/0/default.jpg"), content),
            (
                format!("/iiif/2/acme/{space}/terms/full/100,/0/default.jpg"),
                content,
            ),
            (media.clone(), content),
            (format!("/iiif/manifest/3/acme/{space}/terms"), 200),
            (format!("/iiif/manifest/2/acme/{space}/terms"), 200),
        ];
        for (path, expected) in surfaces {
            // the 2.1 info.json is the 1.0 probe: decided from the token, 401 with the body
            let probe_1 = path.starts_with("/iiif/2/") && path.ends_with("info.json");
            let bearer = if probe_1 { token.as_deref() } else { None };
            let expected = if probe_1 { content } else { expected };
            let got = get(&app, &path, cookie.as_deref(), bearer).await;
            assert_eq!(got.status, expected, "{who}: {path}: {}", got.text);
        }
        for asset in ["terms", "tape"] {
            let probe = get(
                &app,
                &format!("/auth/2/probe/acme/{space}/{asset}"),
                None,
                token.as_deref(),
            )
            .await;
            assert_eq!(probe.status, 200);
            assert_eq!(probe.json()["status"], content, "{who}: probe of {asset}");
            let found = get(
                &app,
                &format!("/iiif/search/2/acme/{space}/{asset}?q=findable"),
                cookie.as_deref(),
                None,
            )
            .await
            .json();
            assert_eq!(
                found["partOf"]["total"],
                if allowed { 1 } else { 0 },
                "{who}: search of {asset}"
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn sessions_opened_without_an_origin_give_tokens_to_this_site_only() {
    let Book { app, admin, .. } = book().await;
    service(
        &app,
        &admin,
        json!({"name": "terms", "profile": "ACTIVE", "kind": "CLICKTHROUGH", "label": "Library"}),
    )
    .await;
    let page = get(&app, "/auth/2/acme/access/terms", None, None).await;
    let csrf_cookie = pair(&page.set_cookie("vitrine-csrf").unwrap());
    let accepted = post_form(
        &app,
        "/auth/2/acme/access/terms",
        Some(&csrf_cookie),
        &[("csrf", &field(&page.text, "csrf"))],
    )
    .await;
    let cookie = pair(&accepted.set_cookie("vitrine-auth-acme").unwrap());
    let own = app.url("");
    let own = own.trim_end_matches('/');
    let (message, _) = token(&app, Some(&cookie), own, "own").await;
    assert_eq!(message["type"], "AuthAccessToken2", "{message}");
    let (refused, _) = token(&app, Some(&cookie), VIEWER, "other").await;
    assert_eq!(refused["profile"], "invalidOrigin");
    app.stop().await;
}
