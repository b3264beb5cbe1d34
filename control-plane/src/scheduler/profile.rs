//! Scheduler profiles and their configuration file (a subset of upstream `KubeSchedulerConfiguration`).
//!
//! Guarantees: YAML or JSON is accepted; `apiVersion` must be `kubescheduler.config.k8s.io/v1` and `kind`
//! `KubeSchedulerConfiguration`; plugin sets start from upstream defaults, `disabled` removes (`"*"` removes
//! all defaults of that extension point), `enabled` appends (or re-weights a default in place), `multiPoint`
//! applies to both filter and score; a weight of 0/unset means the plugin's default weight. Unknown plugin
//! names are errors naming the known ones; upstream plugins this scheduler does not implement may be
//! disabled (a no-op) but not enabled. Other extension points (queueSort, bind, ...) are accepted and ignored.

use std::collections::HashSet;

use k8s_openapi::api::core::v1::Pod;
use serde::de::IgnoredAny;
use serde::Deserialize;
use thiserror::Error;

use crate::scheduler::filters::FilterPlugin;
use crate::scheduler::scores::{FitScoring, FitStrategy, ScorePlugin};

/// The scheduler name a pod gets when `spec.schedulerName` is unset.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
/// The accepted apiVersion.
pub const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";
/// The accepted kind.
pub const KIND: &str = "KubeSchedulerConfiguration";

/// Upstream plugins that exist but are not implemented here (they may only be disabled).
const UNIMPLEMENTED: [&str; 14] = [
    "PrioritySort",
    "DefaultBinder",
    "DefaultPreemption",
    "ImageLocality",
    "VolumeBinding",
    "VolumeRestrictions",
    "VolumeZone",
    "NodeVolumeLimits",
    "EBSLimits",
    "GCEPDLimits",
    "AzureDiskLimits",
    "SchedulingGates",
    "DynamicResources",
    "CinderLimits",
];

/// Why a configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProfileError {
    /// Not valid YAML/JSON or not the expected shape.
    #[error("invalid scheduler configuration: {0}")]
    Parse(String),
    /// Wrong apiVersion or kind.
    #[error("unsupported apiVersion/kind {api_version:?}/{kind:?}: expected {API_VERSION}/{KIND}")]
    WrongKind {
        /// The apiVersion found.
        api_version: String,
        /// The kind found.
        kind: String,
    },
    /// A plugin name nobody knows.
    #[error("unknown plugin {name:?} in {point}; known plugins: {known}")]
    UnknownPlugin {
        /// The name.
        name: String,
        /// The extension point it appeared in.
        point: &'static str,
        /// Comma-separated known names for that extension point.
        known: String,
    },
    /// An upstream plugin this scheduler does not implement was enabled.
    #[error("plugin {0:?} is not supported by this scheduler")]
    Unsupported(String),
    /// A score weight out of range.
    #[error("invalid weight {weight} for score plugin {name:?}: must be between 1 and 100")]
    InvalidWeight {
        /// The plugin.
        name: String,
        /// The weight.
        weight: i64,
    },
    /// percentageOfNodesToScore out of 0..=100.
    #[error("percentageOfNodesToScore must be between 0 and 100, got {0}")]
    InvalidPercentage(i64),
    /// Two profiles with one schedulerName.
    #[error("duplicate schedulerName {0:?}")]
    DuplicateSchedulerName(String),
    /// Malformed plugin args.
    #[error("invalid args for plugin {name:?}: {message}")]
    InvalidArgs {
        /// The plugin.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// A score plugin with its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightedScore {
    /// The plugin.
    pub plugin: ScorePlugin,
    /// Its weight.
    pub weight: i64,
}

/// One scheduling profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Pods with this `spec.schedulerName` use the profile.
    pub scheduler_name: String,
    /// percentageOfNodesToScore (0 = adaptive).
    pub percentage_of_nodes_to_score: u32,
    /// Filters, in order.
    pub filters: Vec<FilterPlugin>,
    /// Scores with weights, in order.
    pub scores: Vec<WeightedScore>,
    /// NodeResourcesFit scoring arguments.
    pub fit: FitScoring,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            scheduler_name: DEFAULT_SCHEDULER_NAME.to_string(),
            percentage_of_nodes_to_score: 0,
            filters: FilterPlugin::DEFAULT.to_vec(),
            scores: ScorePlugin::DEFAULT
                .iter()
                .map(|&plugin| WeightedScore { plugin, weight: plugin.default_weight() })
                .collect(),
            fit: FitScoring::default(),
        }
    }
}

/// A parsed configuration: the profiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Profiles, each with a distinct scheduler name.
    pub profiles: Vec<Profile>,
}

impl Default for Config {
    fn default() -> Self {
        Config { profiles: vec![Profile::default()] }
    }
}

impl Config {
    /// Parses a YAML or JSON `KubeSchedulerConfiguration`.
    pub fn parse(text: &str) -> Result<Config, ProfileError> {
        let raw: RawConfig = serde_yaml::from_str(text).map_err(|e| ProfileError::Parse(e.to_string()))?;
        let (api_version, kind) = (raw.api_version.unwrap_or_default(), raw.kind.unwrap_or_default());
        if api_version != API_VERSION || kind != KIND {
            return Err(ProfileError::WrongKind { api_version, kind });
        }
        let global = percentage(raw.percentage_of_nodes_to_score)?.unwrap_or(0);
        let raw_profiles = if raw.profiles.is_empty() { vec![RawProfile::default()] } else { raw.profiles };
        let mut seen = HashSet::new();
        let mut profiles = Vec::with_capacity(raw_profiles.len());
        for raw_profile in raw_profiles {
            let profile = build_profile(raw_profile, global)?;
            if !seen.insert(profile.scheduler_name.clone()) {
                return Err(ProfileError::DuplicateSchedulerName(profile.scheduler_name));
            }
            profiles.push(profile);
        }
        Ok(Config { profiles })
    }

    /// The scheduler names the profiles answer to.
    pub fn scheduler_names(&self) -> std::collections::HashSet<String> {
        self.profiles.iter().map(|p| p.scheduler_name.clone()).collect()
    }

    /// The profile for a pod's `spec.schedulerName` (default "default-scheduler"); None when not ours.
    pub fn profile_for(&self, pod: &Pod) -> Option<&Profile> {
        let name = pod.spec.as_ref().and_then(|s| s.scheduler_name.as_deref()).filter(|n| !n.is_empty());
        let name = name.unwrap_or(DEFAULT_SCHEDULER_NAME);
        self.profiles.iter().find(|p| p.scheduler_name == name)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawConfig {
    api_version: Option<String>,
    kind: Option<String>,
    percentage_of_nodes_to_score: Option<i64>,
    #[serde(default)]
    profiles: Vec<RawProfile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawProfile {
    scheduler_name: Option<String>,
    percentage_of_nodes_to_score: Option<i64>,
    #[serde(default)]
    plugins: RawPlugins,
    #[serde(default)]
    plugin_config: Vec<RawPluginConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawPlugins {
    #[serde(default)]
    multi_point: RawPluginSet,
    #[serde(default)]
    filter: RawPluginSet,
    #[serde(default)]
    score: RawPluginSet,
    // Accepted for compatibility with upstream files; this scheduler has no such extension points.
    #[serde(rename = "preEnqueue", default)]
    _pre_enqueue: Option<IgnoredAny>,
    #[serde(rename = "queueSort", default)]
    _queue_sort: Option<IgnoredAny>,
    #[serde(rename = "preFilter", default)]
    _pre_filter: Option<IgnoredAny>,
    #[serde(rename = "postFilter", default)]
    _post_filter: Option<IgnoredAny>,
    #[serde(rename = "preScore", default)]
    _pre_score: Option<IgnoredAny>,
    #[serde(rename = "reserve", default)]
    _reserve: Option<IgnoredAny>,
    #[serde(rename = "permit", default)]
    _permit: Option<IgnoredAny>,
    #[serde(rename = "preBind", default)]
    _pre_bind: Option<IgnoredAny>,
    #[serde(rename = "bind", default)]
    _bind: Option<IgnoredAny>,
    #[serde(rename = "postBind", default)]
    _post_bind: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPluginSet {
    #[serde(default)]
    enabled: Vec<RawPlugin>,
    #[serde(default)]
    disabled: Vec<RawPlugin>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlugin {
    name: String,
    weight: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPluginConfig {
    name: String,
    #[serde(default)]
    args: serde_json::Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FitArgs {
    scoring_strategy: Option<ScoringStrategy>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScoringStrategy {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    resources: Vec<ResourceWeight>,
}

#[derive(Debug, Deserialize)]
struct ResourceWeight {
    name: String,
    weight: Option<i64>,
}

fn percentage(value: Option<i64>) -> Result<Option<u32>, ProfileError> {
    match value {
        None => Ok(None),
        Some(v) => u32::try_from(v).ok().filter(|p| *p <= 100).map(Some).ok_or(ProfileError::InvalidPercentage(v)),
    }
}

fn build_profile(raw: RawProfile, global_percentage: u32) -> Result<Profile, ProfileError> {
    let mut profile = Profile {
        scheduler_name: raw.scheduler_name.filter(|n| !n.is_empty()).unwrap_or_else(|| DEFAULT_SCHEDULER_NAME.into()),
        percentage_of_nodes_to_score: percentage(raw.percentage_of_nodes_to_score)?.unwrap_or(global_percentage),
        ..Profile::default()
    };
    apply_set(&mut profile, &raw.plugins.multi_point, Point::Multi)?;
    apply_set(&mut profile, &raw.plugins.filter, Point::Filter)?;
    apply_set(&mut profile, &raw.plugins.score, Point::Score)?;
    for config in &raw.plugin_config {
        apply_plugin_config(&mut profile, config)?;
    }
    Ok(profile)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    Multi,
    Filter,
    Score,
}

impl Point {
    fn name(self) -> &'static str {
        match self {
            Point::Multi => "multiPoint",
            Point::Filter => "filter",
            Point::Score => "score",
        }
    }

    fn filters(self) -> bool {
        self != Point::Score
    }

    fn scores(self) -> bool {
        self != Point::Filter
    }
}

fn known_names(point: Point) -> String {
    let filters = FilterPlugin::DEFAULT.iter().filter(|_| point.filters()).map(|p| p.name());
    let scores = ScorePlugin::ALL.iter().filter(|_| point.scores()).map(|p| p.name());
    let mut names: Vec<&str> = filters.chain(scores).collect();
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

/// Resolves a name at an extension point: (filter, score); errors when neither applies.
fn resolve(
    name: &str,
    point: Point,
    enabling: bool,
) -> Result<(Option<FilterPlugin>, Option<ScorePlugin>), ProfileError> {
    let filter = FilterPlugin::from_name(name).filter(|_| point.filters());
    let score = ScorePlugin::from_name(name).filter(|_| point.scores());
    if filter.is_some() || score.is_some() {
        return Ok((filter, score));
    }
    if UNIMPLEMENTED.contains(&name) {
        return if enabling { Err(ProfileError::Unsupported(name.to_string())) } else { Ok((None, None)) };
    }
    Err(ProfileError::UnknownPlugin { name: name.to_string(), point: point.name(), known: known_names(point) })
}

fn apply_set(profile: &mut Profile, set: &RawPluginSet, point: Point) -> Result<(), ProfileError> {
    for plugin in &set.disabled {
        if plugin.name == "*" {
            if point.filters() {
                profile.filters.clear();
            }
            if point.scores() {
                profile.scores.clear();
            }
            continue;
        }
        let (filter, score) = resolve(&plugin.name, point, false)?;
        profile.filters.retain(|f| Some(*f) != filter);
        profile.scores.retain(|s| Some(s.plugin) != score);
    }
    for plugin in &set.enabled {
        let (filter, score) = resolve(&plugin.name, point, true)?;
        if let Some(f) = filter.filter(|f| !profile.filters.contains(f)) {
            profile.filters.push(f);
        }
        if let Some(s) = score {
            enable_score(profile, s, plugin.weight)?;
        }
    }
    Ok(())
}

fn enable_score(profile: &mut Profile, plugin: ScorePlugin, weight: Option<i64>) -> Result<(), ProfileError> {
    let weight = match weight.unwrap_or(0) {
        0 => plugin.default_weight(),
        w if (1..=100).contains(&w) => w,
        w => return Err(ProfileError::InvalidWeight { name: plugin.name().to_string(), weight: w }),
    };
    match profile.scores.iter_mut().find(|s| s.plugin == plugin) {
        Some(existing) => existing.weight = weight,
        None => profile.scores.push(WeightedScore { plugin, weight }),
    }
    Ok(())
}

fn apply_plugin_config(profile: &mut Profile, config: &RawPluginConfig) -> Result<(), ProfileError> {
    let invalid = |message: String| ProfileError::InvalidArgs { name: config.name.clone(), message };
    if config.name != "NodeResourcesFit" {
        // Args of other plugins are accepted and ignored, but the name must be a real plugin.
        resolve(&config.name, Point::Multi, false)?;
        return Ok(());
    }
    let args: FitArgs = if config.args.is_null() {
        FitArgs::default()
    } else {
        serde_json::from_value(config.args.clone()).map_err(|e| invalid(e.to_string()))?
    };
    let Some(strategy) = args.scoring_strategy else {
        return Ok(());
    };
    profile.fit.strategy = match strategy.kind.as_deref().unwrap_or("LeastAllocated") {
        "LeastAllocated" => FitStrategy::LeastAllocated,
        "MostAllocated" => FitStrategy::MostAllocated,
        other => return Err(invalid(format!("unsupported scoringStrategy type {other:?}"))),
    };
    if !strategy.resources.is_empty() {
        profile.fit.cpu_weight = 0;
        profile.fit.memory_weight = 0;
    }
    for resource in &strategy.resources {
        let weight = resource.weight.unwrap_or(1);
        if !(1..=100).contains(&weight) {
            return Err(invalid(format!("weight {weight} of resource {:?} must be between 1 and 100", resource.name)));
        }
        match resource.name.as_str() {
            "cpu" => profile.fit.cpu_weight = weight,
            "memory" => profile.fit.memory_weight = weight,
            other => return Err(invalid(format!("unsupported resource {other:?} (cpu and memory only)"))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";

    fn parse(body: &str) -> Result<Config, ProfileError> {
        Config::parse(&format!("{HEADER}{body}"))
    }

    fn score_names(profile: &Profile) -> Vec<(&'static str, i64)> {
        profile.scores.iter().map(|s| (s.plugin.name(), s.weight)).collect()
    }

    #[test]
    fn default_profile_matches_upstream_weights() {
        let p = Profile::default();
        assert_eq!(p.filters.len(), 8);
        assert_eq!(
            score_names(&p),
            vec![
                ("NodeResourcesFit", 1),
                ("NodeResourcesBalancedAllocation", 1),
                ("SelectorSpread", 1),
                ("NodeAffinity", 2),
                ("InterPodAffinity", 2),
                ("TaintToleration", 3),
                ("PodTopologySpread", 2),
            ]
        );
        assert_eq!(parse("").map(|c| c.profiles), Ok(vec![Profile::default()]));
    }

    #[test]
    fn disable_and_enable() {
        let config = parse(
            "percentageOfNodesToScore: 30\nprofiles:\n- schedulerName: packer\n  plugins:\n    filter: {disabled: [{name: NodePorts}]}\n    score:\n      disabled: [{name: \"*\"}]\n      enabled: [{name: NodeResourcesBalancedAllocation, weight: 5}, {name: NodeResourcesMostAllocated}]\n",
        );
        let config = config.unwrap_or_default();
        let p = &config.profiles[0];
        assert_eq!(p.scheduler_name, "packer");
        assert_eq!(p.percentage_of_nodes_to_score, 30);
        assert!(!p.filters.contains(&FilterPlugin::NodePorts));
        assert_eq!(p.filters.len(), 7);
        assert_eq!(score_names(p), vec![("NodeResourcesBalancedAllocation", 5), ("NodeResourcesMostAllocated", 1)]);
    }

    #[test]
    fn reweighting_a_default_keeps_its_place() {
        let config = parse("profiles:\n- plugins:\n    score: {enabled: [{name: NodeAffinity, weight: 7}]}\n")
            .unwrap_or_default();
        let p = &config.profiles[0];
        assert_eq!(p.scores.len(), 7);
        assert_eq!(p.scores[3], WeightedScore { plugin: ScorePlugin::NodeAffinity, weight: 7 });
    }

    #[test]
    fn multi_point_and_json() {
        let json = r#"{"apiVersion":"kubescheduler.config.k8s.io/v1","kind":"KubeSchedulerConfiguration",
            "profiles":[{"schedulerName":"s","plugins":{"multiPoint":{"disabled":[{"name":"TaintToleration"}]},
            "queueSort":{"enabled":[{"name":"PrioritySort"}]}}}]}"#;
        let config = Config::parse(json).unwrap_or_default();
        let p = &config.profiles[0];
        assert!(!p.filters.contains(&FilterPlugin::TaintToleration));
        assert!(p.scores.iter().all(|s| s.plugin != ScorePlugin::TaintToleration));
    }

    #[test]
    fn most_allocated_through_plugin_args() {
        let config = parse(
            "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: MostAllocated\n        resources: [{name: cpu, weight: 2}, {name: memory, weight: 1}]\n",
        )
        .unwrap_or_default();
        assert_eq!(
            config.profiles[0].fit,
            FitScoring { strategy: FitStrategy::MostAllocated, cpu_weight: 2, memory_weight: 1 }
        );
    }

    #[test]
    fn errors() {
        let unknown = parse("profiles:\n- plugins:\n    filter: {enabled: [{name: Bogus}]}\n");
        match unknown {
            Err(ProfileError::UnknownPlugin { name, known, .. }) => {
                assert_eq!(name, "Bogus");
                assert!(known.contains("NodeResourcesFit") && known.contains("InterPodAffinity"), "{known}");
            }
            other => panic!("expected UnknownPlugin, got {other:?}"),
        }
        assert!(matches!(
            parse("profiles:\n- plugins:\n    score: {enabled: [{name: NodeName}]}\n"),
            Err(ProfileError::UnknownPlugin { .. })
        ));
        assert_eq!(
            parse("profiles:\n- plugins:\n    filter: {enabled: [{name: VolumeBinding}]}\n"),
            Err(ProfileError::Unsupported("VolumeBinding".into()))
        );
        assert!(parse("profiles:\n- plugins:\n    filter: {disabled: [{name: VolumeBinding}]}\n").is_ok());
        assert!(matches!(
            parse("profiles:\n- plugins:\n    score: {enabled: [{name: NodeAffinity, weight: 101}]}\n"),
            Err(ProfileError::InvalidWeight { .. })
        ));
        assert_eq!(parse("percentageOfNodesToScore: 120\n"), Err(ProfileError::InvalidPercentage(120)));
        assert_eq!(
            parse("profiles:\n- schedulerName: a\n- schedulerName: a\n"),
            Err(ProfileError::DuplicateSchedulerName("a".into()))
        );
        assert!(matches!(Config::parse("kind: Pod\n"), Err(ProfileError::WrongKind { .. })));
        assert!(matches!(parse("profiles:\n- plugin: {}\n"), Err(ProfileError::Parse(_))));
        assert!(matches!(
            parse("profiles:\n- pluginConfig: [{name: NodeResourcesFit, args: {scoringStrategy: {type: RequestedToCapacityRatio}}}]\n"),
            Err(ProfileError::InvalidArgs { .. })
        ));
    }

    #[test]
    fn profile_selection_by_scheduler_name() {
        let config =
            parse("profiles:\n- schedulerName: default-scheduler\n- schedulerName: packer\n").unwrap_or_default();
        let mut pod = Pod::default();
        assert_eq!(config.profile_for(&pod).map(|p| p.scheduler_name.as_str()), Some("default-scheduler"));
        pod.spec =
            Some(k8s_openapi::api::core::v1::PodSpec { scheduler_name: Some("packer".into()), ..Default::default() });
        assert_eq!(config.profile_for(&pod).map(|p| p.scheduler_name.as_str()), Some("packer"));
        pod.spec =
            Some(k8s_openapi::api::core::v1::PodSpec { scheduler_name: Some("other".into()), ..Default::default() });
        assert!(config.profile_for(&pod).is_none());
    }
}
