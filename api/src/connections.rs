//! Connection limits the HTTP server itself does not set: a cap on open connections, and a
//! deadline for each request head, so slow or idle clients cannot hold the server's file
//! descriptors. (Keep-alive idleness is closed by the server's own idle timeout.)

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

/// An acceptor that holds at most `max` connections open (further clients wait in the
/// kernel's backlog until one closes) and gives each request head `head_timeout` to arrive.
pub struct Guarded<A> {
    inner: A,
    permits: Arc<Semaphore>,
    head_timeout: Duration,
}

impl<A> Guarded<A> {
    pub fn new(inner: A, max: usize, head_timeout: Duration) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(max.max(1))),
            head_timeout,
        }
    }
}

impl<A: Acceptor> Acceptor for Guarded<A> {
    type Io = GuardedIo<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| io::Error::other("connection limiter closed"))?;
        let (io, local, remote, scheme) = self.inner.accept().await?;
        Ok((
            GuardedIo::new(io, permit, self.head_timeout),
            local,
            remote,
            scheme,
        ))
    }
}

/// Where a connection is in its current exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exchange {
    /// Between requests: the next byte read starts a request head and its deadline.
    Idle,
    /// Reading a request head: it must end (a blank line) before the deadline.
    Head,
    /// The head has arrived; the body and the answer are not timed here.
    Request,
    /// HTTP/2 with prior knowledge: frames, not heads; not timed here.
    Http2,
}

/// A connection's stream, holding its place under the cap and timing its request heads.
pub struct GuardedIo<Io> {
    io: Io,
    _permit: OwnedSemaphorePermit,
    head_timeout: Duration,
    exchange: Exchange,
    /// The last bytes of the head read so far, to find its end across reads.
    tail: [u8; 3],
    /// Bytes of the connection's very first head seen so far (to recognise HTTP/2).
    seen: usize,
    deadline: Option<Pin<Box<Sleep>>>,
}

const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

impl<Io> GuardedIo<Io> {
    fn new(io: Io, permit: OwnedSemaphorePermit, head_timeout: Duration) -> Self {
        Self {
            io,
            _permit: permit,
            head_timeout,
            exchange: Exchange::Idle,
            tail: [0; 3],
            seen: 0,
            deadline: None,
        }
    }

    /// Follows the bytes just read: starts a head's deadline, and ends it at the blank line.
    fn read_bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            match self.exchange {
                Exchange::Request | Exchange::Http2 => return,
                Exchange::Idle => {
                    self.exchange = Exchange::Head;
                    self.tail = [0; 3];
                    self.deadline = Some(Box::pin(tokio::time::sleep(self.head_timeout)));
                }
                Exchange::Head => {}
            }
            if self.seen < HTTP2_PREFACE.len() {
                if HTTP2_PREFACE[self.seen] == byte {
                    self.seen += 1;
                    if self.seen == HTTP2_PREFACE.len() {
                        self.exchange = Exchange::Http2;
                        self.deadline = None;
                        return;
                    }
                } else {
                    self.seen = usize::MAX;
                }
            }
            // a head ends with an empty line: CRLF CRLF, or bare LF LF, which parsers accept
            let ends = byte == b'\n'
                && (self.tail[2] == b'\n' || (self.tail[2] == b'\r' && self.tail[1] == b'\n'));
            self.tail = [self.tail[1], self.tail[2], byte];
            if ends {
                self.exchange = Exchange::Request;
                self.deadline = None;
            }
        }
    }

    /// Follows the bytes just written: an answer (not an interim `100 Continue`) ends the
    /// exchange, so the next bytes read are a new head.
    fn wrote_bytes(&mut self, bytes: &[u8]) {
        if self.exchange != Exchange::Request {
            return;
        }
        let interim = bytes.len() >= 10 && bytes.starts_with(b"HTTP/1.") && bytes[9] == b'1';
        if !interim {
            self.exchange = Exchange::Idle;
        }
    }
}

fn head_too_slow() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the request head did not arrive in time",
    )
}

impl<Io: AsyncRead + Unpin> AsyncRead for GuardedIo<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(deadline) = this.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(head_too_slow()));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let had_deadline = this.deadline.is_some();
            this.read_bytes(&buf.filled()[before..]);
            // a new deadline is polled once so that it wakes this connection when it passes
            if !had_deadline
                && let Some(deadline) = this.deadline.as_mut()
                && deadline.as_mut().poll(cx).is_ready()
            {
                return Poll::Ready(Err(head_too_slow()));
            }
        }
        polled
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for GuardedIo<Io> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(written)) = polled
            && written > 0
        {
            this.wrote_bytes(&buf[..written]);
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(written)) = polled
            && written > 0
        {
            let first = bufs.iter().find(|buf| !buf.is_empty());
            this.wrote_bytes(first.map(|buf| &buf[..]).unwrap_or_default());
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Raises this process's soft limit on open files towards `wanted` (never past the hard
/// limit) and returns the limit in force, so the connection cap can stay under it.
#[cfg(unix)]
pub fn raise_open_file_limit(wanted: u64) -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    let current = limit.current?;
    let hard = limit.maximum;
    let target = hard.map_or(wanted, |hard| wanted.min(hard));
    if target <= current {
        return Some(current);
    }
    limit.current = Some(target);
    match setrlimit(Resource::Nofile, limit) {
        Ok(()) => Some(target),
        Err(error) => {
            tracing::warn!(%error, current, target, "cannot raise the open file limit");
            Some(current)
        }
    }
}

#[cfg(not(unix))]
pub fn raise_open_file_limit(_wanted: u64) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io() -> GuardedIo<()> {
        let permit = Arc::new(Semaphore::new(1)).try_acquire_owned().unwrap();
        GuardedIo::new((), permit, Duration::from_secs(5))
    }

    #[tokio::test]
    async fn heads_are_timed_until_their_blank_line() {
        let mut io = io();
        io.read_bytes(b"GET / HTTP/1.1\r\nHost: a\r\n");
        assert_eq!(io.exchange, Exchange::Head);
        assert!(io.deadline.is_some());
        io.read_bytes(b"\r");
        io.read_bytes(b"\nbody bytes\r\n\r\n");
        assert_eq!(io.exchange, Exchange::Request);
        assert!(io.deadline.is_none());
        io.wrote_bytes(b"HTTP/1.1 100 Continue\r\n\r\n");
        assert_eq!(io.exchange, Exchange::Request, "an interim answer");
        io.wrote_bytes(b"HTTP/1.1 200 OK\r\n");
        assert_eq!(io.exchange, Exchange::Idle);
        io.read_bytes(b"GET / HTTP/1.1\nHost: a\n\n");
        assert_eq!(
            io.exchange,
            Exchange::Request,
            "bare line feeds end a head too"
        );
    }

    #[tokio::test]
    async fn http2_with_prior_knowledge_is_left_alone() {
        let mut io = io();
        io.read_bytes(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        assert_eq!(io.exchange, Exchange::Http2);
        io.wrote_bytes(b"frames");
        io.read_bytes(b"more frames");
        assert!(io.deadline.is_none());
    }
}
