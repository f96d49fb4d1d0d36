//! How `coffer admin` prints answers: aligned tables for lists, `field: value` lines for one
//! resource, or the JSON itself with `--json`.

use std::fmt::Write as _;

use serde_json::Value;

/// How to print one command's answer.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A list under `field`, with these columns.
    List {
        /// The array's field.
        field: &'static str,
        /// Columns (fields of each item).
        columns: &'static [&'static str],
    },
    /// One resource.
    Object,
}

/// A scalar as table text.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// Renders rows under headers, each column as wide as its widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, value) in widths.iter_mut().zip(row) {
            *width = (*width).max(value.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, (value, width)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(value);
            } else {
                let _ = write!(out, "{value:<width$}  ");
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = vec![line(headers.iter().map(|h| h.to_uppercase()).collect())];
    out.extend(rows.iter().map(|r| line(r.clone())));
    out.join("\n")
}

fn object_lines(
    value: &Value,
    prefix: &str,
    lines: &mut Vec<(String, String)>,
    tables: &mut Vec<String>,
) {
    let Value::Object(map) = value else {
        lines.push((prefix.to_owned(), cell(value)));
        return;
    };
    for (name, field) in map {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match field {
            Value::Object(_) => object_lines(field, &path, lines, tables),
            Value::Array(items) if items.iter().any(Value::is_object) => {
                let mut columns: Vec<String> = Vec::new();
                for item in items {
                    if let Value::Object(m) = item {
                        for (k, v) in m {
                            if !v.is_object() && !v.is_array() && !columns.contains(k) {
                                columns.push(k.clone());
                            }
                        }
                    }
                }
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|item| columns.iter().map(|c| cell(&item[c.as_str()])).collect())
                    .collect();
                let headers: Vec<&str> = columns.iter().map(String::as_str).collect();
                tables.push(format!("\n{path}:\n{}", table(&headers, &rows)));
            }
            other => lines.push((path, cell(other))),
        }
    }
}

/// The text printed for an answer.
pub fn render(value: &Value, shape: Shape) -> String {
    match shape {
        Shape::List { field, columns } => {
            let rows: Vec<Vec<String>> = value[field]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|item| columns.iter().map(|c| cell(&item[*c])).collect())
                        .collect()
                })
                .unwrap_or_default();
            let mut out = table(columns, &rows);
            if let Some(prefixes) = value["common_prefixes"]
                .as_array()
                .filter(|p| !p.is_empty())
            {
                for p in prefixes {
                    let _ = write!(out, "\nPREFIX {}", cell(p));
                }
            }
            if let Some(next) = value["next_cursor"].as_str() {
                let _ = write!(out, "\n(more: --cursor {next})");
            }
            out
        }
        Shape::Object => {
            let mut lines = Vec::new();
            let mut tables = Vec::new();
            object_lines(value, "", &mut lines, &mut tables);
            let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            let mut out: Vec<String> = lines
                .into_iter()
                .map(|(k, v)| format!("{:<width$}  {v}", format!("{k}:"), width = width + 1))
                .collect();
            out.extend(tables);
            out.join("\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_objects_render_readably() {
        let list = serde_json::json!({
            "buckets": [{"name": "a", "total_size_human": "1.0 KB"}, {"name": "bbbb", "total_size_human": null}],
            "next_cursor": "bbbb"
        });
        let text = render(
            &list,
            Shape::List {
                field: "buckets",
                columns: &["name", "total_size_human"],
            },
        );
        assert_eq!(
            text,
            "NAME  TOTAL_SIZE_HUMAN\na     1.0 KB\nbbbb  -\n(more: --cursor bbbb)"
        );
        let object =
            serde_json::json!({"id": 1, "usage": {"bytes": 3}, "buckets": [{"name": "x"}]});
        let text = render(&object, Shape::Object);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("id:") && lines[0].ends_with(" 1"),
            "{text}"
        );
        assert!(
            lines[1].starts_with("usage.bytes:") && lines[1].ends_with(" 3"),
            "{text}"
        );
        assert_eq!(lines[0].len(), lines[1].len(), "values align: {text}");
        assert!(text.contains("buckets:\nNAME\nx"), "{text}");
    }
}
