//! `mp-login-start`: see `mp_login_cli::commands::start`.
fn main() -> std::process::ExitCode {
    mp_login_cli::run("mp-login-start", mp_login_cli::commands::start)
}
