//! Writing results to disk so that a failure never leaves a half-written file or folder: a
//! file is written beside its destination and renamed over it; an output folder is filled as a
//! temporary sibling and swapped into place, so it holds one complete, current output set or
//! the previous one.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use ctiforge_analyze::Output;

/// Prefix of the temporary files and folders this module makes; any left by a killed run are
/// removed by the next one.
pub const TEMPORARY: &str = ".ctiforge-tmp-";

/// The prefix of `folder`'s own temporary siblings (its staged and its previous set), so that
/// a run cleans only what an earlier run on the same folder left, never the staging folder of
/// another run writing beside it at the same time.
pub fn temporary_prefix(folder: &Path) -> String {
    let name = folder
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    format!("{TEMPORARY}{name}-")
}

/// Writes `bytes` to `path` atomically (readable by others, like any output file).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let parent = parent_of(path);
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMPORARY).suffix(".tmp");
    // Temporary files are private (0600); outputs are ordinary, shareable files.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut file = builder
        .tempfile_in(parent)
        .with_context(|| format!("cannot create a file in {}", parent.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The folder `path` is in (`.` for a bare name).
pub fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Checks, before any work, that `folder` can be an output folder: it is a folder or does not
/// exist yet, and its parent exists and can be written.
pub fn check_folder(folder: &Path) -> anyhow::Result<()> {
    if folder.file_name().is_none() {
        bail!(
            "-o {} names no folder of its own; give a named output folder such as out/",
            folder.display()
        );
    }
    if folder.exists() && !folder.is_dir() {
        bail!(
            "output {} exists and is not a folder; choose another -o",
            folder.display()
        );
    }
    let parent = parent_of(folder);
    std::fs::create_dir_all(parent).with_context(|| {
        format!(
            "cannot create the output folder's parent {}",
            parent.display()
        )
    })?;
    let probe = tempfile::Builder::new()
        .prefix(TEMPORARY)
        .tempfile_in(parent)
        .with_context(|| format!("cannot write in {}; choose another -o", parent.display()))?;
    drop(probe);
    Ok(())
}

/// Replaces `folder` with exactly `files` (relative names and bytes): they are written into a
/// temporary sibling, which is then renamed into place. The previous content is removed only
/// once the new set is complete. A folder that exists must be one ctiforge wrote (it holds
/// [`MARKER`]), so that `-o` never deletes someone's own files.
pub fn replace_folder(folder: &Path, files: &[Output]) -> anyhow::Result<()> {
    let parent = parent_of(folder);
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    ensure_replaceable(folder)?;
    let staging = tempfile::Builder::new()
        .prefix(&temporary_prefix(folder))
        .tempdir_in(parent)
        .with_context(|| format!("cannot create a folder in {}", parent.display()))?;
    let marker = Output {
        name: MARKER.to_owned(),
        bytes: format!("written by ctiforge {}\n", env!("CARGO_PKG_VERSION")).into_bytes(),
    };
    for Output { name, bytes } in files.iter().chain(std::iter::once(&marker)) {
        let path = staging.path().join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(staging.path(), std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot set permissions of {}", staging.path().display()))?;
    }
    let staged = staging.keep();
    let old = if folder.exists() {
        let old = parent.join(format!("{}old", temporary_prefix(folder)));
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(folder, &old)
            .with_context(|| format!("cannot move the previous {} aside", folder.display()))?;
        Some(old)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(&staged, folder) {
        // Put the previous set back; the new one stays staged for the next run to clean.
        if let Some(old) = &old {
            let _ = std::fs::rename(old, folder);
        }
        return Err(e)
            .with_context(|| format!("cannot move the new outputs into {}", folder.display()));
    }
    if let Some(old) = old {
        std::fs::remove_dir_all(&old)
            .with_context(|| format!("cannot remove the previous outputs {}", old.display()))?;
    }
    Ok(())
}

/// The file that marks a folder as ctiforge's output, which a later run may replace.
pub const MARKER: &str = ".ctiforge-output";

/// Refuses to replace a folder that holds files but no [`MARKER`].
fn ensure_replaceable(folder: &Path) -> anyhow::Result<()> {
    let Ok(mut entries) = std::fs::read_dir(folder) else {
        return Ok(());
    };
    if entries.next().is_some() && !folder.join(MARKER).is_file() {
        bail!(
            "{} holds files that ctiforge did not write; give -o an empty or new folder (ctiforge replaces the whole folder with each run)",
            folder.display()
        );
    }
    Ok(())
}

/// Removes the temporary files and folders whose names start with `prefix` that a killed run
/// left in `parent` (`TEMPORARY` for all of them, [`temporary_prefix`] for one folder's);
/// call it once before a batch, not while one runs.
pub fn clean_leftovers(parent: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let leftovers: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect();
    for path in leftovers {
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(name: &str, bytes: &[u8]) -> Output {
        Output {
            name: name.to_owned(),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn atomic_write_replaces_the_file_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("kb.bin");
        write_atomic(&path, b"first").expect("write");
        write_atomic(&path, b"second").expect("overwrite");
        assert_eq!(std::fs::read(&path).expect("read"), b"second");
        let leftovers = std::fs::read_dir(dir.path()).expect("list").count();
        assert_eq!(leftovers, 1, "no temporary files are left behind");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o644, "the file is readable by others");
        }
        let missing_dir = dir.path().join("no/such/dir/kb.bin");
        let err = write_atomic(&missing_dir, b"x").expect_err("cannot write");
        assert!(format!("{err:#}").contains("no/such/dir"), "{err:#}");
    }

    #[test]
    fn a_folder_is_replaced_by_the_new_set_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let first = vec![
            output("report.md", b"one"),
            output("sigma/a.yml", b"a"),
            output("sigma/b.yml", b"b"),
        ];
        replace_folder(&out, &first).expect("first run");
        // A killed run's leftovers are cleaned before the next one.
        std::fs::create_dir(dir.path().join(format!("{}stale", temporary_prefix(&out))))
            .expect("mkdir");
        // Another run's staging beside it, in the same parent, is not touched.
        let other = dir
            .path()
            .join(format!("{}busy", temporary_prefix(&dir.path().join("x"))));
        std::fs::create_dir(&other).expect("mkdir");
        clean_leftovers(dir.path(), &temporary_prefix(&out));
        assert!(other.is_dir(), "another folder's staging is left alone");
        std::fs::remove_dir(&other).expect("rmdir");
        let second = vec![output("report.md", b"two"), output("sigma/c.yml", b"c")];
        replace_folder(&out, &second).expect("second run");
        assert_eq!(std::fs::read(out.join("report.md")).expect("read"), b"two");
        assert!(out.join("sigma/c.yml").exists());
        assert!(!out.join("sigma/a.yml").exists(), "stale rules are gone");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["out"], "no temporary folder is left behind");
        assert!(out.join(MARKER).is_file());
    }

    #[test]
    fn a_folder_of_other_files_is_never_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("thesis.docx"), b"precious").expect("write");
        let err = replace_folder(dir.path(), &[output("report.md", b"x")]).expect_err("refused");
        assert!(format!("{err:#}").contains("did not write"), "{err:#}");
        assert!(dir.path().join("thesis.docx").is_file());
        assert!(check_folder(Path::new(".")).is_err(), "-o . is refused");
    }

    #[test]
    fn a_file_where_the_folder_should_be_is_refused_early() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("taken");
        std::fs::write(&file, b"x").expect("write");
        let err = check_folder(&file).expect_err("refused");
        assert!(format!("{err:#}").contains("is not a folder"), "{err:#}");
        check_folder(&dir.path().join("new/out")).expect("a new folder is fine");
    }
}
