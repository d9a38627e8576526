//! http(s) origins: the master streamed under the size limit with the rule's basic
//! credentials, or (to check it is there) a HEAD, or the first byte when HEAD is refused.

use bytes::BytesMut;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use super::addresses::{literal_private, refused};
use super::{Fetched, Fetcher, Want, forbidden, unreadable_rule};
use crate::error::{Error, ErrorKind, Result};

/// The master's length as the answer declares it: its Content-Length, or for a range (206) the
/// whole length its Content-Range gives. Read from the headers, which a HEAD answer has too.
fn declared_length(response: &reqwest::Response) -> Option<u64> {
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|value: &reqwest::header::HeaderValue| value.to_str().ok())
    };
    if response.status() == reqwest::StatusCode::PARTIAL_CONTENT {
        let range = header(reqwest::header::CONTENT_RANGE)?;
        return range.rsplit_once('/')?.1.trim().parse().ok();
    }
    header(reqwest::header::CONTENT_LENGTH)?.trim().parse().ok()
}

/// The request made of an http(s) origin: the master, or (to check it is there) a HEAD, or
/// the first byte when the server does not answer HEAD.
#[derive(Debug, Clone, Copy)]
enum HttpAsk {
    Get,
    Head,
    FirstByte,
}

impl Fetcher {
    pub(super) async fn fetch_http(
        &self,
        url: url::Url,
        credentials: Option<&domain::OriginCredentials>,
        want: Want,
    ) -> Result<Option<Fetched>> {
        if url.host_str().is_none_or(str::is_empty) {
            return Err(forbidden("origin has no host"));
        }
        if !self.policy.allow_private && literal_private(&url) {
            return Err(forbidden(format!(
                "{url} is a private address; private origins are not allowed"
            )));
        }
        let first = match want {
            Want::Bytes => HttpAsk::Get,
            Want::Presence => HttpAsk::Head,
        };
        let mut response = self.send_http(&url, credentials, first).await?;
        if want == Want::Presence && matches!(response.status().as_u16(), 405 | 501) {
            // a server without HEAD: ask for the first byte instead
            response = self
                .send_http(&url, credentials, HttpAsk::FirstByte)
                .await?;
        }
        let status = response.status();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(Error::new(
                ErrorKind::OriginUnavailable,
                format!("origin answered {status}"),
            ));
        }
        if !status.is_success() {
            return Err(Error::new(
                ErrorKind::OriginRefused,
                format!("origin answered {status}"),
            ));
        }
        if declared_length(&response).is_some_and(|length| length > self.policy.max_bytes) {
            return Err(self.too_large());
        }
        if want == Want::Presence {
            return Ok(None);
        }
        self.read_body(response).await.map(Some)
    }

    /// The answer's body under the size limit: in memory, or once it is over the spool size
    /// (declared or reached) in a temporary file, written as it arrives.
    async fn read_body(&self, response: reqwest::Response) -> Result<Fetched> {
        let transfer = |error: reqwest::Error| {
            Error::new(
                ErrorKind::OriginUnavailable,
                format!("transfer failed: {error}"),
            )
        };
        let spool = |error: std::io::Error| {
            Error::new(
                ErrorKind::Internal,
                format!("cannot write the master to a temporary file: {error}"),
            )
        };
        let mut body = BytesMut::new();
        let mut file: Option<tokio::fs::File> = None;
        let mut length = 0u64;
        let large = declared_length(&response).is_some_and(|length| length > self.spool_bytes);
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(transfer)?;
            length += chunk.len() as u64;
            if length > self.policy.max_bytes {
                return Err(self.too_large());
            }
            if file.is_none() && (large || length > self.spool_bytes) {
                let mut spooled = tokio::fs::File::from_std(tempfile::tempfile().map_err(spool)?);
                spooled.write_all(&body).await.map_err(spool)?;
                body = BytesMut::new();
                file = Some(spooled);
            }
            match &mut file {
                Some(file) => file.write_all(&chunk).await.map_err(spool)?,
                None => body.extend_from_slice(&chunk),
            }
        }
        match file {
            Some(mut file) => {
                file.flush().await.map_err(spool)?;
                Ok(Fetched::File {
                    file: file.into_std().await,
                    len: length,
                })
            }
            None => Ok(Fetched::Bytes(body.freeze())),
        }
    }

    /// One request to an http(s) origin, with the rule's credentials.
    async fn send_http(
        &self,
        url: &url::Url,
        credentials: Option<&domain::OriginCredentials>,
        ask: HttpAsk,
    ) -> Result<reqwest::Response> {
        let mut request = match ask {
            HttpAsk::Get => self.http.get(url.clone()),
            HttpAsk::Head => self.http.head(url.clone()),
            HttpAsk::FirstByte => self
                .http
                .get(url.clone())
                .header(reqwest::header::RANGE, "bytes=0-0"),
        };
        match credentials {
            Some(domain::OriginCredentials::Basic { username, password }) => {
                // reqwest drops the header when a redirect leaves the host
                request = request.basic_auth(username, Some(password));
            }
            Some(domain::OriginCredentials::Unreadable { rule }) => {
                return Err(unreadable_rule(*rule));
            }
            Some(domain::OriginCredentials::S3(_)) | None => {}
        }
        request.send().await.map_err(|error| match refused(&error) {
            Some(reason) => forbidden(reason),
            None => Error::new(
                ErrorKind::OriginUnavailable,
                format!("cannot fetch {url}: {error}"),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fetcher;
    use super::*;

    /// `count` bytes of the digits over and over.
    fn digits(count: usize) -> String {
        "0123456789".chars().cycle().take(count).collect()
    }

    /// A loopback http origin: `/here.jpg` (10 bytes), `/big.jpg` (declares 5000), `/nohead.jpg`
    /// (405 to HEAD, 206 to a range), `/declared.jpg` (600 bytes), `/long.jpg` and `/huge.jpg`
    /// (800 and 1500 bytes of undeclared length), anything else 404. Returns its base URL and the request
    /// lines it was sent.
    async fn origin_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let log = log.clone();
                tokio::spawn(async move {
                    let mut head = vec![0u8; 4096];
                    let read = socket.read(&mut head).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&head[..read]).to_string();
                    let line = head.lines().next().unwrap_or_default().to_owned();
                    let ranged = head.to_ascii_lowercase().contains("range: bytes=0-0");
                    log.lock()
                        .unwrap()
                        .push(format!("{line}{}", if ranged { " (range)" } else { "" }));
                    let answer = match line.split(' ').take(2).collect::<Vec<_>>()[..] {
                        [_, "/here.jpg"] => {
                            "HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n0123456789"
                        }
                        [_, "/declared.jpg"] => &format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: 600\r\n\r\n{}",
                            digits(600)
                        ),
                        // no length: the body ends with the connection
                        [_, "/long.jpg"] => &format!(
                            "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{}",
                            digits(800)
                        ),
                        [_, "/huge.jpg"] => &format!(
                            "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{}",
                            digits(1500)
                        ),
                        [_, "/big.jpg"] => "HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n",
                        ["HEAD", "/nohead.jpg"] => {
                            "HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n"
                        }
                        ["GET", "/nohead.jpg"] => {
                            "HTTP/1.1 206 Partial Content\r\ncontent-range: bytes 0-0/400\r\ncontent-length: 1\r\n\r\nx"
                        }
                        _ => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
                    };
                    // a HEAD answer carries no body, whatever its content-length says
                    let answer = if line.starts_with("HEAD") {
                        answer.split_inclusive("\r\n\r\n").next().unwrap_or(answer)
                    } else {
                        answer
                    };
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        (base, seen)
    }

    #[tokio::test]
    async fn origins_are_checked_without_reading_them() {
        let (base, seen) = origin_server().await;
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("a.jpg"), b"inside").unwrap();
        std::fs::write(root.path().join("big.jpg"), vec![0u8; 2000]).unwrap();
        let open = fetcher(vec![root.path().to_path_buf()], true);
        let file = |name: &str| {
            url::Url::from_file_path(root.path().join(name))
                .unwrap()
                .to_string()
        };

        open.check_with(&file("a.jpg"), None).await.unwrap();
        let missing = open.check_with(&file("none.jpg"), None).await.unwrap_err();
        assert_eq!(missing.kind, ErrorKind::OriginRefused);
        assert_eq!(
            open.check_with(&file("big.jpg"), None)
                .await
                .unwrap_err()
                .kind,
            ErrorKind::TooLarge
        );
        let outside = open
            .check_with("file:///etc/hostname", None)
            .await
            .unwrap_err();
        assert_eq!(outside.kind, ErrorKind::OriginForbidden);

        open.check_with(&format!("{base}/here.jpg"), None)
            .await
            .unwrap();
        let gone = open
            .check_with(&format!("{base}/gone.jpg"), None)
            .await
            .unwrap_err();
        assert_eq!(
            (gone.kind, gone.message.as_str()),
            (ErrorKind::OriginRefused, "origin answered 404 Not Found")
        );
        assert_eq!(
            open.check_with(&format!("{base}/big.jpg"), None)
                .await
                .unwrap_err()
                .kind,
            ErrorKind::TooLarge
        );
        // a server refusing HEAD is asked for one byte, whose 206 says it is there and how big
        open.check_with(&format!("{base}/nohead.jpg"), None)
            .await
            .unwrap();
        let small = fetcher(vec![], true);
        let mut small_policy = small.policy.clone();
        small_policy.max_bytes = 100;
        let small = Fetcher::new(small_policy).unwrap();
        assert_eq!(
            small
                .check_with(&format!("{base}/nohead.jpg"), None)
                .await
                .unwrap_err()
                .kind,
            ErrorKind::TooLarge
        );
        let requests = seen.lock().unwrap().clone();
        assert!(
            requests
                .iter()
                .all(|request| request.starts_with("HEAD ") || request.ends_with("(range)")),
            "a check never downloads a master: {requests:?}"
        );
        assert!(
            requests.contains(&"GET /nohead.jpg HTTP/1.1 (range)".to_owned()),
            "{requests:?}"
        );

        // the same policy as fetching: a private address stays refused when not allowed
        let closed = fetcher(vec![root.path().to_path_buf()], false);
        let private = closed
            .check_with(&format!("{base}/here.jpg"), None)
            .await
            .unwrap_err();
        assert_eq!(private.kind, ErrorKind::OriginForbidden);
    }

    /// A body over the spool size, declared or not, is written to a temporary file as it
    /// arrives; the size limit holds all the same.
    #[tokio::test]
    async fn large_bodies_are_written_to_a_file() {
        let (base, _) = origin_server().await;
        let mut fetcher = fetcher(vec![], true);
        fetcher.spool_bytes = 500;
        let fetcher = &fetcher;
        let fetch = |name: &str| {
            let url = format!("{base}/{name}");
            async move { fetcher.fetch_with(&url, None).await }
        };
        match fetch("here.jpg").await.unwrap() {
            Fetched::Bytes(bytes) => assert_eq!(&bytes[..], b"0123456789"),
            other => panic!("{other:?}"),
        }
        for (name, length) in [("declared.jpg", 600), ("long.jpg", 800)] {
            let fetched = fetch(name).await.unwrap();
            assert!(matches!(fetched, Fetched::File { .. }), "{name}");
            assert_eq!(fetched.len(), length, "{name}");
            assert_eq!(
                &fetched.head().unwrap()[..],
                digits(length as usize).as_bytes()
            );
            assert_eq!(
                &fetched.into_bytes().unwrap()[..],
                digits(length as usize).as_bytes()
            );
        }
        assert_eq!(
            fetch("huge.jpg").await.unwrap_err().kind,
            ErrorKind::TooLarge
        );
    }
}
