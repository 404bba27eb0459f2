//! How rsigma reports broken rules: an unbalanced condition, an unknown modifier, an undefined
//! selection, broken YAML.
fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let head = "title: t\nlogsource:\n  product: windows\ndetection:\n  sel:\n";
    let cases = [
        ("unbalanced", format!("{head}    Image|endswith: x.exe\n  condition: sel and (\n")),
        ("badmod", format!("{head}    Image|nosuchmod: x.exe\n  condition: sel\n")),
        ("undef", format!("{head}    Image: x\n  condition: other\n")),
        ("yaml", "title: [unclosed\n".to_owned()),
    ];
    for (f, text) in &cases {
        std::fs::write(dir.path().join(format!("{f}.yml")), text).expect("write");
    }
    for (f, _) in cases {
        let p = dir.path().join(format!("{f}.yml")).display().to_string();
        match rsigma_parser::parse_sigma_file(std::path::Path::new(&p)) {
            Ok(c) => {
                let compiled: Vec<String> = c.rules.iter().map(|r| match rsigma_eval::compile_rule(r) { Ok(_) => "compiled".into(), Err(e) => format!("compile error: {e}") }).collect();
                println!("{f}: parsed, errors {:?}, {:?}", c.errors, compiled);
            }
            Err(e) => println!("{f}: error: {e}"),
        }
        let lint = rsigma_parser::lint_yaml_file(std::path::Path::new(&p));
        match lint { Ok(w) => println!("   lint: {}", format!("{w:?}").chars().take(500).collect::<String>()), Err(e) => println!("   lint error {e}") }
    }
}
