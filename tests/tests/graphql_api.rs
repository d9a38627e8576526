//! The management API over real HTTP: a server on an ephemeral port, spoken to as a client
//! would. Covers the tenancy matrix of every operation, the error codes of bad input, the
//! credentials, paging, and the query limits.

use serde_json::{Value, json};
use vitrine_tests::images::grid_png;
use vitrine_tests::{ADMIN_KEY, ADMIN_SECRET, Auth, TestApp};

const CUSTOMER_FIELDS: &str = "name displayName created";

/// One management operation, the variables it needs, and whether only admins may call it.
struct Operation {
    name: &'static str,
    document: &'static str,
    admin_only: bool,
}

const OPERATIONS: &[Operation] = &[
    Operation {
        name: "createCustomer",
        document: "mutation($new: String!) { createCustomer(input: {name: $new}) { name } }",
        admin_only: true,
    },
    Operation {
        name: "customers",
        document: "{ customers { totalCount } }",
        admin_only: true,
    },
    Operation {
        name: "customer",
        document: "query($c: String!) { customer(name: $c) { name } }",
        admin_only: false,
    },
    Operation {
        name: "customer.spaces",
        document: "query($c: String!) { customer(name: $c) { spaces { totalCount } } }",
        admin_only: false,
    },
    Operation {
        name: "customer.apiKeys",
        document: "query($c: String!) { customer(name: $c) { apiKeys { key } } }",
        admin_only: false,
    },
    Operation {
        name: "createApiKey",
        document: "mutation($c: String!) { createApiKey(customer: $c) { key secret } }",
        admin_only: false,
    },
    Operation {
        name: "deleteApiKey",
        document: "mutation($c: String!, $key: String!) { deleteApiKey(customer: $c, key: $key) }",
        admin_only: false,
    },
    Operation {
        name: "createSpace",
        document: "mutation($c: String!, $new: String!) { createSpace(customer: $c, input: {name: $new}) { id } }",
        admin_only: false,
    },
    Operation {
        name: "updateSpace",
        document: "mutation($c: String!, $s: Int!, $new: String!) { updateSpace(customer: $c, id: $s, patch: {name: $new}) { id } }",
        admin_only: false,
    },
    Operation {
        name: "deleteSpace",
        document: "mutation($c: String!, $empty: Int!) { deleteSpace(customer: $c, id: $empty) }",
        admin_only: false,
    },
    Operation {
        name: "space",
        document: "query($c: String!, $s: Int!) { space(customer: $c, id: $s) { id name } }",
        admin_only: false,
    },
    Operation {
        name: "space.assets",
        document: "query($c: String!, $s: Int!) { space(customer: $c, id: $s) { assets { totalCount } } }",
        admin_only: false,
    },
    Operation {
        name: "registerAsset",
        document: "mutation($c: String!, $s: Int!, $new: String!) { registerAsset(customer: $c, space: $s, input: {id: $new, mediaType: \"image/jpeg\", origin: \"https://example.org/x.jpg\"}) { id } }",
        admin_only: false,
    },
    Operation {
        name: "updateAsset",
        document: "mutation($c: String!, $s: Int!, $a: String!) { updateAsset(customer: $c, space: $s, id: $a, patch: {string1: \"changed\"}) { id } }",
        admin_only: false,
    },
    Operation {
        name: "deleteAsset",
        document: "mutation($c: String!, $s: Int!, $a: String!) { deleteAsset(customer: $c, space: $s, id: $a) }",
        admin_only: false,
    },
    Operation {
        name: "asset",
        document: "query($c: String!, $s: Int!, $a: String!) { asset(customer: $c, space: $s, id: $a) { id } }",
        admin_only: false,
    },
    Operation {
        name: "reingestAsset",
        document: "mutation($c: String!, $s: Int!, $a: String!) { reingestAsset(customer: $c, space: $s, id: $a) { id } }",
        admin_only: false,
    },
    Operation {
        name: "createBatch",
        document: "mutation($c: String!, $s: Int!, $new: String!) { createBatch(customer: $c, members: [{space: $s, id: $new, mediaType: \"image/jpeg\", origin: \"https://example.org/x.jpg\"}]) { id } }",
        admin_only: false,
    },
    Operation {
        name: "importCsv",
        document: "mutation($c: String!, $new: String!) { importCsv(customer: $c, content: $new) { totalRows } }",
        admin_only: false,
    },
    Operation {
        name: "csvImport",
        document: "query($c: String!, $staged: String!) { csvImport(customer: $c, id: $staged) { totalRows rows { totalCount } } }",
        admin_only: false,
    },
    Operation {
        name: "confirmCsvImport",
        document: "mutation($c: String!, $staged: String!) { confirmCsvImport(customer: $c, id: $staged) { batch { id } } }",
        admin_only: false,
    },
    Operation {
        name: "customer.batches",
        document: "query($c: String!) { customer(name: $c) { batches { totalCount } } }",
        admin_only: false,
    },
    Operation {
        name: "createOriginRule",
        document: "mutation($c: String!, $new: String!) { createOriginRule(customer: $c, input: {pattern: $new, username: \"u\", password: \"p\"}) { id } }",
        admin_only: false,
    },
    Operation {
        name: "customer.originRules",
        document: "query($c: String!) { customer(name: $c) { originRules { id } } }",
        admin_only: false,
    },
    Operation {
        name: "updateCustomer",
        document: "mutation($c: String!, $new: String!) { updateCustomer(name: $c, patch: {displayName: $new, rights: \"http://creativecommons.org/licenses/by/4.0/\"}) { name } }",
        admin_only: false,
    },
    Operation {
        name: "createNamedQuery",
        document: "mutation($c: String!, $new: String!) { createNamedQuery(customer: $c, input: {name: $new, template: \"s1=p1\"}) { name } }",
        admin_only: false,
    },
    Operation {
        name: "updateNamedQuery",
        document: "mutation($c: String!, $q: String!) { updateNamedQuery(customer: $c, name: $q, input: {template: \"s2=p1\"}) { name } }",
        admin_only: false,
    },
    Operation {
        name: "deleteNamedQuery",
        document: "mutation($c: String!, $q: String!) { deleteNamedQuery(customer: $c, name: $q) }",
        admin_only: false,
    },
    Operation {
        name: "namedQuery.preview",
        document: "query($c: String!, $q: String!) { namedQuery(customer: $c, name: $q) { name preview(parameters: [\"b\"]) { id } } }",
        admin_only: false,
    },
    Operation {
        name: "createAnnotation",
        document: "mutation($c: String!, $s: Int!, $a: String!) { createAnnotation(customer: $c, space: $s, asset: $a, input: {value: \"x\"}) { id } }",
        admin_only: false,
    },
    Operation {
        name: "importAnnotations",
        document: r#"mutation($c: String!, $s: Int!, $a: String!) { importAnnotations(customer: $c, space: $s, asset: $a, format: W3C, content: "[{\"body\": {\"value\": \"imported\"}}]") { count } }"#,
        admin_only: false,
    },
    Operation {
        name: "updateAnnotation",
        document: "mutation($c: String!, $n: Int!) { updateAnnotation(customer: $c, id: $n, patch: {value: \"changed\"}) { id } }",
        admin_only: false,
    },
    Operation {
        name: "deleteAnnotation",
        document: "mutation($c: String!, $n: Int!) { deleteAnnotation(customer: $c, id: $n) }",
        admin_only: false,
    },
    Operation {
        name: "asset.annotations",
        document: "query($c: String!, $s: Int!, $a: String!) { asset(customer: $c, space: $s, id: $a) { annotations { totalCount } } }",
        admin_only: false,
    },
    Operation {
        name: "customer.namedQueries",
        document: "query($c: String!) { customer(name: $c) { namedQueries { name } } }",
        admin_only: false,
    },
    Operation {
        name: "createAuthService",
        document: "mutation($c: String!, $new: String!) { createAuthService(customer: $c, input: {name: $new, profile: KIOSK, label: \"Reading room\", ipRanges: [\"10.0.0.0/8\"]}) { name } }",
        admin_only: false,
    },
    Operation {
        name: "updateAuthService",
        document: "mutation($c: String!, $svc: String!) { updateAuthService(customer: $c, name: $svc, input: {label: \"Changed\", note: null}) { label } }",
        admin_only: false,
    },
    Operation {
        name: "deleteAuthService",
        document: "mutation($c: String!, $spare: String!) { deleteAuthService(customer: $c, name: $spare) }",
        admin_only: false,
    },
    Operation {
        name: "createRole",
        document: "mutation($c: String!, $new: String!, $svc: String!) { createRole(customer: $c, input: {name: $new, authService: $svc}) { name } }",
        admin_only: false,
    },
    Operation {
        name: "updateRole",
        document: "mutation($c: String!, $role: String!, $spare: String!) { updateRole(customer: $c, name: $role, input: {label: \"Readers\", authService: $spare}) { authService } }",
        admin_only: false,
    },
    Operation {
        name: "deleteRole",
        document: "mutation($c: String!, $free: String!) { deleteRole(customer: $c, name: $free) }",
        admin_only: false,
    },
    Operation {
        name: "createViewer",
        document: "mutation($c: String!, $new: String!, $role: String!) { createViewer(customer: $c, input: {username: $new, password: \"a long password\", roles: [$role]}) { username } }",
        admin_only: false,
    },
    Operation {
        name: "updateViewer",
        document: "mutation($c: String!, $viewer: String!) { updateViewer(customer: $c, username: $viewer, input: {password: \"another password\", roles: []}) { roles } }",
        admin_only: false,
    },
    Operation {
        name: "deleteViewer",
        document: "mutation($c: String!, $viewer: String!) { deleteViewer(customer: $c, username: $viewer) }",
        admin_only: false,
    },
    Operation {
        name: "customer.authServices",
        document: "query($c: String!) { customer(name: $c) { authServices { name } roles { name } viewers { username } } }",
        admin_only: false,
    },
];

/// Resources made fresh for each call, so that destructive operations have a target.
async fn fixture(app: &TestApp, round: usize) -> Value {
    let admin = Auth::admin();
    let empty = app
        .graphql(
            &admin,
            "mutation($n: String!) { createSpace(customer: \"acme\", input: {name: $n}) { id } }",
            json!({ "n": format!("empty {round}") }),
        )
        .await;
    let asset = format!("target-{round}");
    app.graphql(
        &admin,
        "mutation($a: String!) { registerAsset(customer: \"acme\", space: 1, input: {id: $a, mediaType: \"image/jpeg\", origin: \"https://example.org/a.jpg\"}) { id } }",
        json!({ "a": asset }),
    )
    .await
    .data();
    let key = app
        .graphql(
            &admin,
            "mutation { createApiKey(customer: \"acme\") { key } }",
            json!({}),
        )
        .await;
    let query = format!("query-{round}");
    app.graphql(
        &admin,
        "mutation($q: String!) { createNamedQuery(customer: \"acme\", input: {name: $q, template: \"s1=p1\"}) { name } }",
        json!({ "q": query }),
    )
    .await
    .data();
    let note = app
        .graphql(
            &admin,
            "mutation($a: String!) { createAnnotation(customer: \"acme\", space: 1, asset: $a, input: {value: \"note\"}) { id } }",
            json!({ "a": asset }),
        )
        .await;
    let service = format!("svc-{round}");
    let spare = format!("spare-{round}");
    let role = format!("role-{round}");
    let free = format!("free-{round}");
    let viewer = format!("viewer-{round}");
    for (name, profile) in [(&service, "kind: CLICKTHROUGH"), (&spare, "kind: LOGIN")] {
        app.graphql(
            &admin,
            &format!("mutation($n: String!) {{ createAuthService(customer: \"acme\", input: {{name: $n, profile: ACTIVE, {profile}, label: \"Library\", note: \"n\"}}) {{ name }} }}"),
            json!({ "n": name }),
        )
        .await
        .data();
    }
    for name in [&role, &free] {
        app.graphql(
            &admin,
            "mutation($n: String!, $s: String!) { createRole(customer: \"acme\", input: {name: $n, authService: $s}) { name } }",
            json!({ "n": name, "s": service }),
        )
        .await
        .data();
    }
    app.graphql(
        &admin,
        "mutation($n: String!, $r: String!) { createViewer(customer: \"acme\", input: {username: $n, password: \"first password\", roles: [$r]}) { username } }",
        json!({ "n": viewer, "r": role }),
    )
    .await
    .data();
    let staged = stage_csv_as_admin(app, round).await;
    json!({
        "staged": staged,
        "svc": service,
        "spare": spare,
        "role": role,
        "free": free,
        "viewer": viewer,
        "c": "acme",
        "s": 1,
        "q": query,
        "n": note.data()["createAnnotation"]["id"],
        "empty": empty.data()["createSpace"]["id"],
        "a": asset,
        "key": key.data()["createApiKey"]["key"],
        "new": format!("new-{round}"),
    })
}

/// Stages a one-row CSV for acme (uploads are multipart, so not through `graphql`).
async fn stage_csv_as_admin(app: &TestApp, round: usize) -> Value {
    let csv = format!(
        "Line,ID,MediaType,Space,Origin\n1,staged-{round},image/jpeg,1,https://example.org/s.jpg\n"
    );
    let operations = json!({
        "query": "mutation($file: Upload!) { stageCsvImport(customer: \"acme\", file: $file) { id } }",
        "variables": { "file": null },
    });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", r#"{"0": ["variables.file"]}"#)
        .part(
            "0",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("staged.csv"),
        );
    let response = app
        .client
        .post(app.url("/graphql"))
        .basic_auth(vitrine_tests::ADMIN_KEY, Some(vitrine_tests::ADMIN_SECRET))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    body["data"]["stageCsvImport"]["id"].clone()
}

/// What the acme customer holds, to prove refused calls changed nothing.
async fn acme_state(app: &TestApp) -> Value {
    app.graphql(
        &Auth::admin(),
        "{ customers { totalCount } customer(name: \"acme\") { displayName presentation { rights } namedQueries { name template } apiKeys { key } authServices { name label note ipRanges } roles { name label authService } viewers { username roles } spaces { totalCount edges { node { name } } } } space(customer: \"acme\", id: 1) { assets { totalCount edges { node { id string1 annotations(first: 10) { totalCount edges { node { id value } } } } } } } }",
        json!({}),
    )
    .await
    .data()
    .clone()
}

#[tokio::test]
async fn every_operation_follows_the_tenancy_matrix() {
    let app = TestApp::start().await;
    let own = app.customer_with_key("acme").await;
    let other = app.customer_with_key("rival").await;
    app.create_space(&own, "acme", "main").await;

    let mut round = 0;
    for operation in OPERATIONS {
        for (who, auth) in [
            ("nobody", Auth::None),
            ("other customer", other.clone()),
            ("own key", own.clone()),
            ("admin", Auth::admin()),
        ] {
            round += 1;
            let variables = fixture(&app, round).await;
            let before = acme_state(&app).await;
            let response = app.graphql(&auth, operation.document, variables).await;
            assert_eq!(response.status, 200);
            let expected = match who {
                "nobody" => Some("UNAUTHENTICATED"),
                "other customer" => Some("FORBIDDEN"),
                "own key" if operation.admin_only => Some("FORBIDDEN"),
                _ => None,
            };
            assert_eq!(
                response.error_code().as_deref(),
                expected,
                "{} as {who}: {:#}",
                operation.name,
                response.body
            );
            if expected.is_some() {
                assert_eq!(
                    acme_state(&app).await,
                    before,
                    "{} as {who} changed something",
                    operation.name
                );
                assert!(
                    response.body["data"].is_null()
                        || response.body["data"]
                            .as_object()
                            .is_some_and(|d| d.values().all(Value::is_null))
                );
            }
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_input_gets_stable_codes_and_writes_nothing() {
    let app = TestApp::start().await;
    let acme = app.customer_with_key("acme").await;
    app.create_space(&acme, "acme", "main").await;
    let register = "mutation($c: String!, $s: Int!, $input: AssetInput!) { registerAsset(customer: $c, space: $s, input: $input) { id } }";
    let good =
        json!({ "id": "ok", "mediaType": "image/jpeg", "origin": "https://example.org/ok.jpg" });
    let with = |field: &str, value: Value| {
        let mut input = good.clone();
        input[field] = value;
        json!({ "c": "acme", "s": 1, "input": input })
    };
    let cases = [
        (with("id", json!("")), "INVALID_ID"),
        (with("id", json!("x".repeat(256))), "INVALID_ID"),
        (with("id", json!("a/b")), "INVALID_ID"),
        (with("id", json!("ctrl\u{1}")), "INVALID_ID"),
        (with("id", json!(" lead")), "INVALID_ID"),
        (with("id", json!("trail ")), "INVALID_ID"),
        (with("mediaType", json!("jpeg")), "INVALID_MEDIA_TYPE"),
        (with("origin", json!("relative/x.jpg")), "INVALID_ORIGIN"),
        (
            with("origin", json!("ftp://example.org/x.jpg")),
            "INVALID_ORIGIN",
        ),
        (with("maxUnauthorised", json!(-3)), "INVALID_INPUT"),
        (json!({ "c": "ghost", "s": 1, "input": good }), "NOT_FOUND"),
        (json!({ "c": "acme", "s": 7, "input": good }), "NOT_FOUND"),
    ];
    for (variables, code) in cases {
        app.graphql(&Auth::admin(), register, variables.clone())
            .await
            .expect_error(code);
    }
    let count = "{ space(customer: \"acme\", id: 1) { assets { totalCount } } }";
    assert_eq!(
        app.graphql(&acme, count, json!({})).await.data()["space"]["assets"]["totalCount"],
        0
    );

    app.graphql(&acme, register, with("id", json!("dup")))
        .await
        .data();
    app.graphql(&acme, register, with("id", json!("dup")))
        .await
        .expect_error("CONFLICT");
    app.graphql(
        &acme,
        "mutation { createSpace(customer: \"acme\", input: {name: \"main\"}) { id } }",
        json!({}),
    )
    .await
    .expect_error("CONFLICT");
    app.graphql(
        &Auth::admin(),
        "mutation { createCustomer(input: {name: \"acme\"}) { name } }",
        json!({}),
    )
    .await
    .expect_error("CONFLICT");
    app.graphql(
        &Auth::admin(),
        "mutation { createCustomer(input: {name: \"Not Valid\"}) { name } }",
        json!({}),
    )
    .await
    .expect_error("INVALID_NAME");
    app.graphql(
        &acme,
        "{ asset(customer: \"acme\", space: 1, id: \"nope\") { id } }",
        json!({}),
    )
    .await
    .expect_error("NOT_FOUND");
    app.graphql(
        &acme,
        "{ space(customer: \"acme\", id: 1) { assets(after: \"not-a-cursor\") { totalCount } } }",
        json!({}),
    )
    .await
    .expect_error("BAD_REQUEST");
    app.graphql(
        &Auth::admin(),
        "{ customers(first: 100000) { totalCount } }",
        json!({}),
    )
    .await
    .expect_error("BAD_REQUEST");
    app.graphql(&acme, "mutation { updateAsset(customer: \"acme\", space: 1, id: \"dup\", patch: {mediaType: null}) { id } }", json!({})).await.expect_error("INVALID_INPUT");
    app.graphql(
        &acme,
        "mutation { updateSpace(customer: \"acme\", id: 1, patch: {name: null}) { id } }",
        json!({}),
    )
    .await
    .expect_error("INVALID_INPUT");
    app.graphql(
        &acme,
        "mutation { deleteApiKey(customer: \"acme\", key: \"unknown\") }",
        json!({}),
    )
    .await
    .expect_error("NOT_FOUND");
    // a registration that cannot be processed is kept, in ERROR with the reason
    let wait = "mutation { registerAsset(customer: \"acme\", space: 1, wait: true, input: {id: \"w\", mediaType: \"image/jpeg\", origin: \"file:///etc/hostname\"}) { status error } }";
    let waited = app.graphql(&acme, wait, json!({})).await;
    assert_eq!(waited.data()["registerAsset"]["status"], "ERROR");
    let wait_null = "mutation { registerAsset(customer: \"acme\", space: 1, wait: null, input: {id: \"n\", mediaType: \"image/jpeg\", origin: \"https://example.org/n.jpg\"}) { status } }";
    assert_eq!(
        app.graphql(&acme, wait_null, json!({})).await.data()["registerAsset"]["status"],
        "WAITING"
    );
    assert_eq!(
        app.graphql(&acme, count, json!({})).await.data()["space"]["assets"]["totalCount"],
        3
    );
    app.stop().await;
}

#[tokio::test]
async fn credentials_basic_bearer_and_revocation() {
    let app = TestApp::start().await;
    let Auth::Basic { key, secret } = app.customer_with_key("acme").await else {
        unreachable!()
    };
    let whoami = "{ customer(name: \"acme\") { name } }";

    app.graphql(&Auth::basic(&key, "wrong-secret"), whoami, json!({}))
        .await
        .expect_error("UNAUTHENTICATED");
    app.graphql(&Auth::basic("unknown", &secret), whoami, json!({}))
        .await
        .expect_error("UNAUTHENTICATED");
    app.graphql(&Auth::Raw("Basic !!!notbase64".into()), whoami, json!({}))
        .await
        .expect_error("UNAUTHENTICATED");
    app.graphql(&Auth::Raw("Digest abc".into()), whoami, json!({}))
        .await
        .expect_error("UNAUTHENTICATED");
    app.graphql(&Auth::Bearer("not-a-jwt".into()), whoami, json!({}))
        .await
        .expect_error("UNAUTHENTICATED");

    let login = "mutation($k: String!, $s: String!) { login(key: $k, secret: $s) }";
    app.graphql(&Auth::None, login, json!({ "k": key, "s": "wrong" }))
        .await
        .expect_error("UNAUTHENTICATED");
    let token = app
        .graphql(&Auth::None, login, json!({ "k": key, "s": secret }))
        .await
        .data()["login"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = Auth::Bearer(token.clone());
    assert_eq!(
        app.graphql(&bearer, whoami, json!({})).await.data()["customer"]["name"],
        "acme"
    );
    app.graphql(&bearer, "{ customer(name: \"rival\") { name } }", json!({}))
        .await
        .expect_error("FORBIDDEN");

    // a tampered signature is refused
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    app.graphql(&Auth::Bearer(tampered), whoami, json!({}))
        .await
        .expect_error("UNAUTHENTICATED");

    // the configured admin key can log in too
    let admin_token = app
        .graphql(
            &Auth::None,
            login,
            json!({ "k": vitrine_tests::ADMIN_KEY, "s": vitrine_tests::ADMIN_SECRET }),
        )
        .await;
    let admin_bearer = Auth::Bearer(admin_token.data()["login"].as_str().unwrap().to_owned());
    assert_eq!(
        app.graphql(&admin_bearer, "{ customers { totalCount } }", json!({}))
            .await
            .data()["customers"]["totalCount"],
        1
    );

    // deleting the key ends both the key and its tokens
    app.graphql(
        &bearer,
        "mutation($k: String!) { deleteApiKey(customer: \"acme\", key: $k) }",
        json!({ "k": key }),
    )
    .await
    .data();
    app.graphql(&bearer, whoami, json!({}))
        .await
        .expect_error("UNAUTHENTICATED");
    app.graphql(&Auth::basic(&key, &secret), whoami, json!({}))
        .await
        .expect_error("UNAUTHENTICATED");
    app.stop().await;
}

#[tokio::test]
async fn assets_show_every_field_and_their_urls() {
    let app = TestApp::builder()
        .public_url("https://iiif.example.org/base")
        .start()
        .await;
    let acme = app.customer_with_key("acme").await;
    app.graphql(&acme, "mutation { createSpace(customer: \"acme\", input: {name: \"main\", defaultRoles: [\"staff\"], defaultMaxUnauthorised: 200}) { id } }", json!({})).await.data();
    let registered = app
        .graphql(
            &acme,
            "mutation($input: AssetInput!) { registerAsset(customer: \"acme\", space: 1, input: $input) {
                customer space id mediaType family origin string1 string2 string3 number1 number2 number3 tags roles
                maxUnauthorised width height duration status error batch created finished pyramidLevels tileSize
                bytesStored imageService imageService2 manifest manifest2 thumbnails { width height url } } }",
            json!({ "input": {
                "id": "page 1", "mediaType": "image/tiff", "origin": "s3://bucket/page1.tif",
                "string1": "book", "string2": "vol", "string3": "shelf", "number1": 1, "number2": 2, "number3": 3,
                "tags": ["t1", "t2"]
            } }),
        )
        .await;
    let asset = &registered.data()["registerAsset"];
    assert_eq!(asset["customer"], "acme");
    assert_eq!(asset["space"], 1);
    assert_eq!(asset["id"], "page 1");
    assert_eq!(asset["family"], "IMAGE");
    assert_eq!(asset["status"], "WAITING");
    assert_eq!(asset["origin"], "s3://bucket/page1.tif");
    assert_eq!(
        (asset["string3"].as_str(), asset["number3"].as_i64()),
        (Some("shelf"), Some(3))
    );
    assert_eq!(asset["tags"], json!(["t1", "t2"]));
    assert_eq!(asset["roles"], json!(["staff"]));
    assert_eq!(asset["maxUnauthorised"], 200);
    assert!(asset["width"].is_null() && asset["finished"].is_null() && asset["error"].is_null());
    assert_eq!(
        asset["imageService"],
        "https://iiif.example.org/base/iiif/3/acme/1/page%201"
    );
    assert_eq!(
        asset["manifest"],
        "https://iiif.example.org/base/iiif/manifest/3/acme/1/page%201"
    );
    // the 2.1 links for viewers that speak only the older versions
    assert_eq!(
        asset["imageService2"],
        "https://iiif.example.org/base/iiif/2/acme/1/page%201"
    );
    assert_eq!(
        asset["manifest2"],
        "https://iiif.example.org/base/iiif/manifest/2/acme/1/page%201"
    );
    assert_eq!(asset["thumbnails"], json!([]));

    // without a configured public URL, URLs follow the request's Host
    let local = TestApp::start().await;
    let acme_local = local.customer_with_key("acme").await;
    local
        .graphql(
            &acme_local,
            "mutation { createSpace(customer: \"acme\", input: {name: \"m\"}) { id } }",
            json!({}),
        )
        .await
        .data();
    let song = local
        .graphql(&acme_local, "mutation { registerAsset(customer: \"acme\", space: 1, input: {id: \"song\", mediaType: \"audio/mpeg\", origin: \"https://example.org/s.mp3\"}) { family imageService manifest } }", json!({}))
        .await;
    let song = &song.data()["registerAsset"];
    assert_eq!(song["family"], "SOUND");
    assert!(
        song["imageService"].is_null(),
        "only images have an image service"
    );
    assert_eq!(
        song["manifest"],
        format!("{}/iiif/manifest/3/acme/1/song", local.base_url)
    );
    app.stop().await;
    local.stop().await;
}

#[tokio::test]
async fn space_assets_filter_order_and_page() {
    let app = TestApp::start().await;
    let acme = app.customer_with_key("acme").await;
    app.create_space(&acme, "acme", "books").await;
    for page in 1..=5 {
        let input = json!({ "id": format!("p{page}"), "mediaType": "image/jpeg", "origin": "https://example.org/p.jpg",
            "string1": if page <= 3 { "book-a" } else { "book-b" }, "number1": 10 - page, "tags": if page % 2 == 0 { json!(["even"]) } else { json!([]) } });
        app.graphql(&acme, "mutation($i: AssetInput!) { registerAsset(customer: \"acme\", space: 1, input: $i) { id } }", json!({ "i": input })).await.data();
    }
    let query = "query($f: AssetFilterInput, $o: AssetOrderInput, $first: Int, $after: String) {
        space(customer: \"acme\", id: 1) { assets(filter: $f, orderBy: $o, first: $first, after: $after) {
            totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id } } } } }";
    let run = |variables: Value| {
        let (app, acme) = (&app, &acme);
        async move { app.graphql(acme, query, variables).await.data()["space"]["assets"].clone() }
    };
    let ids = |connection: &Value| {
        connection["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };

    let book_a = run(
        json!({ "f": { "string1": "book-a" }, "o": { "field": "NUMBER1", "direction": "ASC" } }),
    )
    .await;
    assert_eq!(ids(&book_a), ["p3", "p2", "p1"]);
    assert_eq!(book_a["totalCount"], 3);
    let even = run(json!({ "f": { "tag": "even", "status": "WAITING" } })).await;
    assert_eq!(ids(&even), ["p2", "p4"]);

    let first = run(json!({ "o": { "field": "ID", "direction": "DESC" }, "first": 2 })).await;
    assert_eq!(ids(&first), ["p5", "p4"]);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
    let next = run(json!({ "o": { "field": "ID", "direction": "DESC" }, "first": 2, "after": first["pageInfo"]["endCursor"] })).await;
    assert_eq!(ids(&next), ["p3", "p2"]);
    assert_eq!(next["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(next["totalCount"], 5);
    app.stop().await;
}

#[tokio::test]
async fn patches_change_only_named_fields_over_graphql() {
    let app = TestApp::start().await;
    let acme = app.customer_with_key("acme").await;
    app.create_space(&acme, "acme", "main").await;
    let input = json!({ "id": "a", "mediaType": "image/jpeg", "origin": "https://example.org/a.jpg", "string1": "s1", "string2": "s2", "number1": 1, "tags": ["x"] });
    app.graphql(&acme, "mutation($i: AssetInput!) { registerAsset(customer: \"acme\", space: 1, input: $i) { id } }", json!({ "i": input })).await.data();
    let patched = app
        .graphql(&acme, "mutation { updateAsset(customer: \"acme\", space: 1, id: \"a\", patch: {string2: null, number1: 5}) { string1 string2 number1 tags origin mediaType } }", json!({}))
        .await;
    assert_eq!(
        patched.data()["updateAsset"],
        json!({ "string1": "s1", "string2": null, "number1": 5, "tags": ["x"], "origin": "https://example.org/a.jpg", "mediaType": "image/jpeg" })
    );
    let space = app
        .graphql(&acme, "mutation { updateSpace(customer: \"acme\", id: 1, patch: {defaultTags: [\"new\"]}) { name defaultTags defaultMaxUnauthorised } }", json!({}))
        .await;
    assert_eq!(
        space.data()["updateSpace"],
        json!({ "name": "main", "defaultTags": ["new"], "defaultMaxUnauthorised": -1 })
    );
    app.stop().await;
}

#[tokio::test]
async fn abusive_queries_are_rejected_and_introspection_still_works() {
    let app = TestApp::start().await;
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {} name {} }} }} }} }}",
        "{ ofType ".repeat(14),
        "}".repeat(14)
    );
    let response = app.graphql(&Auth::admin(), &deep, json!({})).await;
    let message = response.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("too deep"), "{:#}", response.body);

    let wide: String = (0..1200)
        .map(|index| format!("c{index}: customers {{ totalCount }} "))
        .collect();
    let response = app
        .graphql(&Auth::admin(), &format!("{{ {wide} }}"), json!({}))
        .await;
    let message = response.body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("too complex"), "{:#}", response.body);

    // nested pages multiply: 1000 spaces of 1000 assets each is refused before it runs
    let nested = "{ customer(name: \"acme\") { spaces(first: 1000) { nodes { assets(first: 1000) { nodes { id } } } } } }";
    let response = app.graphql(&Auth::admin(), nested, json!({})).await;
    assert!(
        response.expect_error("BAD_REQUEST").contains("too complex"),
        "{:#}",
        response.body
    );
    // an ordinary page of full records is fine
    let ordinary = "{ customers(first: 100) { totalCount edges { cursor node { name displayName created spaces(first: 10) { totalCount } } } } }";
    app.graphql(&Auth::admin(), ordinary, json!({}))
        .await
        .data();

    let introspection = app
        .graphql(&Auth::None, INTROSPECTION_QUERY, json!({}))
        .await;
    assert!(
        introspection.data()["__schema"]["types"]
            .as_array()
            .unwrap()
            .len()
            > 10
    );
    app.stop().await;
}

/// Issue 18, item 9: every list field costs its items in complexity (`NamedQuery.preview`
/// included), and aliases are capped per operation; both are refused before anything runs.
#[tokio::test]
async fn aliased_previews_and_lists_are_refused_before_running() {
    let app = TestApp::start().await;
    let acme = app.customer_with_key("acme").await;
    app.graphql(
        &acme,
        "mutation { createNamedQuery(customer: \"acme\", input: {name: \"all\", template: \"s1=p1\"}) { name } }",
        json!({}),
    )
    .await
    .data();
    // the attack: 600 aliases of preview, each a whole page of assets
    let previews: String = (0..600)
        .map(|index| {
            format!(
                "p{index}: preview(parameters: [\"b\"]) {{ id imageService thumbnails {{ url }} }} "
            )
        })
        .collect();
    let query = format!("{{ namedQuery(customer: \"acme\", name: \"all\") {{ {previews} }} }}");
    let response = app.graphql(&acme, &query, json!({})).await;
    assert!(
        response.expect_error("BAD_REQUEST").contains("too complex"),
        "{:#}",
        response.body
    );
    assert!(response.body["data"].is_null(), "{:#}", response.body);
    // one preview is fine; a preview of the largest page of full records is too complex
    app.graphql(
        &acme,
        "{ namedQuery(customer: \"acme\", name: \"all\") { preview(parameters: [\"b\"]) { id } } }",
        json!({}),
    )
    .await
    .data();
    let response = app
        .graphql(
            &acme,
            "{ namedQuery(customer: \"acme\", name: \"all\") { preview(parameters: [\"b\"], first: 1000) { id space created family status width height mediaUrl imageService thumbnails { url } tags roles string1 string2 string3 number1 number2 number3 } } }",
            json!({}),
        )
        .await;
    assert!(response.expect_error("BAD_REQUEST").contains("too complex"));
    let response = app
        .graphql(
            &acme,
            "{ namedQuery(customer: \"acme\", name: \"all\") { preview(parameters: [\"b\"], first: 1001) { id } } }",
            json!({}),
        )
        .await;
    response.expect_error("INVALID_INPUT");
    // lists without paging count their items: a page of customers' roles and viewers
    let response = app
        .graphql(
            &Auth::admin(),
            "{ customers(first: 1000) { nodes { roles { name } viewers { username } apiKeys { key } } } }",
            json!({}),
        )
        .await;
    assert!(response.expect_error("BAD_REQUEST").contains("too complex"));
    // aliases are capped even where each is cheap, `__typename` included
    let typenames: String = (0..600)
        .map(|index| format!("t{index}: __typename "))
        .collect();
    let response = app
        .graphql(&acme, &format!("{{ {typenames} }}"), json!({}))
        .await;
    assert!(
        response
            .expect_error("TOO_MANY_ALIASES")
            .contains("600 aliased fields"),
        "{:#}",
        response.body
    );
    // ... also through fragments
    let aliases: String = (0..60).map(|index| format!("n{index}: name ")).collect();
    let response = app
        .graphql(
            &acme,
            &format!("{{ a: customer(name: \"acme\") {{ ...F }} b: customer(name: \"acme\") {{ ...F }} }} fragment F on Customer {{ {aliases} }}"),
            json!({}),
        )
        .await;
    response.expect_error("TOO_MANY_ALIASES");
    let response = app
        .graphql(&acme, "{ a: __typename b: __typename }", json!({}))
        .await;
    assert_eq!(response.data()["a"], "Query");
    app.stop().await;
}

/// Issue 18, item 12: rotating the static admin secret ends the tokens issued under the old
/// one, though they are signed with the same key and have not expired.
#[tokio::test]
async fn rotating_the_admin_secret_ends_its_tokens() {
    const SIGNING: &str = "a-signing-secret-shared-by-both-servers-0123";
    let start = |secret: &'static str| {
        TestApp::builder()
            .config(move |config| {
                config.jwt_secret = Some(api::config::Secret::new(SIGNING));
                config.admin_key = Some(auth::ApiKeyCredential {
                    key: vitrine_tests::ADMIN_KEY.into(),
                    secret: secret.into(),
                });
            })
            .start()
    };
    let login = "mutation($k: String!, $s: String!) { login(key: $k, secret: $s) }";
    let before = start("the-first-admin-secret-0123456789").await;
    let token = before
        .graphql(
            &Auth::None,
            login,
            json!({"k": vitrine_tests::ADMIN_KEY, "s": "the-first-admin-secret-0123456789"}),
        )
        .await
        .data()["login"]
        .as_str()
        .unwrap()
        .to_owned();
    let customers = "{ customers { totalCount } }";
    before
        .graphql(&Auth::Bearer(token.clone()), customers, json!({}))
        .await
        .data();
    before.stop().await;

    let after = start("the-second-admin-secret-0123456789").await;
    let refused = after
        .graphql(&Auth::Bearer(token), customers, json!({}))
        .await;
    assert!(
        refused
            .expect_error("UNAUTHENTICATED")
            .contains("secret that has since changed"),
        "{:#}",
        refused.body
    );
    let fresh = after
        .graphql(
            &Auth::None,
            login,
            json!({"k": vitrine_tests::ADMIN_KEY, "s": "the-second-admin-secret-0123456789"}),
        )
        .await
        .data()["login"]
        .as_str()
        .unwrap()
        .to_owned();
    after
        .graphql(&Auth::Bearer(fresh), customers, json!({}))
        .await
        .data();
    after.stop().await;
}

/// Issue 18, item 15: a forged Host header never reaches the URLs in answers: the public URL
/// is used when configured, and on loopback without one only a Host naming this machine.
#[tokio::test]
async fn forged_host_headers_never_reach_urls() {
    for public_url in [Some("https://iiif.example.org"), None] {
        let mut builder = TestApp::builder();
        if let Some(url) = public_url {
            builder = builder.public_url(url);
        }
        let app = builder.start().await;
        app.customer_with_key("acme").await;
        let collection = |host: &'static str| {
            let app = &app;
            async move {
                let body: Value = app
                    .client
                    .post(app.url("/graphql"))
                    .basic_auth(vitrine_tests::ADMIN_KEY, Some(vitrine_tests::ADMIN_SECRET))
                    .header("host", host)
                    .json(&json!({"query": "{ customer(name: \"acme\") { collection } }"}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                body["data"]["customer"]["collection"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{body:#}"))
                    .to_owned()
            }
        };
        let expected = public_url.map_or_else(|| app.base_url.clone(), str::to_owned);
        for forged in ["evil.example", "evil.example:80", "localhost.evil.example"] {
            let url = collection(forged).await;
            assert!(url.starts_with(&format!("{expected}/")), "{forged}: {url}");
        }
        if public_url.is_none() {
            let url = collection("localhost").await;
            assert!(url.starts_with("http://localhost/"), "{url}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn http_edges_graphiql_limits_and_ops() {
    let app = TestApp::builder().max_request_bytes(4096).start().await;
    let graphiql = app.get("/graphql").await;
    assert_eq!(graphiql.status(), 200);
    assert!(
        graphiql
            .text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );

    let too_big = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(vec![b' '; 10_000])
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
    assert_eq!(
        too_big.json::<Value>().await.unwrap()["code"],
        "payload-too-large"
    );
    let not_graphql = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_graphql.status(), 400);
    assert_eq!(
        not_graphql.json::<Value>().await.unwrap()["code"],
        "bad-request"
    );
    // errors of the GraphQL engine itself carry a code too
    for malformed in [
        "{ customers { ",
        "{ noSuchField }",
        "{ space(customer: \"a\", id: \"x\") { id } }",
        "{ space(customer: \"a\", id: 2147483648) { id } }",
    ] {
        app.graphql(&Auth::admin(), malformed, json!({}))
            .await
            .expect_error("BAD_REQUEST");
    }

    let health = app.get("/healthz").await;
    assert_eq!(
        (health.status().as_u16(), health.text().await.unwrap()),
        (200, "ok".to_owned())
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(
            r#"vitrine_http_requests_total{route="/graphql",method="POST",status="413"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"vitrine_http_requests_total{route="/healthz",method="GET",status="200"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("vitrine_http_request_duration_seconds_bucket{le="),
        "{metrics}"
    );

    app.stop().await;
}

/// A request from a browser page at `origin`: its status and `Access-Control-Allow-Origin`.
async fn from_origin(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    origin: Option<&str>,
) -> (u16, Option<String>, reqwest::header::HeaderMap) {
    let mut request = app.client.request(method.clone(), app.url(path));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    if method == reqwest::Method::OPTIONS {
        request = request
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            );
    } else if method == reqwest::Method::POST {
        request = request
            .basic_auth(ADMIN_KEY, Some(ADMIN_SECRET))
            .json(&json!({ "query": "{ customers { totalCount } }" }));
    }
    let response = request.send().await.unwrap();
    let allowed = response
        .headers()
        .get("access-control-allow-origin")
        .map(|value| value.to_str().unwrap().to_owned());
    (
        response.status().as_u16(),
        allowed,
        response.headers().clone(),
    )
}

#[tokio::test]
async fn cors_headers_are_exactly_the_configured_ones() {
    use reqwest::Method;
    // the defaults: IIIF open to every origin, the management APIs to none but their own
    let app = TestApp::start().await;
    let acme = app.customer_with_key("acme").await;
    let space = app.create_space(&acme, "acme", "letters").await;
    app.register_image(&acme, "acme", space, "page", &grid_png(300, 200))
        .await;
    let info = format!("/iiif/3/acme/{space}/page/info.json");
    let site = Some("https://app.example.org");
    assert_eq!(
        from_origin(&app, Method::GET, &info, site)
            .await
            .1
            .as_deref(),
        Some("*")
    );
    let (status, allowed, _) = from_origin(&app, Method::POST, "/graphql", site).await;
    assert_eq!(
        (status, allowed),
        (200, None),
        "answered, but no other site may read it"
    );
    let (_, allowed, _) = from_origin(&app, Method::OPTIONS, "/graphql", site).await;
    assert_eq!(allowed, None);
    let (_, allowed, _) = from_origin(&app, Method::GET, "/api/customers/acme", site).await;
    assert_eq!(allowed, None);
    app.stop().await;

    // listed origins: each route group names back its own, and only those
    let app = TestApp::builder()
        .config(|config| {
            config.iiif_cors_origins =
                api::cors::CorsOrigins::Listed(vec!["https://viewer.example.org".into()]);
            config.api_cors_origins =
                api::cors::CorsOrigins::Listed(vec!["https://app.example.org".into()]);
        })
        .start()
        .await;
    let acme = app.customer_with_key("acme").await;
    let space = app.create_space(&acme, "acme", "letters").await;
    app.register_image(&acme, "acme", space, "page", &grid_png(300, 200))
        .await;
    let info = format!("/iiif/3/acme/{space}/page/info.json");
    let viewer = Some("https://viewer.example.org");
    let (status, allowed, headers) = from_origin(&app, Method::GET, &info, viewer).await;
    assert_eq!((status, allowed.as_deref()), (200, viewer));
    assert!(
        headers
            .get_all("vary")
            .iter()
            .any(|value| value.to_str().unwrap().contains("Origin")),
        "{headers:?}"
    );
    for other in [site, None] {
        let (status, allowed, headers) = from_origin(&app, Method::GET, &info, other).await;
        assert_eq!((status, allowed), (200, None), "{other:?}");
        assert!(!headers.contains_key("access-control-allow-methods"));
    }
    let (_, allowed, _) = from_origin(&app, Method::OPTIONS, &info, viewer).await;
    assert_eq!(allowed.as_deref(), viewer, "the IIIF preflight");
    let (_, allowed, _) = from_origin(&app, Method::OPTIONS, &info, site).await;
    assert_eq!(allowed, None);
    let (status, allowed, _) = from_origin(&app, Method::POST, "/graphql", site).await;
    assert_eq!((status, allowed.as_deref()), (200, site));
    let (status, allowed, headers) = from_origin(&app, Method::OPTIONS, "/graphql", site).await;
    assert_eq!(
        (status, allowed.as_deref()),
        (204, site),
        "the API preflight"
    );
    assert!(
        headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let (_, allowed, _) = from_origin(&app, Method::POST, "/graphql", viewer).await;
    assert_eq!(allowed, None, "the viewer's origin is not the API's");
    let (_, allowed, _) = from_origin(&app, Method::GET, "/api/customers/acme", site).await;
    assert_eq!(allowed.as_deref(), site);
    app.stop().await;

    // the APIs open to any origin while the IIIF routes list theirs: each keeps its own policy
    let app = TestApp::builder()
        .config(|config| {
            config.iiif_cors_origins =
                api::cors::CorsOrigins::Listed(vec!["https://viewer.example.org".into()]);
            config.api_cors_origins = api::cors::CorsOrigins::Any;
        })
        .start()
        .await;
    let (status, allowed, _) = from_origin(&app, Method::POST, "/graphql", site).await;
    assert_eq!((status, allowed.as_deref()), (200, site));
    let (_, allowed, _) = from_origin(&app, Method::GET, "/api/customers/acme", site).await;
    assert_eq!(allowed.as_deref(), site);
    app.stop().await;
}

#[tokio::test]
async fn customers_list_for_admins() {
    let app = TestApp::start().await;
    for name in ["gamma", "alpha", "beta"] {
        app.customer_with_key(name).await;
    }
    let listed = app.graphql(&Auth::admin(), &format!("{{ customers(first: 2) {{ totalCount edges {{ node {{ {CUSTOMER_FIELDS} }} }} pageInfo {{ hasNextPage }} }} }}"), json!({})).await;
    let customers = &listed.data()["customers"];
    assert_eq!(customers["totalCount"], 3);
    assert_eq!(customers["edges"][0]["node"]["name"], "alpha");
    assert_eq!(customers["edges"][1]["node"]["displayName"], "beta");
    assert_eq!(customers["pageInfo"]["hasNextPage"], true);
    app.stop().await;
}

#[tokio::test]
async fn same_behaviour_on_postgresql() {
    let Some(database) =
        vitrine_tests::TestDatabase::create(vitrine_tests::Backend::Postgres).await
    else {
        return;
    };
    let app = TestApp::builder()
        .database_url(database.url.clone())
        .start()
        .await;
    let acme = app.customer_with_key("acme").await;
    app.create_space(&acme, "acme", "main").await;
    app.graphql(&acme, "mutation { registerAsset(customer: \"acme\", space: 1, input: {id: \"a\", mediaType: \"image/jpeg\", origin: \"https://example.org/a.jpg\", tags: [\"t\"]}) { id } }", json!({})).await.data();
    app.graphql(&acme, "mutation { registerAsset(customer: \"acme\", space: 1, input: {id: \"a\", mediaType: \"image/jpeg\", origin: \"https://example.org/a.jpg\"}) { id } }", json!({})).await.expect_error("CONFLICT");
    let listed = app
        .graphql(
            &acme,
            "{ space(customer: \"acme\", id: 1) { assets(filter: {tag: \"t\"}) { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed.data()["space"]["assets"]["totalCount"], 1);
    let other = app.customer_with_key("rival").await;
    app.graphql(
        &other,
        "{ asset(customer: \"acme\", space: 1, id: \"a\") { id } }",
        json!({}),
    )
    .await
    .expect_error("FORBIDDEN");
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.stop().await;
    database.drop_database().await;
}

/// The introspection query GraphiQL sends (graphql-js `getIntrospectionQuery`).
const INTROSPECTION_QUERY: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
"#;

/// Sends a request head and the first bytes of a body that claims to be a gigabyte, and returns
/// the status line of the answer, which must come before the body does.
async fn answer_to_a_gigabyte_upload(app: &TestApp, authorization: Option<&str>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.base_url.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let credential = authorization
        .map(|value| format!("authorization: {value}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: {address}\r\n{credential}\
         content-type: multipart/form-data; boundary=xyz\r\ncontent-length: 1000000000\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket
        .write_all(b"--xyz\r\ncontent-disposition: form-data; name=\"0\"; filename=\"a\"\r\n\r\n")
        .await
        .unwrap();
    socket.write_all(&vec![b'x'; 64 * 1024]).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), socket.read(&mut answer))
        .await
        .expect("the server answers without waiting for the gigabyte")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).to_string();
    answer.lines().next().unwrap_or_default().to_owned()
}

/// The credential is checked before a body is read: anonymous uploads are refused at once,
/// and anonymous bodies are capped at a few kilobytes.
#[tokio::test]
async fn anonymous_bodies_are_capped_and_uploads_refused_before_reading() {
    let app = TestApp::start().await;
    for authorization in [None, Some("Basic bm9ib2R5OndoYXRldmVyLXNlY3JldA==")] {
        let status = answer_to_a_gigabyte_upload(&app, authorization).await;
        assert!(status.contains(" 401 "), "{authorization:?}: {status}");
    }

    let padded = |bytes: usize| {
        let mut body = vec![b' '; bytes];
        body.extend_from_slice(br#"{"query": "{ __typename }"}"#);
        body
    };
    let anonymous = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(padded(20_000))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 413);
    assert_eq!(
        anonymous.json::<Value>().await.unwrap()["code"],
        "payload-too-large"
    );
    let (key, secret) = (vitrine_tests::ADMIN_KEY, vitrine_tests::ADMIN_SECRET);
    let signed_in = app
        .client
        .post(app.url("/graphql"))
        .basic_auth(key, Some(secret))
        .header("content-type", "application/json")
        .body(padded(20_000))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    assert!(
        signed_in.json::<Value>().await.unwrap()["data"]["__typename"].is_string(),
        "a signed-in request of the same size is served"
    );
    app.stop().await;
}

/// Reads until the server closes the connection; how long that took.
async fn closed_after(socket: &mut tokio::net::TcpStream) -> std::time::Duration {
    use tokio::io::AsyncReadExt;
    let started = std::time::Instant::now();
    let mut buffer = [0u8; 1024];
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(20), socket.read(&mut buffer))
            .await
            .expect("the server closes the connection")
        {
            Ok(0) | Err(_) => return started.elapsed(),
            Ok(_) => {}
        }
    }
}

/// Idle connections and request heads sent a byte at a time are closed after their timeouts,
/// and connections over the cap wait instead of taking the server's file descriptors.
#[tokio::test]
async fn slow_idle_and_surplus_connections_are_bounded() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::builder()
        .config(|config| {
            config.http_header_timeout_seconds = 1;
            config.http_idle_timeout_seconds = 2;
            config.max_connections = 3;
        })
        .start()
        .await;
    let address = app.base_url.trim_start_matches("http://").to_owned();
    let connect = || tokio::net::TcpStream::connect(address.clone());

    // an idle connection is closed after the idle timeout
    let mut idle = connect().await.unwrap();
    let waited = closed_after(&mut idle).await;
    assert!(waited.as_secs_f64() < 6.0, "idle for {waited:?}");

    // a head trickled byte by byte is cut off at the head deadline, although bytes keep coming
    let mut slow = connect().await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        for _ in 0..40 {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            if slow.write_all(b"x").await.is_err() {
                return true;
            }
        }
        false
    });
    assert!(
        trickle.await.unwrap(),
        "the server stopped reading the trickled head within 10 s"
    );

    // three connections held: a fourth waits until one is closed, then is served
    let held: Vec<_> = futures::future::join_all((0..3).map(|_| connect()))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let quick = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(500))
        .build()
        .unwrap();
    assert!(
        quick.get(app.url("/healthz")).send().await.is_err(),
        "over the cap, a connection waits"
    );
    drop(held);
    let served = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(served.status(), 200);
    app.stop().await;
}

/// The portal is served at `/` from the binary, under a policy that allows no inline script.
#[tokio::test]
async fn the_portal_is_served_with_its_security_headers() {
    let app = TestApp::start().await;
    let page = app.get("/").await;
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script type="module" src="/portal/app.js">"#));
    assert!(!html.contains("<script>"), "no inline script");

    let module = app.get("/portal/app.js").await;
    assert_eq!(module.status(), 200);
    assert!(
        module.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert!(module.headers().contains_key("content-security-policy"));
    assert_eq!(app.get("/portal/missing.js").await.status(), 404);
    assert_eq!(app.get("/graphql").await.status(), 200, "GraphiQL stays");
    app.stop().await;
}

/// `me` tells the portal who signed in: an admin key, or a customer's key and its customer.
#[tokio::test]
async fn me_names_the_caller() {
    let app = TestApp::start().await;
    let admin = app
        .graphql(&Auth::admin(), "{ me { key admin customer } }", json!({}))
        .await;
    assert_eq!(
        admin.data()["me"],
        json!({ "key": vitrine_tests::ADMIN_KEY, "admin": true, "customer": null })
    );
    let acme = app.customer_with_key("acme").await;
    let me = app
        .graphql(&acme, "{ me { admin customer } }", json!({}))
        .await;
    assert_eq!(
        me.data()["me"],
        json!({ "admin": false, "customer": "acme" })
    );
    let anonymous = app.graphql(&Auth::None, "{ me { key } }", json!({})).await;
    assert_eq!(anonymous.error_code().as_deref(), Some("UNAUTHENTICATED"));
    app.stop().await;
}
