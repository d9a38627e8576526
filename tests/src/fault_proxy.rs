//! A TCP proxy on loopback that can be switched off and on again: how the suites make a
//! backend (the S3 server) unreachable for a while without losing what it holds.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Forwards every connection to its target while up; while down, it closes new connections at
/// once and cuts the open ones. Stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    /// `127.0.0.1:PORT`, to point clients at instead of the target.
    pub address: SocketAddr,
    down: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// A proxy to `target`, up.
    pub async fn start(target: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("bound address");
        let (down, watching) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                let mut watching = watching.clone();
                if *watching.borrow() {
                    drop(client);
                    continue;
                }
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watching.wait_for(|down| *down) => {}
                    }
                });
            }
        });
        FaultProxy {
            address,
            down,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Makes the target unreachable through the proxy (`true`) or reachable again.
    pub fn set_down(&self, down: bool) {
        self.down.send_replace(down);
    }
}
