//! Reading the files a user names, bounded: a path must be a regular file (or `-` for stdin);
//! FIFOs, devices, sockets and directories are refused before anything is read (reading one
//! could block forever or never end), and so is a file larger than the documented limit. An
//! output path that is one of the inputs is refused too (it would be overwritten while read).

use std::io::Read;
use std::path::Path;

/// Largest scenario file (4 MiB: a scenario is a hand-written experiment and the built-ins are
/// a few KiB; 4 MiB of the densest TOML parses in under a second in a release build).
pub const MAX_SCENARIO_BYTES: u64 = 4 * 1024 * 1024;

/// Largest trace file (256 MiB; a trace of a typical scenario is a few KiB).
pub const MAX_TRACE_BYTES: u64 = 256 * 1024 * 1024;

/// Largest history file for `synclab check` (2 GiB: a 10-million-operation history is about 1 GB).
pub const MAX_HISTORY_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// What kind of file system object `meta` describes, for a message.
fn kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Reads `path` (`-` = stdin) as UTF-8 text of at most `max` bytes; `what` names the file in
/// messages ("trace", "scenario").
pub fn read_text(path: &str, max: u64, what: &str) -> Result<String, String> {
    let too_big = || format!("{what} {path}: larger than the limit of {max} bytes");
    let mut bytes = Vec::new();
    if path == "-" {
        std::io::stdin()
            .lock()
            .take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{what} from stdin: cannot read: {e}"))?;
    } else {
        let meta = std::fs::metadata(path).map_err(|e| format!("{what} {path}: {e}"))?;
        if !meta.is_file() {
            return Err(format!(
                "{what} {path}: is {}; give a regular file or `-` for stdin",
                kind(&meta)
            ));
        }
        if meta.len() > max {
            return Err(too_big());
        }
        std::fs::File::open(path)
            .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
            .map_err(|e| format!("{what} {path}: cannot read: {e}"))?;
    }
    if bytes.len() as u64 > max {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{what} {path}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Refuses `output` when it is one of `inputs` (the same file, by device and inode, or the same
/// path when it does not exist yet), or an existing directory.
pub fn check_output(output: &str, inputs: &[&str]) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let out_meta = std::fs::metadata(output).ok();
    if out_meta.as_ref().is_some_and(|m| m.is_dir()) {
        return Err(format!("output {output}: is a directory"));
    }
    for input in inputs.iter().filter(|i| **i != "-") {
        let same = match (&out_meta, std::fs::metadata(input)) {
            (Some(o), Ok(i)) => o.dev() == i.dev() && o.ino() == i.ino(),
            _ => Path::new(output) == Path::new(input),
        };
        if same {
            return Err(format!(
                "output {output} is the input {input}: it would be overwritten while it is read; \
                 write somewhere else"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_devices_and_oversized_files_are_refused() {
        let e = read_text("/", 10, "trace").unwrap_err();
        assert!(e.contains("is a directory"), "{e}");
        let e = read_text("/dev/zero", 10, "trace").unwrap_err();
        assert!(e.contains("is a device"), "{e}");
        let dir = std::env::temp_dir().join(format!("synclab-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("big.txt");
        std::fs::write(&f, "0123456789ab").unwrap();
        let e = read_text(f.to_str().unwrap(), 10, "trace").unwrap_err();
        assert!(e.contains("limit of 10 bytes"), "{e}");
        assert_eq!(
            read_text(f.to_str().unwrap(), 12, "trace").unwrap(),
            "0123456789ab"
        );
        let same = check_output(f.to_str().unwrap(), &[f.to_str().unwrap()]).unwrap_err();
        assert!(same.contains("would be overwritten"), "{same}");
        assert!(check_output(dir.join("other").to_str().unwrap(), &[f.to_str().unwrap()]).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
