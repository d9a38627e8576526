//! Render slots: an ordinary pool, a smaller one of its own for heavy outputs (so that a few
//! of them never hold every slot), a bounded number of renders waiting for a slot, and a
//! deadline for each render. A render refused for any of these is a 503 with `Retry-After`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use iiif::image::{Format, ResolvedRequest};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::RestError;

/// How renders share the blocking pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderLimits {
    /// Ordinary renders at once.
    pub threads: usize,
    /// Heavy renders at once, in a pool of their own.
    pub heavy_threads: usize,
    /// Output pixels from which a render is heavy (a quarter of it for GIF, PNG and TIFF).
    pub heavy_pixels: u64,
    /// Renders that may wait for a slot, both pools together.
    pub queue_length: usize,
    /// Time a render may take, its wait for a slot included.
    pub timeout: Duration,
}

/// The render slots of one server, and the threads renders run on.
#[derive(Debug)]
pub struct RenderPools {
    ordinary: Arc<Semaphore>,
    heavy: Arc<Semaphore>,
    waiting: AtomicUsize,
    limits: RenderLimits,
    /// One thread per slot of both pools. Renders run here rather than on tokio's blocking
    /// pool, whose threads come and go by the hundred: the allocator keeps what a thread's
    /// renders freed in that thread's arena, so few render threads hold few arenas' worth of
    /// canvases.
    threads: RenderThreads,
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads taking jobs from one queue; they sleep while it is empty.
struct RenderThreads {
    queue: std::sync::mpsc::Sender<Job>,
}

impl std::fmt::Debug for RenderThreads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RenderThreads")
    }
}

impl RenderThreads {
    fn start(count: usize) -> Self {
        let (queue, jobs) = std::sync::mpsc::channel::<Job>();
        let jobs = Arc::new(std::sync::Mutex::new(jobs));
        for index in 0..count {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("vitrine-render-{index}"))
                .spawn(move || {
                    loop {
                        // the lock is held only while waiting for the next job
                        let job = match jobs.lock() {
                            Ok(jobs) => jobs.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            // the server has gone
                            Err(_) => return,
                        }
                    }
                })
                .expect("a render thread starts");
        }
        Self { queue }
    }
}

/// A place among the renders waiting for a slot, given back when dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(crate) fn timed_out() -> RestError {
    RestError::try_again(
        "render-timeout",
        "the image could not be rendered in time; try again shortly",
    )
}

impl RenderPools {
    pub fn new(limits: RenderLimits) -> Self {
        let (ordinary, heavy) = (limits.threads.max(1), limits.heavy_threads.max(1));
        let threads = RenderThreads::start(ordinary + heavy);
        Self {
            ordinary: Arc::new(Semaphore::new(ordinary)),
            heavy: Arc::new(Semaphore::new(heavy)),
            waiting: AtomicUsize::new(0),
            limits,
            threads,
        }
    }

    /// Runs `render` on a render thread (the caller holds a slot, so one is free) and waits
    /// for its result. A render that panics is an internal error, not a lost server thread.
    pub async fn run<T: Send + 'static>(
        &self,
        render: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, RestError> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(render));
            // nobody waits any more when the request has gone or timed out
            let _ = sender.send(outcome);
        });
        if self.threads.queue.send(job).is_err() {
            return Err(RestError::internal("the render threads have stopped"));
        }
        match receiver.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(RestError::internal("the render failed")),
            Err(_) => Err(RestError::internal("the render thread stopped")),
        }
    }

    /// When a render starting now must be done.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.limits.timeout
    }

    /// Whether a request renders in the heavy pool: an output (after rotation) over the
    /// heavy size, or over a quarter of it in the slow encoders' formats.
    pub fn is_heavy(&self, request: &ResolvedRequest) -> bool {
        let (width, height) = request.output_size();
        let pixels = u64::from(width) * u64::from(height);
        let slow_format = matches!(request.format, Format::Gif | Format::Png | Format::Tif);
        pixels > self.limits.heavy_pixels || (slow_format && pixels > self.limits.heavy_pixels / 4)
    }

    /// A slot in the pool the request belongs to, waiting at most until `deadline`. Refused
    /// at once when as many renders as allowed are already waiting.
    pub async fn slot(
        &self,
        heavy: bool,
        deadline: Instant,
    ) -> Result<OwnedSemaphorePermit, RestError> {
        let pool = if heavy { &self.heavy } else { &self.ordinary };
        if let Ok(permit) = pool.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let waiting = self.waiting.fetch_add(1, Ordering::SeqCst);
        let _place = Waiting(&self.waiting);
        if waiting >= self.limits.queue_length {
            return Err(RestError::try_again(
                "render-busy",
                "too many images are being rendered; try again shortly",
            ));
        }
        let acquired = tokio::time::timeout_at(deadline.into(), pool.clone().acquire_owned()).await;
        match acquired {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(RestError::new(
                "shutting-down",
                "the server is shutting down",
            )),
            Err(_) => Err(timed_out()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iiif::image::{ApiVersion, ImageRequest, Limits};

    fn pools(queue_length: usize) -> RenderPools {
        RenderPools::new(RenderLimits {
            threads: 1,
            heavy_threads: 1,
            heavy_pixels: 4_000_000,
            queue_length,
            timeout: Duration::from_secs(30),
        })
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_millis(100)
    }

    fn request(path: &str) -> ResolvedRequest {
        let parts: Vec<&str> = path.split('/').collect();
        let limits = Limits {
            max_width: Some(20_000),
            max_height: None,
            max_area: Some(400_000_000),
            upscaling: true,
        };
        ImageRequest::parse(ApiVersion::V3, parts[0], parts[1], parts[2], parts[3])
            .unwrap()
            .resolve(10_000, 8_000, &limits)
            .unwrap()
    }

    #[tokio::test]
    async fn renders_run_on_the_render_threads_and_a_panic_is_an_error() {
        let pools = pools(10);
        let name = pools
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(
            name.as_deref()
                .is_some_and(|n| n.starts_with("vitrine-render-")),
            "{name:?}"
        );
        let failed = pools.run(|| -> u32 { panic!("a render bug") }).await;
        assert_eq!(failed.unwrap_err().code, "internal");
        // the threads are still there for the next render
        assert_eq!(pools.run(|| 6 * 7).await.unwrap(), 42);
    }

    #[test]
    fn heavy_outputs_are_large_ones_and_slow_formats_over_a_quarter() {
        let pools = pools(10);
        assert!(!pools.is_heavy(&request("0,0,512,512/max/0/default.jpg")));
        assert!(!pools.is_heavy(&request("full/1000,/0/default.png")));
        assert!(!pools.is_heavy(&request("full/2000,/0/default.jpg")));
        assert!(pools.is_heavy(&request("full/2000,/0/default.tif")));
        assert!(pools.is_heavy(&request("full/2000,/0/default.gif")));
        assert!(pools.is_heavy(&request("full/3000,/0/default.jpg")));
        // the area counted is the rotated one
        assert!(pools.is_heavy(&request("full/1000,/45/default.png")));
        assert!(!pools.is_heavy(&request("full/1000,/45/default.jpg")));
    }

    /// A render that waits for a slot past its deadline is a 503 with Retry-After.
    #[tokio::test]
    async fn waiting_past_the_deadline_is_refused() {
        let pools = pools(10);
        let _held = pools.slot(false, soon()).await.unwrap();
        let started = Instant::now();
        let error = pools.slot(false, soon()).await.unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert_eq!(error.status(), poem::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error.code, "render-timeout");
        assert_eq!(error.retry_after, Some(crate::error::RETRY_AFTER_SECONDS));
        assert_eq!(pools.waiting.load(Ordering::SeqCst), 0);
    }

    /// With the queue full, a render is refused at once, not after its deadline.
    #[tokio::test]
    async fn a_full_queue_is_refused_at_once() {
        let pools = pools(0);
        let _held = pools.slot(false, soon()).await.unwrap();
        let started = Instant::now();
        let far = Instant::now() + Duration::from_secs(60);
        let error = pools.slot(false, far).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(
            (error.status(), error.code),
            (poem::http::StatusCode::SERVICE_UNAVAILABLE, "render-busy")
        );
        assert!(error.retry_after.is_some());
    }

    /// Heavy renders holding every heavy slot leave the ordinary slots free.
    #[tokio::test]
    async fn heavy_renders_leave_ordinary_slots_free() {
        let pools = pools(10);
        let _heavy = pools.slot(true, soon()).await.unwrap();
        assert!(pools.slot(true, Instant::now()).await.is_err());
        let ordinary = tokio::time::timeout(Duration::from_secs(5), pools.slot(false, soon()))
            .await
            .expect("an ordinary render does not wait for heavy ones");
        assert!(ordinary.is_ok());
    }
}
