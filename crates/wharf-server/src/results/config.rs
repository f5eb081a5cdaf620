//! Where the result store is: a local directory or an S3-compatible bucket.

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};
use object_store::ClientOptions;
use object_store::aws::{AmazonS3, AmazonS3Builder};

use super::StoreError;

/// The region when none is given and the URL does not name one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The key of the access key id in a credentials Secret.
pub const ACCESS_KEY_ID_KEY: &str = "accessKeyId";
/// The key of the secret access key in a credentials Secret.
pub const SECRET_ACCESS_KEY_KEY: &str = "secretAccessKey";

/// Which store holds result files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreConfig {
    /// A directory of the server's filesystem (the default).
    Local {
        /// The directory; created if missing.
        dir: PathBuf,
    },
    /// A bucket of an S3-compatible service.
    S3(S3Config),
}

/// An S3-compatible bucket, addressed with path-style requests
/// (`https://host/bucket/key`), which every S3-compatible service accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// `http(s)://host[:port]`, without the bucket.
    pub endpoint: String,
    /// The bucket.
    pub bucket: String,
    /// The region requests are signed for.
    pub region: String,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log.
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl S3Config {
    /// The bucket of `url`, e.g. `http://127.0.0.1:9000/results` or
    /// `https://s3.eu-west-1.amazonaws.com/results`. Without `region`, an AWS URL's
    /// region is used, else [`DEFAULT_REGION`].
    pub fn from_url(
        url: &str,
        region: Option<&str>,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Result<Self, StoreError> {
        let invalid = |why: &str| {
            StoreError::Config(format!(
                "S3 URL {url:?} {why}; write it as http(s)://host[:port]/bucket"
            ))
        };
        let parsed = url::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid("is not http or https"));
        }
        let host = parsed.host_str().ok_or_else(|| invalid("has no host"))?;
        if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty()
        {
            return Err(invalid("has a query, fragment or user name"));
        }
        let bucket = parsed.path().trim_matches('/');
        if bucket.is_empty() || bucket.contains('/') {
            return Err(invalid("must name exactly one bucket as its path"));
        }
        let endpoint = match parsed.port() {
            Some(port) => format!("{}://{host}:{port}", parsed.scheme()),
            None => format!("{}://{host}", parsed.scheme()),
        };
        let region = region
            .map(str::to_owned)
            .or_else(|| aws_region(host))
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        if access_key_id.is_empty() || secret_access_key.is_empty() {
            return Err(StoreError::Config(
                "S3 needs an access key id and a secret access key".into(),
            ));
        }
        Ok(Self {
            endpoint,
            bucket: bucket.to_owned(),
            region,
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
        })
    }

    /// Like [`S3Config::from_url`], with the credentials read from Secret
    /// `namespace/name` (keys `accessKeyId` and `secretAccessKey`) through `client`.
    pub async fn from_secret(
        client: &Client,
        url: &str,
        region: Option<&str>,
        secret: &str,
    ) -> Result<Self, StoreError> {
        let Some((namespace, name)) = secret
            .split_once('/')
            .filter(|(ns, name)| !ns.is_empty() && !name.is_empty() && !name.contains('/'))
        else {
            return Err(StoreError::Config(format!(
                "credentials Secret {secret:?} must be written namespace/name"
            )));
        };
        let found = Api::<Secret>::namespaced(client.clone(), namespace)
            .get(name)
            .await
            .map_err(|e| StoreError::Config(format!("cannot read Secret {secret}: {e}")))?;
        let data = found.data.unwrap_or_default();
        let value = |key: &str| {
            let bytes = data
                .get(key)
                .ok_or_else(|| StoreError::Config(format!("Secret {secret} has no key {key}")))?;
            String::from_utf8(bytes.0.clone())
                .map(|v| v.trim().to_owned())
                .map_err(|_| {
                    StoreError::Config(format!("key {key} of Secret {secret} is not text"))
                })
        };
        Self::from_url(
            url,
            region,
            &value(ACCESS_KEY_ID_KEY)?,
            &value(SECRET_ACCESS_KEY_KEY)?,
        )
    }

    pub(super) fn build(&self) -> Result<AmazonS3, StoreError> {
        // reqwest's TLS takes the process-wide rustls provider; ring is the one kube
        // already uses. Installing fails harmlessly when one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = ClientOptions::new()
            .with_allow_http(self.endpoint.starts_with("http://"))
            .with_connect_timeout(Duration::from_secs(10))
            // A download lasts as long as the client takes to read it; only a
            // connection that stalls is given up (and resumed by object_store).
            .with_timeout_disabled()
            .with_read_timeout(Duration::from_secs(60));
        AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_bucket_name(&self.bucket)
            .with_region(&self.region)
            .with_access_key_id(&self.access_key_id)
            .with_secret_access_key(&self.secret_access_key)
            .with_virtual_hosted_style_request(false)
            .with_allow_http(self.endpoint.starts_with("http://"))
            .with_client_options(client)
            .build()
            .map_err(|e| StoreError::Config(e.to_string()))
    }
}

/// The region in an AWS endpoint host such as `s3.eu-west-1.amazonaws.com`.
fn aws_region(host: &str) -> Option<String> {
    let rest = host.strip_suffix(".amazonaws.com")?;
    let region = rest
        .strip_prefix("s3.dualstack.")
        .or_else(|| rest.strip_prefix("s3."))
        .or_else(|| rest.strip_prefix("s3-"))?;
    (!region.is_empty() && !region.contains('.')).then(|| region.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_endpoint_bucket_and_region_from_the_url() {
        let local = S3Config::from_url("http://127.0.0.1:9000/results/", None, "k", "s").unwrap();
        assert_eq!(local.endpoint, "http://127.0.0.1:9000");
        assert_eq!(local.bucket, "results");
        assert_eq!(local.region, DEFAULT_REGION);
        let aws =
            S3Config::from_url("https://s3.eu-west-1.amazonaws.com/b", None, "k", "s").unwrap();
        assert_eq!(aws.endpoint, "https://s3.eu-west-1.amazonaws.com");
        assert_eq!(aws.region, "eu-west-1");
        let explicit =
            S3Config::from_url("https://minio.example:443/b", Some("x-1"), "k", "s").unwrap();
        assert_eq!(explicit.region, "x-1");
        assert!(!format!("{explicit:?}").contains("\"s\""));
    }

    #[test]
    fn refuses_what_is_not_one_bucket() {
        for url in [
            "ftp://h/b",
            "http://h/",
            "http://h/b/prefix",
            "http://h/b?x=1",
            "not a url",
        ] {
            assert!(S3Config::from_url(url, None, "k", "s").is_err(), "{url}");
        }
        assert!(S3Config::from_url("http://h/b", None, "", "s").is_err());
    }
}
