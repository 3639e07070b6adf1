//! `mp-login-finish`: see `mp_login_cli::commands::finish`.
fn main() -> std::process::ExitCode {
    mp_login_cli::run("mp-login-finish", mp_login_cli::commands::finish)
}
