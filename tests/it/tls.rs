//! TLS behind a corporate proxy: the kit trusts the platform's roots and
//! `SSL_CERT_FILE` / `SSL_CERT_DIR` as well as the bundled web roots. A throw-away CA made with
//! the `openssl` CLI signs a certificate for `localhost`, `openssl s_server` serves it, and
//! `/me` through it fails on the unknown issuer until `SSL_CERT_FILE` names the CA.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, Env};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A CA, a `localhost` certificate it signed, and `openssl s_server -www` serving it.
fn https_server(dir: &Path) -> (Server, u16) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=mp-login throw-away test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "srv.key",
            "-out",
            "srv.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(dir.join("ext"), "subjectAltName=DNS:localhost\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "srv.pem",
            "-days",
            "2",
            "-extfile",
            "ext",
        ],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("openssl")
        .args([
            "s_server", "-quiet", "-www", "-cert", "srv.pem", "-key", "srv.key", "-accept",
        ])
        .arg(port.to_string())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "s_server never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

#[test]
fn ssl_cert_file_is_trusted_and_nothing_else_is() {
    let env = Env::new();
    let (_, placeholder) = env.failed_publish(&[], &[]);
    let (_server, port) = https_server(env.tmp.path());
    let base = format!("https://localhost:{port}");
    let resume = |extra: &[(&str, &str)]| {
        let mut c = env.command("mp-login-resume");
        c.args([placeholder.to_str().unwrap(), "--base-url", &base])
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR");
        for (k, v) in extra {
            c.env(k, v);
        }
        env.finish_run(c.output().unwrap())
    };
    // Unknown issuer: refused, the tokens kept.
    let run = resume(&[]);
    let details = &run.stdout["error"]["details"];
    assert_eq!(details["original_code"], "HTTP_ERROR", "{run:?}");
    assert!(
        details["original_message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("certificate"),
        "{run:?}"
    );
    // The CA in SSL_CERT_FILE: the handshake passes (s_server's HTML page is no /me answer).
    let ca = env.tmp.path().join("ca.pem");
    let run = resume(&[("SSL_CERT_FILE", ca.to_str().unwrap())]);
    common::assert_publish_failed(&run, "ME_INVALID");
    assert!(placeholder.join("tokens.json").exists());
}
