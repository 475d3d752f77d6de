//! A real PostgreSQL for tests: the cluster named by MUSTER_TEST_POSTGRES (scripts/test.sh
//! starts one for the whole run), else one this test binary starts with scripts/pg.sh and
//! that stops itself when the binary exits. Each test gets a database of its own.

use std::sync::OnceLock;

/// Starts a cluster with scripts/pg.sh (`ssl`: PG_SSL=1) that stops when this binary exits;
/// what it printed, by name.
fn start(name: &str, ssl: bool) -> std::collections::HashMap<String, String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let dir = std::env::temp_dir().join(format!("muster-test-{name}-{}", std::process::id()));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
    let out = std::process::Command::new("bash")
        .arg(format!("{root}/scripts/pg.sh"))
        .arg("start")
        .arg(&dir)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .env("PG_SSL", if ssl { "1" } else { "0" })
        .output()
        .expect("run scripts/pg.sh");
    assert!(
        out.status.success(),
        "scripts/pg.sh could not start PostgreSQL (scripts/install-deps.sh installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn cluster() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        std::env::var("MUSTER_TEST_POSTGRES")
            .unwrap_or_else(|_| start("pg", false)["MUSTER_TEST_POSTGRES"].clone())
    })
}

/// A cluster that speaks TLS with a certificate from a throw-away CA: its URL (plain, no
/// sslmode) and the CA's certificate file.
#[allow(dead_code)] // not every test binary that includes this file needs it
pub fn tls_cluster() -> (String, std::path::PathBuf) {
    static CLUSTER: OnceLock<(String, std::path::PathBuf)> = OnceLock::new();
    CLUSTER
        .get_or_init(|| {
            let printed = start("pg-tls", true);
            (
                printed["MUSTER_TEST_POSTGRES"].clone(),
                printed["MUSTER_TEST_POSTGRES_CA"].clone().into(),
            )
        })
        .clone()
}

/// A fresh, empty database on the test cluster; its URL.
pub async fn fresh_database() -> String {
    let base = cluster();
    let (client, connection) = tokio_postgres::connect(base, tokio_postgres::NoTls)
        .await
        .expect("connect to the test cluster");
    tokio::spawn(connection);
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    format!("{prefix}/{name}")
}

#[allow(dead_code)] // not every test binary that includes this file needs it
/// A plain connection, for what a test does beside the store (holding a transaction open,
/// ending another session).
pub async fn raw(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
}
