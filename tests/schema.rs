//! `schema.graphql` at the repository root is the schema the server serves.

#[test]
fn schema_graphql_equals_the_served_schema() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).expect("schema.graphql exists");
    let served = streetplanner::graphql::sdl();
    if committed != served {
        panic!("schema.graphql is out of date: run `cargo run -- schema > schema.graphql` and review the diff");
    }
}

#[test]
fn cli_schema_prints_the_same_sdl() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_streetplanner"))
        .arg("schema")
        .output()
        .expect("run binary");
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), streetplanner::graphql::sdl());
}
