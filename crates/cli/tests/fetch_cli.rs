//! `ioc extract URL` against a real HTTP server on 127.0.0.1.

mod common;

use common::ctiforge;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

/// Serves canned responses by path until the test ends; returns the base URL.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(50) {
            let Ok(mut stream) = stream else { continue };
            let mut request_line = String::new();
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // Drain the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .to_owned();
            let response = match path.as_str() {
                "/report" => {
                    let body = "<html><body><nav>9.9.9.9</nav><article><p>The implant calls hxxp://c2-relay[.]net/gate and 45.77.12.9.</p></article></body></html>";
                    format!("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
                }
                "/moved" => "HTTP/1.1 302 Found\r\nLocation: /report\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
                _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
            };
            // A client that hangs up early is not this server's failure.
            let _ = stream.write_all(response.as_bytes());
        }
    });
    format!("http://{address}")
}

#[test]
fn loopback_urls_are_refused_unless_allowed() {
    let base = serve();
    let url = format!("{base}/report");
    let output = ctiforge(&["ioc", "extract", &url]);
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("loopback") && message.contains("--allow-private"),
        "{message}"
    );

    let output = ctiforge(&[
        "ioc",
        "extract",
        &url,
        "--allow-private",
        "--format",
        "jsonl",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let values: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["value"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    // The URL's host comes first, as a derived domain at the URL's offsets.
    assert_eq!(
        values,
        ["c2-relay.net", "http://c2-relay.net/gate", "45.77.12.9"]
    );
}

#[test]
fn redirects_are_followed_and_errors_explained() {
    let base = serve();
    let output = ctiforge(&[
        "ioc",
        "extract",
        &format!("{base}/moved"),
        "--allow-private",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("c2-relay.net"));

    let output = ctiforge(&[
        "ioc",
        "extract",
        &format!("{base}/missing"),
        "--allow-private",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("HTTP 404"));
}
