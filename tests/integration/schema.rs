//! The committed JSON Schemas are what the code generates, and every shipped flow validates
//! against them (so editors that autocomplete from the schema agree with the loader).

use std::path::Path;

use frontdesk_engine::{FlowDef, GlobalsDef};

fn generated<T: schemars::JsonSchema>() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap()
}

fn committed(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn committed_schemas_are_current() {
    assert_eq!(
        committed("flow.schema.json"),
        generated::<FlowDef>(),
        "schema/flow.schema.json is stale: run `frontdesk flows schema`"
    );
    assert_eq!(
        committed("global.schema.json"),
        generated::<GlobalsDef>(),
        "schema/global.schema.json is stale: run `frontdesk flows schema`"
    );
}

#[test]
fn every_flow_validates_against_the_schema_and_names_it() {
    let flows = Path::new(env!("CARGO_MANIFEST_DIR")).join("flows");
    let flow_schema = jsonschema::validator_for(&committed("flow.schema.json")).unwrap();
    let global_schema = jsonschema::validator_for(&committed("global.schema.json")).unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(flows).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let is_global = path.file_stem().is_some_and(|s| s == "global");
        let wanted = if is_global {
            "global.schema.json"
        } else {
            "flow.schema.json"
        };
        assert!(
            text.lines().next().is_some_and(|l| l
                .starts_with("# yaml-language-server: $schema=../schema/")
                && l.ends_with(wanted)),
            "{} lacks the yaml-language-server modeline for {wanted}",
            path.display()
        );
        let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let validator = if is_global {
            &global_schema
        } else {
            &flow_schema
        };
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        checked += 1;
    }
    assert!(checked >= 7);
    // And the schema rejects what the loader rejects.
    let bad = serde_json::json!({"flow": "x", "description": "d", "initial": "a",
        "states": {"a": {"sya": "hello", "end": "booked"}}});
    assert!(!flow_schema.is_valid(&bad));
}
