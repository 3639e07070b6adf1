//! `mp-login`: see `mp_login_cli::commands::login`.
fn main() -> std::process::ExitCode {
    mp_login_cli::run("mp-login", mp_login_cli::commands::login)
}
