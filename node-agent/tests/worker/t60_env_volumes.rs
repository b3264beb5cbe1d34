use std::time::Duration;

use crate::common::*;
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapKeySelector, ConfigMapVolumeSource, EnvVar, EnvVarSource, ObjectFieldSelector, Secret,
    SecretVolumeSource, Volume, VolumeMount,
};
use k8s_openapi::ByteString;

fn env_from_cm(name: &str, cm: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            config_map_key_ref: Some(ConfigMapKeySelector { name: cm.into(), key: key.into(), optional: None }),
            ..Default::default()
        }),
    }
}

#[tokio::test(start_paused = true)]
async fn env_is_resolved_and_missing_config_map_is_a_config_error() {
    let mut h = Harness::new();
    let mut c = container("app", "nginx:1");
    c.env = Some(vec![
        env_from_cm("MODE", "settings", "mode"),
        EnvVar {
            name: "POD_IP".into(),
            value: None,
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector { field_path: "status.podIP".into(), api_version: None }),
                ..Default::default()
            }),
        },
        EnvVar { name: "URL".into(), value: Some("http://$(POD_IP)/$(MODE)".into()), value_from: None },
    ]);
    c.command = Some(vec!["run".into(), "--mode=$(MODE)".into()]);
    let p = pod("env", "Always", vec![c]);
    let _w = h.spawn(&p);
    let s = h.must_status(&uid(&p), |s| waiting_reason(s, 0).as_deref() == Some("CreateContainerConfigError")).await;
    let msg = s.container_statuses.as_ref().unwrap()[0].state.clone().unwrap().waiting.unwrap().message.unwrap();
    assert_eq!(msg, r#"configmap "settings" not found"#);
    assert!(h.events("Failed").iter().any(|e| e.message == r#"Error: configmap "settings" not found"#));

    let cm = ConfigMap { data: Some([("mode".to_string(), "fast".to_string())].into()), ..Default::default() };
    h.sources.config_maps.lock().insert("settings".into(), cm);
    let s = h.must_status(&uid(&p), |s| phase(s) == "Running").await;
    let ip = s.pod_ip.unwrap();
    let plans = h.rt.plans.lock().clone();
    let plan = plans.last().unwrap();
    let env: Vec<(String, String)> = plan.env.clone();
    assert_eq!(
        env,
        vec![
            ("MODE".to_string(), "fast".to_string()),
            ("POD_IP".to_string(), ip.clone()),
            ("URL".to_string(), format!("http://{ip}/fast")),
        ]
    );
    assert_eq!(plan.command, Some(vec!["run".to_string(), "--mode=fast".to_string()]));
    assert_eq!(plan.attempt, 0, "failed configs consume no attempt");
}

#[tokio::test]
async fn volumes_are_materialized_and_mounted() {
    let mut h = Harness::new();
    let cm = ConfigMap { data: Some([("app.conf".to_string(), "port=80".to_string())].into()), ..Default::default() };
    h.sources.config_maps.lock().insert("conf".into(), cm);
    let sec = Secret { data: Some([("token".to_string(), ByteString(b"abc".to_vec()))].into()), ..Default::default() };
    h.sources.secrets.lock().insert("creds".into(), sec);
    let mut c = container("app", "nginx:1");
    c.volume_mounts = Some(vec![
        VolumeMount { name: "conf".into(), mount_path: "/etc/app".into(), ..Default::default() },
        VolumeMount { name: "creds".into(), mount_path: "/var/run/creds".into(), ..Default::default() },
        VolumeMount {
            name: "data".into(),
            mount_path: "/data".into(),
            sub_path: Some("x".into()),
            ..Default::default()
        },
    ]);
    let mut p = pod("vols", "Always", vec![c]);
    p.spec.as_mut().unwrap().volumes = Some(vec![
        Volume {
            name: "conf".into(),
            config_map: Some(ConfigMapVolumeSource { name: "conf".into(), ..Default::default() }),
            ..Default::default()
        },
        Volume {
            name: "creds".into(),
            secret: Some(SecretVolumeSource { secret_name: Some("creds".into()), ..Default::default() }),
            ..Default::default()
        },
        Volume { name: "data".into(), empty_dir: Some(Default::default()), ..Default::default() },
    ]);
    let _w = h.spawn(&p);
    tokio::time::timeout(Duration::from_secs(30), h.must_status(&uid(&p), |s| phase(s) == "Running")).await.unwrap();
    let vol = h.tmp.path().join("pods/uid-vols/volumes");
    assert_eq!(std::fs::read_to_string(vol.join("conf/app.conf")).unwrap(), "port=80");
    assert_eq!(std::fs::read(vol.join("creds/token")).unwrap(), b"abc");
    assert!(vol.join("data/x").is_dir());
    let plan = h.rt.plans.lock().last().cloned().unwrap();
    let m: Vec<(String, String, bool)> =
        plan.mounts.iter().map(|m| (m.host_path.clone(), m.container_path.clone(), m.read_only)).collect();
    assert_eq!(
        m,
        vec![
            (vol.join("conf").display().to_string(), "/etc/app".to_string(), true),
            (vol.join("creds").display().to_string(), "/var/run/creds".to_string(), true),
            (vol.join("data/x").display().to_string(), "/data".to_string(), false),
        ]
    );
}

#[tokio::test]
async fn missing_volume_source_gives_failed_mount() {
    let mut h = Harness::new();
    let mut p = pod("nomount", "Always", vec![container("app", "nginx:1")]);
    p.spec.as_mut().unwrap().volumes = Some(vec![Volume {
        name: "conf".into(),
        config_map: Some(ConfigMapVolumeSource { name: "absent".into(), ..Default::default() }),
        ..Default::default()
    }]);
    let _w = h.spawn(&p);
    let e = tokio::time::timeout(Duration::from_secs(30), h.must_event("FailedMount", "")).await.unwrap();
    assert_eq!(e.message, r#"MountVolume.SetUp failed for volume "conf" : configmap "absent" not found"#);
    let s = h.must_status(&uid(&p), |_| true).await;
    assert_eq!(phase(&s), "Pending");
    assert_eq!(waiting_reason(&s, 0).as_deref(), Some("ContainerCreating"));
}
