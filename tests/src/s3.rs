//! A real S3 server for origin tests: moto (`pip install 'moto[server]'`), started per test on
//! a free loopback port with request signing enforced, holding one bucket, one object and one
//! IAM user whose access key may read it.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The bucket servers under test store their objects in, under [`STORAGE_URL`].
pub const STORAGE_BUCKET: &str = "vitrine";
/// Where servers under test store their objects: the bucket's `objects` prefix.
pub const STORAGE_URL: &str = "s3://vitrine/objects";

/// Points a server's own storage at [`STORAGE_URL`], reached with `settings` (a server's
/// own, or through a proxy in front of it).
pub fn store_in_bucket(config: &mut api::Config, settings: storage::S3Settings) {
    config.storage_url = STORAGE_URL.into();
    config.storage.s3 = settings;
}

/// Requests moto serves before it checks signatures: enough to set the server up unsigned.
const SETUP_REQUESTS: usize = 5;

/// A moto server; stopped when dropped.
#[derive(Debug)]
pub struct S3Server {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    /// An access key that may read every bucket.
    pub access_key_id: String,
    pub secret_access_key: String,
    child: Child,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn field<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = xml.find(&open).map(|at| at + open.len());
    let end = xml.find(&format!("</{name}>"));
    match (start, end) {
        (Some(start), Some(end)) if start <= end => &xml[start..end],
        _ => panic!("no {name} in {xml}"),
    }
}

impl S3Server {
    /// Settings that reach this server with its access key (path-style requests).
    pub fn settings(&self) -> storage::S3Settings {
        storage::S3Settings {
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some(self.access_key_id.clone()),
            secret_access_key: Some(self.secret_access_key.clone()),
            virtual_hosted: false,
        }
    }

    /// The bucket's objects under `prefix` (`objects` is what servers under test store),
    /// read with this server's settings.
    pub fn bucket_store(&self, prefix: &str) -> storage::BlobStore {
        let location = storage::StorageLocation::parse(&format!("s3://{STORAGE_BUCKET}/{prefix}"))
            .expect("an S3 location");
        let options = storage::StoreOptions {
            s3: self.settings(),
            ..Default::default()
        };
        storage::BlobStore::open_with(&location, &options).expect("the bucket opens")
    }

    /// The server's address, for a proxy in front of it.
    pub fn address(&self) -> std::net::SocketAddr {
        self.endpoint
            .trim_start_matches("http://")
            .parse()
            .expect("a loopback address")
    }

    /// Starts moto with `bucket` holding `key`. Without `moto_server` on the PATH the test is
    /// skipped (`None`), except under CI, where that is a failure.
    pub async fn start(bucket: &str, key: &str, bytes: Vec<u8>) -> Option<S3Server> {
        let mut server = Self::spawn(Some(SETUP_REQUESTS)).await?;
        server.setup(bucket, key, bytes).await;
        Some(server)
    }

    /// Starts moto with an empty `bucket` and no signature checks: any credential is
    /// accepted. For the server's own storage: moto's signature check fails requests with a
    /// query string (listings; getmoto/moto#5948), which a store needs.
    pub async fn start_open(bucket: &str) -> Option<S3Server> {
        let mut server = Self::spawn(None).await?;
        let http = reqwest::Client::new();
        let created = http
            .put(format!("{}/{bucket}", server.endpoint))
            .send()
            .await
            .expect("moto answers");
        assert!(
            created.status().is_success(),
            "create bucket: {}",
            created.status()
        );
        server.access_key_id = "vitrine".into();
        server.secret_access_key = "vitrine-secret".into();
        Some(server)
    }

    async fn spawn(unsigned_requests: Option<usize>) -> Option<S3Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut command = Command::new("moto_server");
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        if let Some(count) = unsigned_requests {
            command.env("INITIAL_NO_AUTH_ACTION_COUNT", count.to_string());
        }
        let child = match command.stdout(Stdio::null()).stderr(Stdio::null()).spawn() {
            Ok(child) => child,
            Err(error) if std::env::var_os("CI").is_none() => {
                eprintln!("skipped: moto_server cannot run ({error}); pip install 'moto[server]'");
                return None;
            }
            Err(error) => panic!("CI needs moto_server (pip install 'moto[server]'): {error}"),
        };
        let mut server = S3Server {
            endpoint: format!("http://127.0.0.1:{port}"),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("moto_server exited: {status}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(server)
    }

    /// Creates the bucket with its object, and a user whose key may read it; from then on
    /// requests must be signed.
    async fn setup(&mut self, bucket: &str, key: &str, bytes: Vec<u8>) {
        let server = self;
        let http = reqwest::Client::new();
        let object = format!("{}/{bucket}/{key}", server.endpoint);
        for (url, body) in [
            (format!("{}/{bucket}", server.endpoint), Vec::new()),
            (object, bytes),
        ] {
            let answer = http
                .put(&url)
                .body(body)
                .send()
                .await
                .expect("moto answers");
            assert!(
                answer.status().is_success(),
                "PUT {url}: {}",
                answer.status()
            );
        }
        // moto tells services apart by the signing scope; setup requests are not verified
        let iam = |form: &[(&str, &str)]| {
            http.post(&server.endpoint)
                .header(
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=setup/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
                )
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(form)
                        .finish(),
                )
                .send()
        };
        let version = ("Version", "2010-05-08");
        iam(&[("Action", "CreateUser"), ("UserName", "reader"), version])
            .await
            .expect("CreateUser")
            .error_for_status()
            .expect("CreateUser succeeds");
        let created = iam(&[
            ("Action", "CreateAccessKey"),
            ("UserName", "reader"),
            version,
        ])
        .await
        .expect("CreateAccessKey")
        .text()
        .await
        .expect("CreateAccessKey answer");
        server.access_key_id = field(&created, "AccessKeyId").to_owned();
        server.secret_access_key = field(&created, "SecretAccessKey").to_owned();
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        iam(&[
            ("Action", "PutUserPolicy"),
            ("UserName", "reader"),
            ("PolicyName", "read"),
            ("PolicyDocument", policy),
            version,
        ])
        .await
        .expect("PutUserPolicy")
        .error_for_status()
        .expect("PutUserPolicy succeeds");
        // from here on every request must be signed by a known key
        let anonymous = http
            .get(format!("{}/{bucket}/{key}", server.endpoint))
            .send()
            .await
            .expect("moto answers");
        assert_eq!(anonymous.status(), 403, "moto checks signatures now");
    }
}
