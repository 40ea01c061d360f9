//! A round-robin TCP load balancer on loopback: each connection goes to the next replica that
//! accepts it, and its bytes are copied both ways. Unlike the HTTP [`Balancer`](super::balancer)
//! it carries WebSockets (a Media Stream stays on the replica its connection reached), as a
//! layer-4 balancer in front of stream-mode servers does.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};

pub struct TcpBalancer {
    pub url: String,
    backends: Arc<std::sync::Mutex<Vec<String>>>,
}

impl TcpBalancer {
    /// Binds a port first: the replicas need the balancer's URL (their public URL) to start.
    pub async fn bind() -> (TcpBalancer, TcpListener) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let backends = Arc::default();
        (TcpBalancer { url, backends }, listener)
    }

    /// Starts balancing over `addresses` (each `host:port`).
    pub fn start(&self, listener: TcpListener, addresses: Vec<String>) {
        *self.backends.lock().unwrap() = addresses;
        let backends = self.backends.clone();
        let next = Arc::new(AtomicUsize::new(0));
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let addresses = backends.lock().unwrap().clone();
                let first = next.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    // A replica that is gone refuses the connection: try the next one.
                    for attempt in 0..addresses.len() {
                        let address = &addresses[(first + attempt) % addresses.len()];
                        if let Ok(mut outbound) = TcpStream::connect(address).await {
                            let _ = outbound.set_nodelay(true);
                            let _ = inbound.set_nodelay(true);
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                            return;
                        }
                    }
                });
            }
        });
    }
}
