//! The `wharf` binary against a real API server and operator on the test cluster,
//! with real ServiceAccount tokens: login, deploy to Ready, reading, changing, logs,
//! deleting, Spaces and their members, and the exit code of each kind of failure.

mod wharf_bin;

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::Api;
use kube::api::DeleteParams;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use wharf_bin::{CACHE_TIMEOUT, Wharf, until, until_exit, words};
use wharf_model::space::Space;
use wharf_testenv::wait::{eventually, wait_deleted};
use wharf_testenv::with_temp_ns;
use wharf_testenv::{api, rbac};

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn login_checks_the_token_and_saves_it_privately() {
    with_temp_ns(|client, ns| async move {
        let h = api::start(&client, &ns).await;
        let wharf = Wharf::bare();

        let run = wharf
            .run(&[
                "login", "--server", &h.base, "--token", &h.granted, "-n", &ns,
            ])
            .await;
        assert!(!run.stdout.contains(&h.granted) && !run.stderr.contains(&h.granted));
        assert!(run.ok().contains(&format!("namespace {ns}")));
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(wharf.config()).unwrap()).unwrap();
        assert_eq!(saved["server"], h.base.as_str());
        assert_eq!(saved["token"], h.granted.as_str());
        assert_eq!(saved["namespace"], ns.as_str());
        #[cfg(unix)]
        {
            assert_eq!(mode(&wharf.config()), 0o600);
            assert_eq!(mode(wharf.config().parent().unwrap()), 0o700);
        }

        // Later commands use the saved login alone.
        let list = wharf.run(&["apps", "list"]).await;
        assert_eq!(list.code, 0, "{list:?}");
        assert!(list.stderr.contains("No apps"), "{list:?}");

        let denied = wharf
            .run(&[
                "login", "--server", &h.base, "--token", &h.denied, "-n", &ns,
            ])
            .await
            .fails_with(4);
        assert!(denied.contains("may not list apps"), "{denied}");
        assert!(denied.contains("stranger"), "{denied}");
        assert!(!denied.contains(&h.denied), "the token is never printed");
        let forged = wharf
            .run(&["login", "--server", &h.base, "--token", "not-a-token"])
            .await
            .fails_with(4);
        assert!(forged.contains("does not accept this token"), "{forged}");
        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(wharf.config()).unwrap()).unwrap();
        assert_eq!(
            saved["token"],
            h.granted.as_str(),
            "a failed login saves nothing"
        );

        // The environment overrides the file.
        let overridden = Wharf {
            vars: vec![("WHARF_TOKEN", h.denied.clone())],
            ..Wharf::bare()
        };
        std::fs::create_dir_all(overridden.config().parent().unwrap()).unwrap();
        std::fs::copy(wharf.config(), overridden.config()).unwrap();
        overridden.run(&["apps", "list"]).await.fails_with(4);

        let unreachable = wharf
            .run(&["login", "--server", "http://127.0.0.1:1", "--token", "t"])
            .await
            .fails_with(8);
        assert!(unreachable.contains("cannot reach"), "{unreachable}");

        assert!(wharf.run(&["logout"]).await.ok().contains("Logged out"));
        let logged_out = wharf.run(&["apps", "list"]).await.fails_with(4);
        assert!(logged_out.contains("wharf login"), "{logged_out}");

        let stdin = wharf
            .run_with_stdin(
                &["login", "--token-stdin"],
                Some(&format!("{}\n", h.granted)),
            )
            .await;
        stdin.ok();
        wharf.run(&["apps", "list"]).await.ok();

        let nowhere = Wharf::bare().run(&["apps", "list"]).await.fails_with(4);
        assert!(nowhere.contains("not logged in"), "{nowhere}");
    })
    .await;
}

#[tokio::test]
async fn apps_are_deployed_inspected_changed_and_deleted() {
    with_temp_ns(|client, ns| async move {
        let (_h, wharf) = wharf_bin::start(&client, &ns).await;
        let deploy = [
            "apps", "deploy", "web", "--image", "web:1", "--port", "http:8080", "--env",
            "MODE=prod", "--timeout", "60s",
        ];

        let table = wharf.run(&deploy).await.ok();
        let mut lines = table.lines();
        assert!(lines.next().unwrap().starts_with("NAME   PHASE     READY"), "{table}");
        let row: Vec<_> = lines.next().unwrap().split_whitespace().collect();
        assert_eq!(row[..3], ["web", "Running", "1/1"], "{table}");

        let app = wharf.json(&["apps", "get", "web"]).await;
        assert_eq!(app["spec"]["image"], "web:1");
        assert_eq!(app["spec"]["ports"][0]["port"], 8080);
        assert_eq!(app["status"]["phase"], "Running");
        let yaml = wharf.run(&["apps", "get", "web", "-o", "yaml"]).await.ok();
        assert!(yaml.contains("image: web:1"), "{yaml}");

        let mut again = deploy.to_vec();
        again.extend(["-o", "json"]);
        let applied: Value = serde_json::from_str(&wharf.run(&again).await.ok()).unwrap();
        assert_eq!(
            applied["metadata"]["generation"], app["metadata"]["generation"],
            "deploying the same App again changes nothing"
        );

        let list = until_exit(&wharf, &["apps", "list"], 0).await.stdout;
        assert!(list.starts_with("NAME "), "{list}");
        assert!(list.lines().any(|l| l.starts_with("web ") && l.contains("Running")), "{list}");
        let listed = wharf.json(&["apps", "list"]).await;
        assert_eq!(listed["items"][0]["metadata"]["name"], "web");

        let scaled = wharf.json(&["apps", "scale", "web", "2", "--timeout", "60s"]).await;
        assert_eq!(scaled["status"]["readyReplicas"], 2);
        assert_eq!(scaled["spec"]["replicas"], 2);

        let env = wharf.run(&["apps", "env", "set", "web", "LEVEL=debug", "URL=a=b"]).await.ok();
        assert!(env.lines().any(|l| l.split_whitespace().eq(["LEVEL", "value", "debug"])), "{env}");
        let env = wharf.json(&["apps", "env", "list", "web"]).await;
        let pairs: Vec<_> = env
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["name"].as_str().unwrap(), e["value"].as_str().unwrap()))
            .collect();
        assert_eq!(pairs, [("MODE", "prod"), ("LEVEL", "debug"), ("URL", "a=b")]);
        wharf.run(&["apps", "env", "unset", "web", "URL"]).await.ok();
        let missing = wharf
            .run(&["apps", "env", "unset", "web", "NOPE"])
            .await
            .fails_with(3);
        assert!(missing.contains("NOPE"), "{missing}");

        // The new variables roll the pods; the status shows the App settle.
        let status = until(&wharf, &["apps", "status", "web"], "Running", |run| {
            run.code == 0 && run.stdout.contains("Phase:     Running")
        })
        .await
        .stdout;
        assert!(
            status.lines().any(|l| l.split_whitespace().take(2).eq(["Ready", "True"])),
            "{status}"
        );
        assert!(status.contains("Pods:\n  NAME "), "{status}");
        wharf.run(&["apps", "events", "web"]).await.ok();

        let restarted = wharf.json(&["apps", "restart", "web", "--timeout", "60s"]).await;
        assert!(restarted["spec"]["restartedAt"].is_string());
        wharf.run(&["apps", "stop", "web"]).await.ok();
        let started = wharf.json(&["apps", "start", "web", "--timeout", "60s"]).await;
        assert_eq!(started["status"]["readyReplicas"], 2);

        // A manifest, with a flag overriding one of its fields.
        let manifest = wharf.dir.path().join("api.yaml");
        std::fs::write(
            &manifest,
            "apiVersion: wharf.dev/v1alpha1\nkind: App\nmetadata:\n  name: api\n  labels:\n    team: shop\nspec:\n  image: api:1\n  replicas: 1\n",
        )
        .unwrap();
        let api = wharf
            .json(&["apps", "deploy", "api", "-f", manifest.to_str().unwrap(), "--replicas", "2", "--timeout", "60s"])
            .await;
        assert_eq!(api["spec"]["image"], "api:1");
        assert_eq!(api["spec"]["replicas"], 2);
        assert_eq!(api["metadata"]["labels"]["team"], "shop");
        let shop = until_exit(&wharf, &["apps", "list", "-l", "team=shop"], 0).await.stdout;
        assert!(shop.lines().any(|l| l.starts_with("api ")), "{shop}");
        assert!(!shop.lines().any(|l| l.starts_with("web ")), "{shop}");

        assert!(wharf.run(&["apps", "delete", "web"]).await.ok().contains("deleted"));
        let gone = until_exit(&wharf, &["apps", "get", "web"], 3).await;
        assert!(gone.stderr.contains("no App web"), "{gone:?}");
        wharf.run(&["apps", "delete", "web"]).await.fails_with(3);
        wharf.run(&["apps", "scale", "ghost", "1"]).await.fails_with(3);
    })
    .await;
}

#[tokio::test]
async fn logs_are_printed_and_followed() {
    with_temp_ns(|client, ns| async move {
        let (h, wharf) = wharf_bin::start(&client, &ns).await;
        wharf
            .run(&words(
                "apps deploy talk --image talk:1 --replicas 2 --timeout 60s",
            ))
            .await
            .ok();

        let logs = eventually(
            "logs of both pods",
            Duration::from_secs(60),
            Duration::from_millis(200),
            || async {
                let run = wharf.run(&["apps", "logs", "talk"]).await;
                if run.code == 0 && run.stdout.matches("wharf-sim: done").count() == 2 {
                    Ok(run.stdout)
                } else {
                    Err(format!("{run:?}"))
                }
            },
        )
        .await
        .unwrap();
        assert!(logs.lines().all(|l| l.starts_with("[talk-")), "{logs}");

        let state = wharf.json(&["apps", "status", "talk"]).await;
        let pod = state["pods"][0]["name"].as_str().unwrap().to_owned();
        let last = wharf
            .run(&["apps", "logs", "talk", "--pod", &pod, "--tail", "1"])
            .await
            .ok();
        assert_eq!(last, "wharf-sim: done\n");

        // Following never ends by itself: read until the last line, then stop it.
        let mut child = wharf
            .command(&["apps", "logs", "talk", "--pod", &pod, "-f"])
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = Vec::new();
        tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                let done = line == "wharf-sim: done";
                seen.push(line);
                if done {
                    break;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("logs -f printed only {seen:?}"));
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert!(
            child.try_wait().unwrap().is_none(),
            "logs -f stopped by itself"
        );
        child.kill().await.unwrap();

        let stranger = wharf
            .run(&["apps", "logs", "talk", "--pod", "someone-else"])
            .await
            .fails_with(3);
        assert!(stranger.contains("someone-else"), "{stranger}");
        wharf
            .run(&["apps", "logs", "talk", "--since", "soon"])
            .await
            .fails_with(7);
        Wharf::with_token(&h, &h.denied)
            .run(&["apps", "logs", "talk"])
            .await
            .fails_with(4);
    })
    .await;
}

#[tokio::test]
async fn failures_have_their_exit_codes_and_clear_messages() {
    with_temp_ns(|client, ns| async move {
        let (h, wharf) = wharf_bin::start(&client, &ns).await;

        let usage = wharf
            .run(&["apps", "deploy", "web", "--image", "web:1", "--port", "8080"])
            .await;
        assert_eq!(usage.code, 2, "{usage:?}");
        assert!(usage.stderr.contains("http:8080"), "{usage:?}");
        let range = wharf
            .run(&["apps", "deploy", "web", "--image", "web:1", "--port", "http:70000"])
            .await
            .fails_with(7);
        assert_eq!(
            range.trim_end(),
            "error: spec.ports[0].port: 70000 is not a port: use 1 to 65535"
        );
        let missing = wharf
            .run(&["apps", "deploy", "web", "-f", "/nonexistent/app.yaml"])
            .await
            .fails_with(7);
        assert!(missing.contains("/nonexistent/app.yaml"), "{missing}");
        wharf.run(&["apps", "list", "-l", "=bad"]).await.fails_with(7);

        let stranger = Wharf::with_token(&h, &h.denied);
        let denied = stranger
            .run(&["apps", "deploy", "web", "--image", "web:1"])
            .await
            .fails_with(4);
        assert!(denied.contains(&format!("system:serviceaccount:{ns}:stranger")), "{denied}");
        assert!(!denied.contains(&h.denied), "the token is never printed");
        stranger.run(&["apps", "get", "web"]).await.fails_with(4);
        Wharf::with_token(&h, "not-a-token")
            .run(&["apps", "list"])
            .await
            .fails_with(4);

        // 409: an autoscaled App cannot be scaled by hand.
        let manifest = wharf.dir.path().join("auto.json");
        std::fs::write(&manifest, r#"{"metadata":{"name":"auto"},"spec":{"image":"w:1","autoscale":{"min":1,"max":3}}}"#).unwrap();
        wharf
            .run(&["apps", "deploy", "auto", "-f", manifest.to_str().unwrap(), "--no-wait"])
            .await
            .ok();
        let conflict = wharf.run(&["apps", "scale", "auto", "2"]).await.fails_with(5);
        assert!(conflict.contains("autoscale"), "{conflict}");

        // 6: the test cluster provisions no volumes, so this App never gets Ready.
        let manifest = wharf.dir.path().join("store.yaml");
        std::fs::write(&manifest, "metadata: {name: store}\nspec:\n  image: s:1\n  volumes: [{name: data, size: 1Gi, mountPath: /data}]\n").unwrap();
        let ran_out = wharf
            .run(&["apps", "deploy", "store", "-f", manifest.to_str().unwrap(), "--timeout", "2s"])
            .await;
        assert_eq!(ran_out.code, 6, "{ran_out:?}");
        assert!(ran_out.stderr.contains("was not Ready within 2s"), "{ran_out:?}");
        assert!(ran_out.stdout.starts_with("NAME "), "the App is still printed: {ran_out:?}");

        let unreachable = Wharf::with_token(&h, &h.granted)
            .var("WHARF_SERVER", "http://127.0.0.1:1")
            .run(&["apps", "list"])
            .await
            .fails_with(8);
        assert!(unreachable.contains("127.0.0.1:1"), "{unreachable}");

        let completions = wharf.run(&["completions", "bash"]).await.ok();
        assert!(completions.contains("wharf"), "{completions}");
        let help = wharf.run(&["--help"]).await.ok();
        assert!(help.contains("Exit codes:"), "{help}");
    })
    .await;
}

#[tokio::test]
async fn spaces_are_created_shared_and_deleted() {
    with_temp_ns(|client, ns| async move {
        api::install_space_roles(&client).await;
        // Installs the CRDs and starts an operator that reconciles only the Spaces
        // labelled `wharf.dev/test-shard={ns}`.
        let h = api::start(&client, &ns).await;
        let bindings = Api::<ClusterRoleBinding>::all(client.clone());
        let binding =
            rbac::bind_cluster_role(&client, &ns, "deployer", "wharf-space-creator").await;

        let wharf = Wharf::with_token(&h, &h.granted);
        let space = format!("cli-{}", ns.trim_start_matches("wharf-test-"));
        let shard = format!("wharf.dev/test-shard={ns}");
        let me = format!("system:serviceaccount:{ns}:deployer");
        let viewer = format!("system:serviceaccount:{ns}:stranger");

        // The new binding takes a moment to reach the authorizer.
        let created = until_exit(
            &wharf,
            &[
                "spaces",
                "create",
                &space,
                "--label",
                &shard,
                "--quota-pods",
                "5",
                "--domain",
                "cli.example.com",
            ],
            0,
        )
        .await
        .stdout;
        assert!(created.starts_with("NAME "), "{created}");
        assert!(
            created.lines().any(|l| l.starts_with(&format!("{space} "))),
            "{created}"
        );

        // Reading needs the roles the operator grants the owner.
        until_exit(&wharf, &["spaces", "get", &space], 0).await;
        let got = wharf.json(&["spaces", "get", &space]).await;
        assert_eq!(
            got["spec"]["members"],
            json!([{ "kind": "User", "name": me, "role": "owner" }])
        );
        assert_eq!(
            got["metadata"]["labels"]["wharf.dev/test-shard"],
            ns.as_str()
        );
        assert_eq!(got["spec"]["baseDomain"], "cli.example.com");

        let list = until(
            &wharf,
            &["spaces", "list"],
            "the Space to be listed",
            |run| {
                run.code == 0
                    && run
                        .stdout
                        .lines()
                        .any(|l| l.starts_with(&format!("{space} ")))
            },
        )
        .await
        .stdout;
        let header: Vec<_> = list.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(
            header,
            ["NAME", "NAMESPACE", "PHASE", "SECURITY", "DOMAIN", "AGE"]
        );
        let row = list
            .lines()
            .find(|l| l.starts_with(&format!("{space} ")))
            .unwrap();
        let row: Vec<_> = row.split_whitespace().collect();
        assert_eq!(row[1], space, "{list}");
        assert_eq!(row[3..5], ["restricted", "cli.example.com"], "{list}");

        let added = wharf
            .run(&[
                "spaces", "members", "add", &space, "--user", &viewer, "--role", "viewer",
            ])
            .await
            .ok();
        assert!(
            added
                .lines()
                .any(|l| l.split_whitespace().eq(["User", viewer.as_str(), "viewer"])),
            "{added}"
        );
        let members = wharf.run(&["spaces", "members", "list", &space]).await.ok();
        let rows: Vec<Vec<&str>> = members
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            rows,
            [
                ["User", me.as_str(), "owner"],
                ["User", viewer.as_str(), "viewer"]
            ],
            "{members}"
        );
        let listed = wharf.json(&["spaces", "members", "list", &space]).await;
        assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");

        // The operator reports the quota it set.
        let quota = until(
            &wharf,
            &["spaces", "quota", &space],
            "the quota to show",
            |run| {
                run.code == 0
                    && run
                        .stdout
                        .lines()
                        .any(|l| l.starts_with("pods ") && l.ends_with(" 5"))
            },
        )
        .await
        .stdout;
        assert!(quota.starts_with("RESOURCE   USED   HARD\n"), "{quota}");

        let taken = wharf
            .run(&["spaces", "available", &space])
            .await
            .fails_with(5);
        assert!(taken.contains("a Space of that name exists"), "{taken}");
        let free = format!("{space}-free");
        let available = wharf.run(&["spaces", "available", &free]).await.ok();
        assert_eq!(available, format!("{free} is available\n"));

        let removed = wharf
            .run(&["spaces", "members", "remove", &space, "--user", &viewer])
            .await
            .ok();
        assert!(!removed.contains(&viewer), "{removed}");
        assert!(removed.contains(&me), "{removed}");
        wharf
            .run(&["spaces", "members", "remove", &space, "--user", &viewer])
            .await
            .fails_with(3);
        let last_owner = wharf
            .run(&["spaces", "members", "remove", &space, "--user", &me])
            .await
            .fails_with(5);
        assert!(last_owner.contains("at least one owner"), "{last_owner}");

        let deleted = wharf.run(&["spaces", "delete", &space]).await.ok();
        assert!(deleted.contains("being deleted"), "{deleted}");
        let namespaces = Api::<Namespace>::all(client.clone());
        wait_deleted(&namespaces, &space, Duration::from_secs(60))
            .await
            .unwrap();
        // The operator lifts the Space's finalizer once the namespace is gone; it
        // must do so before the test (and with it the operator) ends.
        let spaces = Api::<Space>::all(client.clone());
        wait_deleted(&spaces, &space, CACHE_TIMEOUT).await.unwrap();

        bindings
            .delete(&binding, &DeleteParams::default())
            .await
            .unwrap();
    })
    .await;
}
