//! rsigma-parser/eval 0.15.0 on the SigmaHQ rules and regression data: how many rule files
//! parse and compile, how long that takes, and whether each regression test's events (EVTX
//! exported as JSON; EventData flattened, EventID/Channel/Provider_Name from System) match
//! their rule. Usage: probe [SIGMA_DIR] (default ../../../shared/data/sigma).
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

fn flatten(event: &serde_json::Value) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    let e = &event["Event"];
    if let Some(data) = e["EventData"].as_object() {
        for (k, v) in data {
            if k != "#attributes" {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    let s = &e["System"];
    out.insert("EventID".into(), s["EventID"].clone());
    out.insert("Channel".into(), s["Channel"].clone());
    out.insert("Provider_Name".into(), s["Provider"]["#attributes"]["Name"].clone());
    serde_json::Value::Object(out)
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "../../../shared/data/sigma".into());
    let root = Path::new(&arg);
    let mut files = 0;
    let mut failed_files = 0;
    let mut rules = HashMap::new();
    let mut correlations = 0;
    let mut filters = 0;
    let mut doc_errors = 0;
    let mut examples = Vec::new();
    let started = Instant::now();
    for dir in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        for entry in walkdir::WalkDir::new(root.join(dir)).into_iter().filter_map(Result::ok) {
            let p = entry.path();
            if p.extension().and_then(|e| e.to_str()) != Some("yml") { continue; }
            files += 1;
            match rsigma_parser::parse_sigma_file(p) {
                Ok(c) => {
                    doc_errors += c.errors.len();
                    if !c.errors.is_empty() { failed_files += 1; if examples.len() < 8 { examples.push(format!("{}: {:?}", p.display(), c.errors)); } }
                    correlations += c.correlations.len();
                    filters += c.filters.len();
                    for r in c.rules { if let Some(id) = r.id.clone() { rules.insert(id, r); } }
                }
                Err(e) => { failed_files += 1; if examples.len() < 8 { examples.push(format!("{}: {e}", p.display())); } }
            }
        }
    }
    let parse_time = started.elapsed();
    println!("files {files}, failed files {failed_files}, document errors {doc_errors}, rules {}, correlations {correlations}, filters {filters}, parse {:?}", rules.len(), parse_time);
    for e in &examples { println!("  {e}"); }
    let mut compile_errors = 0;
    let started = Instant::now();
    let mut compiled = HashMap::new();
    for (id, r) in &rules {
        match rsigma_eval::compile_rule(r) { Ok(c) => { compiled.insert(id.clone(), c); } Err(e) => { compile_errors += 1; if compile_errors <= 5 { println!("  compile {id}: {e}"); } } }
    }
    println!("compiled {} rules in {:?}, {compile_errors} errors", compiled.len(), started.elapsed());
    // Regression data: each positive test's events must match their rule.
    let (mut tests, mut matched, mut missing) = (0, 0, 0);
    let mut misses = Vec::new();
    for entry in walkdir::WalkDir::new(root.join("regression_data")).into_iter().filter_map(Result::ok) {
        let p = entry.path();
        if p.file_name().and_then(|n| n.to_str()) != Some("info.yml") { continue; }
        let info = std::fs::read_to_string(p).unwrap_or_default();
        let Some(id) = info.lines().skip_while(|l| !l.contains("rule_metadata")).find_map(|l| l.trim().strip_prefix("- id: ")) else { continue };
        let json = p.with_file_name(format!("{id}.json"));
        let Ok(text) = std::fs::read_to_string(&json) else { continue };
        tests += 1;
        let Some(rule) = compiled.get(id) else { missing += 1; continue };
        let events: Vec<serde_json::Value> = match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Array(a)) => a,
            Ok(v) => vec![v],
            Err(_) => serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>().filter_map(Result::ok).collect(),
        };
        let hit = events.iter().any(|e| {
            let flat = flatten(e);
            rsigma_eval::evaluate_rule(rule, &rsigma_eval::JsonEvent::borrow(&flat)).is_some()
        });
        if hit { matched += 1 } else if misses.len() < 10 { misses.push(format!("{id} ({} events)", events.len())); }
    }
    println!("regression tests {tests}: matched {matched}, rule missing {missing}, not matched {}", tests - matched - missing);
    for m in &misses { println!("  miss {m}"); }
}
