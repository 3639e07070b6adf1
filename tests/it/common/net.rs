//! Small loopback servers and files the hardening and proxy tests stand up: a SOCKS5 proxy, a
//! raw HTTP server with a pathological body, a FIFO.

use std::fs;
use std::path::Path;

/// A minimal SOCKS5 proxy (RFC 1928, no auth, CONNECT only) on a random loopback port. It
/// records the host names clients asked for, so a test can see `socks5h://` resolved remotely.
pub struct Socks5 {
    pub url: String,
    pub requested: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Socks5 {
    pub fn start() -> Socks5 {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("socks5h://{}", listener.local_addr().unwrap());
        let requested = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = requested.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut c) = client else { return };
                let seen = seen.clone();
                std::thread::spawn(move || -> std::io::Result<()> {
                    let mut head = [0u8; 2];
                    c.read_exact(&mut head)?;
                    let mut methods = vec![0u8; head[1] as usize];
                    c.read_exact(&mut methods)?;
                    c.write_all(&[5, 0])?;
                    let mut req = [0u8; 4];
                    c.read_exact(&mut req)?;
                    let host = match req[3] {
                        3 => {
                            let mut len = [0u8; 1];
                            c.read_exact(&mut len)?;
                            let mut name = vec![0u8; len[0] as usize];
                            c.read_exact(&mut name)?;
                            String::from_utf8_lossy(&name).into_owned()
                        }
                        1 => {
                            let mut ip = [0u8; 4];
                            c.read_exact(&mut ip)?;
                            std::net::Ipv4Addr::from(ip).to_string()
                        }
                        _ => return Ok(()),
                    };
                    let mut port = [0u8; 2];
                    c.read_exact(&mut port)?;
                    let port = u16::from_be_bytes(port);
                    seen.lock().unwrap().push(host.clone());
                    let target = if host == "localhost" {
                        "127.0.0.1".to_string()
                    } else {
                        host
                    };
                    let upstream = TcpStream::connect((target.as_str(), port))?;
                    c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?;
                    let (mut c2, mut u2) = (c.try_clone()?, upstream.try_clone()?);
                    let pump = std::thread::spawn(move || std::io::copy(&mut u2, &mut c2));
                    let mut u = upstream;
                    std::io::copy(&mut c, &mut u)?;
                    let _ = u.shutdown(std::net::Shutdown::Write);
                    let _ = pump.join();
                    Ok(())
                });
            }
        });
        Socks5 { url, requested }
    }
}

/// A loopback HTTP server answering every request with 200 and a body that is either endless
/// or trickled a byte at a time, for the body cap and the deadline.
pub struct RawHttp {
    pub base_url: String,
}

#[derive(Clone)]
pub enum RawBody {
    /// Spaces until the client hangs up.
    Endless,
    /// `{}` padded to 100 bytes, one byte every `every`.
    Trickle { every: std::time::Duration },
    /// This body; the first answer stops halfway (the connection closes), the next are whole.
    CutOnce {
        body: std::sync::Arc<Vec<u8>>,
        answered: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    },
}

impl RawBody {
    pub fn cut_once(body: Vec<u8>) -> RawBody {
        RawBody::CutOnce {
            body: std::sync::Arc::new(body),
            answered: Default::default(),
        }
    }
}

impl RawHttp {
    pub fn start(body: RawBody) -> RawHttp {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut c) = conn else { return };
                let body = body.clone();
                std::thread::spawn(move || -> std::io::Result<()> {
                    // The request head, up to its blank line.
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if c.read(&mut byte)? == 0 {
                            return Ok(());
                        }
                        head.push(byte[0]);
                    }
                    match body {
                        RawBody::Endless => {
                            c.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n")?;
                            let chunk = vec![b' '; 64 * 1024];
                            loop {
                                c.write_all(&chunk)?;
                            }
                        }
                        RawBody::Trickle { every } => {
                            let text = format!("{:<100}", "{}");
                            c.write_all(format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", text.len()).as_bytes())?;
                            for b in text.bytes() {
                                c.write_all(&[b])?;
                                std::thread::sleep(every);
                            }
                            Ok(())
                        }
                        RawBody::CutOnce { body, answered } => {
                            let first =
                                answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
                            c.write_all(format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len()).as_bytes())?;
                            let sent = if first { body.len() / 2 } else { body.len() };
                            c.write_all(&body[..sent])
                        }
                    }
                });
            }
        });
        RawHttp { base_url }
    }
}

/// Makes a FIFO at `path` (nothing ever writes to it).
pub fn mkfifo(path: &Path) {
    let _ = fs::remove_file(path);
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// One answer of [`http_get`].
#[derive(Debug)]
pub struct Got {
    pub status: u16,
    /// Header lines, names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Got {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A browser's GET of `url` (`http://HOST:PORT/…`), over a plain socket to 127.0.0.1; `Err`
/// when nothing listens there.
pub fn http_get(url: &str) -> std::io::Result<Got> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let port: u16 = authority.rsplit_once(':').unwrap().1.parse().unwrap();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: test\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Got {
        status,
        headers,
        body: body.to_string(),
    })
}

/// A TCP port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (20 s at most) until something accepts connections on 127.0.0.1:`port`.
pub fn wait_for_port(port: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing listens on {port}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
