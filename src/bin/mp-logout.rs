//! `mp-logout`: see `mp_login_cli::commands::logout`.
fn main() -> std::process::ExitCode {
    mp_login_cli::run("mp-logout", mp_login_cli::commands::logout)
}
