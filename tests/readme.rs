//! README.md lists exactly the commands of the command table, between the
//! markers below. `UPDATE_README=1 cargo test --test tests readme` rewrites
//! that section (and nothing else) instead of checking it.

use std::path::Path;

const START: &str = "<!-- commands:start -->";
const END: &str = "<!-- commands:end -->";

/// `readme` with the text between the markers replaced by `table`
/// (markers appended, or a minimal README made, when there are none).
fn with_table(readme: &str, table: &str) -> String {
    if let Some(s) = readme.find(START)
        && let Some(e) = readme[s..].find(END)
    {
        let e = s + e;
        return format!("{}\n{table}{}", &readme[..s + START.len()], &readme[e..]);
    }
    let head =
        if readme.trim().is_empty() { "# statebroker\n".to_string() } else { readme.trim_end().to_string() + "\n" };
    format!("{head}\n## Commands\n\n{START}\n{table}{END}\n")
}

#[test]
fn readme_command_table_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    let table = statebroker::cmd::markdown_table();
    let wanted = with_table(&current, &table);
    if std::env::var("UPDATE_README").as_deref() == Ok("1") {
        if wanted != current {
            std::fs::write(&path, &wanted).expect("write README.md");
        }
        return;
    }
    assert!(
        wanted == current,
        "README.md's command table is out of date: run `UPDATE_README=1 cargo test --test tests readme`"
    );
}

#[test]
fn the_section_is_replaced_in_place() {
    let readme = format!("intro\n{START}\nold\n{END}\noutro\n");
    assert_eq!(with_table(&readme, "new\n"), format!("intro\n{START}\nnew\n{END}\noutro\n"));
    assert_eq!(with_table("", "t\n"), format!("# statebroker\n\n## Commands\n\n{START}\nt\n{END}\n"));
}
