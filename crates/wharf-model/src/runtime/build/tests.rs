//! Properties every engine's children share: restricted pods, one-at-a-time
//! rollouts, and the CloudNativePG hand-over.

use k8s_openapi::api::core::v1::{Container, PodSpec};

use super::credentials::{Generate, required};
use super::*;
use crate::runtime::{RuntimeSpec, S3Spec};

fn five_engines(replicas: i32) -> Runtime {
    let engine = || {
        Some(EngineSpec {
            replicas,
            ..EngineSpec::default()
        })
    };
    let mut runtime = Runtime::new(
        "rt",
        RuntimeSpec {
            mongodb: engine(),
            nats: engine(),
            s3: Some(S3Spec::default()),
            postgres: engine(),
            redis: engine(),
            ..RuntimeSpec::default()
        },
    );
    runtime.metadata.namespace = Some("shop".into());
    runtime.metadata.uid = Some("u-1".into());
    runtime
}

/// Every engine's credentials, made the way the operator makes them (fixed
/// values instead of random ones).
fn credentials() -> BTreeMap<Engine, Credentials> {
    Engine::ALL
        .iter()
        .map(|&engine| {
            let values = required(engine)
                .iter()
                .map(|c| {
                    let value = match c.generate {
                        Generate::Fixed(v) => v.to_owned(),
                        Generate::Alphanumeric(n) => "a".repeat(n),
                        Generate::Hex(n) => "f".repeat(n),
                    };
                    (c.key.to_owned(), value)
                })
                .collect();
            (engine, Credentials(values))
        })
        .collect()
}

fn assert_restricted(what: &str, pod: &PodSpec) {
    let security = pod.security_context.as_ref().expect(what);
    assert_eq!(security.run_as_non_root, Some(true), "{what}");
    assert!(
        security.run_as_user.is_some_and(|u| u > 0),
        "{what}: a numeric non-root user"
    );
    assert_eq!(
        security.seccomp_profile.as_ref().map(|s| s.type_.as_str()),
        Some("RuntimeDefault"),
        "{what}"
    );
    let containers: Vec<&Container> = pod
        .containers
        .iter()
        .chain(pod.init_containers.iter().flatten())
        .collect();
    for container in containers {
        let context = container.security_context.as_ref().expect(&container.name);
        assert_eq!(context.allow_privilege_escalation, Some(false), "{what}");
        assert_eq!(
            context.capabilities.as_ref().and_then(|c| c.drop.clone()),
            Some(vec!["ALL".to_owned()]),
            "{what}/{}",
            container.name
        );
        assert_ne!(context.privileged, Some(true), "{what}");
        assert!(
            context.run_as_user.is_none_or(|u| u > 0),
            "{what}/{}",
            container.name
        );
    }
}

#[test]
fn every_pod_of_every_engine_is_restricted_and_rolls_one_member_at_a_time() {
    for replicas in [1, 3] {
        let runtime = five_engines(replicas);
        let built = build(&runtime, &credentials(), Cluster::default()).unwrap();
        assert_eq!(built.len(), 5);
        for engine in &built {
            let name = engine.engine.name();
            let spec = engine.stateful_set.spec.as_ref().unwrap();
            let strategy = spec.update_strategy.as_ref().unwrap();
            assert_eq!(strategy.type_.as_deref(), Some("RollingUpdate"), "{name}");
            assert!(
                strategy.rolling_update.is_none(),
                "{name}: the default, one member at a time"
            );
            assert_restricted(name, spec.template.spec.as_ref().unwrap());
            if let Some(job) = &engine.bootstrap {
                let pod = job.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
                assert_restricted(&format!("{name} bootstrap"), pod);
            }
        }
    }
}

#[test]
fn with_cloudnative_pg_wharf_builds_no_postgres_of_its_own() {
    let runtime = five_engines(1);
    let built = build(
        &runtime,
        &credentials(),
        Cluster {
            cloudnative_pg: true,
        },
    )
    .unwrap();
    let engines: Vec<Engine> = built.iter().map(|e| e.engine).collect();
    assert!(!engines.contains(&Engine::Postgres), "{engines:?}");
    assert_eq!(engines.len(), 4);
}

#[test]
fn a_mongodb_bootstrap_supersedes_the_other_memberships_job() {
    let one = build(&five_engines(1), &credentials(), Cluster::default()).unwrap();
    let three = build(&five_engines(3), &credentials(), Cluster::default()).unwrap();
    let mongodb = |built: &[EngineChildren]| {
        built
            .iter()
            .find(|e| e.engine == Engine::Mongodb)
            .cloned()
            .unwrap()
    };
    let (one, three) = (mongodb(&one), mongodb(&three));
    let job_name =
        |e: &EngineChildren| e.bootstrap.as_ref().unwrap().metadata.name.clone().unwrap();
    assert_ne!(job_name(&one), job_name(&three));
    assert_eq!(one.superseded_bootstraps, vec![job_name(&three)]);
    assert_eq!(three.superseded_bootstraps, vec![job_name(&one)]);
    for other in [Engine::Nats, Engine::Redis] {
        let built = build(&five_engines(3), &credentials(), Cluster::default()).unwrap();
        let engine = built.iter().find(|e| e.engine == other).unwrap();
        assert!(engine.superseded_bootstraps.is_empty());
    }
}
