//! The deployment examples in `deploy/` cannot run here; this keeps them in step with the
//! settings: every `VITRINE_*` variable they set is a configuration key, and the values they
//! give (the compose file's with `.env.example` filled in) make a configuration that starts.

use std::collections::BTreeMap;

fn deploy_file(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../deploy/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|error| panic!("deploy/{name}: {error}"))
}

/// The `VITRINE_X: value` lines of a YAML file, values unquoted and `${NAME}` / `${NAME:-d}`
/// filled in from `variables`.
fn settings(yaml: &str, variables: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for line in yaml.lines() {
        let Some((name, value)) = line.trim().split_once(": ") else {
            continue;
        };
        if !name.starts_with("VITRINE_") {
            continue;
        }
        let mut value = value.trim().trim_matches('"').to_owned();
        while let Some(start) = value.find("${") {
            let end = start + value[start..].find('}').expect("closed ${...}");
            let inner = &value[start + 2..end];
            let (variable, default) = inner.split_once(":-").unwrap_or((inner, ""));
            let filled = variables
                .get(variable)
                .cloned()
                .unwrap_or_else(|| default.to_owned());
            assert!(
                !filled.is_empty(),
                "{variable} has no value in .env.example"
            );
            value.replace_range(start..=end, &filled);
        }
        found.insert(name.to_owned(), value);
    }
    found
}

fn known_variables() -> Vec<String> {
    vitrine_api::config::KEYS
        .iter()
        .map(|(key, _)| format!("VITRINE_{}", key.to_ascii_uppercase()))
        .collect()
}

fn check(name: &str, settings: BTreeMap<String, String>) {
    let known = known_variables();
    for variable in settings.keys() {
        assert!(
            known.contains(variable),
            "deploy/{name} sets {variable}, which is no setting"
        );
    }
    for required in [
        "VITRINE_DATABASE_URL",
        "VITRINE_STORAGE_URL",
        "VITRINE_JWT_SECRET",
        "VITRINE_PUBLIC_URL",
    ] {
        assert!(
            settings.contains_key(required),
            "deploy/{name} sets no {required}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut environment = settings;
    // the examples' data dir is the image's; here it must be writable
    environment.insert("VITRINE_DATA_DIR".into(), dir.path().display().to_string());
    environment.insert(
        "VITRINE_SEARCH_INDEX_DIR".into(),
        dir.path().join("index").display().to_string(),
    );
    if let Err(error) = vitrine_api::Config::from_sources(None, &environment) {
        panic!("deploy/{name} does not make a configuration: {error:#}");
    }
}

#[test]
fn the_compose_example_uses_real_settings() {
    let variables: BTreeMap<String, String> = deploy_file(".env.example")
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    let settings = settings(&deploy_file("compose.yaml"), &variables);
    assert_eq!(settings["VITRINE_STORAGE_URL"], "s3://vitrine/objects");
    check("compose.yaml", settings);
}

#[test]
fn the_kubernetes_example_uses_real_settings() {
    let settings = settings(&deploy_file("kubernetes/vitrine.yaml"), &BTreeMap::new());
    assert_eq!(settings["VITRINE_LISTEN"], "0.0.0.0:8080");
    check("kubernetes/vitrine.yaml", settings);
}
