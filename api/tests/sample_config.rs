//! The commented sample configuration lists every key, and uncommented it is valid.

#[test]
fn sample_config_names_every_key_and_parses() {
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vitrine.sample.toml"
    ))
    .unwrap();
    let uncommented: String = sample
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .filter(|line| line.contains(" = ") && !line.contains("\"...\""))
        .map(|line| format!("{line}\n"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vitrine.toml");
    std::fs::write(&file, &uncommented).unwrap();
    let config = vitrine_api::Config::from_sources(Some(&file), &Default::default())
        .unwrap_or_else(|error| panic!("sample config is invalid: {error:#}\n{uncommented}"));
    assert_eq!(config.listen.port(), 8080);
    for key in vitrine_api::config::KEYS.iter().map(|(key, _)| key) {
        assert!(
            sample.contains(&format!("# {key} = ")),
            "vitrine.sample.toml does not list {key}"
        );
        let variable = format!("VITRINE_{}", key.to_ascii_uppercase());
        assert!(
            sample.contains(&variable),
            "vitrine.sample.toml does not name {variable}"
        );
    }
}
