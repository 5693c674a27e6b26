//! A TCP proxy between the app's pool and Postgres that can be cut, in the spirit of crates.io's `ChaosProxy`:
//! cutting drops every open connection and refuses new ones until it is restored.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The proxy: listens on a free loopback port and forwards to the test server's Postgres.
pub struct ChaosProxy {
    addr: SocketAddr,
    cut: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl ChaosProxy {
    /// Starts a proxy in front of the Postgres of `super::server_url()`.
    pub async fn start() -> Self {
        let server = url::Url::parse(&super::server_url()).expect("HAMKORI_TEST_PG is a URL");
        let upstream = format!(
            "{}:{}",
            server.host_str().unwrap_or("127.0.0.1"),
            server.port().unwrap_or(5432)
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let cut = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = tokio::spawn({
            let (cut, connections) = (cut.clone(), connections.clone());
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if cut.load(Ordering::SeqCst) {
                        // Refused: closed before a byte is read.
                        drop(client);
                        continue;
                    }
                    let upstream = upstream.clone();
                    let task = tokio::spawn(async move {
                        let Ok(mut server) = TcpStream::connect(&upstream).await else {
                            return;
                        };
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    });
                    let mut open = connections.lock().expect("lock");
                    open.retain(|t| !t.is_finished());
                    open.push(task);
                }
            }
        });
        Self {
            addr,
            cut,
            connections,
            accept,
        }
    }

    /// The server URL to reach Postgres through the proxy (append `/<database>`).
    pub fn url(&self) -> String {
        let server = url::Url::parse(&super::server_url()).expect("HAMKORI_TEST_PG is a URL");
        let user = server.username();
        let password = server
            .password()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        format!("postgres://{user}{password}@{}", self.addr)
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for task in self.connections.lock().expect("lock").drain(..) {
            task.abort();
        }
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.accept.abort();
        if let Ok(mut open) = self.connections.lock() {
            for task in open.drain(..) {
                task.abort();
            }
        }
    }
}
