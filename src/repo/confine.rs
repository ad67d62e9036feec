//! The one way flagctl opens a path of a repository: confined to the repository, read
//! only from regular files of bounded size, written only where no symlink leads.
//!
//! A pull request controls every file of the repository, symlinks included: a symlink to
//! `/proc/self/environ` must not get the environment printed in a diagnostic, one to
//! `/dev/zero` must not eat memory, a FIFO must not hang a read, and a symlinked folder
//! must not let a command write (and then commit) outside the repository.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The largest file flagctl reads from a repository: flag files, `flagctl.toml` and
/// templates are a few kilobytes.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Why a path of the repository is refused; the message names the path and never
/// carries content of the file it points at.
pub type Refusal = String;

/// `rel` (relative to `root`, with `/`) resolved to a path inside the repository: every
/// symlinked component must lead to a place inside `root` and outside `.git`. With
/// `for_write`, no component may be a symlink at all (git does not stage beyond one).
/// Components that do not exist yet are fine.
pub fn resolve(root: &Path, rel: &str, for_write: bool) -> Result<PathBuf, Refusal> {
    let real_root = root
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", root.display()))?;
    let parts: Vec<&str> = rel
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    for part in &parts {
        let component = Path::new(part).components().next();
        if !matches!(component, Some(Component::Normal(_))) || part.contains('\\') {
            return Err(format!("{rel}: not a path inside the repository"));
        }
        if part.eq_ignore_ascii_case(".git") {
            return Err(format!("{rel}: flagctl does not read or write inside .git"));
        }
    }
    let mut current = real_root.clone();
    for (index, part) in parts.iter().enumerate() {
        current.push(part);
        let metadata = match std::fs::symlink_metadata(&current) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                current.extend(&parts[index + 1..]);
                return Ok(current);
            }
            Err(e) => return Err(format!("cannot read {}: {e}", parts[..=index].join("/"))),
        };
        if !metadata.file_type().is_symlink() {
            continue;
        }
        let shown = parts[..=index].join("/");
        if for_write {
            return Err(format!(
                "{shown} is a symlink; flagctl does not write through symlinks (git would not stage the file)"
            ));
        }
        let target = current
            .canonicalize()
            .map_err(|_| format!("{shown} is a broken symlink"))?;
        if !target.starts_with(&real_root) || target.starts_with(real_root.join(".git")) {
            return Err(format!(
                "{shown} is a symlink leading outside the repository; it is not followed"
            ));
        }
        current = target;
    }
    Ok(current)
}

/// The text of the regular file `rel`, `None` when it does not exist. Refused: a path
/// leading outside the repository, a FIFO, device, socket or folder, a file larger than
/// [`MAX_FILE_BYTES`], and text that is not UTF-8.
pub fn read_text(root: &Path, rel: &str) -> Result<Option<String>, Refusal> {
    let path = resolve(root, rel, false)?;
    match open(&path) {
        Ok(file) => read_open(file)
            .map(Some)
            .map_err(|why| format!("{rel}: {why}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {rel}: {e}")),
    }
}

/// Reads a file already known to be inside the repository (found by a walk that does not
/// follow symlinks, or resolved by [`resolve`]), checking what it is first.
pub(crate) fn read_file(path: &Path) -> Result<String, String> {
    let file = open(path).map_err(|e| format!("cannot read the file: {e}"))?;
    read_open(file)
}

/// Opens `path` for reading without waiting and without following a symlink in its last
/// part: opening a FIFO returns at once (a blocking open would wait for a writer), and a
/// file swapped for a symlink since it was resolved is refused. What was opened is then
/// checked on the open file itself, one path lookup per file.
pub(crate) fn open(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    options.open(path)
}

fn read_open(file: std::fs::File) -> Result<String, String> {
    let metadata = file
        .metadata()
        .map_err(|e| format!("cannot read the file: {e}"))?;
    if !metadata.is_file() {
        return Err(format!(
            "{}, not a regular file; it is not read",
            kind_of(&metadata)
        ));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_large(metadata.len()));
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the file: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    utf8(bytes)
}

/// Text from bytes, or why it is not text.
pub(crate) fn utf8(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not UTF-8 (byte {}); save it as UTF-8",
            e.utf8_error().valid_up_to()
        )
    })
}

pub(crate) fn too_large(bytes: u64) -> String {
    format!("the file is {bytes} bytes; flagctl reads files of at most {MAX_FILE_BYTES} bytes")
}

fn kind_of(metadata: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = metadata.file_type();
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if metadata.is_dir() {
        "a folder"
    } else {
        "not a file"
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn repository() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("flags/s")).unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join("flags/s/a.toml"), "a = 1\n").unwrap();
        dir
    }

    #[test]
    fn reads_regular_files_and_symlinks_that_stay_inside() {
        let dir = repository();
        symlink("a.toml", dir.path().join("flags/s/b.toml")).unwrap();
        assert_eq!(
            read_text(dir.path(), "flags/s/b.toml").unwrap().unwrap(),
            "a = 1\n"
        );
        assert_eq!(read_text(dir.path(), "flags/s/none.toml").unwrap(), None);
    }

    #[test]
    fn refuses_what_leads_outside_or_is_no_file() {
        let dir = repository();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "TOKEN=1\n").unwrap();
        symlink(
            outside.path().join("secret"),
            dir.path().join("flagctl.toml"),
        )
        .unwrap();
        symlink(outside.path(), dir.path().join("flags/out")).unwrap();
        symlink("/dev/zero", dir.path().join("flags/s/zero.toml")).unwrap();
        symlink("../../.git", dir.path().join("flags/s/git")).unwrap();
        let fifo = dir.path().join("flags/s/fifo.toml");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        for (rel, why) in [
            ("flagctl.toml", "leading outside"),
            ("flags/out/x.toml", "leading outside"),
            ("flags/s/zero.toml", "leading outside"),
            ("flags/s/git/config", "leading outside"),
            ("flags/s/fifo.toml", "a FIFO"),
            ("flags/s", "a folder"),
            ("../x.toml", "not a path inside"),
            (".git/config", "inside .git"),
        ] {
            let refusal = read_text(dir.path(), rel).unwrap_err();
            assert!(refusal.contains(why), "{rel}: {refusal}");
            assert!(!refusal.contains("TOKEN"), "{rel}: {refusal}");
        }
    }

    #[test]
    fn refuses_large_files_and_writes_through_symlinks() {
        let dir = repository();
        let big = "x".repeat(MAX_FILE_BYTES as usize + 1);
        std::fs::write(dir.path().join("flags/s/big.toml"), big).unwrap();
        let refusal = read_text(dir.path(), "flags/s/big.toml").unwrap_err();
        assert!(refusal.contains("at most"), "{refusal}");
        symlink("s", dir.path().join("flags/t")).unwrap();
        assert!(resolve(dir.path(), "flags/t/a.toml", false).is_ok());
        let refusal = resolve(dir.path(), "flags/t/a.toml", true).unwrap_err();
        assert!(
            refusal.contains("does not write through symlinks"),
            "{refusal}"
        );
        assert!(resolve(dir.path(), "flags/new/x.toml", true).is_ok());
    }
}
