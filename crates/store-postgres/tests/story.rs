//! The store's story (crates/store-tests) on PostgreSQL, in a fresh database made on the server
//! `CTIFORGE_TEST_PG_SERVER` names (`.ci/run` starts a private cluster and sets it; CI fails
//! rather than skip).

use ctiforge_store_postgres::PostgresStore;
use sqlx::Connection;

/// Says why a test does not run; with `CI` set (`.ci/run` sets it) a skip is a failure.
macro_rules! skip {
    ($($arg:tt)*) => {{
        let message = format!($($arg)*);
        assert!(std::env::var_os("CI").is_none(), "{message} (CI is set: nothing may skip)");
        eprintln!("{message}");
    }};
}

/// A fresh, empty database on `server` (a leftover of an earlier run dropped first).
async fn fresh_database(server: &str, name: &str) -> String {
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("connects to the test server");
    for statement in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::raw_sql(&statement)
            .execute(&mut admin)
            .await
            .expect(&statement);
    }
    format!("{server}/{name}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_story_holds_on_postgres() {
    let Ok(server) = std::env::var("CTIFORGE_TEST_PG_SERVER") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the PostgreSQL story: set CTIFORGE_TEST_PG_SERVER (.ci/run does)"
        );
        skip!("SKIPPED the PostgreSQL story: set CTIFORGE_TEST_PG_SERVER to a server URL");
        return;
    };
    let url = fresh_database(&server, &format!("ctiforge_story_{}", std::process::id())).await;
    let store = PostgresStore::open(&url).await.expect("opens");
    ctiforge_store_tests::story(&store).await;
}

#[tokio::test]
async fn other_urls_are_refused_and_passwords_never_shown() {
    let err = PostgresStore::open("sqlite://x.db")
        .await
        .expect_err("refused");
    assert!(
        err.to_string().contains("postgres://USER@HOST:PORT/DB"),
        "{err}"
    );
    let err = PostgresStore::open("postgres://user:s3cret@127.0.0.1:1/none")
        .await
        .expect_err("nothing listens on port 1");
    assert!(!err.to_string().contains("s3cret"), "{err}");
}
