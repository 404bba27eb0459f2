//! CSAF 2.0 advisories (OASIS Common Security Advisory Framework, JSON) → Markdown laid out as
//! CISA publishes its advisories on the web: summary, risk evaluation, affected products with
//! their versions, each vulnerability, background (sectors, countries, headquarters),
//! researchers, mitigations (the remediations, then the recommended practices and the
//! exploitability statement), update history, legal notice. The rest of the pipeline reads that
//! Markdown like any other report, so a CSAF file and the advisory's web page give the same
//! analysis.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::Value;

/// Whether `bytes` look like a CSAF document (JSON naming a `csaf_version`).
pub fn looks_like(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
    start.is_some_and(|i| bytes[i] == b'{')
        && memchr::memmem::find(&bytes[..bytes.len().min(16 * 1024)], b"\"csaf_version\"").is_some()
}

/// The advisory as Markdown, or why it cannot be read.
pub fn to_markdown(bytes: &[u8]) -> Result<String, String> {
    let advisory: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("the CSAF advisory is not valid JSON ({e})"))?;
    let document = advisory
        .get("document")
        .filter(|d| d.is_object())
        .ok_or("the JSON has no `document` object, so it is not a CSAF advisory")?;
    let mut out = String::new();
    let title = text(document, "title").unwrap_or("Untitled advisory");
    let _ = writeln!(out, "# {}\n", title.trim());
    header_line(&mut out, document);

    let notes = notes(document);
    let vulnerabilities = list(&advisory, "vulnerabilities");
    let products = products(advisory.get("product_tree"));

    section(&mut out, "1. EXECUTIVE SUMMARY");
    for note in notes
        .iter()
        .filter(|n| n.title_is(&["summary", "overview"]))
    {
        paragraph(&mut out, &note.text);
    }
    executive_summary(&mut out, &products, vulnerabilities);

    let risks: Vec<&Note> = notes
        .iter()
        .filter(|n| n.title_is(&["risk evaluation"]))
        .collect();
    if !risks.is_empty() {
        section(&mut out, "2. RISK EVALUATION");
        for note in risks {
            paragraph(&mut out, &note.text);
        }
    }

    section(&mut out, "3. TECHNICAL DETAILS");
    affected_products(&mut out, &products);
    vulnerability_overview(&mut out, vulnerabilities);
    background(&mut out, &notes);
    researchers(&mut out, document);

    section(&mut out, "4. MITIGATIONS");
    mitigations(&mut out, vulnerabilities, &notes);

    for note in notes.iter().filter(|n| !n.is_placed()) {
        subsection(&mut out, note.title.as_deref().unwrap_or("Note"));
        paragraph(&mut out, &note.text);
    }
    update_history(&mut out, document);
    for note in notes
        .iter()
        .filter(|n| n.category == "legal_disclaimer" || n.title_is(&["terms of use"]))
    {
        section(&mut out, note.title.as_deref().unwrap_or("Legal Notice"));
        paragraph(&mut out, &note.text);
    }
    Ok(out)
}

/// One `document.notes` entry.
struct Note {
    category: String,
    title: Option<String>,
    text: String,
}

impl Note {
    fn title_is(&self, titles: &[&str]) -> bool {
        let title = self
            .title
            .as_deref()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        titles.contains(&title.as_str())
    }

    /// Whether a fixed part of the layout shows this note.
    fn is_placed(&self) -> bool {
        self.category == "legal_disclaimer"
            || self.title_is(&[
                "summary",
                "overview",
                "risk evaluation",
                "critical infrastructure sectors",
                "countries/areas deployed",
                "company headquarters location",
                "recommended practices",
                "general recommendations",
                "general security recommendations",
                "exploitability",
                "terms of use",
            ])
    }
}

fn notes(document: &Value) -> Vec<Note> {
    list(document, "notes")
        .iter()
        .filter_map(|n| {
            Some(Note {
                category: text(n, "category").unwrap_or("").to_owned(),
                title: text(n, "title").map(str::to_owned),
                text: text(n, "text")?.to_owned(),
            })
        })
        .collect()
}

/// One product of the product tree: its vendor, product name, version and full name.
#[derive(Debug, Clone, Default)]
struct Product {
    id: String,
    vendor: Option<String>,
    name: Option<String>,
    version: Option<String>,
    full_name: String,
}

fn products(tree: Option<&Value>) -> Vec<Product> {
    let mut found = Vec::new();
    if let Some(tree) = tree {
        walk_branches(tree, &Product::default(), &mut found, 0);
        for p in list(tree, "full_product_names") {
            if let (Some(id), Some(name)) = (text(p, "product_id"), text(p, "name"))
                && !found.iter().any(|f: &Product| f.id == id)
            {
                found.push(Product {
                    id: id.to_owned(),
                    full_name: name.to_owned(),
                    ..Product::default()
                });
            }
        }
    }
    found
}

/// Product trees nest vendor → product name → version; deeper than 16 levels is not a CSAF
/// tree anyone writes, and stopping there bounds the work on a hostile one.
fn walk_branches(node: &Value, context: &Product, found: &mut Vec<Product>, depth: usize) {
    if depth > 16 {
        return;
    }
    for branch in list(node, "branches") {
        let mut here = context.clone();
        let name = text(branch, "name").map(str::to_owned);
        match text(branch, "category").unwrap_or("") {
            "vendor" => here.vendor = name,
            "product_name" | "product_family" => here.name = name,
            "product_version" | "product_version_range" => here.version = name,
            _ => {}
        }
        if let Some(product) = branch.get("product")
            && let (Some(id), Some(full)) = (text(product, "product_id"), text(product, "name"))
        {
            found.push(Product {
                id: id.to_owned(),
                full_name: full.to_owned(),
                ..here.clone()
            });
        }
        walk_branches(branch, &here, found, depth + 1);
    }
}

fn executive_summary(out: &mut String, products: &[Product], vulnerabilities: &[Value]) {
    let best = vulnerabilities
        .iter()
        .flat_map(|v| list(v, "scores"))
        .filter_map(|s| s.get("cvss_v3")?.get("baseScore")?.as_f64())
        .fold(None, |best: Option<f64>, s| {
            Some(best.map_or(s, |b| b.max(s)))
        });
    if let Some(score) = best {
        let _ = writeln!(out, "- CVSS v3 {score:.1}");
    }
    let vendors: BTreeSet<&str> = products
        .iter()
        .filter_map(|p| p.vendor.as_deref())
        .collect();
    if !vendors.is_empty() {
        let _ = writeln!(out, "- Vendor: {}", join(vendors));
    }
    let names: BTreeSet<&str> = products.iter().filter_map(|p| p.name.as_deref()).collect();
    if !names.is_empty() {
        let _ = writeln!(out, "- Equipment: {}", join(names));
    }
    let weaknesses: BTreeSet<&str> = vulnerabilities
        .iter()
        .filter_map(|v| text(v.get("cwe")?, "name"))
        .collect();
    if !weaknesses.is_empty() {
        let _ = writeln!(out, "- Vulnerabilities: {}", join(weaknesses));
    }
    out.push('\n');
}

fn affected_products(out: &mut String, products: &[Product]) {
    if products.is_empty() {
        return;
    }
    subsection(out, "3.1 AFFECTED PRODUCTS");
    let vendors: BTreeSet<&str> = products
        .iter()
        .filter_map(|p| p.vendor.as_deref())
        .collect();
    let _ = writeln!(
        out,
        "The following {} products are affected:\n",
        if vendors.is_empty() {
            "listed".to_owned()
        } else {
            join(vendors)
        }
    );
    let mut seen = BTreeSet::new();
    for product in products {
        if seen.insert(product.full_name.as_str()) {
            let _ = writeln!(out, "- {}", product.full_name.trim());
        }
    }
    out.push('\n');
}

fn vulnerability_overview(out: &mut String, vulnerabilities: &[Value]) {
    if vulnerabilities.is_empty() {
        return;
    }
    subsection(out, "3.2 VULNERABILITY OVERVIEW");
    for (n, v) in vulnerabilities.iter().enumerate() {
        let cwe = v.get("cwe");
        let heading = match (
            cwe.and_then(|c| text(c, "name")),
            cwe.and_then(|c| text(c, "id")),
        ) {
            (Some(name), Some(id)) => format!("3.2.{} {} {}", n + 1, name.to_uppercase(), id),
            _ => format!(
                "3.2.{} {}",
                n + 1,
                text(v, "title").unwrap_or("VULNERABILITY")
            ),
        };
        let _ = writeln!(out, "#### {heading}\n");
        for note in list(v, "notes") {
            if let Some(t) = text(note, "text") {
                paragraph(out, t);
            }
        }
        if let Some(cve) = text(v, "cve")
            && !list(v, "notes")
                .iter()
                .any(|n| text(n, "text").is_some_and(|t| t.contains(cve)))
        {
            let _ = writeln!(out, "{cve} has been assigned to this vulnerability.\n");
        }
    }
}

fn background(out: &mut String, notes: &[Note]) {
    let rows: Vec<&Note> = notes
        .iter()
        .filter(|n| {
            n.title_is(&[
                "critical infrastructure sectors",
                "countries/areas deployed",
                "company headquarters location",
            ])
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    subsection(out, "3.3 BACKGROUND");
    for note in rows {
        let title = note.title.as_deref().unwrap_or("").to_uppercase();
        let _ = writeln!(out, "- {title}: {}", note.text.trim());
    }
    out.push('\n');
}

fn researchers(out: &mut String, document: &Value) {
    let lines: Vec<String> = list(document, "acknowledgments")
        .iter()
        .map(|a| {
            let names: Vec<&str> = list(a, "names").iter().filter_map(Value::as_str).collect();
            let who = match (names.is_empty(), text(a, "organization")) {
                (false, Some(org)) => format!("{} of {org}", names.join(", ")),
                (false, None) => names.join(", "),
                (true, Some(org)) => org.to_owned(),
                (true, None) => "A researcher".to_owned(),
            };
            format!(
                "{who} {}.",
                text(a, "summary")
                    .unwrap_or("reported this")
                    .trim_end_matches('.')
            )
        })
        .collect();
    if !lines.is_empty() {
        subsection(out, "3.4 RESEARCHER");
        for line in lines {
            paragraph(out, &line);
        }
    }
}

fn mitigations(out: &mut String, vulnerabilities: &[Value], notes: &[Note]) {
    let mut seen = BTreeSet::new();
    for remediation in vulnerabilities.iter().flat_map(|v| list(v, "remediations")) {
        let Some(details) = text(remediation, "details") else {
            continue;
        };
        let line = match text(remediation, "url") {
            Some(url) if !details.contains(url) => format!("{} {url}", details.trim()),
            _ => details.trim().to_owned(),
        };
        if seen.insert(line.clone()) {
            paragraph(out, &line);
        }
    }
    for note in notes.iter().filter(|n| {
        n.title_is(&[
            "recommended practices",
            "general recommendations",
            "general security recommendations",
            "exploitability",
        ])
    }) {
        if seen.insert(note.text.trim().to_owned()) {
            paragraph(out, &note.text);
        }
    }
}

fn update_history(out: &mut String, document: &Value) {
    let Some(tracking) = document.get("tracking") else {
        return;
    };
    let revisions = list(tracking, "revision_history");
    if revisions.is_empty() {
        return;
    }
    section(out, "5. UPDATE HISTORY");
    for r in revisions {
        let date = text(r, "date").unwrap_or("").get(..10).unwrap_or("");
        let _ = writeln!(out, "- {date}: {}", text(r, "summary").unwrap_or("").trim());
    }
    out.push('\n');
}

/// `ID · Initial release DATE · PUBLISHER`, under the title.
fn header_line(out: &mut String, document: &Value) {
    let tracking = document.get("tracking");
    let mut parts = Vec::new();
    if let Some(id) = tracking.and_then(|t| text(t, "id")) {
        parts.push(id.to_owned());
    }
    if let Some(date) = tracking.and_then(|t| text(t, "initial_release_date")) {
        parts.push(format!("Release date: {}", date.get(..10).unwrap_or(date)));
    }
    if let Some(name) = document.get("publisher").and_then(|p| text(p, "name")) {
        parts.push(format!("Publisher: {name}"));
    }
    if !parts.is_empty() {
        let _ = writeln!(out, "{}\n", parts.join(" · "));
    }
}

fn section(out: &mut String, title: &str) {
    let _ = writeln!(out, "## {}\n", title.trim());
}

fn subsection(out: &mut String, title: &str) {
    let _ = writeln!(out, "### {}\n", title.trim());
}

/// A note's text as Markdown paragraphs (its line breaks separate paragraphs).
fn paragraph(out: &mut String, text: &str) {
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        out.push_str(&escape(line));
        out.push_str("\n\n");
    }
}

/// Advisory text is prose, not Markdown: characters that would start markup are escaped.
fn escape(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for (i, c) in line.chars().enumerate() {
        if matches!(c, '*' | '_' | '`' | '<' | '[' | ']' | '\\' | '|')
            || (i == 0 && matches!(c, '#' | '>' | '-' | '+'))
        {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key)?.as_str().filter(|s| !s.trim().is_empty())
}

fn list<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn join(items: BTreeSet<&str>) -> String {
    items.into_iter().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADVISORY: &str = r#"{
      "document": {
        "csaf_version": "2.0",
        "category": "csaf_security_advisory",
        "title": "Example Infusion Pump",
        "publisher": {"name": "CISA", "category": "coordinator", "namespace": "https://www.cisa.gov/"},
        "tracking": {"id": "ICSMA-99-001-01", "initial_release_date": "2024-02-01T00:00:00Z",
          "revision_history": [{"date": "2024-02-01T00:00:00Z", "number": "1", "summary": "Initial Publication"}]},
        "notes": [
          {"category": "summary", "title": "Risk evaluation", "text": "Successful exploitation could allow an attacker to change doses."},
          {"category": "other", "title": "Critical infrastructure sectors", "text": "Healthcare and Public Health"},
          {"category": "general", "title": "Recommended Practices", "text": "Minimize network exposure for all medical devices.\nLocate devices behind firewalls."},
          {"category": "legal_disclaimer", "title": "Legal Notice", "text": "Provided as is."}
        ]
      },
      "product_tree": {"branches": [{"category": "vendor", "name": "Acme Medical", "branches": [
        {"category": "product_name", "name": "Pump 9", "branches": [
          {"category": "product_version_range", "name": "<= 2.1", "product": {"name": "Pump 9: Versions 2.1 and prior", "product_id": "CSAFPID-0001"}}]}]}]},
      "vulnerabilities": [{"cve": "CVE-2024-0001", "cwe": {"id": "CWE-306", "name": "Missing Authentication for Critical Function"},
        "notes": [{"category": "summary", "text": "The pump does not authenticate *dose* commands."}],
        "remediations": [{"category": "vendor_fix", "details": "Acme released version 2.2.", "url": "https://acme.example/psirt"}]}]
    }"#;

    #[test]
    fn an_advisory_reads_like_its_web_page() {
        assert!(looks_like(ADVISORY.as_bytes()));
        assert!(!looks_like(b"{\"a\": 1}"));
        let markdown = to_markdown(ADVISORY.as_bytes()).expect("renders");
        for expected in [
            "# Example Infusion Pump",
            "ICSMA-99-001-01 · Release date: 2024-02-01 · Publisher: CISA",
            "- Vendor: Acme Medical",
            "## 2. RISK EVALUATION\n\nSuccessful exploitation could allow an attacker to change doses.",
            "- Pump 9: Versions 2.1 and prior",
            "#### 3.2.1 MISSING AUTHENTICATION FOR CRITICAL FUNCTION CWE-306",
            "The pump does not authenticate \\*dose\\* commands.",
            "CVE-2024-0001 has been assigned to this vulnerability.",
            "- CRITICAL INFRASTRUCTURE SECTORS: Healthcare and Public Health",
            "## 4. MITIGATIONS\n\nAcme released version 2.2. https://acme.example/psirt",
            "Minimize network exposure for all medical devices.\n\nLocate devices behind firewalls.",
            "- 2024-02-01: Initial Publication",
            "## Legal Notice\n\nProvided as is.",
        ] {
            assert!(
                markdown.contains(expected),
                "missing {expected:?} in\n{markdown}"
            );
        }
    }

    #[test]
    fn json_that_is_not_an_advisory_is_refused_with_the_reason() {
        let err = to_markdown(b"{\"csaf_version\": \"2.0\"}").expect_err("no document");
        assert!(err.contains("no `document` object"), "{err}");
        let err = to_markdown(b"{\"document\": ").expect_err("truncated");
        assert!(err.contains("not valid JSON"), "{err}");
    }

    #[test]
    fn a_hostile_product_tree_is_walked_to_a_bounded_depth() {
        let mut tree = String::from("{\"name\": \"v\", \"category\": \"vendor\"}");
        // 40 levels: deep enough to pass the walk's bound, within serde_json's nesting limit.
        for _ in 0..40 {
            tree = format!("{{\"category\": \"vendor\", \"name\": \"x\", \"branches\": [{tree}]}}");
        }
        let json = format!(
            "{{\"document\": {{\"csaf_version\": \"2.0\", \"title\": \"t\"}}, \"product_tree\": {{\"branches\": [{tree}]}}}}"
        );
        assert!(to_markdown(json.as_bytes()).is_ok());
    }
}
