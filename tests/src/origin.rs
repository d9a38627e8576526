//! A local origin server for ingest tests: good masters, a 404, a corrupt file, a slow response
//! and a flapping 503, with a count of the requests each path received.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Data, Path};
use poem::{EndpointExt, Response, Route, get, handler};

#[derive(Debug, Default)]
struct Shared {
    files: HashMap<String, (String, Bytes)>,
    hits: HashMap<String, usize>,
    /// 503s a flapping path answers before it succeeds.
    failures_left: HashMap<String, usize>,
}

/// The origin server; it stops when dropped.
#[derive(Debug)]
pub struct Origin {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Credentials the origin wants for names starting with "locked": `user:secret`.
const LOCKED_AUTHORIZATION: &str = "Basic dXNlcjpzZWNyZXQ=";

#[handler]
async fn serve(
    Path(name): Path<String>,
    shared: Data<&Arc<Mutex<Shared>>>,
    headers: &poem::http::HeaderMap,
) -> Response {
    if name.starts_with("locked")
        && headers
            .get(poem::http::header::AUTHORIZATION)
            .is_none_or(|value| value != LOCKED_AUTHORIZATION)
    {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .body("credentials needed");
    }
    let (file, flap) = {
        let mut shared = shared.lock().unwrap();
        *shared.hits.entry(name.clone()).or_default() += 1;
        let flap = match shared.failures_left.get_mut(&name) {
            Some(left) if *left > 0 => {
                *left -= 1;
                true
            }
            _ => false,
        };
        (shared.files.get(&name).cloned(), flap)
    };
    if flap {
        return Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .body("try again");
    }
    if name.starts_with("slow") {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    match file {
        Some((media_type, bytes)) => Response::builder().content_type(media_type).body(bytes),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("no such master"),
    }
}

impl Origin {
    pub async fn start() -> Origin {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind origin");
        let addr = *acceptor.local_addr()[0]
            .as_socket_addr()
            .expect("socket address");
        let app = Route::new().at("/:name", get(serve)).data(shared.clone());
        let task = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
        });
        Origin { addr, shared, task }
    }

    /// Serves `bytes` at `/{name}`; returns its URL. Names starting with "slow" answer after
    /// 30 seconds; names starting with "locked" need basic credentials `user:secret`.
    pub fn add(&self, name: &str, media_type: &str, bytes: impl Into<Bytes>) -> String {
        self.shared
            .lock()
            .unwrap()
            .files
            .insert(name.to_owned(), (media_type.to_owned(), bytes.into()));
        self.url(name)
    }

    /// Makes `/{name}` answer 503 for its next `failures` requests.
    pub fn flap(&self, name: &str, failures: usize) {
        self.shared
            .lock()
            .unwrap()
            .failures_left
            .insert(name.to_owned(), failures);
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.addr)
    }

    /// Requests `/{name}` received.
    pub fn hits(&self, name: &str) -> usize {
        self.shared
            .lock()
            .unwrap()
            .hits
            .get(name)
            .copied()
            .unwrap_or(0)
    }
}
