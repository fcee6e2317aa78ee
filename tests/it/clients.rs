//! Real Mastodon client software against a real Stoa: Mastodon.py (sign-in
//! through the browser flow, post, follow, home timeline, notifications,
//! pagination) and the `toot` CLI (`toot login` as a person does it, post,
//! read). The scripts live in tests/clients/; scripts/test.sh installs the
//! pinned client versions into .venv.

use std::path::{Path, PathBuf};
use std::time::Duration;

use stoa_tests::TestApp;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The Python with Mastodon.py and toot installed.
fn python() -> PathBuf {
    let python = std::env::var_os("STOA_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    assert!(
        python.exists(),
        "{} is missing: run scripts/test.sh once to install the Python clients",
        python.display()
    );
    python
}

async fn run_client_script(script: &str, extra_args: &[&str]) {
    let app = TestApp::spawn().await;
    let path = repo_root().join("tests/clients").join(script);
    let mut command = tokio::process::Command::new(python());
    command
        .arg(&path)
        .arg(&app.base_url)
        .args(extra_args)
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(180), command.output())
        .await
        .unwrap_or_else(|_| panic!("{script} did not finish in 3 minutes"))
        .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains(": ok"),
        "{script} did not report success:\n{stdout}"
    );
}

#[tokio::test]
async fn mastodon_py_signs_in_posts_follows_and_reads() {
    run_client_script("mastodon_py_flow.py", &[]).await;
}

#[tokio::test]
async fn toot_cli_logs_in_through_the_browser_flow_and_posts() {
    let toot = python()
        .parent()
        .expect("python lives in a bin directory")
        .join("toot");
    run_client_script("toot_flow.py", &[toot.to_str().expect("UTF-8 path")]).await;
}
