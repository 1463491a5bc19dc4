//! Embeds `migrations/sqlite/*.sql` as a sorted list (`$OUT_DIR/sqlite_migrations.rs`), so a
//! new migration file needs no code change. PostgreSQL migrations are embedded by
//! `sqlx::migrate!`.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join("sqlite");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<(i64, String, PathBuf)> = std::fs::read_dir(&dir)
        .expect("migrations/sqlite")
        .map(|e| e.expect("migration entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .map(|p| {
            let stem = p
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("UTF-8 migration name")
                .to_owned();
            let (version, name) = stem
                .split_once('_')
                .unwrap_or_else(|| panic!("migration `{stem}` must be named NNNN_name.sql"));
            let version: i64 = version
                .parse()
                .unwrap_or_else(|_| panic!("migration `{stem}` must start with a number"));
            (version, name.replace('_', " "), p)
        })
        .collect();
    files.sort();
    let mut out = String::from("/// (version, name, SQL), in version order.\n");
    out.push_str("pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[\n");
    for (version, name, path) in &files {
        out.push_str(&format!(
            "    ({version}, {name:?}, include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest =
        PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("sqlite_migrations.rs");
    std::fs::write(dest, out).expect("write sqlite_migrations.rs");
}
