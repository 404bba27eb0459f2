//! The store's story (crates/store-tests) on a temporary SQLite file, and what SQLite adds:
//! the schema migrates on open, and a second open of the same file sees the same data.

use ctiforge_store::Store;
use ctiforge_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = SqliteStore::open(&url).await.expect("opens");
    ctiforge_store_tests::story(&store).await;
    drop(store);
    let reopened = SqliteStore::open(&url).await.expect("opens again");
    let counts = reopened.job_counts().await.expect("counts");
    assert!(counts.done >= 3, "{counts:?}");
}

#[tokio::test]
async fn other_urls_are_refused_with_the_form_to_use() {
    let err = SqliteStore::open("postgres://localhost/x")
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("sqlite://PATH"), "{err}");
    let err = SqliteStore::open("sqlite:///no/such/folder/x.db")
        .await
        .expect_err("refused");
    assert!(
        err.to_string().contains("cannot open the database"),
        "{err}"
    );
}
