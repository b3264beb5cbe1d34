//! The replica image, built locally from the project's own binary.
//!
//! Guarantees:
//! - Nothing is pulled: the image is `FROM scratch` and its whole root file
//!   system comes from this machine — the binary at
//!   `/usr/local/bin/control-plane`, every shared library `ldd` resolves for it
//!   and the dynamic loader, each at the path `ldd` printed (symlinks are
//!   followed, so the image holds real file content), plus empty `/data`
//!   (mode 0755) and `/tmp` (mode 1777) directories.
//! - The tag is `helmsman/control-plane:<first 12 hex digits of the binary's
//!   SHA-256>`; an existing tag is reused without building.
//! - The build context is assembled in memory (a tar with a `Dockerfile` and a
//!   `rootfs/` tree) and sent to the engine's classic builder; no file is
//!   written to disk.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

use bollard::query_parameters::{BuildImageOptionsBuilder, ListImagesOptionsBuilder, RemoveImageOptions};
use bollard::Docker;
use futures::StreamExt;
use sha2::{Digest, Sha256};

use super::docker_status;
use crate::cluster::HarnessError;

/// Repository part of the image reference.
pub const IMAGE_REPO: &str = "helmsman/control-plane";
/// Where the binary lives inside the image (also its entrypoint).
pub const BINARY_IN_IMAGE: &str = "/usr/local/bin/control-plane";

/// Makes sure `helmsman/control-plane:<hash>` exists for `binary` (building it
/// when missing) and returns the full image reference.
pub async fn ensure_image(docker: &Docker, binary: &Path) -> Result<String, HarnessError> {
    let path = binary.to_path_buf();
    let (content, tag) = tokio::task::spawn_blocking(move || -> Result<(Vec<u8>, String), HarnessError> {
        let content = std::fs::read(&path)
            .map_err(|e| HarnessError::Setup(format!("cannot read replica binary {}: {e}", path.display())))?;
        let tag = image_tag(&content);
        Ok((content, tag))
    })
    .await
    .map_err(|e| HarnessError::Setup(format!("hashing the replica binary failed: {e}")))??;

    match docker.inspect_image(&tag).await {
        Ok(_) => return Ok(tag),
        Err(e) if docker_status(&e) == Some(404) => {}
        Err(e) => return Err(HarnessError::Setup(format!("cannot inspect image {tag}: {e}"))),
    }

    let path = binary.to_path_buf();
    let context = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, HarnessError> {
        let libs = shared_libraries(&path)?;
        build_context(content, &libs)
    })
    .await
    .map_err(|e| HarnessError::Setup(format!("assembling the image context failed: {e}")))??;

    eprintln!("chaos: building image {tag} from {} ({} MiB)", binary.display(), context.len().div_ceil(1 << 20));
    let options = BuildImageOptionsBuilder::default().dockerfile("Dockerfile").t(&tag).rm(true).forcerm(true).build();
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    let mut tail: Vec<String> = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(line) = info.stream.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
                    tail.push(line.to_string());
                    if tail.len() > 8 {
                        tail.remove(0);
                    }
                }
            }
            Err(e) => {
                return Err(HarnessError::Setup(format!(
                    "building image {tag} failed: {e}; builder output: {}",
                    tail.join(" | ")
                )))
            }
        }
    }
    docker.inspect_image(&tag).await.map_err(|e| {
        HarnessError::Setup(format!("image {tag} missing after its build ({e}); builder output: {}", tail.join(" | ")))
    })?;
    Ok(tag)
}

/// Removes every `helmsman/control-plane:*` tag except `keep` (each image is
/// hundreds of MiB and a new one appears per rebuilt binary). Tags still used
/// by a container are left alone. Returns the tags removed.
pub async fn remove_stale_images(docker: &Docker, keep: &str) -> Result<Vec<String>, HarnessError> {
    remove_stale_tags(docker, IMAGE_REPO, keep).await
}

/// [`remove_stale_images`] for any repository.
pub(crate) async fn remove_stale_tags(docker: &Docker, repo: &str, keep: &str) -> Result<Vec<String>, HarnessError> {
    let filters = std::collections::HashMap::from([("reference".to_string(), vec![format!("{repo}:*")])]);
    let images = docker
        .list_images(Some(ListImagesOptionsBuilder::default().filters(&filters).build()))
        .await
        .map_err(|e| HarnessError::Setup(format!("cannot list images: {e}")))?;
    let mut removed = Vec::new();
    for tag in images.iter().flat_map(|img| img.repo_tags.iter()) {
        if tag == keep || !tag.starts_with(&format!("{repo}:")) {
            continue;
        }
        // Without force Docker refuses to remove an image a container uses.
        if docker.remove_image(tag, None::<RemoveImageOptions>, None).await.is_ok() {
            removed.push(tag.clone());
        }
    }
    Ok(removed)
}

/// `helmsman/control-plane:<first 12 hex digits of sha256(content)>`.
pub fn image_tag(content: &[u8]) -> String {
    let digest = Sha256::digest(content);
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{IMAGE_REPO}:{hex}")
}

/// Runs `ldd binary` and returns the absolute paths it resolved (libraries
/// and the dynamic loader), or nothing for a static binary.
fn shared_libraries(binary: &Path) -> Result<Vec<PathBuf>, HarnessError> {
    let out = Command::new("ldd").arg(binary).output().map_err(|e| {
        HarnessError::Setup(format!("cannot run `ldd {}` ({e}); install ldd (libc-bin)", binary.display()))
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let all = format!("{stdout}{stderr}");
    if all.contains("not a dynamic executable") || all.contains("statically linked") {
        return Ok(Vec::new());
    }
    if !out.status.success() {
        return Err(HarnessError::Setup(format!("`ldd {}` failed ({}): {}", binary.display(), out.status, all.trim())));
    }
    parse_ldd(&stdout).map_err(|e| HarnessError::Setup(format!("`ldd {}`: {e}", binary.display())))
}

/// Extracts the resolved absolute paths from `ldd` output, in order, without
/// duplicates. Entries without a path (the vDSO) are skipped; an unresolved
/// library is an error.
pub fn parse_ldd(output: &str) -> Result<Vec<PathBuf>, String> {
    let mut paths: Vec<PathBuf> = Vec::new();
    for line in output.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let target = match line.split_once("=>") {
            Some((name, rest)) => {
                let rest = rest.trim();
                if rest.starts_with("not found") {
                    return Err(format!("shared library {} not found", name.trim()));
                }
                rest
            }
            None => line,
        };
        let Some(first) = target.split_whitespace().next() else { continue };
        if !first.starts_with('/') {
            // `linux-vdso.so.1 (0x...)` or `=> (0x...)`: provided by the kernel.
            continue;
        }
        let p = PathBuf::from(first);
        if !paths.contains(&p) {
            paths.push(p);
        }
    }
    Ok(paths)
}

/// Path of `abs` below `rootfs/` in the build context; `None` for paths that
/// are not plain absolute paths (no `..`).
fn rootfs_entry(abs: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::from("rootfs");
    let mut any = false;
    for c in abs.components() {
        match c {
            Component::RootDir => {}
            Component::Normal(s) => {
                out.push(s);
                any = true;
            }
            _ => return None,
        }
    }
    any.then_some(out)
}

/// The build context: `Dockerfile` plus `rootfs/` holding the binary, the
/// libraries (content read through symlinks, mode of the target), and empty
/// `/data` and `/tmp`. Every parent directory gets an explicit entry.
fn build_context(binary: Vec<u8>, libs: &[PathBuf]) -> Result<Vec<u8>, HarnessError> {
    use std::os::unix::fs::PermissionsExt;

    // context path -> (mode, content); `None` content = directory.
    let mut entries: BTreeMap<PathBuf, (u32, Option<Vec<u8>>)> = BTreeMap::new();
    fn add_parents(entries: &mut BTreeMap<PathBuf, (u32, Option<Vec<u8>>)>, p: &Path) {
        let mut cur = p.parent();
        while let Some(dir) = cur.filter(|d| !d.as_os_str().is_empty()) {
            entries.entry(dir.to_path_buf()).or_insert((0o755, None));
            cur = dir.parent();
        }
    }
    for dir in ["rootfs/data", "rootfs/tmp"] {
        let mode = if dir.ends_with("tmp") { 0o1777 } else { 0o755 };
        add_parents(&mut entries, Path::new(dir));
        entries.insert(PathBuf::from(dir), (mode, None));
    }
    let bin_entry = rootfs_entry(Path::new(BINARY_IN_IMAGE))
        .ok_or_else(|| HarnessError::Setup("bad binary path in image".to_string()))?;
    add_parents(&mut entries, &bin_entry);
    entries.insert(bin_entry, (0o755, Some(binary)));
    for lib in libs {
        let entry = rootfs_entry(lib)
            .ok_or_else(|| HarnessError::Setup(format!("ldd printed an unusable path {}", lib.display())))?;
        let content = std::fs::read(lib)
            .map_err(|e| HarnessError::Setup(format!("cannot read shared library {}: {e}", lib.display())))?;
        let mode = std::fs::metadata(lib).map(|m| m.permissions().mode() & 0o7777).unwrap_or(0o755);
        add_parents(&mut entries, &entry);
        entries.insert(entry, (mode, Some(content)));
    }

    let dockerfile = format!(
        "FROM scratch\nCOPY rootfs/ /\nLABEL io.helmsman.chaos.image=\"1\"\nENTRYPOINT [\"{BINARY_IN_IMAGE}\"]\n"
    );
    let mut tar = tar::Builder::new(Vec::new());
    let io = |e: std::io::Error| HarnessError::Setup(format!("building the image context failed: {e}"));
    append_file(&mut tar, Path::new("Dockerfile"), 0o644, dockerfile.as_bytes()).map_err(io)?;
    // BTreeMap order puts every directory before its contents.
    for (path, (mode, content)) in &entries {
        match content {
            Some(bytes) => append_file(&mut tar, path, *mode, bytes).map_err(io)?,
            None => {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(*mode);
                h.set_size(0);
                h.set_mtime(0);
                tar.append_data(&mut h, path, std::io::empty()).map_err(io)?;
            }
        }
    }
    tar.into_inner().map_err(io)
}

fn append_file(tar: &mut tar::Builder<Vec<u8>>, path: &Path, mode: u32, bytes: &[u8]) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(mode);
    h.set_size(bytes.len() as u64);
    h.set_mtime(0);
    tar.append_data(&mut h, path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_typical_ldd_output() {
        let out = "\tlinux-vdso.so.1 (0x00007ffd5b5f2000)\n\
                   \tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f1)\n\
                   \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2)\n\
                   \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2)\n\
                   \t/lib64/ld-linux-x86-64.so.2 (0x00007f3)\n";
        let got = parse_ldd(out).unwrap();
        assert_eq!(
            got,
            vec![
                PathBuf::from("/lib/x86_64-linux-gnu/libstdc++.so.6"),
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2"),
            ]
        );
    }

    #[test]
    fn unresolved_library_is_an_error() {
        let err = parse_ldd("\tlibfoo.so.1 => not found\n").unwrap_err();
        assert!(err.contains("libfoo.so.1"), "{err}");
    }

    #[test]
    fn tag_is_repo_plus_12_hex() {
        let tag = image_tag(b"hello");
        // sha256("hello") = 2cf24dba5fb0a30e...
        assert_eq!(tag, "helmsman/control-plane:2cf24dba5fb0");
    }

    #[test]
    fn rootfs_entry_rejects_relative_and_dotdot() {
        assert_eq!(rootfs_entry(Path::new("/lib/a.so")), Some(PathBuf::from("rootfs/lib/a.so")));
        assert_eq!(rootfs_entry(Path::new("/lib/../etc/x")), None);
        assert_eq!(rootfs_entry(Path::new("/")), None);
    }

    #[test]
    fn context_has_dockerfile_binary_libs_and_dirs() {
        let tmp = std::env::temp_dir().join(format!("chaos-ctx-test-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let lib = tmp.join("libx.so.1");
        std::fs::write(&lib, b"LIBX").unwrap();
        let link = tmp.join("libx.so");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&lib, &link).unwrap();
        let ctx = build_context(b"BIN".to_vec(), std::slice::from_ref(&link)).unwrap();
        std::fs::remove_dir_all(&tmp).unwrap();

        let mut archive = tar::Archive::new(ctx.as_slice());
        let mut seen = BTreeMap::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_path_buf();
            let mode = e.header().mode().unwrap();
            let dir = e.header().entry_type().is_dir();
            let mut body = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut body).unwrap();
            seen.insert(path, (mode, dir, body));
        }
        assert!(String::from_utf8_lossy(&seen[Path::new("Dockerfile")].2).starts_with("FROM scratch\n"));
        assert_eq!(seen[Path::new("rootfs/usr/local/bin/control-plane")].2, b"BIN");
        let lib_entry = rootfs_entry(&link).unwrap();
        assert_eq!(seen[&lib_entry].2, b"LIBX", "symlink must be followed");
        assert!(!seen[&lib_entry].1);
        assert_eq!(seen[Path::new("rootfs/tmp")].0, 0o1777);
        assert!(seen[Path::new("rootfs/data")].1);
        assert!(seen[Path::new("rootfs/usr/local/bin")].1);
    }
}
