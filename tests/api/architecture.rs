//! The architecture, checked by reading the source: every top-level module of
//! `src/` has a layer, imports only from its own layer or below, and no two modules
//! import each other, however indirectly; and nothing outside `src/db/` uses sqlx,
//! let alone a SQLite type. The table is the one in `src/lib.rs` and
//! `docs/ARCHITECTURE.md`.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// Each top-level module and its layer, bottom to top.
const LAYERS: &[(&str, u8)] = &[
    ("config", 0),
    ("uris", 0),
    ("domain", 0),
    ("error", 0),
    ("metrics", 0),
    ("db", 1),
    ("content", 1),
    ("federation", 2),
    ("cache", 2),
    ("streaming", 2),
    ("feeds", 2),
    ("delivery", 3),
    ("inbox", 3),
    ("app", 4),
    ("service", 5),
    ("http", 6),
    ("startup", 7),
    ("cli", 8),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).expect("read src") {
        let path = e.expect("entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The module path of a file under `src/`: `src/federation/activities/follow.rs` is
/// `federation::activities::follow`, `src/db/mod.rs` is `db`.
fn module_path(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The code without comments, string and char literals (which may hold `crate::`
/// or `//` that are not code).
fn code_only(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let at = |i: usize| b.get(i).copied().unwrap_or('\0');
    while i < b.len() {
        let rest = |n: usize| at(i + n);
        match b[i] {
            '/' if rest(1) == '/' => {
                while i < b.len() && b[i] != '\n' {
                    i += 1;
                }
            }
            '/' if rest(1) == '*' => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if b[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            'r' if rest(1) == '#' || rest(1) == '"' => {
                // A raw string: r"…", r#"…"#.
                let mut hashes = 0;
                let mut j = i + 1;
                while b.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&'"') {
                    out.push(b[i]);
                    i += 1;
                    continue;
                }
                j += 1;
                let closing: String = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                while j < b.len() && !b[j..].iter().collect::<String>().starts_with(&closing) {
                    j += 1;
                }
                out.push_str("\"\"");
                i = j + closing.len();
            }
            '"' => {
                i += 1;
                while i < b.len() && b[i] != '"' {
                    i += if b[i] == '\\' { 2 } else { 1 };
                }
                out.push_str("\"\"");
                i += 1;
            }
            // A char literal ('x', '\n', '"'), not a lifetime ('a).
            '\'' if rest(2) == '\''
                || (rest(1) == '\\' && (rest(3) == '\'' || rest(4) == '\'')) =>
            {
                i += 1;
                while i < b.len() && b[i] != '\'' {
                    i += if b[i] == '\\' { 2 } else { 1 };
                }
                out.push_str("' '");
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The first identifier of each item of a `{…}` group that starts at `text[0]`.
fn group_heads(text: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    let mut ident = String::new();
    for c in text.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    item_start = true;
                    continue;
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => {
                item_start = true;
                continue;
            }
            _ => {}
        }
        if depth == 1 && item_start {
            if c.is_alphanumeric() || c == '_' {
                ident.push(c);
            } else if !ident.is_empty() {
                heads.push(std::mem::take(&mut ident));
                item_start = false;
            }
        }
    }
    if !ident.is_empty() {
        heads.push(ident);
    }
    heads
}

/// The top-level modules a file's code names, through `crate::` paths (alone or in
/// `use crate::{…}` groups) and `super::` paths that climb to the crate root.
fn imports(module: &[String], code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut heads_after = |prefix_end: usize| {
        let after = &code[prefix_end..];
        if after.starts_with('{') {
            found.extend(group_heads(after));
        } else {
            let ident: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !ident.is_empty() {
                found.insert(ident);
            }
        }
    };
    for (at, _) in code.match_indices("crate::") {
        let preceded = code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if !preceded {
            heads_after(at + "crate::".len());
        }
    }
    // `super::` in `a/b.rs` (module a::b) climbs to `a`; as many as the file is deep
    // reach the crate root.
    let root_supers = "super::".repeat(module.len());
    for (at, _) in code.match_indices(&root_supers) {
        let preceded = code[..at].ends_with("super::")
            || code[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if !preceded && !code[at + root_supers.len()..].starts_with("super::") {
            heads_after(at + root_supers.len());
        }
    }
    found.retain(|m| layer(m).is_some() && Some(m) != module.first());
    found
}

/// Top-level module -> the top-level modules it imports, with the files that do.
fn graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in rust_files(&src()) {
        let module = module_path(&file);
        let Some(top) = module.first().cloned() else {
            continue;
        };
        if top == "lib" || top == "main" {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(&file).expect("read"));
        let rel = file
            .strip_prefix(src())
            .expect("under src")
            .display()
            .to_string();
        for m in imports(&module, &code) {
            graph
                .entry(top.clone())
                .or_default()
                .entry(m)
                .or_default()
                .insert(rel.clone());
        }
    }
    graph
}

#[test]
fn every_top_level_module_has_a_layer() {
    let unplaced: Vec<String> = std::fs::read_dir(src())
        .expect("read src")
        .map(|e| {
            e.expect("entry")
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned()
        })
        .filter(|m| m != "lib" && m != "main" && layer(m).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "give these modules a layer (src/lib.rs, docs/ARCHITECTURE.md, LAYERS here): {unplaced:?}"
    );
}

#[test]
fn imports_never_point_up_a_layer() {
    let mut upward = Vec::new();
    for (from, to) in graph() {
        for (m, files) in to {
            let (lf, lm) = (layer(&from).unwrap_or(0), layer(&m).unwrap_or(0));
            if lm > lf {
                upward.push(format!(
                    "{from} (layer {lf}) imports {m} (layer {lm}) in {files:?}"
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that point up:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_two_modules_depend_on_each_other() {
    let graph = graph();
    // Depth-first search for a path back to the start.
    fn reaches(
        graph: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        from: &str,
        target: &str,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        graph.get(from).is_some_and(|to| {
            to.keys()
                .any(|m| m == target || (seen.insert(m.clone()) && reaches(graph, m, target, seen)))
        })
    }
    let cycles: Vec<&String> = graph
        .keys()
        .filter(|m| reaches(&graph, m, m, &mut BTreeSet::new()))
        .collect();
    assert!(
        cycles.is_empty(),
        "these modules are in an import cycle: {cycles:?}"
    );
}

#[test]
fn no_sqlx_and_no_sqlite_type_outside_db() {
    let mut found = Vec::new();
    for file in rust_files(&src()) {
        let rel = file.strip_prefix(src()).expect("under src");
        if rel.starts_with("db") {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(&file).expect("read"));
        for (n, line) in code.lines().enumerate() {
            let sqlite_type = line
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w.starts_with("Sqlite"));
            if sqlite_type || line.contains("sqlx::") || line.contains("use sqlx") {
                found.push(format!("{}:{}: {}", rel.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "sqlx outside src/db/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_reader_sees_imports_as_rustc_does() {
    let module = |p: &str| p.split("::").map(str::to_owned).collect::<Vec<_>>();
    let code = code_only(
        r#"
        use crate::{app::App, db::{self, Db}, error};
        // use crate::http; (a comment)
        /* crate::service::sync */
        let s = "crate::cli::run // not code";
        let c = '"'; let q = '\'';
        fn f<'a>(x: &'a str) -> crate::startup::Tasks { crate::uris::Uris::new() }
        use super::super::super::inbox::Door;
        use super::sibling;
        "#,
    );
    assert_eq!(
        imports(&module("federation::activities::follow"), &code),
        ["app", "db", "error", "inbox", "startup", "uris"]
            .map(String::from)
            .into()
    );
    // From `src/federation/mod.rs`, one `super::` is the crate root.
    assert_eq!(
        imports(&module("federation"), "use super::{cache, federation};"),
        ["cache"].map(String::from).into()
    );
}
