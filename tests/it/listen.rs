//! `mp-login-finish --listen` and `mp-login` on the real binaries: the test plays the browser
//! with a plain HTTP GET of the redirect URL the mock's approval gives, and a person with a
//! paste on stdin. Every login starts on a port of its own (`--redirect-port`), so tests run
//! side by side.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::common::{self, http_get, wait_for_port, Env, Run};
use mock_idp::{Endpoint, Fault};

/// A free port for a login, redacted in snapshots (as are the pids of other processes).
fn port_for(env: &Env) -> u16 {
    let port = common::free_port();
    env.filter(&format!(r"(\D){port}\b"), "${1}[PORT]");
    env.filter(r"\(pid \d+\)", "(pid [PID])");
    port
}

/// A login started on a port of its own.
fn start(env: &Env, extra: &[&str]) -> (u16, String) {
    let port = port_for(env);
    let mut args = vec!["--redirect-port".to_string(), port.to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let started = env.start(&args);
    assert_eq!(started.exit_code, 0, "{started:?}");
    (
        port,
        started.stdout["authorize_url"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

/// `mp-login-finish --listen`, with stdin a pipe the test may write pastes to, once it listens.
fn listen(env: &Env, port: u16) -> Child {
    let child = env.spawn("mp-login-finish", &["--listen"]);
    wait_for_port(port);
    child
}

/// A login started, and its listener listening: the port, the authorize URL, the listener.
fn listening(env: &Env) -> (u16, String, Child) {
    let (port, authorize_url) = start(env, &[]);
    (port, authorize_url, listen(env, port))
}

/// `&iss=…` as the mock's authorization server sends it (RFC 9207), so that a forged callback
/// is refused for its `state`, not for a missing issuer.
fn iss(env: &Env) -> String {
    let inflight = common::read_json(&env.inflight_path());
    let issuer = inflight["issuer"]
        .as_str()
        .expect("the mock advertises its issuer");
    format!("&iss={}", issuer.replace(':', "%3A").replace('/', "%2F"))
}

fn ended(env: &Env, child: Child) -> Run {
    env.finish_run(child.wait_with_output().unwrap())
}

/// Two processes finished one login: both succeeded with the same envelope, after one exchange.
fn assert_one_login(env: &Env, a: &Run, b: &Run) {
    assert_eq!((a.exit_code, b.exit_code), (0, 0), "{a:?} {b:?}");
    assert_eq!(a.stdout, b.stdout, "the same envelope");
    assert_eq!(code_exchanges(env), 1);
}

/// The run's stderr says `words`.
fn assert_said(run: &Run, words: &str) {
    assert!(run.stderr.contains(words), "{}", run.stderr);
}

fn code_exchanges(env: &Env) -> usize {
    env.idp
        .journal()
        .iter()
        .filter(|j| j.path == "/oauth/token/")
        .count()
}

/// A page as a snapshot shows it: the status, the headers that matter, the HTML.
fn page(env: &Env, got: &common::Got) -> String {
    env.assert_no_secret(&got.body);
    format!(
        "{} cache-control: {} referrer-policy: {} content-type: {}\n\n{}",
        got.status,
        got.header("cache-control").unwrap_or("-"),
        got.header("referrer-policy").unwrap_or("-"),
        got.header("content-type").unwrap_or("-"),
        env.redact_str(&got.body)
    )
}

#[test]
fn a_browser_callback_publishes_and_the_page_names_the_account() {
    let env = Env::new();
    let (port, authorize_url, listener) = listening(&env);
    // Any other path is not the callback.
    let other = http_get(&format!("http://localhost:{port}/favicon.ico")).unwrap();
    snapshot!(text: "listen_page_not_found", page(&env, &other));
    assert_eq!(code_exchanges(&env), 0);

    let redirect = env.approve(&authorize_url);
    let got = http_get(&redirect).unwrap();
    snapshot!(text: "listen_page_ok", page(&env, &got));
    assert_eq!(got.status, 200);
    assert_eq!(got.header("cache-control"), Some("no-store"));
    assert!(got.body.contains("acme-analytics") && got.body.contains("ada@example.com"));

    let run = ended(&env, listener);
    snapshot!("listen_ok", env.redact(&run));
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(run.stdout["account"]["name"], "acme-analytics");
    assert_eq!(code_exchanges(&env), 1);
    assert!(!env.inflight_path().exists(), "the code is spent");
    assert!(http_get(&redirect).is_err(), "the listener is gone");
}

/// A CSRF attempt (a page making the browser call the callback with another `state`, or a
/// denial without this login's `state`) gets an error page and must not end the login.
#[test]
fn a_forged_callback_gets_an_error_page_and_the_listener_keeps_waiting() {
    let env = Env::new();
    let (port, authorize_url, listener) = listening(&env);
    let callback = format!("http://localhost:{port}/callback");
    let iss = iss(&env);
    let forged = http_get(&format!(
        "{callback}?code=mpcode_forged&state=not-this-one{iss}"
    ))
    .unwrap();
    snapshot!(text: "listen_page_refused", page(&env, &forged));
    assert_eq!(forged.status, 400);
    let denial = http_get(&format!("{callback}?error=access_denied{iss}")).unwrap();
    assert_eq!(denial.status, 400);
    let no_issuer = http_get(&format!("{callback}?code=mpcode_forged&state=x")).unwrap();
    assert_eq!(no_issuer.status, 400);
    assert_eq!(code_exchanges(&env), 0, "nothing forged reached the server");

    let got = http_get(&env.approve(&authorize_url)).unwrap();
    assert_eq!(got.status, 200, "{}", got.body);
    let run = ended(&env, listener);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(
        run.stderr
            .matches("A call to the callback was refused")
            .count(),
        3,
        "{}",
        run.stderr
    );
}

/// The login's own denial (its `state`) ends it, as a pasted denial does; the page says why.
#[test]
fn the_logins_own_denial_ends_it_with_a_page() {
    let env = Env::new();
    let (port, authorize_url, listener) = listening(&env);
    let state = authorize_url
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let got = http_get(&format!(
        "http://localhost:{port}/callback?error=access_denied&state={state}{}",
        iss(&env)
    ))
    .unwrap();
    snapshot!(text: "listen_page_denied", page(&env, &got));
    let run = ended(&env, listener);
    assert_eq!(run.failure(), (2, "OAUTH_AUTH_DENIED"));
    assert!(env.inflight_path().exists(), "kept, as for a paste");
}

#[test]
fn a_paste_beats_a_slow_browser() {
    let env = Env::new();
    let (port, authorize_url, mut listener) = listening(&env);
    let redirect = env.approve(&authorize_url);
    let mut stdin = listener.stdin.take().unwrap();
    // A wrong paste first: said on stderr, and the wait goes on.
    writeln!(stdin, "http://localhost:{port}/callback?code=abc").unwrap();
    writeln!(stdin, "  {redirect}  ").unwrap();
    let run = ended(&env, listener);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_said(&run, "That paste is not this login's answer");
    assert_eq!(code_exchanges(&env), 1);
    // The browser comes too late: nobody listens any more.
    assert!(http_get(&redirect).is_err());
}

#[test]
fn a_browser_beats_a_paste() {
    let env = Env::new();
    let (_, authorize_url, listener) = listening(&env);
    let redirect = env.approve(&authorize_url);
    assert_eq!(http_get(&redirect).unwrap().status, 200);
    // The person had not pasted yet; stdin stays open until the end.
    let run = ended(&env, listener);
    assert_eq!(run.exit_code, 0, "{run:?}");
    // The person pastes afterwards: the login is done, the plain finish reports it.
    let late = env.finish(&redirect, &[]);
    assert_one_login(&env, &run, &late);
    assert_said(&late, "finished by another process");
}

/// A plain `mp-login-finish URL` in another process while a listener waits: one exchange, and
/// both report the same account.
#[test]
fn a_second_process_paste_while_listening_makes_one_exchange() {
    let env = Env::new();
    let (_, authorize_url, listener) = listening(&env);
    let redirect = env.approve(&authorize_url);
    let pasted = env.finish(&redirect, &[]);
    let run = ended(&env, listener);
    snapshot!("listen_finished_elsewhere", env.redact(&run));
    assert_one_login(&env, &run, &pasted);
}

/// The other way round: the listener is exchanging the code (a slow token endpoint) or
/// fetching `/me` with the inflight already gone (a slow `/me`) when the same URL is pasted
/// into a plain finish; the paste waits for the login's lock and reports the listener's outcome.
/// Regression: during `/me` the paste found no inflight file and failed at once.
#[test]
fn a_paste_during_the_listeners_finish_reports_its_outcome() {
    for (endpoint, path) in [
        (Endpoint::Token, "/oauth/token/"),
        (Endpoint::Me, "/api/app/me"),
    ] {
        let env = Env::new();
        let (_, authorize_url, listener) = listening(&env);
        let redirect = env.approve(&authorize_url);
        env.idp
            .fault(endpoint, Fault::delay(Duration::from_millis(1500)).times(1));
        let browser = {
            let redirect = redirect.clone();
            std::thread::spawn(move || http_get(&redirect).unwrap())
        };
        env.wait_for_call(path);
        let pasted = env.finish(&redirect, &[]);
        assert_eq!(browser.join().unwrap().status, 200, "{path}");
        let run = ended(&env, listener);
        assert_one_login(&env, &run, &pasted);
    }
}

/// An outcome is history once its account is logged out: pasting the old URL again says the
/// login is not in progress, not "logged in".
#[test]
fn a_finished_logins_outcome_is_not_replayed_after_logout() {
    let env = Env::new();
    let (_, authorize_url) = start(&env, &[]);
    let redirect = env.approve(&authorize_url);
    assert_eq!(env.finish(&redirect, &[]).exit_code, 0);
    let again = env.finish(&redirect, &[]);
    assert_eq!(again.exit_code, 0, "replayed while the account is there");
    assert_eq!(env.run("mp-logout", &[], None).exit_code, 0);
    let after = env.finish(&redirect, &[]);
    assert_eq!(after.failure(), (2, "OAUTH_INFLIGHT_MISSING"));
}

/// A finish killed after it saved the tokens but before it removed the inflight file (here:
/// killed during `/me`, the inflight file then put back as it was at that moment): the next
/// finish publishes the saved tokens instead of sending the spent code again.
#[test]
fn a_finish_killed_after_saving_its_tokens_is_continued_not_repeated() {
    let env = Env::new();
    let (_, authorize_url) = start(&env, &[]);
    let redirect = env.approve(&authorize_url);
    let inflight = fs::read(env.inflight_path()).unwrap();
    env.idp
        .fault(Endpoint::Me, Fault::delay(Duration::from_secs(30)).times(1));
    let mut first = env.spawn("mp-login-finish", &[&redirect]);
    env.wait_for_call("/api/app/me");
    first.kill().unwrap();
    first.wait().unwrap();
    env.idp.clear_faults();
    fs::write(env.inflight_path(), inflight).unwrap();
    fs::set_permissions(env.inflight_path(), fs::Permissions::from_mode(0o600)).unwrap();
    let run = env.finish(&redirect, &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_said(&run, "saved its tokens");
    assert_eq!(code_exchanges(&env), 1, "the spent code is not sent again");
    assert!(env.placeholders().is_empty());
    assert!(!env.inflight_path().exists());
}

#[test]
fn a_taken_port_names_its_holder_and_keeps_the_login() {
    let env = Env::new();
    let (port, _) = start(&env, &[]);
    let holder = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    // The holder is this test binary (`target/debug/deps/it-<hash>`).
    let exe = std::env::current_exe().unwrap();
    let exe = regex::escape(&exe.file_name().unwrap().to_string_lossy());
    env.filter(&format!(r"`[^`]*/{exe}[^`]*`"), "`[TEST BINARY]`");
    let run = env.run("mp-login-finish", &["--listen"], None);
    snapshot!("error_listen_port_taken", env.redact(&run));
    assert_eq!(run.failure(), (2, "OAUTH_PORT_ERROR"));
    let pid = format!("(pid {})", std::process::id());
    assert!(
        run.stdout["error"]["details"]["holder"]
            .as_str()
            .is_some_and(|h| h.contains(&pid)),
        "{run:?}"
    );
    drop(holder);
    assert!(env.inflight_path().exists());
}

#[test]
fn listening_times_out_and_keeps_the_login() {
    let env = Env::new();
    let (_, authorize_url) = start(&env, &[]);
    let run = env.run(
        "mp-login-finish",
        &["--listen", "--listen-timeout", "1"],
        None,
    );
    snapshot!("error_listen_timeout", env.redact(&run));
    assert_eq!(run.failure(), (2, "OAUTH_TIMEOUT"));
    assert!(env.inflight_path().exists());
    // The login is still good.
    let run = env.finish(&env.approve(&authorize_url), &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    let without = env.run("mp-login-finish", &["--listen-timeout", "1", "x"], None);
    assert_eq!(without.failure(), (3, "INVALID_ARGUMENT"));
}

#[test]
fn sigint_while_listening_spends_nothing() {
    let env = Env::new();
    let (_, authorize_url, listener) = listening(&env);
    common::interrupt(&listener);
    let run = ended(&env, listener);
    snapshot!("error_listen_interrupted", env.redact(&run));
    assert_eq!(run.failure(), (130, "INTERRUPTED"));
    assert_eq!(run.stdout["error"]["details"]["inflight_kept"], true);
    assert!(env.inflight_path().exists());
    assert_eq!(code_exchanges(&env), 0);
    let run = env.finish(&env.approve(&authorize_url), &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
}

/// kill -9 of a waiting listener: the login is untouched, and another listener (or a paste)
/// finishes it.
#[test]
fn a_killed_listener_leaves_a_login_another_finishes() {
    let env = Env::new();
    let (port, authorize_url, mut listener) = listening(&env);
    listener.kill().unwrap();
    listener.wait().unwrap();
    let again = listen(&env, port);
    let got = http_get(&env.approve(&authorize_url)).unwrap();
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(ended(&env, again).exit_code, 0);
    assert_eq!(code_exchanges(&env), 1);
}

#[test]
fn a_redirect_off_this_machine_cannot_be_listened_on() {
    let env = Env::new();
    start(&env, &[]);
    let inflight = env.inflight_path();
    let text = fs::read_to_string(&inflight).unwrap();
    let moved = regex::Regex::new(r"http://localhost:\d+/callback")
        .unwrap()
        .replace(&text, "http://example.com:8080/callback");
    fs::write(&inflight, moved.as_bytes()).unwrap();
    let run = env.run("mp-login-finish", &["--listen"], None);
    assert_eq!(run.failure(), (3, "INVALID_ARGUMENT"));
    assert!(run.stdout["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not this machine's loopback"));
}

/// `mp-login` for a person: `$BROWSER` gets the authorize URL (here a script that records it,
/// and the test approves and plays the browser's return).
#[test]
fn mp_login_opens_the_browser_and_finishes_on_its_return() {
    let env = Env::new();
    let port = port_for(&env);
    let opened = env.tmp.path().join("opened-url");
    let browser = env.tmp.path().join("browser.sh");
    fs::write(
        &browser,
        format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > {}.part && mv {0}.part {0}\n",
            opened.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&browser, fs::Permissions::from_mode(0o755)).unwrap();
    env.set_env("BROWSER", browser.to_str().unwrap());
    let login = env.spawn("mp-login", &["--redirect-port", &port.to_string()]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !opened.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the browser was never opened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_for_port(port);
    let authorize_url = fs::read_to_string(&opened).unwrap();
    let got = http_get(&env.approve(&authorize_url)).unwrap();
    assert_eq!(got.status, 200, "{}", got.body);
    let run = ended(&env, login);
    snapshot!("mp_login_ok", env.redact(&run));
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(run.stdout["command"], "mp-login");
}

/// Under `CI=true` no browser is opened, even with `$BROWSER` set; the URL is printed and a
/// paste finishes the login.
#[test]
fn mp_login_never_opens_a_browser_under_ci() {
    let env = Env::new();
    let port = port_for(&env);
    let opened = env.tmp.path().join("opened-url");
    env.set_env("BROWSER", &format!("touch {}", opened.display()));
    env.set_env("CI", "true");
    let mut login = env
        .std_command("mp-login")
        .args(["--redirect-port", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The person reads the URL on the terminal (stderr), approves, pastes what the browser
    // landed on.
    let (lines, said) = std::sync::mpsc::channel();
    let stderr = login.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
            let line = line.unwrap();
            let _ = lines.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let authorize_url = loop {
        let line = said
            .recv_timeout(Duration::from_secs(20))
            .expect("the URL is printed");
        if let Some(url) = line.trim().strip_prefix("http") {
            break format!("http{url}");
        }
    };
    let redirect = env.approve(&authorize_url);
    writeln!(login.stdin.take().unwrap(), "{redirect}").unwrap();
    let mut out = login.wait_with_output().unwrap();
    out.stderr = reader.join().unwrap().into_bytes();
    let run = env.finish_run(out);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_said(&run, "No browser opened here (CI is set)");
    assert!(
        run.stderr.contains("/oauth/authorize"),
        "the URL is printed"
    );
    assert!(!opened.exists(), "no browser under CI");
}

/// A new `mp-login-start` replaces the login a listener waits for: the listener ends, saying
/// its login was taken (`OAUTH_INFLIGHT_MISSING`, exit 2), and spends nothing.
#[test]
fn a_listener_whose_login_is_replaced_ends_and_spends_nothing() {
    let env = Env::new();
    let (_, _, listener) = listening(&env);
    let (_, newer) = start(&env, &[]);
    let run = ended(&env, listener);
    assert_eq!(run.failure(), (2, "OAUTH_INFLIGHT_MISSING"));
    assert!(run.stdout["error"]["message"]
        .as_str()
        .unwrap()
        .contains("newer login"));
    assert_eq!(code_exchanges(&env), 0);
    // The newer login is untouched and finishes.
    assert_eq!(env.finish(&env.approve(&newer), &[]).exit_code, 0);
}

/// A claim directory that cannot be used (here a file stands where `$TMPDIR/mp-login-<uid>`
/// should be, as another user could leave one in a shared /tmp) never refuses a login: the
/// finish goes on without the guard and says so.
#[test]
fn an_unusable_claim_directory_warns_and_the_login_finishes() {
    let env = Env::new();
    let tmp = env.tmp.path().join("shared-tmp");
    fs::create_dir_all(&tmp).unwrap();
    let uid = own_uid(&env);
    fs::write(tmp.join(format!("mp-login-{uid}")), "in the way").unwrap();
    env.set_env("TMPDIR", tmp.to_str().unwrap());
    let run = env.login(&[], &[]);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_said(&run, "no guard against another finish");
}

/// This process's user id: the owner of a directory it made.
fn own_uid(env: &Env) -> u32 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(env.tmp.path()).unwrap().uid()
}

/// A request sent as `head` to the listener; the whole answer as text ("" when the connection
/// was closed unanswered).
fn raw_request(port: u16, head: &str) -> String {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// The login being finished (a slow `/me`) by the browser's callback: the browser's thread,
/// once the listener called `/me`.
fn finishing(env: &Env, redirect: &str) -> std::thread::JoinHandle<common::Got> {
    env.idp.fault(
        Endpoint::Me,
        Fault::delay(Duration::from_millis(1500)).times(1),
    );
    let browser = {
        let redirect = redirect.to_string();
        std::thread::spawn(move || http_get(&redirect).unwrap())
    };
    env.wait_for_call("/api/app/me");
    browser
}

/// DNS rebinding: a page of another site whose name now points at 127.0.0.1 can make requests
/// to the callback while the login is being finished. Regression: any of them got the "Logged
/// in" page, naming the email and account. Only a `GET` addressed to the redirect's own host
/// and carrying this login's `state` gets the outcome.
#[test]
fn the_outcome_page_goes_only_to_the_request_with_the_logins_state() {
    let env = Env::new();
    let (port, authorize_url, listener) = listening(&env);
    let redirect = env.approve(&authorize_url);
    let query = redirect.split_once('?').unwrap().1.to_string();
    let browser = finishing(&env, &redirect);
    let heads = [
        format!("GET /callback HTTP/1.1\r\nHost: rebound.example:{port}\r\n\r\n"),
        format!("GET /callback?{query} HTTP/1.1\r\nHost: rebound.example:{port}\r\n\r\n"),
        format!("GET /callback HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n"),
        format!("GET /callback?state=guess HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n"),
        format!("POST /callback?{query} HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Length: 0\r\n\r\n"),
        format!("GET /callback?{query} HTTP/1.0\r\n\r\n"),
        format!(
            "GET /callback?{query} HTTP/1.1\r\nHost: localhost:{port}\r\nHost: rebound.example\r\n\r\n"
        ),
    ];
    let askers: Vec<_> = heads
        .into_iter()
        .map(|head| std::thread::spawn(move || (raw_request(port, &head), head)))
        .collect();
    for asker in askers {
        let (answer, head) = asker.join().unwrap();
        assert!(
            !answer.contains("ada@example.com") && !answer.contains("acme-analytics"),
            "{head:?} got the outcome: {answer}"
        );
        assert!(!answer.starts_with("HTTP/1.1 200"), "{head:?}: {answer}");
    }
    let got = browser.join().unwrap();
    assert_eq!(got.status, 200);
    assert!(got.body.contains("ada@example.com"));
    assert_eq!(ended(&env, listener).exit_code, 0);
}

/// Regression: each connection that asked for the callback while the login was being finished
/// and then never read delayed the envelope by 200 ms (100 of them: 20 s), and signals waited
/// as long. The outcome is printed as soon as it is known.
#[test]
fn idle_connections_do_not_hold_up_the_outcome() {
    let env = Env::new();
    let (port, authorize_url, listener) = listening(&env);
    let browser = finishing(&env, &env.approve(&authorize_url));
    let idle: Vec<std::net::TcpStream> = (0..100)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(
                s,
                "GET /callback HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n"
            )
            .unwrap();
            s
        })
        .collect();
    assert_eq!(browser.join().unwrap().status, 200);
    let paged = std::time::Instant::now();
    let run = ended(&env, listener);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert!(
        paged.elapsed() < Duration::from_secs(3),
        "the envelope came {:?} after the browser's page",
        paged.elapsed()
    );
    drop(idle);
}

/// Slowloris: hundreds of connections that send one byte of a request and then nothing, the
/// browser's real callback arriving after all of them. Regression: at 128 such connections the
/// listener closed the browser's unanswered (`Empty reply from server`).
#[test]
fn trickling_connections_cannot_keep_the_browser_out() {
    let env = Env::new();
    let (port, authorize_url, listener) = listening(&env);
    let redirect = env.approve(&authorize_url);
    let trickling: Vec<std::net::TcpStream> = (0..300)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(b"G").unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let got = http_get(&redirect).expect("the browser's callback is answered");
    assert_eq!(got.status, 200, "{}", got.body);
    let run = ended(&env, listener);
    assert_eq!(run.exit_code, 0, "{run:?}");
    drop(trickling);
}

/// A listener whose callback came while a paste in another process was exchanging the code
/// waits for that process's outcome. Regression: SIGINT then said "nothing was spent" and
/// `inflight_kept: true`; the other process holds the login and its outcome is not known yet.
#[test]
fn sigint_while_another_process_finishes_says_so() {
    let env = Env::new();
    let (_, authorize_url, listener) = listening(&env);
    let redirect = env.approve(&authorize_url);
    env.idp.fault(
        Endpoint::Token,
        Fault::delay(Duration::from_secs(2)).times(1),
    );
    let paste = env.spawn("mp-login-finish", &[&redirect]);
    env.wait_for_call("/oauth/token/");
    let browser = {
        let redirect = redirect.clone();
        std::thread::spawn(move || http_get(&redirect))
    };
    // The listener takes the callback and waits for the login's lock.
    std::thread::sleep(Duration::from_millis(500));
    common::interrupt(&listener);
    let run = ended(&env, listener);
    snapshot!("error_listen_interrupted_another_finish", env.redact(&run));
    assert_eq!(run.failure(), (130, "INTERRUPTED"));
    assert_eq!(run.stdout["error"]["details"]["another_finish"], true);
    assert!(!run.stderr.contains("nothing was spent"), "{}", run.stderr);
    let pasted = env.finish_run(paste.wait_with_output().unwrap());
    assert_eq!(pasted.exit_code, 0, "{pasted:?}");
    assert_eq!(code_exchanges(&env), 1);
    let _ = browser.join();
}

/// Regression: `--redirect-port 0` registered `http://localhost:0/callback`, which no browser
/// can come back to.
#[test]
fn redirect_port_zero_is_a_usage_error() {
    let env = Env::new();
    for bin in ["mp-login-start", "mp-login"] {
        let run = env.run(bin, &["--redirect-port", "0"], None);
        assert_eq!(run.failure(), (3, "INVALID_ARGUMENT"), "{bin}: {run:?}");
        assert!(!env.inflight_path().exists(), "{bin}");
    }
    assert!(env.idp.journal().is_empty(), "no client registered");
}

/// `$BROWSER` as other tools read it: a `:`-separated list whose entries are command lines
/// (quotes keep a path with spaces whole, `%s` is the URL), an entry that fails passed over for
/// the next. Regression: entries were split on whitespace, and one that exited non-zero counted
/// as opened.
#[test]
fn browser_entries_with_spaces_and_failures_fall_through() {
    let env = Env::new();
    let port = port_for(&env);
    let dir = env.tmp.path().join("My Browser");
    fs::create_dir_all(&dir).unwrap();
    let opened = env.tmp.path().join("opened-url");
    let browser = dir.join("open it.sh");
    fs::write(
        &browser,
        format!(
            "#!/bin/sh\nprintf '%s' \"$2\" > {}.part && mv {0}.part {0}\n",
            opened.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&browser, fs::Permissions::from_mode(0o755)).unwrap();
    env.set_env(
        "BROWSER",
        &format!("false:\"{}\" --new-tab %s", browser.display()),
    );
    let login = env.spawn("mp-login", &["--redirect-port", &port.to_string()]);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !opened.exists() {
        assert!(std::time::Instant::now() < deadline, "never opened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let authorize_url = fs::read_to_string(&opened).unwrap();
    assert!(
        authorize_url.contains("/oauth/authorize"),
        "{authorize_url}"
    );
    assert_eq!(http_get(&env.approve(&authorize_url)).unwrap().status, 200);
    let run = ended(&env, login);
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_said(&run, "open it.sh`");
}

/// The login's files in `$TMPDIR/mp-login-<uid>/`: a finished login leaves only its outcome
/// (for a late paste), which goes with its account's logout; what older logins left is swept by
/// the next start. Regression: a lock, an outcome and a marker stayed for every login, forever.
#[test]
fn a_finished_login_leaves_only_its_outcome_and_logout_sweeps_it() {
    let env = Env::new();
    let tmp = env.tmp.path().join("own-tmp");
    fs::create_dir_all(&tmp).unwrap();
    env.set_env("TMPDIR", tmp.to_str().unwrap());
    let claims = tmp.join(format!("mp-login-{}", own_uid(&env)));
    let names = || -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&claims)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let redirect = env.start_and_approve(&[]);
    assert_eq!(env.finish(&redirect, &[]).exit_code, 0);
    let left = names();
    assert!(left.len() == 1 && left[0].ends_with(".outcome"), "{left:?}");
    // A late paste still gets the outcome.
    assert_eq!(env.finish(&redirect, &[]).exit_code, 0);
    assert_eq!(env.run("mp-logout", &[], None).exit_code, 0);
    assert!(names().is_empty(), "{:?}", names());
    // What a login killed long ago left: swept by the next start, once nobody holds it.
    let old = [
        "login-0123.lock",
        "login-0123.spending",
        "login-4567.outcome",
    ];
    for name in old {
        fs::write(claims.join(name), "{}").unwrap();
        let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
        fs::File::options()
            .write(true)
            .open(claims.join(name))
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
    }
    fs::write(claims.join("login-89ab.lock"), "").unwrap();
    assert_eq!(env.start(&[]).exit_code, 0);
    assert_eq!(names(), ["login-89ab.lock"], "only the recent lock stays");
}
