//! A real PostgreSQL for tests: the cluster named by MUSTER_TEST_POSTGRES (scripts/test.sh
//! starts one for the whole run), else one this test binary starts with scripts/pg.sh and
//! that stops itself when the binary exits. Each test gets a database of its own.

use std::sync::OnceLock;

fn cluster() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("MUSTER_TEST_POSTGRES") {
            return url;
        }
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let dir = std::env::temp_dir().join(format!("muster-test-pg-{}", std::process::id()));
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
            .output()
            .expect("run scripts/pg.sh");
        assert!(
            out.status.success(),
            "scripts/pg.sh could not start PostgreSQL (scripts/install-deps.sh installs it): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .trim()
            .strip_prefix("MUSTER_TEST_POSTGRES=")
            .expect("pg.sh prints the URL")
            .to_string()
    })
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
