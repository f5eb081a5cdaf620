//! `wharf tasks` against a real API server and operator on the test cluster: run
//! and follow, get, list, logs, cancel, delete, dotenv files, the exit code of each
//! outcome, and a Task's result files collected by the real collector and
//! downloaded byte for byte.
//!
//! kwok runs a Task's pod for `wharf.dev/sim-run-for` (1s by default) and exits
//! with `wharf.dev/sim-exit-code`; `--annotation` puts them on the Task's pod.

mod wharf_bin;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{Api, Client};
use sha2::{Digest, Sha256};
use wharf_bin::{RUN_TIMEOUT, Wharf, until, until_exit, words};
use wharf_model::task::Task;
use wharf_testenv::api;
use wharf_testenv::wait::eventually;

/// The first row of a table, split into cells.
fn first_row(table: &str) -> Vec<String> {
    table
        .lines()
        .nth(1)
        .unwrap_or_else(|| panic!("no rows: {table}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

wharf_testenv::temp_ns_tests!(
    tasks_are_run_followed_cancelled_and_deleted,
    env_files_reach_the_task_through_config_maps,
    run_waits_and_downloads_the_results_byte_for_byte,
);

async fn tasks_are_run_followed_cancelled_and_deleted(client: Client, ns: String) {
    let (h, wharf) = wharf_bin::start_with_task_api(&client, &ns).await;

    // Run and follow a Task that succeeds; JSON for programs.
    let quick = wharf
        .json(&words(
            "tasks run --image busybox --name quick --label team=data --no-results --wait",
        ))
        .await;
    assert_eq!(quick["status"]["phase"], "Succeeded", "{quick}");
    assert_eq!(quick["metadata"]["labels"]["team"], "data");

    // A table for people.
    let table = wharf.run(&["tasks", "get", "quick"]).await.ok();
    assert!(table.starts_with("NAME "), "{table}");
    assert_eq!(first_row(&table)[..2], ["quick", "Succeeded"], "{table}");
    let listed = until(
        &wharf,
        &["tasks", "list", "-l", "team=data"],
        "the Task listed",
        |run| run.code == 0 && run.stdout.lines().any(|l| l.starts_with("quick ")),
    )
    .await;
    assert_eq!(listed.stdout.lines().count(), 2, "{listed:?}");
    let yaml = wharf
        .run(&["tasks", "get", "quick", "-o", "yaml"])
        .await
        .ok();
    assert!(yaml.contains("image: busybox"), "{yaml}");

    // A Task that fails ends the run with exit 9 and its reason.
    let failed = wharf
        .run(&words("tasks run --image busybox --name failing --annotation wharf.dev/sim-exit-code=3 --wait"))
        .await;
    assert!(failed.stdout.contains("Failed"), "{failed:?}");
    let message = failed.fails_with(9);
    assert!(message.contains("task failing failed"), "{message}");

    // A wait that runs out is exit 6; the Task goes on.
    let slow = [
        "tasks",
        "run",
        "--image",
        "busybox",
        "--name",
        "slow",
        "--annotation",
        "wharf.dev/sim-run-for=600s",
        "--timeout-wait",
        "2s",
    ];
    let ran_out = wharf.run(&slow).await.fails_with(6);
    assert!(
        ran_out.contains("task slow had not finished within 2s"),
        "{ran_out}"
    );

    // Its logs (kwok's three lines), whole and tailed.
    let logs = until(&wharf, &["tasks", "logs", "slow"], "the logs", |run| {
        run.code == 0
    })
    .await
    .stdout;
    assert_eq!(
        logs.lines().collect::<Vec<_>>(),
        [
            "wharf-sim: container started",
            "wharf-sim: working",
            "wharf-sim: done"
        ]
    );
    let tail = wharf
        .run(&["tasks", "logs", "slow", "--tail", "1", "--attempt", "1"])
        .await
        .ok();
    assert_eq!(tail, "wharf-sim: done\n");
    wharf
        .run(&["tasks", "logs", "slow", "--attempt", "5"])
        .await
        .fails_with(3);

    // Cancel, following it to its end; a second cancel is a conflict.
    let cancelled = wharf.json(&["tasks", "cancel", "slow", "--wait"]).await;
    assert_eq!(cancelled["status"]["phase"], "Cancelled", "{cancelled}");
    assert_eq!(cancelled["spec"]["cancelled"], true);
    let again = wharf.run(&["tasks", "cancel", "slow"]).await.fails_with(5);
    assert!(again.contains("already finished"), "{again}");

    assert_eq!(
        wharf.run(&["tasks", "delete", "slow"]).await.ok(),
        "task slow deleted\n"
    );
    until_exit(&wharf, &["tasks", "get", "slow"], 3).await;
    wharf.run(&["tasks", "delete", "slow"]).await.fails_with(3);

    // Bad input is refused before sending (exit 7), or by the server (exit 7).
    let bad_image = wharf
        .run(&["tasks", "run", "--image", "no spaces"])
        .await
        .fails_with(7);
    assert!(bad_image.contains("spec.image"), "{bad_image}");
    let stranger = Wharf::with_token(&h, &h.denied);
    let denied = stranger.run(&["tasks", "list"]).await;
    let message = denied.fails_with(4);
    assert!(message.contains("may not list tasks"), "{message}");
}

async fn env_files_reach_the_task_through_config_maps(client: Client, ns: String) {
    let (_h, wharf) = wharf_bin::start_with_task_api(&client, &ns).await;
    let dir = tempfile::tempdir().unwrap();
    let prod = dir.path().join("prod.env");
    std::fs::write(
        &prod,
        "# database\nexport DB_HOST=db.internal\nGREETING=\"hi\\nthere\"\n",
    )
    .unwrap();
    let extra = dir.path().join("extra.env");
    std::fs::write(&extra, "MODE='fast'\n").unwrap();
    let prod_arg = prod.to_str().unwrap();
    let extra_arg = extra.to_str().unwrap();

    let task = wharf
        .json(&[
            "tasks",
            "run",
            "--image",
            "busybox",
            "--name",
            "envy",
            "--env",
            "LEVEL=debug",
            "--env-file",
            prod_arg,
            "--env-file",
            extra_arg,
        ])
        .await;
    assert_eq!(task["spec"]["env"][0]["name"], "LEVEL");
    assert_eq!(task["spec"]["envFrom"][0]["configMap"], "envy-env-1");
    assert_eq!(task["spec"]["envFrom"][1]["configMap"], "envy-env-2");
    let config_maps = Api::<ConfigMap>::namespaced(client.clone(), &ns);
    let data = config_maps.get("envy-env-1").await.unwrap().data.unwrap();
    assert_eq!(data["DB_HOST"], "db.internal");
    assert_eq!(data["GREETING"], "hi\nthere");
    assert_eq!(
        config_maps.get("envy-env-2").await.unwrap().data.unwrap()["MODE"],
        "fast"
    );

    // A bad file is refused before anything is sent.
    let bad = dir.path().join("bad.env");
    std::fs::write(&bad, "A=1\nthis is not a pair\n").unwrap();
    let refused = wharf
        .run(&[
            "tasks",
            "run",
            "--image",
            "busybox",
            "--name",
            "never",
            "--env-file",
            bad.to_str().unwrap(),
        ])
        .await
        .fails_with(7);
    assert!(refused.contains("bad.env: line 2"), "{refused}");
    wharf.run(&["tasks", "get", "never"]).await.fails_with(3);
}

/// Result files with awkward content: binary, empty, nested, larger than a chunk.
fn write_results(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut big = Vec::with_capacity(3 * 1024 * 1024 + 7);
    let mut state: u32 = 0x1234_5678;
    while big.len() < 3 * 1024 * 1024 + 7 {
        // A cheap generator: enough to make every byte value appear.
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        big.extend_from_slice(&state.to_le_bytes());
    }
    big.truncate(3 * 1024 * 1024 + 7);
    let files = vec![
        ("report.csv".to_owned(), b"a,b\n1,2\n".to_vec()),
        ("bin/all-bytes.bin".to_owned(), (0..=255u8).collect()),
        ("bin/empty".to_owned(), Vec::new()),
        ("deep/er/big.dat".to_owned(), big),
    ];
    for (name, bytes) in &files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    files
}

async fn run_waits_and_downloads_the_results_byte_for_byte(client: Client, ns: String) {
    let (h, wharf) = wharf_bin::start_with_task_api(&client, &ns).await;
    let work = tempfile::tempdir().unwrap();
    let (out, results) = (work.path().join("out"), work.path().join("results"));
    let expected = write_results(&results);

    // The run waits while the Task runs; the collector uploads meanwhile.
    let mut run = wharf.command(&[
        "tasks",
        "run",
        "--image",
        "busybox",
        "--name",
        "e2e",
        "--annotation",
        "wharf.dev/sim-run-for=20s",
        "--results-dir",
        out.to_str().unwrap(),
    ]);
    run.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = run.spawn().unwrap();

    let tasks = Api::<Task>::namespaced(client.clone(), &ns);
    eventually(
        "the Task to run",
        Duration::from_secs(60),
        Duration::from_millis(200),
        || async {
            match tasks.get_opt("e2e").await.unwrap() {
                Some(task)
                    if task
                        .status
                        .as_ref()
                        .and_then(|s| s.phase)
                        .is_some_and(|p| p.to_string() == "Running") =>
                {
                    Ok(())
                }
                other => Err(format!("{:?}", other.and_then(|t| t.status))),
            }
        },
    )
    .await
    .unwrap();
    let token_file = work.path().join("token");
    std::fs::write(&token_file, api::collector_token(&client, &ns, "e2e").await).unwrap();
    let mut config = wharf_collector::CollectConfig::new(h.base.clone(), ns.clone(), "e2e");
    config.dir = results.clone();
    config.token_file = token_file;
    let report = wharf_collector::collect(&config).await.unwrap();
    assert_eq!(report.uploaded.len(), expected.len(), "{report:?}");

    let output = tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("Downloaded 4 result file(s) of task e2e"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("Succeeded"));
    for (name, bytes) in &expected {
        let got = std::fs::read(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.len(), bytes.len(), "{name}");
        assert_eq!(Sha256::digest(&got), Sha256::digest(bytes), "{name}");
    }
    let leftovers: Vec<_> = walk(&out)
        .into_iter()
        .filter(|p| p.contains(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The listing, a second download, and the archive.
    let listing = wharf.run(&["tasks", "results", "e2e"]).await.ok();
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("deep/er/big.dat ") && l.contains("3.0 MiB")),
        "{listing}"
    );
    let again = work.path().join("again");
    wharf
        .run(&[
            "tasks",
            "results",
            "e2e",
            "--download",
            again.to_str().unwrap(),
        ])
        .await
        .ok();
    assert_eq!(
        std::fs::read(again.join("bin/all-bytes.bin")).unwrap(),
        expected[1].1
    );
    let archive = work.path().join("results.tar.gz");
    wharf
        .run(&[
            "tasks",
            "results",
            "e2e",
            "--archive",
            archive.to_str().unwrap(),
        ])
        .await
        .ok();
    let bytes = std::fs::read(&archive).unwrap();
    assert_eq!(&bytes[..2], [0x1f, 0x8b], "a gzip stream");
}

/// Every file below `dir`, as paths relative to it.
fn walk(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found
}
