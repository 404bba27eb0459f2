//! The CSAF benchmark: CISA's advisories rendered to the text of their web page, analysed by
//! `ctiforge analyze` as any report, and scored against the advisories' structured fields.
//!
//! ```text
//! csaf-bench render DATA OUT    # OUT/text/<id>.md, one per advisory of DATA/advisories/cisa-csaf
//! ctiforge analyze OUT/text/*.md -o OUT/analyses --format json
//! csaf-bench score DATA OUT     # the table; OUT/scores.json
//! ```
//!
//! `bench/csaf.sh` runs all three. The advisories are split in two halves by a hash of their
//! id: `dev` is the half rules may be tuned on, `test` the half held out; the table shows both.
//! The scorer reads the Analysis of any ctiforge version (old exploitation names are mapped).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["render", data, out] => render(Path::new(data), Path::new(out)),
        ["score", data, out] => score(Path::new(data), Path::new(out)),
        _ => bail!("usage: csaf-bench render DATA OUT | csaf-bench score DATA OUT"),
    }
}

/// Every advisory file under DATA/advisories/cisa-csaf, sorted.
fn advisories(data: &Path) -> Result<Vec<PathBuf>> {
    let root = data.join("advisories/cisa-csaf");
    let mut files = Vec::new();
    for folder in ["medical", "ics-2024"] {
        let dir = root.join(folder);
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        bail!("no advisories under {}", root.display());
    }
    Ok(files)
}

fn id_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn render(data: &Path, out: &Path) -> Result<()> {
    let text_dir = out.join("text");
    std::fs::create_dir_all(&text_dir)?;
    let files = advisories(data)?;
    for path in &files {
        let bytes = std::fs::read(path)?;
        let markdown = ctiforge_text::csaf::to_markdown(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        std::fs::write(text_dir.join(format!("{}.md", id_of(path))), markdown)?;
    }
    eprintln!(
        "rendered {} advisories into {}",
        files.len(),
        text_dir.display()
    );
    Ok(())
}

/// What an advisory states, from its structured fields.
#[derive(Debug, Default)]
struct Gold {
    title: String,
    cves: BTreeSet<String>,
    vendors: BTreeSet<String>,
    products: BTreeSet<String>,
    versions: BTreeSet<String>,
    remediations: BTreeSet<String>,
    exploitation: &'static str,
    sectors: BTreeSet<String>,
    /// Recommended practices and mitigations/workarounds, one sentence each.
    advice: Vec<String>,
    /// Text that is not narrative: advice, fixes, legal notices, disclaimers, acknowledgements.
    not_narrative: String,
}

fn gold(advisory: &Value, kev: &BTreeSet<String>) -> Gold {
    let document = &advisory["document"];
    let mut gold = Gold {
        title: document["title"].as_str().unwrap_or("").trim().to_owned(),
        ..Gold::default()
    };
    walk(&advisory["product_tree"], &mut gold, 0);
    let mut statements = String::new();
    let mut poc_stated = false;
    for note in array(&document["notes"]) {
        let title = note["title"].as_str().unwrap_or("").to_ascii_lowercase();
        let text = note["text"].as_str().unwrap_or("");
        match title.as_str() {
            "critical infrastructure sectors" => {
                let lower = text.to_ascii_lowercase();
                // CISA's names → ctiforge's names: the same table the analysis reads a
                // labelled sector line with.
                for (cisa, ours) in ctiforge_entities::CISA_SECTORS {
                    if lower.contains(cisa) {
                        gold.sectors.insert((*ours).to_owned());
                    }
                }
            }
            "recommended practices"
            | "general recommendations"
            | "general security recommendations" => {
                gold.advice.extend(sentences(text));
                statements.push_str(text);
                statements.push(' ');
            }
            "exploitability" => statements.push_str(text),
            _ => {}
        }
        if matches!(
            title.as_str(),
            "recommended practices"
                | "general recommendations"
                | "general security recommendations"
                | "legal notice"
                | "legal disclaimer"
                | "terms of use"
                | "cisa disclaimer"
                | "advisory conversion disclaimer"
                | "additional resources"
                | "for more information"
        ) || note["category"] == "legal_disclaimer"
        {
            gold.not_narrative.push_str(text);
            gold.not_narrative.push('\n');
        }
    }
    for a in array(&document["acknowledgments"]) {
        let summary = a["summary"].as_str().unwrap_or("");
        gold.not_narrative.push_str(summary);
        gold.not_narrative.push('\n');
        // "CISA discovering a public proof of concept (PoC) as authored by ..." states that an
        // exploit is public.
        let lower = summary.to_ascii_lowercase();
        poc_stated |= lower.contains("proof of concept") || lower.contains("(poc)");
    }
    for v in array(&advisory["vulnerabilities"]) {
        if let Some(cve) = v["cve"].as_str() {
            gold.cves.insert(cve.to_ascii_uppercase());
        }
        for r in array(&v["remediations"]) {
            let category = r["category"].as_str().unwrap_or("");
            gold.remediations.insert(category.to_owned());
            let details = r["details"].as_str().unwrap_or("");
            if matches!(category, "mitigation" | "workaround") {
                gold.advice.extend(sentences(details));
            }
            gold.not_narrative.push_str(details);
            gold.not_narrative.push('\n');
        }
    }
    gold.advice.sort();
    gold.advice.dedup();
    // The statement is a sentence about exploits; other sentences say "publicly available"
    // of guidance, not of exploits.
    let statements: Vec<String> = statements
        .split(['.', '\n'])
        .map(str::to_ascii_lowercase)
        .filter(|s| s.contains("exploit"))
        .collect();
    let says = |words: &[&str]| {
        statements
            .iter()
            .any(|s| words.iter().any(|w| s.contains(w)))
    };
    gold.exploitation = if gold.cves.iter().any(|c| kev.contains(c))
        || says(&["actively exploited", "received reports of"])
    {
        "in_the_wild"
    } else if poc_stated || says(&["are publicly available", "is publicly available"]) {
        "poc_public"
    } else if says(&["no known public exploit"]) {
        "none_known"
    } else {
        "not_stated"
    };
    gold
}

fn walk(node: &Value, gold: &mut Gold, depth: usize) {
    if depth > 16 {
        return;
    }
    for branch in array(&node["branches"]) {
        let name = branch["name"].as_str().unwrap_or("").trim().to_owned();
        match branch["category"].as_str().unwrap_or("") {
            "vendor" => {
                gold.vendors.insert(name);
            }
            "product_name" | "product_family" => {
                gold.products.insert(name);
            }
            "product_version" | "product_version_range" => {
                gold.versions.extend(version_numbers(&name));
            }
            _ => {}
        }
        walk(branch, gold, depth + 1);
    }
}

/// The version numbers a version string holds (`<= 9.33` → `9.33`; `V2.1 SP1` → `2.1`).
fn version_numbers(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || (c == '.' && !current.is_empty()) {
            current.push(c);
        } else {
            let number = current.trim_end_matches('.');
            if number.contains('.') || number.len() >= 2 {
                found.push(number.to_owned());
            }
            current.clear();
        }
    }
    found
}

fn sentences(text: &str) -> Vec<String> {
    text.split(['\n'])
        .flat_map(|line| line.split(". "))
        .map(|s| s.trim().trim_end_matches('.').trim().to_owned())
        .filter(|s| s.split_whitespace().count() >= 4)
        .collect()
}

fn array(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

fn normalize(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether two names refer to the same thing: one contains the other, or they share most words.
fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (normalize(a), normalize(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a.contains(&b) || b.contains(&a) {
        return true;
    }
    let ta: BTreeSet<&str> = a.split(' ').collect();
    let tb: BTreeSet<&str> = b.split(' ').collect();
    let shared = ta.intersection(&tb).count() as f64;
    shared / (ta.union(&tb).count() as f64) >= 0.5
}

/// What one version of ctiforge found, read from its Analysis JSON.
#[derive(Debug, Default)]
struct Found {
    title: String,
    cves: BTreeSet<String>,
    vendors: Vec<String>,
    products: Vec<String>,
    versions: BTreeSet<String>,
    remediations: BTreeSet<String>,
    exploitation: String,
    sectors: BTreeSet<String>,
    recommendations: Vec<String>,
    /// Each technique's evidence sentences.
    techniques: Vec<(String, Vec<String>)>,
    iocs: usize,
}

fn found(analysis: &Value) -> Found {
    let mut found = Found {
        title: analysis["report"]["title"]
            .as_str()
            .unwrap_or("")
            .trim()
            .to_owned(),
        iocs: array(&analysis["iocs"]).len(),
        ..Found::default()
    };
    for v in array(&analysis["entities"]["vulnerabilities"]) {
        found
            .cves
            .insert(v["id"].as_str().unwrap_or("").to_ascii_uppercase());
    }
    let affected = array(&analysis["affected"]);
    if affected.is_empty() {
        for p in array(&analysis["entities"]["products"]) {
            found
                .products
                .push(p["name"].as_str().unwrap_or("").to_owned());
        }
    }
    for a in affected {
        if let Some(vendor) = a["vendor"].as_str() {
            found.vendors.push(vendor.to_owned());
        }
        found
            .products
            .push(a["product"].as_str().unwrap_or("").to_owned());
        for v in array(&a["versions"]) {
            found
                .versions
                .extend(version_numbers(v.as_str().unwrap_or("")));
        }
    }
    for s in array(&analysis["remediation"]["statuses"]) {
        let status = match s["status"].as_str().unwrap_or("") {
            "fix_available" => "vendor_fix",
            other => other,
        };
        found.remediations.insert(status.to_owned());
    }
    found.exploitation = match analysis["exploitation"]["status"].as_str().unwrap_or("") {
        "active" => "in_the_wild",
        "proof_of_concept" => "poc_public",
        "none" => "none_known",
        "unknown" => "not_stated",
        other => other,
    }
    .to_owned();
    let sectors = if analysis["entities"]["targeted_sectors"].is_array() {
        &analysis["entities"]["targeted_sectors"]
    } else {
        &analysis["entities"]["sectors"]
    };
    for s in array(sectors) {
        found
            .sectors
            .insert(s["name"].as_str().unwrap_or("").to_owned());
    }
    for r in array(&analysis["recommendations"]) {
        found
            .recommendations
            .push(r["text"].as_str().unwrap_or("").to_owned());
    }
    for t in array(&analysis["techniques"]) {
        let evidence = array(&t["evidence"])
            .iter()
            .map(|e| e["text"].as_str().unwrap_or("").to_owned())
            .collect();
        found
            .techniques
            .push((t["id"].as_str().unwrap_or("").to_owned(), evidence));
    }
    found
}

/// Counts toward one figure: hits out of a total.
#[derive(Debug, Default, Clone, Copy)]
struct Ratio {
    hit: usize,
    of: usize,
}

impl Ratio {
    fn add(&mut self, hit: usize, of: usize) {
        self.hit += hit;
        self.of += of;
    }

    fn value(self) -> Option<f64> {
        (self.of > 0).then(|| self.hit as f64 / self.of as f64)
    }

    fn show(self) -> String {
        match self.value() {
            Some(v) => format!("{:.3} ({}/{})", v, self.hit, self.of),
            None => "–".to_owned(),
        }
    }
}

/// All figures of one split.
#[derive(Debug, Default)]
struct Scores {
    advisories: usize,
    title: Ratio,
    cve_recall: Ratio,
    cve_precision: Ratio,
    vendor_recall: Ratio,
    product_recall: Ratio,
    product_precision: Ratio,
    version_recall: Ratio,
    remediation: BTreeMap<String, (Ratio, Ratio)>,
    exploitation: Ratio,
    confusion: BTreeMap<(String, String), usize>,
    sector_recall: Ratio,
    sector_precision: Ratio,
    advice_recall: Ratio,
    advice_precision: Ratio,
    techniques: usize,
    techniques_from_advice: usize,
    iocs: usize,
    advisories_with_iocs: usize,
}

fn add(scores: &mut Scores, gold: &Gold, found: &Found) {
    scores.advisories += 1;
    scores.title.add(
        usize::from(normalize(&found.title) == normalize(&gold.title)),
        1,
    );
    scores
        .cve_recall
        .add(gold.cves.intersection(&found.cves).count(), gold.cves.len());
    scores.cve_precision.add(
        found.cves.intersection(&gold.cves).count(),
        found.cves.len(),
    );
    let matched = |golds: &BTreeSet<String>, found: &[String]| {
        golds
            .iter()
            .filter(|g| found.iter().any(|f| same_name(g, f)))
            .count()
    };
    scores
        .vendor_recall
        .add(matched(&gold.vendors, &found.vendors), gold.vendors.len());
    scores.product_recall.add(
        matched(&gold.products, &found.products),
        gold.products.len(),
    );
    let right = found
        .products
        .iter()
        .filter(|f| {
            gold.products
                .iter()
                .chain(&gold.vendors)
                .any(|g| same_name(g, f))
        })
        .count();
    scores.product_precision.add(right, found.products.len());
    scores.version_recall.add(
        gold.versions.intersection(&found.versions).count(),
        gold.versions.len(),
    );
    for category in [
        "vendor_fix",
        "mitigation",
        "workaround",
        "none_available",
        "no_fix_planned",
    ] {
        let (recall, precision) = scores.remediation.entry(category.to_owned()).or_default();
        let (g, f) = (
            gold.remediations.contains(category),
            found.remediations.contains(category),
        );
        recall.add(usize::from(g && f), usize::from(g));
        precision.add(usize::from(g && f), usize::from(f));
    }
    scores
        .exploitation
        .add(usize::from(found.exploitation == gold.exploitation), 1);
    *scores
        .confusion
        .entry((gold.exploitation.to_owned(), found.exploitation.clone()))
        .or_default() += 1;
    scores.sector_recall.add(
        gold.sectors.intersection(&found.sectors).count(),
        gold.sectors.len(),
    );
    scores.sector_precision.add(
        found.sectors.intersection(&gold.sectors).count(),
        found.sectors.len(),
    );
    let captured = |sentence: &str, pool: &[String]| {
        let s = normalize(sentence);
        pool.iter().any(|p| {
            let p = normalize(p);
            !p.is_empty() && (p.contains(&s) || (s.contains(&p) && p.len() * 2 >= s.len()))
        })
    };
    scores.advice_recall.add(
        gold.advice
            .iter()
            .filter(|a| captured(a, &found.recommendations))
            .count(),
        gold.advice.len(),
    );
    let not_narrative = normalize(&gold.not_narrative);
    scores.advice_precision.add(
        found
            .recommendations
            .iter()
            .filter(|r| {
                let r = normalize(r);
                not_narrative.contains(&r) || captured(&r, &gold.advice)
            })
            .count(),
        found.recommendations.len(),
    );
    scores.techniques += found.techniques.len();
    scores.techniques_from_advice += found
        .techniques
        .iter()
        .filter(|(_, evidence)| {
            !evidence.is_empty()
                && evidence.iter().all(|e| {
                    let e = normalize(e);
                    !e.is_empty() && not_narrative.contains(&e)
                })
        })
        .count();
    scores.iocs += found.iocs;
    scores.advisories_with_iocs += usize::from(found.iocs > 0);
}

fn split_of(id: &str) -> &'static str {
    // FNV-1a: stable across runs and machines.
    let hash = id.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    if hash % 2 == 0 { "dev" } else { "test" }
}

fn kev(data: &Path) -> Result<BTreeSet<String>> {
    let path = data.join("kev/known_exploited_vulnerabilities.json");
    let kev: Value =
        serde_json::from_slice(&std::fs::read(&path).with_context(|| path.display().to_string())?)?;
    Ok(array(&kev["vulnerabilities"])
        .iter()
        .filter_map(|v| v["cveID"].as_str().map(str::to_ascii_uppercase))
        .collect())
}

fn score(data: &Path, out: &Path) -> Result<()> {
    let kev = kev(data)?;
    let mut splits: BTreeMap<&str, Scores> = BTreeMap::new();
    let mut missing = Vec::new();
    // `analyze` numbers the folder of each input: `001-icsa-24-004-01`.
    let mut folders: BTreeMap<String, PathBuf> = BTreeMap::new();
    for entry in std::fs::read_dir(out.join("analyses"))? {
        let path = entry?.path();
        let name = id_of(&path);
        let id = name
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start_matches('-');
        folders.insert(id.to_owned(), path);
    }
    for path in advisories(data)? {
        let id = id_of(&path);
        let advisory: Value = serde_json::from_slice(&std::fs::read(&path)?)?;
        let analysis_path = folders
            .get(&id)
            .map(|f| f.join("analysis.json"))
            .unwrap_or_default();
        let Ok(bytes) = std::fs::read(&analysis_path) else {
            missing.push(id);
            continue;
        };
        let analysis: Value =
            serde_json::from_slice(&bytes).with_context(|| analysis_path.display().to_string())?;
        let (gold, found) = (gold(&advisory, &kev), found(&analysis));
        add(splits.entry(split_of(&id)).or_default(), &gold, &found);
        add(splits.entry("all").or_default(), &gold, &found);
    }
    if !missing.is_empty() {
        bail!(
            "{} advisories have no analysis (e.g. {})",
            missing.len(),
            missing[0]
        );
    }
    print_table(&splits);
    let json: BTreeMap<&str, Value> = splits.iter().map(|(k, s)| (*k, to_json(s))).collect();
    std::fs::write(
        out.join("scores.json"),
        serde_json::to_string_pretty(&json)?,
    )?;
    Ok(())
}

fn rows(s: &Scores) -> Vec<(String, String)> {
    let mut rows = vec![
        ("advisories".to_owned(), s.advisories.to_string()),
        ("title exact".to_owned(), s.title.show()),
        ("CVE recall".to_owned(), s.cve_recall.show()),
        ("CVE precision".to_owned(), s.cve_precision.show()),
        ("vendor recall".to_owned(), s.vendor_recall.show()),
        ("product recall".to_owned(), s.product_recall.show()),
        ("product precision".to_owned(), s.product_precision.show()),
        ("version recall".to_owned(), s.version_recall.show()),
    ];
    for (category, (recall, precision)) in &s.remediation {
        rows.push((format!("remediation {category} recall"), recall.show()));
        rows.push((
            format!("remediation {category} precision"),
            precision.show(),
        ));
    }
    rows.extend([
        ("exploitation accuracy".to_owned(), s.exploitation.show()),
        ("sector recall".to_owned(), s.sector_recall.show()),
        ("sector precision".to_owned(), s.sector_precision.show()),
        ("recommendations recall".to_owned(), s.advice_recall.show()),
        (
            "recommendations precision".to_owned(),
            s.advice_precision.show(),
        ),
        ("techniques".to_owned(), s.techniques.to_string()),
        (
            "techniques drawn only from advice or boilerplate".to_owned(),
            s.techniques_from_advice.to_string(),
        ),
        (
            "indicators (an advisory has none: each is a reference)".to_owned(),
            s.iocs.to_string(),
        ),
        (
            "advisories with an indicator".to_owned(),
            s.advisories_with_iocs.to_string(),
        ),
    ]);
    rows
}

fn print_table(splits: &BTreeMap<&str, Scores>) {
    let names: Vec<&str> = ["dev", "test", "all"]
        .into_iter()
        .filter(|n| splits.contains_key(n))
        .collect();
    println!("| figure | {} |", names.join(" | "));
    println!("|---|{}", "---|".repeat(names.len()));
    let columns: Vec<Vec<(String, String)>> = names.iter().map(|n| rows(&splits[n])).collect();
    for (i, (label, _)) in columns[0].iter().enumerate() {
        let values: Vec<&str> = columns.iter().map(|c| c[i].1.as_str()).collect();
        println!("| {label} | {} |", values.join(" | "));
    }
    if let Some(all) = splits.get("all") {
        println!("\nExploitation status, stated (rows) against found (columns), all advisories:\n");
        let labels = ["in_the_wild", "poc_public", "none_known", "not_stated"];
        println!("| stated \\ found | {} | other |", labels.join(" | "));
        println!("|---|{}---|", "---|".repeat(labels.len()));
        for stated in labels {
            let counts: Vec<String> = labels
                .iter()
                .map(|f| {
                    all.confusion
                        .get(&(stated.to_owned(), (*f).to_owned()))
                        .copied()
                        .unwrap_or(0)
                        .to_string()
                })
                .collect();
            let other: usize = all
                .confusion
                .iter()
                .filter(|((s, f), _)| s == stated && !labels.contains(&f.as_str()))
                .map(|(_, n)| n)
                .sum();
            println!("| {stated} | {} | {other} |", counts.join(" | "));
        }
    }
}

fn to_json(s: &Scores) -> Value {
    let rows: BTreeMap<String, Value> = rows(s).into_iter().map(|(k, v)| (k, json!(v))).collect();
    json!(rows)
}
