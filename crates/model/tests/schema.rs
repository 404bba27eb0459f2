//! The committed JSON Schema of the Analysis document matches the types. Regenerate with
//! `CTIFORGE_UPDATE_SCHEMA=1 cargo test -p ctiforge-model --test schema`.

use std::path::Path;

#[test]
fn the_committed_schema_matches_the_analysis_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema/analysis.schema.json");
    let mut generated =
        serde_json::to_string_pretty(&ctiforge_model::analysis::json_schema()).expect("JSON");
    generated.push('\n');
    if std::env::var_os("CTIFORGE_UPDATE_SCHEMA").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, &generated).expect("write schema");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/schema/analysis.schema.json is stale: run CTIFORGE_UPDATE_SCHEMA=1 cargo test -p ctiforge-model --test schema"
    );
    let schema: serde_json::Value = serde_json::from_str(&committed).expect("JSON");
    let properties = schema["properties"].as_object().expect("properties");
    for field in [
        "schema",
        "report",
        "techniques",
        "iocs",
        "entities",
        "risk",
        "mitigations",
        "hunting_leads",
        "response",
    ] {
        assert!(
            properties.contains_key(field),
            "{field} missing from the schema"
        );
    }
}
