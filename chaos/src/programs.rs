//! Finding the sibling programs chaos runs (`control-plane`, `node-agent`).

use std::path::{Path, PathBuf};

/// `name` beside this executable (or one directory up, for test binaries
/// under `deps/`), else on the PATH.
pub fn find(name: &str) -> Option<PathBuf> {
    if let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        for cand in [dir.join(name), dir.join("..").join(name)] {
            if cand.is_file() {
                return Some(cand);
            }
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|c| c.is_file())
}
