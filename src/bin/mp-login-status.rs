//! `mp-login-status`: see `mp_login_cli::commands::status`.
fn main() -> std::process::ExitCode {
    mp_login_cli::run("mp-login-status", mp_login_cli::commands::status)
}
