use std::path::PathBuf;

use serde_json::{Value, json};

/// The variable that puts every [`TestApp`] on another backend: `postgres-s3` runs it on a
/// fresh PostgreSQL database (from `VITRINE_TEST_DATABASE_URL`) and a bucket of its own on a
/// moto S3 server; unset or `embedded`, on SQLite and a folder.
pub const BACKEND_VARIABLE: &str = "VITRINE_TEST_BACKEND";

/// What a scale-out [`TestApp`] runs on besides the server: removed when it is dropped.
#[derive(Debug)]
struct ScaleOut {
    /// Dropped (and so removed) before the bucket's server stops.
    _database: Option<crate::TestDatabase>,
    _s3: crate::S3Server,
}

/// Puts `config` on a fresh PostgreSQL database and bucket when [`BACKEND_VARIABLE`] asks for
/// it (and no database is chosen already).
async fn scale_out(config: &mut api::Config, database_chosen: bool) -> Option<ScaleOut> {
    match std::env::var(BACKEND_VARIABLE).as_deref() {
        Err(_) | Ok("") | Ok("embedded") => return None,
        Ok("postgres-s3") => {}
        Ok(other) => panic!("{BACKEND_VARIABLE}={other}: use embedded or postgres-s3"),
    }
    let s3 = crate::S3Server::start_open(crate::STORAGE_BUCKET)
        .await
        .expect("moto_server runs (pip install 'moto[server]')");
    crate::store_in_bucket(config, s3.settings());
    let database = if database_chosen {
        None
    } else {
        let database = crate::TestDatabase::create(crate::Backend::Postgres)
            .await
            .expect("VITRINE_TEST_DATABASE_URL names the PostgreSQL server");
        config.database_url = database.url.clone();
        config.jwt_secret = Some(api::config::Secret::new(TEST_SIGNING_SECRET));
        Some(database)
    };
    Some(ScaleOut {
        _database: database,
        _s3: s3,
    })
}

/// The admin credential every TestApp is configured with.
pub const ADMIN_KEY: &str = "test-admin";
pub const ADMIN_SECRET: &str = "test-admin-secret-0123456789";
/// The signing secret of servers on a shared (PostgreSQL) database: the same on every node.
pub const TEST_SIGNING_SECRET: &str = "test-signing-secret-0123456789abcdef";

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Basic {
        key: String,
        secret: String,
    },
    Bearer(String),
    /// A raw `Authorization` header value, for malformed credentials.
    Raw(String),
}

impl Auth {
    pub fn admin() -> Self {
        Auth::Basic {
            key: ADMIN_KEY.into(),
            secret: ADMIN_SECRET.into(),
        }
    }

    pub fn basic(key: &str, secret: &str) -> Self {
        Auth::Basic {
            key: key.into(),
            secret: secret.into(),
        }
    }
}

/// A GraphQL response, with helpers for the assertions tests make.
#[derive(Debug, Clone)]
pub struct GraphqlResponse {
    pub status: u16,
    pub body: Value,
}

impl GraphqlResponse {
    /// `data`, after checking there were no errors.
    pub fn data(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {:#}",
            self.body
        );
        &self.body["data"]
    }

    /// The `extensions.code` of the first error, or `None` when the request succeeded.
    pub fn error_code(&self) -> Option<String> {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .map(str::to_owned)
    }

    /// Asserts the request failed with `code` and returns the message.
    pub fn expect_error(&self, code: &str) -> String {
        assert_eq!(
            self.error_code().as_deref(),
            Some(code),
            "expected {code}, got {:#}",
            self.body
        );
        self.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

type ConfigChange = Box<dyn FnOnce(&mut api::Config) + Send>;

/// Configures a [`TestApp`].
#[derive(Default)]
pub struct TestAppBuilder {
    changes: Vec<ConfigChange>,
    database_url: Option<String>,
    public_url: Option<String>,
    max_depth: Option<usize>,
    max_complexity: Option<usize>,
    max_request_bytes: Option<usize>,
    max_image_pixels: Option<u64>,
}

impl std::fmt::Debug for TestAppBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestAppBuilder").finish_non_exhaustive()
    }
}

impl TestAppBuilder {
    /// Any other configuration change, applied last.
    pub fn config(mut self, change: impl FnOnce(&mut api::Config) + Send + 'static) -> Self {
        self.changes.push(Box::new(change));
        self
    }

    /// Runs `workers` ingest workers (the default is none: tests wait for their own
    /// registrations), with fast retries and a short job timeout.
    pub fn workers(self, workers: usize) -> Self {
        self.config(move |config| {
            config.workers = workers;
            config.ingest_retry_base_ms = 50;
            config.job_timeout_seconds = 2;
        })
    }

    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }

    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    pub fn query_limits(mut self, max_depth: usize, max_complexity: usize) -> Self {
        self.max_depth = Some(max_depth);
        self.max_complexity = Some(max_complexity);
        self
    }

    pub fn max_request_bytes(mut self, bytes: usize) -> Self {
        self.max_request_bytes = Some(bytes);
        self
    }

    pub fn max_image_pixels(mut self, pixels: u64) -> Self {
        self.max_image_pixels = Some(pixels);
        self
    }

    pub async fn start(self) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp data dir");
        // the data dir and the import root are side by side: an import root may neither hold
        // nor lie inside the data dir
        let mut config =
            api::Config::embedded(data_dir.path().join("data")).expect("embedded config");
        config.listen = "127.0.0.1:0".parse().expect("loopback address");
        config.admin_key = Some(auth::ApiKeyCredential {
            key: ADMIN_KEY.into(),
            secret: ADMIN_SECRET.into(),
        });
        if let Some(url) = self.database_url.clone() {
            config.database_url = url;
            // as every node over one PostgreSQL database must (see the config's check)
            config.jwt_secret = Some(api::config::Secret::new(TEST_SIGNING_SECRET));
        }
        config.public_url = self.public_url;
        if let Some(depth) = self.max_depth {
            config.graphql_max_depth = depth;
        }
        if let Some(complexity) = self.max_complexity {
            config.graphql_max_complexity = complexity;
        }
        if let Some(bytes) = self.max_request_bytes {
            config.max_request_bytes = bytes;
        }
        if let Some(pixels) = self.max_image_pixels {
            config.max_image_pixels = pixels;
        }
        config.shutdown_timeout_seconds = 5;
        // registrations are processed only when a test waits for them
        config.workers = 0;
        let masters = data_dir.path().join("masters");
        std::fs::create_dir_all(&masters).expect("masters folder");
        config.import_roots = vec![masters];
        let scale_out = scale_out(&mut config, self.database_url.is_some()).await;
        for change in self.changes {
            change(&mut config);
        }
        let server = api::start(config.clone()).await.expect("server starts");
        let base_url = format!("http://{}", server.local_addr);
        TestApp {
            base_url,
            client: reqwest::Client::new(),
            server: Some(server),
            config,
            data_dir,
            _scale_out: scale_out,
        }
    }
}

/// A real server on an ephemeral loopback port with its own data dir, admin key [`ADMIN_KEY`].
#[derive(Debug)]
pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    server: Option<api::RunningServer>,
    config: api::Config,
    data_dir: tempfile::TempDir,
    /// Dropped after the server (fields drop in order): its database and bucket.
    _scale_out: Option<ScaleOut>,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// A server on the embedded default (SQLite and a folder in a temp dir).
    pub async fn start() -> TestApp {
        Self::builder().start().await
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.path().join("data")
    }

    /// The import root masters are put in ([`TestApp::add_master`]).
    pub fn masters_dir(&self) -> PathBuf {
        self.data_dir.path().join("masters")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    fn authorize(&self, request: reqwest::RequestBuilder, auth: &Auth) -> reqwest::RequestBuilder {
        match auth {
            Auth::None => request,
            Auth::Basic { key, secret } => request.basic_auth(key, Some(secret)),
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::Raw(value) => request.header("authorization", value),
        }
    }

    /// POSTs a GraphQL request.
    pub async fn graphql(&self, auth: &Auth, query: &str, variables: Value) -> GraphqlResponse {
        self.graphql_at(&self.base_url, auth, query, variables)
            .await
    }

    /// POSTs a GraphQL request to another node at `base_url` (`http://host:port`).
    pub async fn graphql_at(
        &self,
        base_url: &str,
        auth: &Auth,
        query: &str,
        variables: Value,
    ) -> GraphqlResponse {
        let request = self
            .client
            .post(format!("{base_url}/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        let response = self
            .authorize(request, auth)
            .send()
            .await
            .expect("graphql request");
        let status = response.status().as_u16();
        let body = response
            .json::<Value>()
            .await
            .expect("graphql response is JSON");
        GraphqlResponse { status, body }
    }

    /// GETs a path.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("GET request")
    }

    /// GETs a path or a full URL: the status and the body as JSON (a string when it is not).
    pub async fn get_json(&self, path_or_url: &str) -> (u16, Value) {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            self.url(path_or_url)
        };
        let response = self.client.get(&url).send().await.expect("GET request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// Creates a customer with an admin key and returns a key and secret of its own.
    pub async fn customer_with_key(&self, name: &str) -> Auth {
        self.graphql(
            &Auth::admin(),
            "mutation($name: String!) { createCustomer(input: {name: $name}) { name } }",
            json!({ "name": name }),
        )
        .await
        .data();
        let created = self
            .graphql(
                &Auth::admin(),
                "mutation($c: String!) { createApiKey(customer: $c) { key secret } }",
                json!({ "c": name }),
            )
            .await;
        let key = &created.data()["createApiKey"];
        Auth::basic(
            key["key"].as_str().expect("key"),
            key["secret"].as_str().expect("secret"),
        )
    }

    /// Creates a space and returns its number.
    pub async fn create_space(&self, auth: &Auth, customer: &str, name: &str) -> i64 {
        let created = self
            .graphql(
                auth,
                "mutation($c: String!, $n: String!) { createSpace(customer: $c, input: {name: $n}) { id } }",
                json!({ "c": customer, "n": name }),
            )
            .await;
        created.data()["createSpace"]["id"]
            .as_i64()
            .expect("space id")
    }

    /// Puts a master under the import root and returns its `file://` origin.
    pub fn add_master(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.masters_dir().join(name);
        std::fs::write(&path, bytes).expect("write master");
        url::Url::from_file_path(&path)
            .expect("absolute path")
            .to_string()
    }

    /// Registers an image from bytes (through the import root) and waits for it.
    pub async fn register_image(
        &self,
        auth: &Auth,
        customer: &str,
        space: i64,
        id: &str,
        bytes: &[u8],
    ) -> Value {
        let origin = self.add_master(&format!("{}.master", uuid::Uuid::new_v4().simple()), bytes);
        let response = self
            .graphql(
                auth,
                "mutation($c: String!, $s: Int!, $id: String!, $o: String!) {
                    registerAsset(customer: $c, space: $s, wait: true, input: {id: $id, mediaType: \"image/png\", origin: $o}) {
                        id status error width height imageService thumbnails { width height url } } }",
                json!({ "c": customer, "s": space, "id": id, "o": origin }),
            )
            .await;
        response.data()["registerAsset"].clone()
    }

    /// Registers any file from bytes (through the import root) and waits for it; returns the
    /// asset's id, family, status, error, size, duration, media URL and image service.
    pub async fn register_file(
        &self,
        auth: &Auth,
        customer: &str,
        space: i64,
        id: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Value {
        let origin = self.add_master(&format!("{}.master", uuid::Uuid::new_v4().simple()), bytes);
        let response = self
            .graphql(
                auth,
                "mutation($c: String!, $s: Int!, $id: String!, $t: String!, $o: String!) {
                    registerAsset(customer: $c, space: $s, wait: true, input: {id: $id, mediaType: $t, origin: $o}) {
                        id family status error width height duration mediaUrl imageService } }",
                json!({ "c": customer, "s": space, "id": id, "t": media_type, "o": origin }),
            )
            .await;
        response.data()["registerAsset"].clone()
    }

    /// The bytes of the one stored object under the asset prefix `folder` whose name starts
    /// with `start`: a derivative, whose name carries the version of the processing that made
    /// it (`pyramid-v3-1-…tif`). Read from whichever store the server uses.
    pub async fn stored_derivative(&self, folder: &str, start: &str) -> Vec<u8> {
        let store = self.config.open_storage().expect("the server's store");
        let found: Vec<String> = store
            .list(folder)
            .await
            .expect("the asset's objects")
            .into_iter()
            .filter(|key| {
                key.rsplit('/')
                    .next()
                    .is_some_and(|name| name.starts_with(start))
            })
            .collect();
        assert_eq!(found.len(), 1, "one {start}* under {folder}: {found:?}");
        store.get(&found[0]).await.expect("stored object").to_vec()
    }

    /// How many objects the server stores.
    pub async fn stored_object_count(&self) -> usize {
        let store = self.config.open_storage().expect("the server's store");
        store.list_all().await.expect("the store lists").len()
    }

    /// The configuration the server runs with.
    pub fn configuration(&self) -> &api::Config {
        &self.config
    }

    /// Stops the server and starts it again on the same data, with `change` applied to its
    /// configuration (on a new port).
    pub async fn restart(&mut self, change: impl FnOnce(&mut api::Config)) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("graceful shutdown");
        }
        change(&mut self.config);
        let server = api::start(self.config.clone())
            .await
            .expect("server restarts");
        self.base_url = format!("http://{}", server.local_addr);
        self.server = Some(server);
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("graceful shutdown");
        }
    }
}
