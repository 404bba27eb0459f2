//! Feeds: an RSS feed and its articles served on 127.0.0.1; the server polls the feed, queues
//! each new item's link, analyses the articles, and on the next poll sends the ETag back and
//! gets 304 (nothing queued twice).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, config, get, post_json, request};
use ctiforge_model::Tlp;
use ctiforge_store::Role;
use serde_json::json;

/// The requests a test site saw: path and If-None-Match.
type RequestLog = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// Serves the feed and two articles; records each request's path and If-None-Match.
fn feed_site() -> (String, RequestLog) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let site = base.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let mut etag = None;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                    break;
                }
                if let Some(value) = header.to_ascii_lowercase().strip_prefix("if-none-match:") {
                    etag = Some(value.trim().to_owned());
                }
            }
            if let Ok(mut list) = log.lock() {
                list.push((path.clone(), etag.clone()));
            }
            let (status, content_type, body) = match path.as_str() {
                "/feed.xml" if etag.as_deref() == Some("\"v1\"") => ("304 Not Modified", "application/rss+xml", String::new()),
                "/feed.xml" => ("200 OK", "application/rss+xml", format!(
                    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Advisories</title>\
                     <item><title>Ransomware at a clinic</title><link>{site}/a1</link><guid>a1</guid></item>\
                     <item><title>Cloud keys stolen</title><link>{site}/a2</link><guid>a2</guid></item>\
                     </channel></rss>"
                )),
                "/a1" => ("200 OK", "text/html", "<html><head><title>Ransomware at a clinic</title></head><body><p>The attackers ran vssadmin delete shadows /all /quiet and encrypted patient records at a clinic.</p></body></html>".to_owned()),
                "/a2" => ("200 OK", "text/html", "<html><head><title>Cloud keys stolen</title></head><body><p>Using stolen access keys, the actor called StopLogging on the CloudTrail trail and copied buckets with aws s3 cp.</p></body></html>".to_owned()),
                _ => ("404 Not Found", "text/plain", "no".to_owned()),
            };
            let etag_header = if path == "/feed.xml" {
                "ETag: \"v1\"\r\n"
            } else {
                ""
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{etag_header}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, seen)
}

#[test]
fn a_feed_is_polled_its_items_analysed_and_not_queued_twice() {
    let (site, requests) = feed_site();
    let mut settings = config();
    settings.fetch.allow_private = true;
    let server = Server::start(settings);
    let admin = server.token("admin", Role::Admin, Tlp::Red);
    let answer = post_json(
        &server.url("/api/v1/feeds"),
        Some(&admin),
        &json!({"url": format!("{site}/feed.xml"), "name": "Advisories", "interval": 3600, "tlp": "green"}),
    );
    assert_eq!(answer.status, 201, "{}", answer.text());
    let feed = answer.json()["id"].as_i64().expect("feed id");

    // Both articles become reports.
    let started = Instant::now();
    let reports = loop {
        let (_, list) = get(&server.url("/api/v1/reports"), Some(&admin));
        let reports = list["reports"].as_array().cloned().unwrap_or_default();
        if reports.len() == 2 {
            break reports;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "feed items never analysed: {list}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let titles: Vec<&str> = reports.iter().filter_map(|r| r["title"].as_str()).collect();
    assert!(
        titles.contains(&"Ransomware at a clinic") && titles.contains(&"Cloud keys stolen"),
        "{titles:?}"
    );
    assert!(reports.iter().all(|r| r["tlp"] == "green"));

    // Poll again: the ETag goes back, the answer is 304, nothing new is queued.
    assert_eq!(
        request(
            "POST",
            &server.url(&format!("/api/v1/feeds/{feed}/poll")),
            Some(&admin),
            &[],
            None
        )
        .status,
        202
    );
    let started = Instant::now();
    loop {
        let conditional = requests
            .lock()
            .expect("log")
            .iter()
            .any(|(path, etag)| path == "/feed.xml" && etag.as_deref() == Some("\"v1\""));
        if conditional {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no conditional poll: {:?}",
            requests.lock().expect("log")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let (_, feeds) = get(&server.url("/api/v1/feeds"), Some(&admin));
    let listed = &feeds["feeds"][0];
    assert_eq!(
        (listed["items"].as_u64(), listed["error"].is_null()),
        (Some(2), true),
        "{feeds}"
    );
    let (_, stats) = get(&server.url("/api/v1/stats"), Some(&admin));
    assert_eq!(stats["jobs"]["done"], 2, "{stats}");
    let articles = requests
        .lock()
        .expect("log")
        .iter()
        .filter(|(p, _)| p.starts_with("/a"))
        .count();
    assert_eq!(articles, 2, "each article fetched once");
}
