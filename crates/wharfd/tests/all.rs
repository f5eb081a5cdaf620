//! `wharfd all` runs the operator and the API server in one process; when either
//! half cannot start, the process stops at once with that half's error.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long `wharfd all` may take to notice and exit.
const EXIT_WITHIN: Duration = Duration::from_secs(60);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// Runs `wharfd all` with `args` and returns its exit success and stderr, failing
/// the test if it does not exit in time.
fn run_all(args: &[String]) -> (bool, String) {
    let kubeconfig = wharf_testenv::kubeconfig_path().expect("the test cluster's kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wharfd"))
        .env("KUBECONFIG", kubeconfig)
        .arg("all")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wharfd starts");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for wharfd") {
            let output = child.wait_with_output().expect("wharfd output");
            return (
                status.success(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            );
        }
        if started.elapsed() > EXIT_WITHIN {
            let _ = child.kill();
            panic!("wharfd all kept running for {EXIT_WITHIN:?} with one half unable to start");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn results_dir() -> String {
    std::env::temp_dir()
        .join(format!("wharfd-all-test-{}", std::process::id()))
        .display()
        .to_string()
}

#[test]
fn a_taken_api_port_stops_both_halves_with_the_servers_error() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = taken.local_addr().expect("its address");
    let (ok, stderr) = run_all(&[
        format!("--listen={addr}"),
        format!("--metrics-addr=127.0.0.1:{}", free_port()),
        format!("--results-dir={}", results_dir()),
    ]);
    assert!(!ok, "wharfd all must fail; stderr:\n{stderr}");
    assert!(
        stderr.contains("the API server failed") && stderr.contains(&addr.to_string()),
        "the error names the API server and its address; stderr:\n{stderr}"
    );
}

#[test]
fn a_taken_metrics_port_stops_both_halves_with_the_operators_error() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = taken.local_addr().expect("its address");
    let (ok, stderr) = run_all(&[
        format!("--listen=127.0.0.1:{}", free_port()),
        format!("--metrics-addr={addr}"),
        format!("--results-dir={}", results_dir()),
    ]);
    assert!(!ok, "wharfd all must fail; stderr:\n{stderr}");
    assert!(
        stderr.contains("the operator failed") && stderr.contains(&addr.to_string()),
        "the error names the operator and its address; stderr:\n{stderr}"
    );
}
