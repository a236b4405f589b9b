//! Reading JSON documents into typed structs by walking a parsed [`Value`], each
//! error at its JSON path.
//!
//! The scenario format has some twenty structs. serde's derive writes a visitor for
//! each, and every visitor is compiled together with serde_json's text parser: in the
//! browser bundle that came to tens of kilobytes for one document type. Here the text
//! is parsed once into a `Value` (one shared parser), and each struct is read by a few
//! lines calling the non-generic helpers of [`Obj`]; only the list helper is generic,
//! and it is a short loop. Walking the value also gives exact paths for free
//! (`subscriptions[2].retry.attempts_max`), where positions in the text had to be
//! mapped back to paths.
//!
//! The messages follow serde's wording (`missing field`, `unknown field`, `invalid
//! type: string "x", expected u64`), so a reader of the documents sees the same
//! errors whichever way a field is read.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A problem at a path (`""` is the document itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    pub path: String,
    pub message: String,
}

pub type Read<T> = Result<T, ReadError>;

/// A reader of one item at `path`, for lists and optional fields.
pub type ItemReader<T> = fn(Value, &str) -> Read<T>;

fn error(path: &str, message: String) -> ReadError {
    ReadError { path: path.to_string(), message }
}

/// `path.key`, or `key` at the root.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// How serde names a JSON value in its messages.
fn unexpected(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) if n.is_f64() => format!("floating point `{n}`"),
        Value::Number(n) => format!("integer `{n}`"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "sequence".to_string(),
        Value::Object(_) => "map".to_string(),
    }
}

/// The error for a value of the wrong JSON type.
pub fn invalid(path: &str, value: &Value, expected: &str) -> ReadError {
    error(path, format!("invalid type: {}, expected {expected}", unexpected(value)))
}

fn invalid_value(path: &str, value: &Value, expected: &str) -> ReadError {
    error(path, format!("invalid value: {}, expected {expected}", unexpected(value)))
}

/// A string.
pub fn string(value: Value, path: &str) -> Read<String> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(invalid(path, &other, "a string")),
    }
}

/// A whole number of at most `max` (`expected` names the type, as serde does).
fn whole(value: &Value, path: &str, max: u64, expected: &str) -> Read<u64> {
    match value {
        Value::Number(n) if n.is_f64() => Err(invalid(path, value, expected)),
        Value::Number(n) => match n.as_u64() {
            Some(v) if v <= max => Ok(v),
            _ => Err(invalid_value(path, value, expected)),
        },
        other => Err(invalid(path, other, expected)),
    }
}

pub fn u64_of(value: Value, path: &str) -> Read<u64> {
    whole(&value, path, u64::MAX, "u64")
}

pub fn u32_of(value: Value, path: &str) -> Read<u32> {
    // In range by the check.
    whole(&value, path, u64::from(u32::MAX), "u32").map(|v| v as u32)
}

pub fn i64_of(value: Value, path: &str) -> Read<i64> {
    match &value {
        Value::Number(n) if !n.is_f64() => n.as_i64().ok_or_else(|| invalid_value(path, &value, "i64")),
        other => Err(invalid(path, other, "i64")),
    }
}

/// One of the names in `variants` (an enum written as a string), as its index.
pub fn variant(value: Value, path: &str, variants: &[&str]) -> Read<usize> {
    match &value {
        Value::String(s) => variants
            .iter()
            .position(|v| v == s)
            .ok_or_else(|| error(path, format!("unknown variant `{s}`, expected {}", one_of(variants)))),
        other => Err(invalid(path, other, "a string")),
    }
}

/// A JSON object, as is.
pub fn object(value: Value, path: &str) -> Read<Map<String, Value>> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(invalid(path, &other, "a map")),
    }
}

/// A JSON object as a sorted map of values.
pub fn value_map(value: Value, path: &str) -> Read<BTreeMap<String, Value>> {
    map_of(value, path, |value, _| Ok(value))
}

/// A JSON object as a sorted map whose values `item` reads, each at `path.key`.
pub fn map_of<T>(value: Value, path: &str, item: ItemReader<T>) -> Read<BTreeMap<String, T>> {
    let mut out = BTreeMap::new();
    // A loop of inserts, not `collect`: collecting into a map sorts first, which would
    // compile a sort for every value type.
    for (key, value) in object(value, path)? {
        let read = item(value, &join(path, &key))?;
        out.insert(key, read);
    }
    Ok(out)
}

/// `` `a`, `b` or `c` `` in serde's words.
fn one_of(names: &[&str]) -> String {
    match names {
        [] => "nothing".to_string(),
        [only] => format!("`{only}`"),
        [a, b] => format!("`{a}` or `{b}`"),
        _ => {
            let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            format!("one of {}", quoted.join(", "))
        }
    }
}

/// A list whose items `item` reads, each at `path[i]`.
pub fn list<T>(value: Value, path: &str, item: ItemReader<T>) -> Read<Vec<T>> {
    let items = match value {
        Value::Array(items) => items,
        other => return Err(invalid(path, &other, "a sequence")),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item_value) in items.into_iter().enumerate() {
        out.push(item(item_value, &format!("{path}[{i}]"))?);
    }
    Ok(out)
}

/// One JSON object being read into a struct. Fields are taken out as they are read;
/// a field the struct does not have is refused up front, as `deny_unknown_fields` does.
pub struct Obj {
    map: Map<String, Value>,
    path: String,
}

impl Obj {
    /// The object at `path`, whose fields must be among `fields`.
    pub fn new(value: Value, path: &str, fields: &[&str]) -> Read<Obj> {
        let map = match value {
            Value::Object(map) => map,
            other => return Err(invalid(path, &other, "a map")),
        };
        if let Some(unknown) = map.keys().find(|k| !fields.contains(&k.as_str())) {
            return Err(error(path, format!("unknown field `{unknown}`, expected {}", one_of(fields))));
        }
        Ok(Obj { map, path: path.to_string() })
    }

    /// The path of one of its fields.
    pub fn at(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// A field that may be missing.
    pub fn take(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key)
    }

    /// A field that must be there.
    pub fn req(&mut self, key: &str) -> Read<Value> {
        self.take(key).ok_or_else(|| error(&self.path, format!("missing field `{key}`")))
    }

    /// A required field read by `item`.
    pub fn get<T>(&mut self, key: &str, item: ItemReader<T>) -> Read<T> {
        let value = self.req(key)?;
        item(value, &self.at(key))
    }

    /// A field read by `item`, or `default` when it is missing.
    pub fn or<T>(&mut self, key: &str, default: T, item: ItemReader<T>) -> Read<T> {
        match self.take(key) {
            Some(value) => item(value, &self.at(key)),
            None => Ok(default),
        }
    }

    /// A field read by `item`; missing or `null` is `None`.
    pub fn opt<T>(&mut self, key: &str, item: ItemReader<T>) -> Read<Option<T>> {
        match self.take(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => item(value, &self.at(key)).map(Some),
        }
    }

    pub fn string(&mut self, key: &str) -> Read<String> {
        self.get(key, string)
    }

    /// A string that may be missing (empty then).
    pub fn text(&mut self, key: &str) -> Read<String> {
        self.or(key, String::new(), string)
    }

    pub fn u64_or(&mut self, key: &str, default: u64) -> Read<u64> {
        self.or(key, default, u64_of)
    }

    pub fn u32_or(&mut self, key: &str, default: u32) -> Read<u32> {
        self.or(key, default, u32_of)
    }

    pub fn bool_or(&mut self, key: &str, default: bool) -> Read<bool> {
        self.or(key, default, |value, path| match value {
            Value::Bool(b) => Ok(b),
            other => Err(invalid(path, &other, "a boolean")),
        })
    }

    /// A list that must be there.
    pub fn list<T>(&mut self, key: &str, item: ItemReader<T>) -> Read<Vec<T>> {
        let value = self.req(key)?;
        list(value, &self.at(key), item)
    }

    /// A list that may be missing (empty then).
    pub fn list_or_empty<T>(&mut self, key: &str, item: ItemReader<T>) -> Read<Vec<T>> {
        match self.take(key) {
            Some(value) => list(value, &self.at(key), item),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_follow_serde_and_name_the_path() {
        let mut o =
            Obj::new(json!({"a": "x", "b": -1, "c": 1.5, "d": 5_000_000_000u64}), "root", &["a", "b", "c", "d"])
                .expect("an object");
        assert_eq!(o.u64_or("a", 0).unwrap_err().message, "invalid type: string \"x\", expected u64");
        assert_eq!(o.u64_or("b", 0).unwrap_err(), error("root.b", "invalid value: integer `-1`, expected u64".into()));
        assert_eq!(o.u32_or("c", 0).unwrap_err().message, "invalid type: floating point `1.5`, expected u32");
        assert_eq!(o.u32_or("d", 0).unwrap_err().message, "invalid value: integer `5000000000`, expected u32");
        assert_eq!(o.string("e").unwrap_err(), error("root", "missing field `e`".into()));
        let unknown = Obj::new(json!({"colour": 1}), "", &["name", "title"]).err().expect("refused");
        assert_eq!(unknown.message, "unknown field `colour`, expected `name` or `title`");
        let unknown = Obj::new(json!({"colour": 1}), "", &["a", "b", "c"]).err().expect("refused");
        assert_eq!(unknown.message, "unknown field `colour`, expected one of `a`, `b`, `c`");
        assert_eq!(
            list(json!([1, "two"]), "xs", u64_of).unwrap_err(),
            error("xs[1]", "invalid type: string \"two\", expected u64".into())
        );
        assert_eq!(
            variant(json!("sideways"), "d", &["up", "down"]).unwrap_err().message,
            "unknown variant `sideways`, expected `up` or `down`"
        );
    }
}
