//! The `broker` binary: it serves on the address it prints, stops cleanly on SIGTERM (the next start
//! finds the clean-shutdown marker and all data), and recovers after SIGKILL.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn start(dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_broker"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(["--default-partitions", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the broker binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read the listen line");
    let addr = line.trim().strip_prefix("listening on ").expect("listen line").to_string();
    (child, addr)
}

fn kcat(args: &[&str], input: Option<&str>) -> String {
    let mut child = Command::new("kcat")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kcat (apt-get install kcat)");
    if let Some(input) = input {
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("kcat output");
    assert!(out.status.success(), "kcat {args:?} failed");
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "the broker did not exit in {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn records(addr: &str) -> Vec<String> {
    let out = kcat(&["-b", addr, "-C", "-t", "events", "-e", "-f", "%k=%s\n"], None);
    let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

#[test]
fn sigterm_stops_cleanly_and_sigkill_is_recovered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut broker, addr) = start(dir.path());
    let first: String = (0..20).map(|i| format!("a{i}:x{i}\n")).collect();
    kcat(&["-b", &addr, "-P", "-t", "events", "-K:"], Some(&first));
    assert_eq!(records(&addr).len(), 20);

    // SIGTERM: a clean stop leaves the clean-shutdown marker.
    let pid = broker.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let status = wait_exit(&mut broker, Duration::from_secs(20));
    assert!(status.success(), "clean exit after SIGTERM, got {status}");
    assert!(dir.path().join(".kafka_cleanshutdown").exists());

    // Restart, write more, then SIGKILL: the next start recovers everything acknowledged.
    let (mut broker, addr) = start(dir.path());
    assert!(!dir.path().join(".kafka_cleanshutdown").exists(), "marker removed while running");
    let second: String = (0..20).map(|i| format!("b{i}:y{i}\n")).collect();
    kcat(&["-b", &addr, "-P", "-t", "events", "-K:"], Some(&second));
    broker.kill().expect("SIGKILL");
    let _ = broker.wait();
    let (mut broker, addr) = start(dir.path());
    let all = records(&addr);
    assert_eq!(all.len(), 40, "every acknowledged record survives SIGKILL: {all:?}");
    broker.kill().expect("kill");
    let _ = broker.wait();
}
