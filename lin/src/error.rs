//! [`HistoryError`]: what is wrong with a history, naming the line and the field. A leaf module:
//! the types ([`crate::history`]), the reader ([`crate::parse`]) and the foreign readers all
//! report through it, and it depends on none of them.

/// A malformed history: the 1-based line (0 for an operation built in memory), the field at fault
/// (if one is), and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {detail}")]
pub struct HistoryError {
    /// 1-based line number.
    pub line: usize,
    /// The field at fault, if the error is about one.
    pub field: Option<String>,
    /// What is wrong (without the line).
    pub message: String,
    /// `field` and `message` as printed.
    detail: String,
}

impl HistoryError {
    /// An error about `field` on `line`.
    pub fn field(line: usize, field: &str, message: impl Into<String>) -> HistoryError {
        let message = message.into();
        HistoryError {
            line,
            field: Some(field.to_string()),
            detail: format!("field `{field}`: {message}"),
            message,
        }
    }

    /// An error about the whole `line`.
    pub fn line(line: usize, message: impl Into<String>) -> HistoryError {
        let message = message.into();
        HistoryError {
            line,
            field: None,
            detail: message.clone(),
            message,
        }
    }
}
