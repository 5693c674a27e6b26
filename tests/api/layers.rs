//! Dependencies between the top-level modules of `src/` run one way: down.
//!
//! A module that reaches up (the data layer naming an HTTP type, the directory calling into engagements) makes
//! both ends harder to change and to test. These tests read the sources, build the graph of which top-level
//! module names which (`crate::x…` paths in `use` lines and in code; comments, doc links and string literals do
//! not count), and fail with the offending path when the graph has a cycle or a rule below is broken.
//! Run with `--nocapture` to see the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::support::{TestApp, id_of};

/// The crate root: `lib.rs` and what it defines or re-exports itself (`crate::AppState`, `crate::build_app`).
const ROOT: &str = "lib";

/// Module → the modules it names, each with one file that does it (for the messages).
type Graph = BTreeMap<String, BTreeMap<String, String>>;

#[test]
fn top_level_modules_form_no_cycle() {
    let graph = graph();
    if let Some(cycle) = find_cycle(&graph) {
        let steps: Vec<String> = cycle
            .windows(2)
            .map(|w| format!("  {} -> {}   ({})", w[0], w[1], graph[&w[0]][&w[1]]))
            .collect();
        panic!(
            "import cycle between top-level modules:\n{}\nmove the shared piece down, or pass it in from above",
            steps.join("\n")
        );
    }
    for (level, modules) in layers(&graph).iter().enumerate() {
        println!("layer {level}: {}", modules.join(", "));
    }
}

#[test]
fn the_data_layer_knows_no_http_and_the_directory_no_engagement() {
    let graph = graph();
    let directory = [
        "regions",
        "spheres",
        "organizations",
        "agencies",
        "councils",
        "facilities",
        "users",
    ];
    let engagement_side = [
        "engagements",
        "meetings",
        "hearings",
        "consultations",
        "submissions",
        "monitoring",
        "grants",
        "recommendations",
    ];
    // The data layer and the shared vocabulary know no HTTP type and no request state.
    let mut rules: Vec<(&str, &[&str])> =
        vec![("db", &["http", "state"]), ("domain", &["http", "state"])];
    // The directory knows no engagement internals: engagements refer to the directory, never back.
    rules.extend(directory.iter().map(|d| (*d, &engagement_side[..])));
    let mut broken = Vec::new();
    for (from, banned) in rules {
        // A renamed module would make its rule pass unchecked.
        for name in std::iter::once(&from).chain(banned) {
            assert!(
                graph.contains_key(*name),
                "no module `{name}` in src/: update this rule"
            );
        }
        for to in banned {
            if let Some(path) = reaches(&graph, from, to) {
                broken.push(format!("  {}", path.join(" -> ")));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "modules that must stay below others reach up:\n{}",
        broken.join("\n")
    );
}

// The directory may not call into engagements, so a facility's new operator reaches the operator party of its
// visits through a trigger (a council's new host is checked in councils.rs).
#[actix_web::test]
async fn a_new_operating_agency_becomes_the_operator_party_of_the_facilitys_visits() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let facility = app
        .post(
            "/api/v1/facilities",
            Some(&w.admin),
            &json!({"name": "ИВС ОВД района Сино", "facility_type": "temporary_detention",
                    "operating_agency_id": w.host_agency}),
        )
        .await;
    facility.assert_status(201);
    let facility = id_of(&facility.json());
    let visit = app
        .post(
            "/api/v1/monitoring-visits",
            Some(&w.admin),
            &json!({
                "facility_id": facility, "visited_on": "2026-10-01", "announced": false,
                "monitor_organization_ids": [w.org_a], "status": "completed", "access": "granted",
                "visibility": "public", "findings": []
            }),
        )
        .await;
    visit.assert_status(201);
    let visit = id_of(&visit.json()).to_string();
    let visits_of = async |agency: uuid::Uuid| {
        let res = app
            .get(
                &format!("/api/v1/engagements?agency_id={agency}&kind=monitoring_visit"),
                Some(&w.admin),
            )
            .await;
        res.assert_status(200);
        res.json()["items"]
            .as_array()
            .map(|items| items.iter().filter(|i| i["id"] == visit.as_str()).count())
    };
    assert_eq!(visits_of(w.host_agency).await, Some(1));

    app.patch(
        &format!("/api/v1/facilities/{facility}"),
        Some(&w.admin),
        &json!({"operating_agency_id": w.other_agency}),
    )
    .await
    .assert_status(200);

    assert_eq!(visits_of(w.other_agency).await, Some(1));
    assert_eq!(visits_of(w.host_agency).await, Some(0));
    let parties = app
        .get(
            &format!("/api/v1/monitoring-visits/{visit}"),
            Some(&w.admin),
        )
        .await
        .json()["parties"]
        .clone();
    assert!(
        parties.as_array().is_some_and(|p| p
            .iter()
            .any(|p| p["role"] == "operator" && p["agency_id"] == w.other_agency.to_string())),
        "{parties}"
    );
}

/// The dependency graph of `src/`.
fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let sources: Vec<(String, String)> = files
        .iter()
        .filter(|f| !f.ends_with("main.rs") || f.parent() != Some(src.as_path()))
        .map(|f| {
            let text = std::fs::read_to_string(f).expect("read a source file");
            let relative = f.strip_prefix(&src).expect("under src").to_path_buf();
            (relative.display().to_string(), code_only(&text))
        })
        .collect();
    let modules: BTreeSet<String> = sources.iter().map(|(f, _)| module_of(f)).collect();
    // `#[macro_export]` macros live at the crate root but belong to the module that defines them.
    let mut macros = BTreeMap::new();
    for (file, code) in &sources {
        for (at, _) in code.match_indices("macro_rules!") {
            if code[..at].trim_end().ends_with("#[macro_export]")
                && let Some(name) = identifier(&code[at + "macro_rules!".len()..])
            {
                macros.insert(name.to_owned(), module_of(file));
            }
        }
    }
    let mut graph = Graph::new();
    for (file, code) in &sources {
        let from = module_of(file);
        let mut names = crate_paths(code);
        if from == ROOT {
            // At the root `http::x` means `crate::http::x`.
            names.extend(root_paths(code, &modules));
        }
        for name in names {
            let to = if modules.contains(&name) && name != ROOT {
                name
            } else if let Some(module) = macros.get(&name) {
                module.clone()
            } else {
                ROOT.to_owned()
            };
            if to != from {
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| format!("src/{file}"));
            }
        }
        graph.entry(from).or_default();
    }
    let edges: usize = graph.values().map(BTreeMap::len).sum();
    assert!(
        graph.contains_key("db") && edges > graph.len(),
        "the reader found almost no dependencies in {}: has the layout changed?",
        src.display()
    );
    graph
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `http/export.rs` → `http`, `state.rs` → `state`, `lib.rs` → the root.
fn module_of(relative: &str) -> String {
    let first = relative.split(['/', '\\']).next().unwrap_or(relative);
    first.strip_suffix(".rs").unwrap_or(first).to_owned()
}

/// The source with comments and the contents of string and char literals blanked out, so that only code is
/// searched (a doc link or an error message that mentions `crate::x` is no dependency).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r'
            && matches!(next, Some('"' | '#'))
            && !chars[..i]
                .last()
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string: r"…", r#"…"#, …
            let hashes = chars[i + 1..].iter().take_while(|h| **h == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let closing: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let body_start = i + 2 + hashes;
            let rest: String = chars[body_start..].iter().collect();
            let body_len = rest
                .find(&closing)
                .map_or(rest.len(), |n| rest[..n].chars().count());
            i = body_start + body_len + closing.chars().count();
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && next == Some('\\') {
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
            out.push_str("' '");
        } else {
            // Lifetimes (`'a`) and everything else pass through.
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The leading identifier of `text` (after whitespace).
fn identifier(text: &str) -> Option<&str> {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    (end > 0).then(|| &text[..end])
}

/// Whether `code[..at]` ends in the middle of an identifier or path (`foo_crate::`, `a::crate::`).
fn continues_a_name(code: &str, at: usize) -> bool {
    code[..at]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
}

/// The first segment of every `crate::…` (or `$crate::…`) path, with `crate::{a, b::c}` groups opened.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        if continues_a_name(code, at) {
            continue;
        }
        let rest = code[at + "crate::".len()..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            names.extend(group_heads(group));
        } else if let Some(name) = identifier(rest) {
            names.insert(name.to_owned());
        }
    }
    names
}

/// The first identifier of every top-level item of a `{a, b::{c, d}, e as f}` group (the text after `{`).
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if item_start && depth == 0 && !c.is_whitespace() => {
                item_start = false;
                if let Some(name) = identifier(&group[i..])
                    && name != "self"
                {
                    heads.push(name.to_owned());
                }
            }
            _ => {}
        }
    }
    heads
}

/// In `lib.rs`: paths that start with a top-level module's name (`ops::routes(cfg)`), not `mod` declarations.
fn root_paths(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for module in modules {
        let needle = format!("{module}::");
        for (at, _) in code.match_indices(&needle) {
            if !continues_a_name(code, at) {
                names.insert(module.clone());
            }
        }
    }
    names
}

/// A cycle as a closed walk `[a, b, …, a]`, if the graph has one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        graph: &Graph,
        node: &str,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = stack.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        stack.push(node.to_owned());
        for next in graph.get(node).into_iter().flat_map(BTreeMap::keys) {
            if let Some(cycle) = visit(graph, next, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|node| visit(graph, node, &mut marks, &mut Vec::new()))
}

/// Modules grouped by height: layer 0 names no other module, layer n names only modules below n.
fn layers(graph: &Graph) -> Vec<Vec<String>> {
    fn height(graph: &Graph, node: &str, memo: &mut BTreeMap<String, usize>) -> usize {
        if let Some(h) = memo.get(node) {
            return *h;
        }
        let h = graph
            .get(node)
            .into_iter()
            .flat_map(BTreeMap::keys)
            .map(|next| height(graph, next, memo) + 1)
            .max()
            .unwrap_or(0);
        memo.insert(node.to_owned(), h);
        h
    }
    let mut memo = BTreeMap::new();
    let mut layers: Vec<Vec<String>> = Vec::new();
    for node in graph.keys() {
        let h = height(graph, node, &mut memo);
        if layers.len() <= h {
            layers.resize(h + 1, Vec::new());
        }
        layers[h].push(node.clone());
    }
    layers
}

/// A path of modules from `from` to `to`, if `from` depends on `to` directly or through others.
fn reaches(graph: &Graph, from: &str, to: &str) -> Option<Vec<String>> {
    let mut came_from: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from.to_owned()]);
    while let Some(node) = queue.pop_front() {
        for next in graph.get(&node).into_iter().flat_map(BTreeMap::keys) {
            if next == from || came_from.contains_key(next) {
                continue;
            }
            came_from.insert(next.clone(), node.clone());
            if next == to {
                let mut path = vec![to.to_owned()];
                while let Some(prev) = came_from.get(path.last().expect("non-empty")) {
                    path.push(prev.clone());
                }
                path.reverse();
                return Some(path);
            }
            queue.push_back(next.clone());
        }
    }
    None
}

#[test]
fn the_reader_sees_through_groups_comments_and_strings() {
    let code = code_only(
        "use crate::{auth::{Actor, Caller}, db::Conn, self};\n\
         /// See [`crate::engagements`].\n\
         let q = \"crate::users\"; let r = r#\"crate::audit\"#; let c = '\"';\n\
         crate::text_enum! { } fn f<'a>(x: &'a crate::http::Page) {}\n\
         other_crate::ops::x(); $crate::state::AppState;",
    );
    let found: Vec<String> = crate_paths(&code).into_iter().collect();
    assert_eq!(found, ["auth", "db", "http", "state", "text_enum"]);
}
