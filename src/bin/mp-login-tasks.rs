//! `mp-login-tasks`: see `mp_login_cli::commands::tasks`.
fn main() -> std::process::ExitCode {
    mp_login_cli::run("mp-login-tasks", mp_login_cli::commands::tasks)
}
