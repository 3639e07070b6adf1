//! `mp-autopick`: see `mp_login_cli::commands::autopick`.
fn main() -> std::process::ExitCode {
    mp_login_cli::run("mp-autopick", mp_login_cli::commands::autopick)
}
