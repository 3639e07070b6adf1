//! `serve --exit-with-parent` and `serve --exit-on-stdin-eof`: a server started by a test run
//! must not outlive it, also when the run is killed with SIGKILL and has no chance to stop it.
//! The Python fixtures (`mixpanel_mock_idp`) use both: the stdin pipe covers every platform and
//! the race before the parent-death signal is set; the signal covers a parent that leaked the
//! pipe's write end into another process.
#![allow(clippy::print_stderr)]

use std::io::Read;

/// Ends this process (SIGTERM, which `serve` handles as a clean stop) when its parent ends.
///
/// On Linux this is `prctl(PR_SET_PDEATHSIG)`, through rustix. The kernel sends the signal when
/// the *thread* that started us ends, so a parent should start the server from a thread that
/// lives as long as it wants the server (pytest's main thread does).
#[cfg(target_os = "linux")]
pub fn exit_with_parent() -> std::io::Result<()> {
    let parent = std::os::unix::process::parent_id();
    rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM))?;
    // The parent may have died before the signal was set: then we were already re-parented.
    if parent == 1 || std::os::unix::process::parent_id() != parent {
        orphaned();
    }
    Ok(())
}

/// Elsewhere: a thread polls the parent's id, which changes when we are re-parented.
#[cfg(not(target_os = "linux"))]
pub fn exit_with_parent() -> std::io::Result<()> {
    let parent = std::os::unix::process::parent_id();
    std::thread::Builder::new()
        .name("exit-with-parent".into())
        .spawn(move || loop {
            if parent == 1 || std::os::unix::process::parent_id() != parent {
                orphaned();
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        })?;
    Ok(())
}

fn orphaned() -> ! {
    eprintln!("mock-idp: the parent process is gone; stopped");
    std::process::exit(0)
}

/// Ends this process once stdin reaches end of file (or cannot be read).
pub fn exit_on_stdin_eof() {
    let watch = std::thread::Builder::new()
        .name("exit-on-stdin-eof".into())
        .spawn(|| {
            let mut buf = [0u8; 4096];
            let mut stdin = std::io::stdin().lock();
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            eprintln!("mock-idp: stdin closed; stopped");
            std::process::exit(0)
        });
    if let Err(e) = watch {
        eprintln!("mock-idp: cannot watch stdin ({e}); stopped");
        std::process::exit(1)
    }
}
