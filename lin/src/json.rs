//! Strict JSON for history lines: serde_json's reader, except that an object naming a key twice
//! is refused (which of the two values was meant is ambiguous; serde_json's own `Value` silently
//! keeps the last). Two entry points:
//! - [`strict_value`]: any JSON value (the header line), duplicates refused at every depth;
//! - [`fields`]: one object read straight into a slot per expected key (operation lines), with
//!   no map and no allocation for the keys, so that a 10-million-line history reads quickly.
//!   Unknown keys are allowed (HISTORY.md permits optional additions) and their values are read
//!   strictly too.
//!
//! Depends only on serde and serde_json.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value as Json};
use std::cell::RefCell;
use std::fmt;

/// Why a line is not acceptable JSON.
#[derive(Debug)]
pub enum JsonError {
    /// Not JSON at all (serde_json's message, with the column).
    Syntax(serde_json::Error),
    /// An object names this key more than once.
    Duplicate(String),
}

/// Reads `text` as one JSON value; an object with a duplicate key, at any depth, is refused.
pub fn strict_value(text: &str) -> Result<Json, JsonError> {
    let dup = RefCell::new(None);
    finish(text, &dup, |de| Strict { dup: &dup }.deserialize(de))
}

/// The values of the expected keys of one JSON object (see [`fields`]).
pub struct Fields {
    slots: Vec<Option<Json>>,
    names: &'static [&'static str],
}

impl Fields {
    /// The value of `name` (one of the names given to [`fields`]), if the object has it.
    pub fn get(&self, name: &str) -> Option<&Json> {
        let i = self.names.iter().position(|n| *n == name)?;
        self.slots[i].as_ref()
    }

    /// Whether the object has `name`.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// What the text held when it was valid JSON but not an object.
pub enum NotObject {
    /// The value, for the message.
    Other(Json),
}

/// Reads the JSON object in `text`, keeping the values of `names` (other keys are read and
/// dropped). A key named twice is [`JsonError::Duplicate`]; a value that is not an object comes
/// back as `Ok(Err(..))`.
pub fn fields(
    text: &str,
    names: &'static [&'static str],
) -> Result<Result<Fields, NotObject>, JsonError> {
    let dup = RefCell::new(None);
    finish(text, &dup, |de| {
        de.deserialize_any(FieldsVisitor { names, dup: &dup })
    })
}

/// Runs `read` on a deserializer over `text`, insists on nothing after the value, and turns a
/// recorded duplicate into [`JsonError::Duplicate`].
fn finish<T>(
    text: &str,
    dup: &RefCell<Option<String>>,
    read: impl FnOnce(
        &mut serde_json::Deserializer<serde_json::de::StrRead<'_>>,
    ) -> Result<T, serde_json::Error>,
) -> Result<T, JsonError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let out = read(&mut de).and_then(|v| de.end().map(|()| v));
    match (out, dup.borrow_mut().take()) {
        (_, Some(key)) => Err(JsonError::Duplicate(key)),
        (Ok(v), None) => Ok(v),
        (Err(e), None) => Err(JsonError::Syntax(e)),
    }
}

/// Records the first duplicate key and returns the error that stops the reader.
fn duplicate<E: de::Error>(dup: &RefCell<Option<String>>, key: &str) -> E {
    dup.borrow_mut().get_or_insert_with(|| key.to_string());
    E::custom(format_args!("duplicate key `{key}`"))
}

/// A JSON value, duplicates refused.
#[derive(Clone, Copy)]
struct Strict<'a> {
    dup: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Json;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Json;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Json, E> {
        Ok(Json::from(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Json, E> {
        Ok(Json::from(u))
    }
    fn visit_f64<E>(self, x: f64) -> Result<Json, E> {
        Ok(Number::from_f64(x).map_or(Json::Null, Json::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Json, E> {
        Ok(Json::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Json, E> {
        Ok(Json::String(s))
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(Json::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(duplicate(self.dup, &key));
            }
            let v = map.next_value_seed(self)?;
            out.insert(key, v);
        }
        Ok(Json::Object(out))
    }
}

/// A key of an operation object: the index of an expected name, or another key.
enum Key {
    Known(usize),
    Other(String),
}

struct KeySeed {
    names: &'static [&'static str],
}

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, s: &str) -> Result<Key, E> {
        Ok(match self.names.iter().position(|n| *n == s) {
            Some(i) => Key::Known(i),
            None => Key::Other(s.to_string()),
        })
    }
}

/// An object read into slots; any other value is kept whole for the message.
struct FieldsVisitor<'a> {
    names: &'static [&'static str],
    dup: &'a RefCell<Option<String>>,
}

impl FieldsVisitor<'_> {
    fn other<E>(&self, v: Result<Json, E>) -> Result<Result<Fields, NotObject>, E> {
        v.map(|v| Err(NotObject::Other(v)))
    }
}

impl<'de> Visitor<'de> for FieldsVisitor<'_> {
    type Value = Result<Fields, NotObject>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        self.other(Ok(Json::Bool(b)))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Self::Value, E> {
        self.other(Ok(Json::from(i)))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Self::Value, E> {
        self.other(Ok(Json::from(u)))
    }
    fn visit_f64<E>(self, x: f64) -> Result<Self::Value, E> {
        self.other(Ok(Number::from_f64(x).map_or(Json::Null, Json::Number)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        self.other(Ok(Json::String(s.to_string())))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        self.other(Ok(Json::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.other(Strict { dup: self.dup }.visit_seq(seq))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let strict = Strict { dup: self.dup };
        let mut slots: Vec<Option<Json>> = vec![None; self.names.len()];
        let mut others: Vec<String> = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed { names: self.names })? {
            match key {
                Key::Known(i) => {
                    if slots[i].is_some() {
                        return Err(duplicate(self.dup, self.names[i]));
                    }
                    slots[i] = Some(map.next_value_seed(strict)?);
                }
                Key::Other(k) => {
                    if others.contains(&k) {
                        return Err(duplicate(self.dup, &k));
                    }
                    map.next_value_seed(strict)?;
                    others.push(k);
                }
            }
        }
        Ok(Ok(Fields {
            slots,
            names: self.names,
        }))
    }
}
