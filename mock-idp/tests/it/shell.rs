//! Runs `tests/shell/contract.sh`: the standalone mock driven with nothing but curl and jq.

use std::process::Command;

#[test]
fn the_shell_contract_passes() {
    for tool in ["curl", "jq"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "the shell contract test needs `{tool}`: apt-get install -y curl jq"
        );
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/shell/contract.sh");
    let out = Command::new("bash")
        .arg(script)
        .env("MOCK_IDP", env!("CARGO_BIN_EXE_mock-idp"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(", 0 failed"), "{stdout}");
}
