//! `mp-token`: see `mp_login_cli::commands::token`.
fn main() -> std::process::ExitCode {
    mp_login_cli::run_token("mp-token", mp_login_cli::commands::token)
}
