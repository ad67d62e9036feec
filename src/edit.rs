//! In-place edits of TOML documents that keep comments and layout (toml_edit).

use chrono::NaiveDate;
use toml_edit::{Item, Key, Table, value};

/// A TOML local date item; TOML dates end with the year 9999.
pub fn date(d: NaiveDate) -> anyhow::Result<Item> {
    d.to_string()
        .parse::<toml_edit::Datetime>()
        .map(value)
        .map_err(|_| {
            anyhow::anyhow!(
                "{d} is past the last date a TOML file can hold (9999-12-31); check --as-of"
            )
        })
}

/// `edited` with the line endings of `original`: a file written with CRLF stays CRLF, so
/// a commit changes only the lines an edit changed.
pub fn line_endings_of(original: &str, edited: String) -> String {
    let crlf = original.matches("\r\n").count();
    if crlf == 0 || crlf * 2 < original.matches('\n').count() {
        return edited;
    }
    edited.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// Sets `key`, keeping its place and its comments when it exists; a new key goes after
/// `after` when that key exists, else at the end of the table's values.
pub fn set(table: &mut Table, key: &str, item: Item, after: &[&str]) {
    if let Some(existing) = table.get_mut(key)
        && existing.is_value()
    {
        let decor = existing.as_value().map(|v| v.decor().clone());
        *existing = item;
        if let (Some(decor), Some(v)) = (decor, existing.as_value_mut()) {
            *v.decor_mut() = decor;
        }
        return;
    }
    table.insert(key, item);
    if let Some(anchor) = after.iter().find(|a| table.contains_key(a)) {
        move_after(table, key, anchor);
    }
}

/// Replaces `old_key` by `new_key = item` in the same place (or sets `new_key`).
pub fn replace_key(table: &mut Table, old_key: &str, new_key: &str, item: Item) {
    if !table.contains_key(old_key) {
        set(table, new_key, item, &[]);
        return;
    }
    rebuild(table, |key, entry, out| {
        if key.get() == old_key {
            let new = Key::new(new_key).with_leaf_decor(key.leaf_decor().clone());
            out.push((new, item.clone()));
        } else {
            out.push((key.clone(), entry.clone()));
        }
    });
}

/// Moves `key` to just after `anchor`.
fn move_after(table: &mut Table, key: &str, anchor: &str) {
    let Some((moved_key, moved)) = table
        .get_key_value(key)
        .map(|(k, v)| (k.clone(), v.clone()))
    else {
        return;
    };
    rebuild(table, |k, entry, out| {
        if k.get() == key {
            return;
        }
        out.push((k.clone(), entry.clone()));
        if k.get() == anchor {
            out.push((moved_key.clone(), moved.clone()));
        }
    });
}

fn rebuild(table: &mut Table, mut each: impl FnMut(&Key, &Item, &mut Vec<(Key, Item)>)) {
    let mut entries = Vec::new();
    for (name, entry) in table.iter() {
        let key = table.key(name).expect("key of an entry");
        each(key, entry, &mut entries);
    }
    table.clear();
    for (key, entry) in entries {
        table.insert_formatted(&key, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_crlf_line_endings() {
        assert_eq!(
            line_endings_of("a = 1\r\nb = 2\r\n", "a = 1\nb = 3\nc = 4\n".into()),
            "a = 1\r\nb = 3\r\nc = 4\r\n"
        );
        assert_eq!(
            line_endings_of("a = 1\r\n", "a = 1\r\nb = 2\n".into()),
            "a = 1\r\nb = 2\r\n"
        );
        assert_eq!(line_endings_of("a = 1\n", "a = 2\n".into()), "a = 2\n");
    }

    #[test]
    fn keeps_comments_and_places_new_keys() {
        let mut doc: toml_edit::DocumentMut =
            "# top\na = 1 # one\nb = 2\n\n[t]\nx = 1\n".parse().unwrap();
        set(doc.as_table_mut(), "a", value(5), &[]);
        assert!(date(NaiveDate::from_ymd_opt(10000, 1, 1).unwrap()).is_err());
        set(doc.as_table_mut(), "c", value(3), &["a"]);
        replace_key(doc.as_table_mut(), "b", "d", value(4));
        assert_eq!(
            doc.to_string(),
            "# top\na = 5 # one\nc = 3\nd = 4\n\n[t]\nx = 1\n"
        );
    }
}
