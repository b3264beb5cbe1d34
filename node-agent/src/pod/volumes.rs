//! Pod volumes on the host: materialized under
//! `<root>/pods/<uid>/volumes/<volume-name>` and turned into [`Mount`]s.
//!
//! Guarantees:
//! - `emptyDir` (any medium) is one directory shared by all containers.
//! - `configMap` / `secret` (and their `projected` sources) are written as
//!   one file per key (or per `items` entry at its `path`) with
//!   `defaultMode`/`mode` (default 0644), replacing earlier contents;
//!   they are always mounted read-only. A missing non-optional object or
//!   key is an error (the worker emits `FailedMount` and retries).
//! - `hostPath` is the path itself; `DirectoryOrCreate` / `FileOrCreate`
//!   create it, `Directory` / `File` require it.
//! - Other volume kinds get an empty directory (logged), so a pod is never
//!   blocked by a kind the agent does not know.
//! - Key paths and `subPath` cannot escape the volume (`..`, absolute).
//! - Synchronous file I/O: callers run it off the async threads.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use k8s_openapi::api::core::v1::{Container, KeyToPath, Pod, Volume};

use super::objects::{Objects, Wanted};
use crate::runtime::Mount;

/// Default file mode of configMap / secret files.
const DEFAULT_MODE: i32 = 0o644;

/// Errors materializing volumes or building mounts.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    /// A non-optional ConfigMap does not exist.
    #[error("configmap {0:?} not found")]
    ConfigMapNotFound(String),
    /// A non-optional Secret does not exist.
    #[error("secret {0:?} not found")]
    SecretNotFound(String),
    /// An `items` key is not in the ConfigMap.
    #[error("configmap references non-existent config key: {0}")]
    ConfigMapKey(String),
    /// An `items` key is not in the Secret.
    #[error("secret references non-existent secret key: {0}")]
    SecretKey(String),
    /// A `hostPath` type check failed.
    #[error("hostPath type check failed: {path} is not a {kind}")]
    HostPathType {
        /// The host path.
        path: String,
        /// The expected type.
        kind: String,
    },
    /// A key path or subPath that would leave the volume.
    #[error("invalid path {0:?}: must be relative and must not contain '..'")]
    BadPath(String),
    /// A volumeMount names a volume the pod does not have.
    #[error("volume {0:?} not found in the pod spec")]
    UnknownVolume(String),
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// What was being written.
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

impl VolumeError {
    /// The error with the volume name, as in the kubelet's `FailedMount`
    /// events: `MountVolume.SetUp failed for volume "v" : <error>`.
    pub fn mount_message(&self, volume: &str) -> String {
        format!("MountVolume.SetUp failed for volume {volume:?} : {self}")
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> VolumeError + '_ {
    move |source| VolumeError::Io { path: path.display().to_string(), source }
}

/// One materialized volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostVolume {
    /// Host path (directory, or the hostPath itself).
    pub path: PathBuf,
    /// Always mounted read-only (configMap, secret, projected).
    pub read_only: bool,
}

/// The pod's volumes by name.
pub type Materialized = HashMap<String, HostVolume>;

/// `<root>/pods/<uid>`.
pub fn pod_dir(root: &Path, uid: &str) -> PathBuf {
    root.join("pods").join(uid)
}

/// The ConfigMaps and Secrets the pod's volumes refer to.
pub fn wanted(pod: &Pod) -> Wanted {
    let mut w = Wanted::default();
    for v in volumes(pod) {
        if let Some(cm) = &v.config_map {
            w.config_maps.insert(cm.name.clone());
        }
        if let Some(name) = v.secret.as_ref().and_then(|s| s.secret_name.clone()) {
            w.secrets.insert(name);
        }
        for s in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            if let Some(cm) = &s.config_map {
                w.config_maps.insert(cm.name.clone());
            }
            if let Some(sec) = &s.secret {
                w.secrets.insert(sec.name.clone());
            }
        }
    }
    w
}

fn volumes(pod: &Pod) -> &[Volume] {
    pod.spec.as_ref().and_then(|s| s.volumes.as_deref()).unwrap_or(&[])
}

/// True when the pod has volumes to materialize.
pub fn has_volumes(pod: &Pod) -> bool {
    !volumes(pod).is_empty()
}

fn check_relative(p: &str) -> Result<(), VolumeError> {
    let path = Path::new(p);
    if p.is_empty() || path.is_absolute() || path.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(VolumeError::BadPath(p.to_string()));
    }
    Ok(())
}

fn write_file(dir: &Path, rel: &str, data: &[u8], mode: i32) -> Result<(), VolumeError> {
    check_relative(rel)?;
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    fs::write(&path, data).map_err(io_err(&path))?;
    fs::set_permissions(&path, fs::Permissions::from_mode((mode & 0o777) as u32)).map_err(io_err(&path))
}

/// Write `data` (key → bytes) into `dir`, honouring `items` and modes.
fn write_keys(
    dir: &Path,
    data: &[(&str, &[u8])],
    items: Option<&Vec<KeyToPath>>,
    default_mode: Option<i32>,
    optional: bool,
    missing_key: impl Fn(String) -> VolumeError,
) -> Result<(), VolumeError> {
    let mode = default_mode.unwrap_or(DEFAULT_MODE);
    match items {
        None => {
            for (k, v) in data {
                write_file(dir, k, v, mode)?;
            }
        }
        Some(items) => {
            for it in items {
                match data.iter().find(|(k, _)| *k == it.key) {
                    Some((_, v)) => write_file(dir, &it.path, v, it.mode.unwrap_or(mode))?,
                    None if optional => {}
                    None => return Err(missing_key(it.key.clone())),
                }
            }
        }
    }
    Ok(())
}

fn config_map_data<'o>(objects: &'o Objects, name: &str) -> Option<Vec<(&'o str, &'o [u8])>> {
    let cm = objects.config_map(name)?;
    let mut out: Vec<(&str, &[u8])> = cm.data.iter().flatten().map(|(k, v)| (k.as_str(), v.as_bytes())).collect();
    out.extend(cm.binary_data.iter().flatten().map(|(k, v)| (k.as_str(), v.0.as_slice())));
    Some(out)
}

fn secret_data<'o>(objects: &'o Objects, name: &str) -> Option<Vec<(&'o str, &'o [u8])>> {
    let s = objects.secret(name)?;
    let mut out: Vec<(&str, &[u8])> = s.data.iter().flatten().map(|(k, v)| (k.as_str(), v.0.as_slice())).collect();
    out.extend(s.string_data.iter().flatten().map(|(k, v)| (k.as_str(), v.as_bytes())));
    Some(out)
}

fn fresh_dir(dir: &Path) -> Result<(), VolumeError> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(io_err(dir))?;
    }
    fs::create_dir_all(dir).map_err(io_err(dir))
}

fn host_path(path: &str, kind: Option<&str>) -> Result<(), VolumeError> {
    let p = Path::new(path);
    let wrong = |kind: &str| VolumeError::HostPathType { path: path.to_string(), kind: kind.to_string() };
    match kind.unwrap_or("") {
        "DirectoryOrCreate" => fs::create_dir_all(p).map_err(io_err(p))?,
        "Directory" if !p.is_dir() => return Err(wrong("directory")),
        "FileOrCreate" if !p.exists() => {
            if let Some(parent) = p.parent() {
                fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            fs::write(p, b"").map_err(io_err(p))?;
            fs::set_permissions(p, fs::Permissions::from_mode(0o644)).map_err(io_err(p))?;
        }
        "File" if !p.is_file() => return Err(wrong("file")),
        "Socket" | "CharDevice" | "BlockDevice" if !p.exists() => return Err(wrong(kind.unwrap_or(""))),
        _ => {}
    }
    Ok(())
}

/// Materialize every volume of `pod`; on error, the name of the failing
/// volume and the error.
pub fn materialize(root: &Path, pod: &Pod, objects: &Objects) -> Result<Materialized, (String, VolumeError)> {
    let uid = pod.metadata.uid.as_deref().unwrap_or("");
    let base = pod_dir(root, uid).join("volumes");
    let mut out = Materialized::new();
    for v in volumes(pod) {
        let one = || -> Result<HostVolume, VolumeError> {
            let dir = base.join(&v.name);
            if let Some(hp) = &v.host_path {
                host_path(&hp.path, hp.type_.as_deref())?;
                return Ok(HostVolume { path: PathBuf::from(&hp.path), read_only: false });
            }
            if let Some(cm) = &v.config_map {
                let optional = cm.optional == Some(true);
                fresh_dir(&dir)?;
                match config_map_data(objects, &cm.name) {
                    Some(data) => write_keys(&dir, &data, cm.items.as_ref(), cm.default_mode, optional, |k| {
                        VolumeError::ConfigMapKey(k)
                    })?,
                    None if optional => {}
                    None => return Err(VolumeError::ConfigMapNotFound(cm.name.clone())),
                }
                return Ok(HostVolume { path: dir, read_only: true });
            }
            if let Some(s) = &v.secret {
                let optional = s.optional == Some(true);
                let name = s.secret_name.clone().unwrap_or_default();
                fresh_dir(&dir)?;
                match secret_data(objects, &name) {
                    Some(data) => write_keys(&dir, &data, s.items.as_ref(), s.default_mode, optional, |k| {
                        VolumeError::SecretKey(k)
                    })?,
                    None if optional => {}
                    None => return Err(VolumeError::SecretNotFound(name)),
                }
                return Ok(HostVolume { path: dir, read_only: true });
            }
            if let Some(p) = &v.projected {
                fresh_dir(&dir)?;
                for s in p.sources.iter().flatten() {
                    if let Some(cm) = &s.config_map {
                        let optional = cm.optional == Some(true);
                        match config_map_data(objects, &cm.name) {
                            Some(data) => write_keys(&dir, &data, cm.items.as_ref(), p.default_mode, optional, |k| {
                                VolumeError::ConfigMapKey(k)
                            })?,
                            None if optional => {}
                            None => return Err(VolumeError::ConfigMapNotFound(cm.name.clone())),
                        }
                    }
                    if let Some(sec) = &s.secret {
                        let optional = sec.optional == Some(true);
                        match secret_data(objects, &sec.name) {
                            Some(data) => write_keys(&dir, &data, sec.items.as_ref(), p.default_mode, optional, |k| {
                                VolumeError::SecretKey(k)
                            })?,
                            None if optional => {}
                            None => return Err(VolumeError::SecretNotFound(sec.name.clone())),
                        }
                    }
                }
                return Ok(HostVolume { path: dir, read_only: true });
            }
            if v.empty_dir.is_none() {
                tracing::warn!(volume = %v.name, pod_uid = %uid, "unsupported volume kind, using an empty directory");
            }
            fs::create_dir_all(&dir).map_err(io_err(&dir))?;
            Ok(HostVolume { path: dir, read_only: false })
        };
        let hv = one().map_err(|e| (v.name.clone(), e))?;
        out.insert(v.name.clone(), hv);
    }
    Ok(out)
}

/// The container's volume mounts as host binds (creating `subPath`
/// directories that do not exist yet).
pub fn mounts(c: &Container, volumes: &Materialized) -> Result<Vec<Mount>, VolumeError> {
    let mut out = Vec::new();
    for vm in c.volume_mounts.iter().flatten() {
        let hv = volumes.get(&vm.name).ok_or_else(|| VolumeError::UnknownVolume(vm.name.clone()))?;
        let mut host = hv.path.clone();
        if let Some(sub) = vm.sub_path.as_deref().filter(|s| !s.is_empty()) {
            check_relative(sub)?;
            host = host.join(sub);
            if !host.exists() {
                fs::create_dir_all(&host).map_err(io_err(&host))?;
            }
        }
        out.push(Mount {
            host_path: host.display().to_string(),
            container_path: vm.mount_path.clone(),
            read_only: vm.read_only == Some(true) || hv.read_only,
        });
    }
    Ok(out)
}

/// Remove the pod's directory (`<root>/pods/<uid>`); absent is fine.
pub fn remove(root: &Path, uid: &str) -> io::Result<()> {
    match fs::remove_dir_all(pod_dir(root, uid)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        ConfigMap, ConfigMapVolumeSource, EmptyDirVolumeSource, HostPathVolumeSource, PodSpec, Secret,
        SecretVolumeSource, VolumeMount,
    };
    use k8s_openapi::ByteString;

    fn pod(volumes: Vec<Volume>) -> Pod {
        let mut p = Pod::default();
        p.metadata.uid = Some("uid-1".into());
        p.spec = Some(PodSpec { volumes: Some(volumes), ..Default::default() });
        p
    }

    fn objects() -> Objects {
        let mut o = Objects::default();
        let cm = ConfigMap {
            data: Some([("a.conf".to_string(), "A".to_string()), ("b".to_string(), "B".to_string())].into()),
            ..Default::default()
        };
        o.config_maps.insert("cm".into(), Some(cm));
        let s =
            Secret { data: Some([("token".to_string(), ByteString(b"s3cr3t".to_vec()))].into()), ..Default::default() };
        o.secrets.insert("sec".into(), Some(s));
        o
    }

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn materializes_every_kind_and_mounts() {
        let tmp = tempfile::tempdir().unwrap();
        let host = tmp.path().join("host/data");
        let p = pod(vec![
            Volume { name: "scratch".into(), empty_dir: Some(EmptyDirVolumeSource::default()), ..Default::default() },
            Volume {
                name: "conf".into(),
                config_map: Some(ConfigMapVolumeSource {
                    name: "cm".into(),
                    items: Some(vec![KeyToPath { key: "a.conf".into(), path: "sub/a".into(), mode: Some(0o600) }]),
                    ..Default::default()
                }),
                ..Default::default()
            },
            Volume {
                name: "creds".into(),
                secret: Some(SecretVolumeSource {
                    secret_name: Some("sec".into()),
                    default_mode: Some(0o400),
                    ..Default::default()
                }),
                ..Default::default()
            },
            Volume {
                name: "hp".into(),
                host_path: Some(HostPathVolumeSource {
                    path: host.display().to_string(),
                    type_: Some("DirectoryOrCreate".into()),
                }),
                ..Default::default()
            },
        ]);
        let m = materialize(tmp.path(), &p, &objects()).unwrap();
        let vol = tmp.path().join("pods/uid-1/volumes");
        assert!(vol.join("scratch").is_dir());
        assert_eq!(fs::read_to_string(vol.join("conf/sub/a")).unwrap(), "A");
        assert!(!vol.join("conf/b").exists(), "items select keys");
        assert_eq!(mode(&vol.join("conf/sub/a")), 0o600);
        assert_eq!(fs::read(vol.join("creds/token")).unwrap(), b"s3cr3t");
        assert_eq!(mode(&vol.join("creds/token")), 0o400);
        assert!(host.is_dir());
        assert_eq!(m["hp"].path, host);

        let c = Container {
            volume_mounts: Some(vec![
                VolumeMount { name: "scratch".into(), mount_path: "/tmp/s".into(), ..Default::default() },
                VolumeMount {
                    name: "scratch".into(),
                    mount_path: "/logs".into(),
                    sub_path: Some("logs".into()),
                    read_only: Some(true),
                    ..Default::default()
                },
                VolumeMount { name: "conf".into(), mount_path: "/etc/app".into(), ..Default::default() },
            ]),
            ..Default::default()
        };
        let mounts = mounts(&c, &m).unwrap();
        assert_eq!(mounts[0].host_path, vol.join("scratch").display().to_string());
        assert!(!mounts[0].read_only);
        assert!(vol.join("scratch/logs").is_dir(), "subPath created");
        assert!(mounts[1].read_only && mounts[1].host_path.ends_with("scratch/logs"));
        assert!(mounts[2].read_only, "configMap volumes are read-only");

        remove(tmp.path(), "uid-1").unwrap();
        assert!(!tmp.path().join("pods/uid-1").exists());
        remove(tmp.path(), "uid-1").unwrap();
    }

    #[test]
    fn missing_objects_and_bad_paths() {
        let tmp = tempfile::tempdir().unwrap();
        let cmv = |name: &str, items: Option<Vec<KeyToPath>>, optional: Option<bool>| {
            pod(vec![Volume {
                name: "v".into(),
                config_map: Some(ConfigMapVolumeSource { name: name.into(), items, optional, ..Default::default() }),
                ..Default::default()
            }])
        };
        let (v, e) = materialize(tmp.path(), &cmv("nope", None, None), &objects()).unwrap_err();
        assert_eq!(e.mount_message(&v), r#"MountVolume.SetUp failed for volume "v" : configmap "nope" not found"#);
        assert!(materialize(tmp.path(), &cmv("nope", None, Some(true)), &objects()).is_ok());
        let item = |key: &str, path: &str| Some(vec![KeyToPath { key: key.into(), path: path.into(), mode: None }]);
        let (_, e) = materialize(tmp.path(), &cmv("cm", item("zz", "x"), None), &objects()).unwrap_err();
        assert_eq!(e.to_string(), "configmap references non-existent config key: zz");
        let (_, e) = materialize(tmp.path(), &cmv("cm", item("b", "../escape"), None), &objects()).unwrap_err();
        assert!(matches!(e, VolumeError::BadPath(_)));
        let hp = pod(vec![Volume {
            name: "h".into(),
            host_path: Some(HostPathVolumeSource {
                path: tmp.path().join("absent").display().to_string(),
                type_: Some("Directory".into()),
            }),
            ..Default::default()
        }]);
        assert!(matches!(materialize(tmp.path(), &hp, &objects()), Err((_, VolumeError::HostPathType { .. }))));
        let w = wanted(&cmv("cm", None, None));
        assert!(w.config_maps.contains("cm"));
    }
}
