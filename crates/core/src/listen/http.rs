//! The little HTTP/1.1 the listener speaks: one request a connection, read within a deadline
//! and a size cap, answered with one HTML page and closed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A request head larger than this is refused (browsers send a few hundred bytes).
const MAX_HEAD: usize = 16 * 1024;
/// How long a connection may take to send its request, and to take the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// One request line and the `Host` header: all the listener reads.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The origin-form target: `/callback?code=…&state=…`.
    pub target: String,
    pub host: Option<String>,
}

impl Request {
    /// The target's path, without the query or fragment.
    pub fn path(&self) -> &str {
        self.target.split(['?', '#']).next().unwrap_or(&self.target)
    }

    /// Whether the `Host` header is one of `hosts` (compared without regard to case). A page of
    /// another site whose name was made to point at 127.0.0.1 (DNS rebinding) sends its own
    /// name, and a request without `Host` is no browser's: neither is answered.
    pub fn host_is_one_of(&self, hosts: &[String]) -> bool {
        self.host
            .as_deref()
            .is_some_and(|host| hosts.iter().any(|h| h.eq_ignore_ascii_case(host)))
    }

    /// The target's `state` query parameter, if it has exactly one.
    pub fn state(&self) -> Option<String> {
        let (_, query) = self.target.split('#').next()?.split_once('?')?;
        let mut states = url::form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned());
        let state = states.next()?;
        states.next().is_none().then_some(state)
    }
}

/// Reads the request head of a fresh connection; `None` when it is not HTTP, too large, or
/// does not arrive in time (a port probe, a stalled client).
pub fn read_request(stream: &mut TcpStream) -> Option<Request> {
    // One deadline for the whole head: a client sending a byte at a time (slowloris) gets no
    // more time than one sending nothing.
    let deadline = std::time::Instant::now() + IO_TIMEOUT;
    stream.set_write_timeout(Some(IO_TIMEOUT)).ok()?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    let end = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return None;
        }
        stream.set_read_timeout(Some(left)).ok()?;
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = find(&head, b"\r\n\r\n").or_else(|| find(&head, b"\n\n")) {
            break end;
        }
        if head.len() > MAX_HEAD {
            return None;
        }
    };
    let head = std::str::from_utf8(&head[..end]).ok()?;
    let mut lines = head.lines();
    let mut first = lines.next()?.split(' ');
    let (method, target, version) = (first.next()?, first.next()?, first.next()?);
    if !version.starts_with("HTTP/1.") || first.next().is_some() || !target.starts_with('/') {
        return None;
    }
    let mut hosts = lines.filter_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("host")
            .then(|| value.trim().to_string())
    });
    let host = hosts.next();
    if hosts.next().is_some() {
        // RFC 9112 §3.2: more than one `Host` is a bad request; no browser sends it.
        return None;
    }
    Some(Request {
        method: method.to_string(),
        target: target.to_string(),
        host,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Sends one HTML page and closes the connection. Nothing of it may be kept: the page is never
/// cached (it answers a URL holding the code), sends no referrer and loads nothing.
pub fn respond(mut stream: TcpStream, status: u16, html: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        _ => "Error",
    };
    let head = format!(
        concat!(
            "HTTP/1.1 {} {}\r\n",
            "Content-Type: text/html; charset=utf-8\r\n",
            "Content-Length: {}\r\n",
            "Cache-Control: no-store\r\n",
            "Pragma: no-cache\r\n",
            "Referrer-Policy: no-referrer\r\n",
            "X-Content-Type-Options: nosniff\r\n",
            "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n",
            "Connection: close\r\n\r\n"
        ),
        status,
        reason,
        html.len()
    );
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(html.as_bytes()))
        .and_then(|()| stream.flush());
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // Let the browser read the page before the socket closes (a close with unread request
    // bytes would reset the connection).
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = stream.read(&mut [0u8; 1024]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(host: Option<&str>) -> Request {
        Request {
            method: "GET".into(),
            target: "/callback?code=c&state=s#x".into(),
            host: host.map(str::to_string),
        }
    }

    #[test]
    fn only_the_redirects_own_hosts() {
        let hosts = ["localhost:19284".to_string(), "127.0.0.1:19284".to_string()];
        assert_eq!(request(None).path(), "/callback");
        for ok in ["localhost:19284", "LOCALHOST:19284", "127.0.0.1:19284"] {
            assert!(request(Some(ok)).host_is_one_of(&hosts), "{ok}");
        }
        for bad in [
            None,
            Some("evil.example:19284"),
            Some("localhost"),
            Some("localhost:1"),
            Some("127.9.9.9:19284"),
            Some("localhost.evil.example:19284"),
        ] {
            assert!(!request(bad).host_is_one_of(&hosts), "{bad:?}");
        }
    }

    #[test]
    fn the_state_of_a_request() {
        assert_eq!(request(None).state().as_deref(), Some("s"));
        let with = |target: &str| Request {
            method: "GET".into(),
            target: target.into(),
            host: None,
        };
        assert_eq!(
            with("/callback?state=a%20b").state().as_deref(),
            Some("a b")
        );
        assert_eq!(with("/callback?state=a&state=b").state(), None);
        assert_eq!(with("/callback?code=c").state(), None);
        assert_eq!(with("/callback").state(), None);
    }

    #[test]
    fn requests_are_read_within_bounds() {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let send = |bytes: Vec<u8>| {
            let mut c = TcpStream::connect(addr).unwrap();
            c.write_all(&bytes).unwrap();
            c.shutdown(std::net::Shutdown::Write).unwrap();
            let (mut s, _) = listener.accept().unwrap();
            read_request(&mut s)
        };
        let r =
            send(b"GET /callback?code=a HTTP/1.1\r\nHost: localhost:1\r\n\r\n".to_vec()).unwrap();
        assert_eq!(
            (r.method.as_str(), r.target.as_str(), r.host.as_deref()),
            ("GET", "/callback?code=a", Some("localhost:1"))
        );
        assert!(send(b"GET http://x/ HTTP/1.1\r\n\r\n".to_vec()).is_none());
        assert!(send(b"HELLO\r\n\r\n".to_vec()).is_none());
        assert!(
            send(b"GET / HTTP/1.1\r\nHost: localhost:1\r\nHost: evil:1\r\n\r\n".to_vec()).is_none(),
            "two Host headers"
        );
        assert!(
            send(b"GET / HTTP/1.1\r\n".to_vec()).is_none(),
            "no end of head"
        );
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.extend(vec![b'a'; MAX_HEAD + 10]);
        assert!(send(big).is_none());
    }
}
