//! A large result file through the API against the real test cluster, on the local
//! store and on S3 (moto): the collector's uploads with its audience-bound token,
//! the manifest into the Task's status, listing, whole and ranged downloads and the
//! archive.

use std::io::Read;

use bytes::Bytes;
use kube::{Api, Client, ResourceExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wharf_model::task::Task;
use wharf_server::S3Config;
use wharf_server::results::TaskKey;
use wharf_testenv::api::{self, Results, collector_token, problem, send};
use wharf_testenv::moto::{self, MotoServer};
use wharf_testenv::with_temp_ns;

mod results_common;

use results_common::*;

/// The whole life of a Task's results, on whichever store the harness has.
async fn round_trip(client: Client, ns: String, results: Results) {
    let h = api::start_server(&client, &ns, results).await;
    grant_results(&client, &ns).await;
    let task = create_task(&client, &ns, "train", Some("100Mi")).await;
    let token = collector_token(&client, &ns, "train").await;

    // The files a Task leaves in its results folder, collected by the real
    // collector (`wharfd collect --once`, as a library) with the Task's token.
    let large = random(LARGE);
    // A long name with characters that need encoding, and an empty file.
    let long_name = format!("reports/{}/final report #1.csv", "nested".repeat(20));
    let small = Bytes::from_static(b"epoch,loss\n1,0.5\n2,0.25\n");
    let empty = Bytes::new();
    let folder = tempfile::tempdir().unwrap();
    for (name, data) in [
        ("model/weights.bin", &large),
        (long_name.as_str(), &small),
        ("empty", &empty),
    ] {
        let path = folder.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, data).unwrap();
    }
    std::os::unix::fs::symlink("/etc/passwd", folder.path().join("link")).unwrap();
    let token_file = folder.path().join("..").join(format!("token-{ns}"));
    std::fs::write(&token_file, &token).unwrap();
    let mut config = wharf_collector::CollectConfig::new(&h.base, &ns, "train");
    config.dir = folder.path().to_owned();
    config.token_file = token_file.clone();
    let report = wharf_collector::collect(&config)
        .await
        .unwrap_or_else(|e| panic!("collecting: {e}"));
    let _ = std::fs::remove_file(&token_file);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let uploaded: Vec<(&str, u64, &str)> = report
        .uploaded
        .iter()
        .map(|f| (f.name.as_str(), f.size, f.sha256.as_str()))
        .collect();
    let (large_sha, small_sha, empty_sha) = (sha(&large), sha(&small), sha(&empty));
    assert_eq!(
        uploaded,
        [
            ("empty", 0, empty_sha.as_str()),
            ("model/weights.bin", LARGE as u64, large_sha.as_str()),
            (long_name.as_str(), small.len() as u64, small_sha.as_str()),
        ]
    );

    // The status says so, written by the results field manager.
    let status_of = Api::<Task>::namespaced(client.clone(), &ns)
        .get("train")
        .await
        .unwrap();
    let status = status_of.status.clone().unwrap();
    assert_eq!(status.result_count, Some(3));
    let names: Vec<&str> = status
        .results
        .as_ref()
        .unwrap()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["empty", "model/weights.bin", long_name.as_str()]);
    assert_eq!(
        status.results_refused.as_ref().unwrap()[0].reason,
        "symlink"
    );
    assert!(
        status_of
            .managed_fields()
            .iter()
            .any(|f| f.manager.as_deref() == Some("wharf-results")
                && f.subresource.as_deref() == Some("status")),
        "{:?}",
        status_of.managed_fields()
    );

    // Listed, with paths that download.
    let list: Value = h
        .get(&task_url(&h, "train", "/results"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        list["refused"],
        json!([{ "name": "link", "reason": "symlink" }])
    );
    let weights = &list["items"][1];
    assert_eq!(weights["name"], "model/weights.bin");
    assert_eq!(weights["size"], LARGE);
    assert_eq!(weights["sha256"], sha(&large));
    let path = weights["downloadPath"].as_str().unwrap();
    assert_eq!(
        path,
        format!("/v1/namespaces/{ns}/tasks/train/results/model/weights.bin")
    );

    // The whole file: the same bytes, with its size, digest and name.
    let download = h.get(&h.url(path)).await;
    assert_eq!(download.status(), StatusCode::OK);
    let etag = format!("\"{}\"", sha(&large));
    assert_eq!(header(&download, "content-length"), LARGE.to_string());
    assert_eq!(
        header(&download, "content-type"),
        "application/octet-stream"
    );
    assert_eq!(header(&download, "etag"), etag);
    assert_eq!(header(&download, "x-wharf-sha256"), sha(&large));
    assert_eq!(header(&download, "accept-ranges"), "bytes");
    assert!(header(&download, "content-disposition").contains("filename=\"weights.bin\""));
    assert_eq!(body_sha(download).await, (LARGE, sha(&large)));

    let long = list["items"][2]["downloadPath"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(long.contains("final%20report%20%231.csv"), "{long}");
    let small_download = h.get(&h.url(&long)).await;
    assert_eq!(small_download.bytes().await.unwrap(), small);
    let empty_download = h.get(&result_url(&h, "train", "empty")).await;
    assert_eq!(empty_download.status(), StatusCode::OK);
    assert!(empty_download.bytes().await.unwrap().is_empty());

    // Ranges.
    let url = result_url(&h, "train", "model/weights.bin");
    for (range, start, end) in [
        ("bytes=0-99", 0, 100),
        ("bytes=1048570-2097160", 1_048_570, 2_097_161),
        (&format!("bytes={}-", LARGE - 10) as &str, LARGE - 10, LARGE),
        ("bytes=-4096", LARGE - 4096, LARGE),
    ] {
        let part = get_with(&h, &url, &[("range", range)]).await;
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            header(&part, "content-range"),
            format!("bytes {start}-{}/{LARGE}", end - 1)
        );
        assert_eq!(header(&part, "content-length"), (end - start).to_string());
        assert_eq!(
            part.bytes().await.unwrap(),
            large.slice(start..end),
            "{range}"
        );
    }
    let beyond = get_with(&h, &url, &[("range", &format!("bytes={LARGE}-") as &str)]).await;
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&beyond, "content-range"), format!("bytes */{LARGE}"));
    // Another ETag in If-Range means "all of it".
    let stale = get_with(&h, &url, &[("range", "bytes=0-9"), ("if-range", "\"old\"")]).await;
    assert_eq!(stale.status(), StatusCode::OK);
    drop(stale);

    // A copy one has is not sent again.
    let unchanged = get_with(&h, &url, &[("if-none-match", &etag as &str)]).await;
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&unchanged, "etag"), etag);
    let changed = get_with(&h, &url, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(changed.status(), StatusCode::OK);
    drop(changed);

    // HEAD: the headers, no body.
    let head = send(h.granted().request(Method::HEAD, &url)).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header(&head, "content-length"), LARGE.to_string());
    assert_eq!(header(&head, "etag"), etag);
    assert!(head.bytes().await.unwrap().is_empty());

    // Not listed, not served.
    let unlisted = h.get(&result_url(&h, "train", "other.bin")).await;
    assert_eq!(unlisted.status(), StatusCode::NOT_FOUND);
    assert_eq!(problem(unlisted).await["code"], "result_not_found");

    // Everything as one archive.
    let archive = h.get(&task_url(&h, "train", "/results.tar.gz")).await;
    assert_eq!(archive.status(), StatusCode::OK);
    assert_eq!(header(&archive, "content-type"), "application/gzip");
    assert!(header(&archive, "content-disposition").contains("filename=\"train-results.tar.gz\""));
    let gz = archive.bytes().await.unwrap();
    let mut entries = Vec::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(gz.as_ref()));
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        entries.push((name, sha(&data), data.len()));
    }
    assert_eq!(
        entries,
        [
            ("empty".to_owned(), sha(&empty), 0),
            ("model/weights.bin".to_owned(), sha(&large), LARGE),
            (long_name.clone(), sha(&small), small.len()),
        ]
    );

    // Stored under the Task's uid.
    let key = TaskKey::new(&ns, "train", &task.uid().unwrap());
    assert_eq!(h.results.stored_tasks().await.unwrap(), [key]);
}

#[tokio::test]
async fn a_large_file_round_trips_through_the_local_store() {
    with_temp_ns(|client, ns| round_trip(client, ns, Results::TempDir)).await;
}

#[tokio::test]
async fn a_large_file_round_trips_through_s3() {
    let moto = MotoServer::start()
        .await
        .unwrap_or_else(|e| panic!("this test needs moto's S3 server: {e}"));
    let config = S3Config::from_url(
        &moto.bucket_url(),
        None,
        moto::ACCESS_KEY_ID,
        moto::SECRET_ACCESS_KEY,
    )
    .unwrap();
    with_temp_ns(|client, ns| round_trip(client, ns, Results::S3(config))).await;
    drop(moto);
}
