//! `mp-login-resume`: see `mp_login_cli::commands::resume`.
fn main() -> std::process::ExitCode {
    mp_login_cli::run("mp-login-resume", mp_login_cli::commands::resume)
}
