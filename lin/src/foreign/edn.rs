//! A reader for the part of EDN (Clojure's data notation) that Jepsen and porcupine histories
//! use: maps, vectors, lists, sets, keywords, symbols, strings, integers, floats, `nil`,
//! booleans, characters, comments, `#_` discards and tagged elements (`#jepsen.history.Op{…}`,
//! whose tag is dropped). Each top-level form comes with the line it starts on.

/// An EDN value.
#[derive(Clone, Debug, PartialEq)]
pub enum Edn {
    /// `nil`
    Nil,
    /// `true` / `false`
    Bool(bool),
    /// An integer that fits in 64 bits (a trailing `N` is accepted).
    Int(i64),
    /// Any other number (floats, ratios, big integers), as written.
    Number(String),
    /// `"text"`
    Str(String),
    /// `:name` (without the colon)
    Keyword(String),
    /// `name`
    Symbol(String),
    /// `[…]`, `(…)` or `#{…}`
    Seq(Vec<Edn>),
    /// `{k v …}`, in the order written
    Map(Vec<(Edn, Edn)>),
}

impl Edn {
    /// The value under keyword `key` of a map.
    pub fn get(&self, key: &str) -> Option<&Edn> {
        match self {
            Edn::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Edn::Keyword(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value in EDN notation (for messages and descriptions).
    pub fn show(&self) -> String {
        match self {
            Edn::Nil => "nil".into(),
            Edn::Bool(b) => b.to_string(),
            Edn::Int(i) => i.to_string(),
            Edn::Number(n) | Edn::Symbol(n) => n.clone(),
            Edn::Str(s) => format!("{s:?}"),
            Edn::Keyword(k) => format!(":{k}"),
            Edn::Seq(items) => {
                let inner: Vec<String> = items.iter().map(Edn::show).collect();
                format!("[{}]", inner.join(" "))
            }
            Edn::Map(entries) => {
                let inner: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{} {}", k.show(), v.show()))
                    .collect();
                format!("{{{}}}", inner.join(", "))
            }
        }
    }
}

/// A syntax error: 1-based line and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdnError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Reads every top-level form of `text`, each with the line it starts on.
pub fn read_all(text: &str) -> Result<Located, EdnError> {
    Ok(read(text)?.0)
}

/// The records of a history file: the top-level forms, or, when the file is one vector or list
/// (Jepsen's `history.edn`), its elements; each with the line it starts on.
pub fn read_records(text: &str) -> Result<Located, EdnError> {
    let (mut forms, item_lines) = read(text)?;
    if let [(Edn::Seq(_), _)] = forms.as_slice() {
        if let Some((Edn::Seq(items), _)) = forms.pop() {
            return Ok(items.into_iter().zip(item_lines).collect());
        }
    }
    Ok(forms)
}

/// Forms (or elements), each with the line it starts on.
type Located = Vec<(Edn, usize)>;

/// The forms, and the lines of the elements of top-level sequences.
fn read(text: &str) -> Result<(Located, Vec<usize>), EdnError> {
    let mut r = Reader {
        s: text.as_bytes(),
        text,
        pos: 0,
        line: 1,
        depth: 0,
        item_lines: Vec::new(),
    };
    let mut out = Vec::new();
    loop {
        r.skip_space()?;
        if r.pos >= r.s.len() {
            return Ok((out, r.item_lines));
        }
        let line = r.line;
        if let Some(v) = r.form()? {
            out.push((v, line));
        }
    }
}

struct Reader<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    line: usize,
    /// Nesting depth of `until`.
    depth: usize,
    /// Start lines of the elements of top-level sequences.
    item_lines: Vec<usize>,
}

impl Reader<'_> {
    fn err<T>(&self, message: impl Into<String>) -> Result<T, EdnError> {
        Err(EdnError {
            line: self.line,
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        if c == b'\n' {
            self.line += 1;
        }
        Some(c)
    }

    /// Skips whitespace, commas, comments and `#_` discarded forms.
    fn skip_space(&mut self) -> Result<(), EdnError> {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                    self.bump();
                }
                b';' => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.bump();
                    }
                }
                b'#' if self.s.get(self.pos + 1) == Some(&b'_') => {
                    self.pos += 2;
                    self.skip_space()?;
                    self.form()?;
                }
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    /// One form; `None` for a closing delimiter (the caller checks which).
    fn form(&mut self) -> Result<Option<Edn>, EdnError> {
        self.skip_space()?;
        let Some(c) = self.peek() else {
            return self.err("unexpected end of input");
        };
        match c {
            b'{' => {
                self.bump();
                let items = self.until(b'}')?;
                if items.len() % 2 != 0 {
                    return self.err("a map needs an even number of forms");
                }
                let mut it = items.into_iter();
                let mut entries = Vec::new();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    entries.push((k, v));
                }
                Ok(Some(Edn::Map(entries)))
            }
            b'[' => {
                self.bump();
                Ok(Some(Edn::Seq(self.until(b']')?)))
            }
            b'(' => {
                self.bump();
                Ok(Some(Edn::Seq(self.until(b')')?)))
            }
            b'#' => {
                self.bump();
                if self.peek() == Some(b'{') {
                    self.bump();
                    return Ok(Some(Edn::Seq(self.until(b'}')?)));
                }
                // a tagged element: drop the tag, keep the value
                self.token();
                self.form()
            }
            b'"' => self.string().map(Some),
            b'}' | b']' | b')' => self.err(format!("unexpected `{}`", c as char)),
            b'\\' => {
                self.bump();
                let t = self.token();
                Ok(Some(Edn::Str(t)))
            }
            _ => {
                let t = self.token();
                if t.is_empty() {
                    return self.err(format!("unexpected character `{}`", c as char));
                }
                Ok(Some(atom(t)))
            }
        }
    }

    /// Forms up to the closing `end`.
    fn until(&mut self, end: u8) -> Result<Vec<Edn>, EdnError> {
        self.depth += 1;
        let items = self.items(end);
        self.depth -= 1;
        items
    }

    fn items(&mut self, end: u8) -> Result<Vec<Edn>, EdnError> {
        let start = self.line;
        let mut items = Vec::new();
        loop {
            self.skip_space()?;
            match self.peek() {
                None => {
                    return Err(EdnError {
                        line: start,
                        message: format!("`{}` opened here is never closed", open_of(end)),
                    })
                }
                Some(c) if c == end => {
                    self.bump();
                    return Ok(items);
                }
                Some(_) => {
                    let line = self.line;
                    let form = self.form()?;
                    if self.depth == 1 && end != b'}' && form.is_some() {
                        self.item_lines.push(line);
                    }
                    items.extend(form);
                }
            }
        }
    }

    fn token(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if matches!(
                c,
                b' ' | b'\t'
                    | b'\n'
                    | b'\r'
                    | b','
                    | b'{'
                    | b'}'
                    | b'['
                    | b']'
                    | b'('
                    | b')'
                    | b'"'
                    | b';'
            ) {
                break;
            }
            self.bump();
        }
        self.text[start..self.pos].to_string()
    }

    fn string(&mut self) -> Result<Edn, EdnError> {
        let start = self.line;
        self.bump();
        let mut out = String::new();
        let mut chunk = self.pos;
        loop {
            match self.peek() {
                None => {
                    return Err(EdnError {
                        line: start,
                        message: "a string opened here is never closed".into(),
                    })
                }
                Some(b'"') => {
                    out.push_str(&self.text[chunk..self.pos]);
                    self.bump();
                    return Ok(Edn::Str(out));
                }
                Some(b'\\') => {
                    out.push_str(&self.text[chunk..self.pos]);
                    self.bump();
                    match self.bump() {
                        Some(b'n') => out.push('\n'),
                        Some(b't') => out.push('\t'),
                        Some(b'r') => out.push('\r'),
                        Some(c @ (b'"' | b'\\')) => out.push(c as char),
                        Some(c) => return self.err(format!("unknown escape `\\{}`", c as char)),
                        None => return self.err("unexpected end of input in a string"),
                    }
                    chunk = self.pos;
                }
                Some(_) => {
                    self.bump();
                }
            }
        }
    }
}

fn open_of(end: u8) -> char {
    match end {
        b'}' => '{',
        b']' => '[',
        _ => '(',
    }
}

fn atom(t: String) -> Edn {
    match t.as_str() {
        "nil" => return Edn::Nil,
        "true" => return Edn::Bool(true),
        "false" => return Edn::Bool(false),
        _ => {}
    }
    if let Some(k) = t.strip_prefix(':') {
        return Edn::Keyword(k.to_string());
    }
    let first = t.as_bytes()[0];
    let numeric = first.is_ascii_digit()
        || (matches!(first, b'-' | b'+') && t.as_bytes().get(1).is_some_and(u8::is_ascii_digit));
    if numeric {
        return match t.trim_end_matches('N').parse::<i64>() {
            Ok(i) => Edn::Int(i),
            Err(_) => Edn::Number(t),
        };
    }
    Edn::Symbol(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_jepsen_op_and_tracks_lines() {
        let text = "; a comment\n[{:type :invoke, :f :cas, :value [1 2], :process 3, :time 12N}\n #_ {:skipped 1}\n #jepsen.history.Op{:type :ok :f :read :value nil :s \"a\\\"b\"}]\n";
        let forms = read_all(text).unwrap();
        assert_eq!(forms.len(), 1);
        assert_eq!(forms[0].1, 2);
        let Edn::Seq(ops) = &forms[0].0 else {
            panic!("{forms:?}")
        };
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0].get("type"), Some(&Edn::Keyword("invoke".into())));
        assert_eq!(
            ops[0].get("value"),
            Some(&Edn::Seq(vec![Edn::Int(1), Edn::Int(2)]))
        );
        assert_eq!(ops[0].get("time"), Some(&Edn::Int(12)));
        assert_eq!(ops[1].get("value"), Some(&Edn::Nil));
        assert_eq!(ops[1].get("s"), Some(&Edn::Str("a\"b".into())));
    }

    #[test]
    fn errors_name_the_line() {
        let e = read_all("{:a 1}\n{:b [1 2}\n").unwrap_err();
        assert_eq!(e.line, 2, "{e:?}");
        let e = read_all("{:a 1}\n\n{:b 2\n").unwrap_err();
        assert_eq!(e.line, 3, "{e:?}");
        assert!(e.message.contains("never closed"));
    }
}
