//! Wire schema of the Kubernetes API types that [`super::decode`] understands.
//!
//! Every [`Message`] lists its fields in ascending protobuf field number, each with the JSON name
//! the API uses for it, its value type, and the rule by which the Kubernetes (Go) JSON encoder
//! writes it. Together these let the decoder rebuild exactly the JSON document a client would have
//! sent for the same object.
//!
//! The tables describe `k8s.io/api` and `k8s.io/apimachinery` as of Kubernetes 1.32. Field numbers
//! and names are facts of the wire format; they never change for a released API version. The
//! message graph is acyclic (a unit test checks this), so decoding recursion is bounded by the
//! schema itself.

/// How a field's value is encoded on the wire and rendered in JSON.
#[derive(Debug, Clone, Copy)]
pub(super) enum Ty {
    /// Protobuf `string` → JSON string.
    Str,
    /// Protobuf `int32` (varint) → JSON number.
    I32,
    /// Protobuf `int64` (varint) → JSON number.
    I64,
    /// Protobuf `bool` (varint) → JSON boolean.
    Bool,
    /// Protobuf `bytes` → base64 JSON string (Go `[]byte`).
    Bytes,
    /// `metav1.Time` (seconds since the Unix epoch) → RFC 3339 string, or null for the zero time.
    Time,
    /// `resource.Quantity` → its canonical string form.
    Quantity,
    /// `intstr.IntOrString` → JSON number or string.
    IntOrString,
    /// `metav1.FieldsV1`: a JSON document carried as bytes → that JSON value.
    RawJson,
    /// A message wrapping a Go `[]string` (`ExtraValue`) → JSON array of strings.
    StringList,
    /// A nested message → JSON object.
    Msg(&'static Message),
}

/// How many values a field carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Card {
    /// A single value (`optional`).
    One,
    /// A JSON array (`repeated`).
    List,
    /// A JSON object keyed by string (`map<string, T>`).
    Map,
}

/// When the Go JSON encoder writes a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Emit {
    /// Always written; its zero value when absent from the wire (no `omitempty`, or a struct).
    Always,
    /// Omitted when empty (`omitempty` on a string, number, bool, slice or map).
    OmitEmpty,
    /// A pointer with `omitempty`: written only when present on the wire.
    IfSet,
    /// A pointer without `omitempty`: written as null when absent from the wire.
    NullIfUnset,
    /// An embedded struct (`json:",inline"`) whose fields are merged into the parent object.
    Inline,
}

/// One protobuf field of a message.
#[derive(Debug)]
pub(super) struct Field {
    /// Protobuf field number.
    pub(super) num: u32,
    /// JSON key (empty for [`Emit::Inline`]).
    pub(super) json: &'static str,
    /// Value type (for maps: the value type; keys are always strings).
    pub(super) ty: Ty,
    /// Single value, list or map.
    pub(super) card: Card,
    /// JSON emission rule.
    pub(super) emit: Emit,
}

/// A protobuf message: its Go type name and its fields sorted by number.
#[derive(Debug)]
pub(super) struct Message {
    /// Go type name, used in error messages.
    pub(super) name: &'static str,
    /// Fields in ascending field-number order.
    pub(super) fields: &'static [Field],
}

impl Message {
    /// The field with protobuf number `num`, if the schema knows it.
    pub(super) fn field(&self, num: u32) -> Option<(usize, &'static Field)> {
        let fields: &'static [Field] = self.fields;
        fields.binary_search_by_key(&num, |f| f.num).ok().map(|i| (i, &fields[i]))
    }
}

const STR: Ty = Ty::Str;
const I32: Ty = Ty::I32;
const I64: Ty = Ty::I64;
const BOOL: Ty = Ty::Bool;
const BYTES: Ty = Ty::Bytes;
const TIME: Ty = Ty::Time;
const QUANTITY: Ty = Ty::Quantity;
const INT_OR_STRING: Ty = Ty::IntOrString;
const RAW_JSON: Ty = Ty::RawJson;
const STRING_LIST: Ty = Ty::StringList;

const fn msg(name: &'static str, fields: &'static [Field]) -> Message {
    Message { name, fields }
}
const fn field(num: u32, json: &'static str, ty: Ty, card: Card, emit: Emit) -> Field {
    Field { num, json, ty, card, emit }
}
/// Single value, always written.
const fn req(num: u32, json: &'static str, ty: Ty) -> Field {
    field(num, json, ty, Card::One, Emit::Always)
}
/// Single value, omitted when empty.
const fn opt(num: u32, json: &'static str, ty: Ty) -> Field {
    field(num, json, ty, Card::One, Emit::OmitEmpty)
}
/// Pointer, written only when set.
const fn ptr(num: u32, json: &'static str, ty: Ty) -> Field {
    field(num, json, ty, Card::One, Emit::IfSet)
}
/// Pointer, written as null when unset.
const fn ptr_null(num: u32, json: &'static str, ty: Ty) -> Field {
    field(num, json, ty, Card::One, Emit::NullIfUnset)
}
/// Embedded struct merged into the parent.
const fn inline(num: u32, ty: Ty) -> Field {
    field(num, "", ty, Card::One, Emit::Inline)
}
/// List, written as null when empty.
const fn list(num: u32, json: &'static str, ty: Ty) -> Field {
    field(num, json, ty, Card::List, Emit::Always)
}
/// List, omitted when empty.
const fn list_opt(num: u32, json: &'static str, ty: Ty) -> Field {
    field(num, json, ty, Card::List, Emit::OmitEmpty)
}
/// Map, omitted when empty.
const fn map_opt(num: u32, json: &'static str, ty: Ty) -> Field {
    field(num, json, ty, Card::Map, Emit::OmitEmpty)
}

/// Every kind the decoder understands: (apiVersion, kind, top-level message).
pub(super) static KINDS: &[(&str, &str, &Message)] = &[
    ("v1", "Namespace", &NAMESPACE),
    ("v1", "ConfigMap", &CONFIG_MAP),
    ("v1", "Secret", &SECRET),
    ("v1", "Service", &SERVICE),
    ("v1", "ServiceAccount", &SERVICE_ACCOUNT),
    ("v1", "Pod", &POD),
    ("v1", "ResourceQuota", &RESOURCE_QUOTA),
    ("apps/v1", "Deployment", &DEPLOYMENT),
    ("apps/v1", "ReplicaSet", &REPLICA_SET),
    ("apps/v1", "StatefulSet", &STATEFUL_SET),
    ("apps/v1", "DaemonSet", &DAEMON_SET),
    ("batch/v1", "Job", &JOB),
    ("batch/v1", "CronJob", &CRON_JOB),
    ("autoscaling/v1", "HorizontalPodAutoscaler", &HORIZONTAL_POD_AUTOSCALER),
    ("autoscaling/v1", "Scale", &SCALE),
    ("networking.k8s.io/v1", "Ingress", &INGRESS),
    ("policy/v1", "PodDisruptionBudget", &POD_DISRUPTION_BUDGET),
    ("policy/v1", "Eviction", &EVICTION),
    ("rbac.authorization.k8s.io/v1", "Role", &ROLE),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", &ROLE_BINDING),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", &CLUSTER_ROLE),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &CLUSTER_ROLE_BINDING),
    ("scheduling.k8s.io/v1", "PriorityClass", &PRIORITY_CLASS),
    ("authentication.k8s.io/v1", "TokenRequest", &TOKEN_REQUEST),
    ("authentication.k8s.io/v1", "TokenReview", &TOKEN_REVIEW),
    ("authentication.k8s.io/v1", "SelfSubjectReview", &SELF_SUBJECT_REVIEW),
    ("authorization.k8s.io/v1", "SubjectAccessReview", &SUBJECT_ACCESS_REVIEW),
    ("authorization.k8s.io/v1", "LocalSubjectAccessReview", &LOCAL_SUBJECT_ACCESS_REVIEW),
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview", &SELF_SUBJECT_ACCESS_REVIEW),
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview", &SELF_SUBJECT_RULES_REVIEW),
];

static OWNER_REFERENCE: Message = msg(
    "OwnerReference",
    &[
        req(1, "kind", STR),
        req(3, "name", STR),
        req(4, "uid", STR),
        req(5, "apiVersion", STR),
        ptr(6, "controller", BOOL),
        ptr(7, "blockOwnerDeletion", BOOL),
    ],
);

static MANAGED_FIELDS_ENTRY: Message = msg(
    "ManagedFieldsEntry",
    &[
        opt(1, "manager", STR),
        opt(2, "operation", STR),
        opt(3, "apiVersion", STR),
        ptr(4, "time", TIME),
        opt(6, "fieldsType", STR),
        ptr(7, "fieldsV1", RAW_JSON),
        opt(8, "subresource", STR),
    ],
);

static OBJECT_META: Message = msg(
    "ObjectMeta",
    &[
        opt(1, "name", STR),
        opt(2, "generateName", STR),
        opt(3, "namespace", STR),
        opt(4, "selfLink", STR),
        opt(5, "uid", STR),
        opt(6, "resourceVersion", STR),
        opt(7, "generation", I64),
        req(8, "creationTimestamp", TIME),
        ptr(9, "deletionTimestamp", TIME),
        ptr(10, "deletionGracePeriodSeconds", I64),
        map_opt(11, "labels", STR),
        map_opt(12, "annotations", STR),
        list_opt(13, "ownerReferences", Ty::Msg(&OWNER_REFERENCE)),
        list_opt(14, "finalizers", STR),
        list_opt(17, "managedFields", Ty::Msg(&MANAGED_FIELDS_ENTRY)),
    ],
);

static NAMESPACE_SPEC: Message = msg("NamespaceSpec", &[list_opt(1, "finalizers", STR)]);

static NAMESPACE_CONDITION: Message = msg(
    "NamespaceCondition",
    &[
        req(1, "type", STR),
        req(2, "status", STR),
        req(4, "lastTransitionTime", TIME),
        opt(5, "reason", STR),
        opt(6, "message", STR),
    ],
);

static NAMESPACE_STATUS: Message =
    msg("NamespaceStatus", &[opt(1, "phase", STR), list_opt(2, "conditions", Ty::Msg(&NAMESPACE_CONDITION))]);

static NAMESPACE: Message = msg(
    "Namespace",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&NAMESPACE_SPEC)),
        req(3, "status", Ty::Msg(&NAMESPACE_STATUS)),
    ],
);

static CONFIG_MAP: Message = msg(
    "ConfigMap",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        map_opt(2, "data", STR),
        map_opt(3, "binaryData", BYTES),
        ptr(4, "immutable", BOOL),
    ],
);

static SECRET: Message = msg(
    "Secret",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        map_opt(2, "data", BYTES),
        opt(3, "type", STR),
        map_opt(4, "stringData", STR),
        ptr(5, "immutable", BOOL),
    ],
);

static SERVICE_PORT: Message = msg(
    "ServicePort",
    &[
        opt(1, "name", STR),
        opt(2, "protocol", STR),
        req(3, "port", I32),
        req(4, "targetPort", INT_OR_STRING),
        opt(5, "nodePort", I32),
        ptr(6, "appProtocol", STR),
    ],
);

static CLIENT_IP_CONFIG: Message = msg("ClientIPConfig", &[ptr(1, "timeoutSeconds", I32)]);

static SESSION_AFFINITY_CONFIG: Message =
    msg("SessionAffinityConfig", &[ptr(1, "clientIP", Ty::Msg(&CLIENT_IP_CONFIG))]);

static SERVICE_SPEC: Message = msg(
    "ServiceSpec",
    &[
        list_opt(1, "ports", Ty::Msg(&SERVICE_PORT)),
        map_opt(2, "selector", STR),
        opt(3, "clusterIP", STR),
        opt(4, "type", STR),
        list_opt(5, "externalIPs", STR),
        opt(7, "sessionAffinity", STR),
        opt(8, "loadBalancerIP", STR),
        list_opt(9, "loadBalancerSourceRanges", STR),
        opt(10, "externalName", STR),
        opt(11, "externalTrafficPolicy", STR),
        opt(12, "healthCheckNodePort", I32),
        opt(13, "publishNotReadyAddresses", BOOL),
        ptr(14, "sessionAffinityConfig", Ty::Msg(&SESSION_AFFINITY_CONFIG)),
        ptr(17, "ipFamilyPolicy", STR),
        list_opt(18, "clusterIPs", STR),
        list_opt(19, "ipFamilies", STR),
        ptr(20, "allocateLoadBalancerNodePorts", BOOL),
        ptr(21, "loadBalancerClass", STR),
        ptr(22, "internalTrafficPolicy", STR),
        ptr(23, "trafficDistribution", STR),
    ],
);

static PORT_STATUS: Message = msg("PortStatus", &[req(1, "port", I32), req(2, "protocol", STR), ptr(3, "error", STR)]);

static LOAD_BALANCER_INGRESS: Message = msg(
    "LoadBalancerIngress",
    &[opt(1, "ip", STR), opt(2, "hostname", STR), ptr(3, "ipMode", STR), list_opt(4, "ports", Ty::Msg(&PORT_STATUS))],
);

static LOAD_BALANCER_STATUS: Message =
    msg("LoadBalancerStatus", &[list_opt(1, "ingress", Ty::Msg(&LOAD_BALANCER_INGRESS))]);

static CONDITION: Message = msg(
    "Condition",
    &[
        req(1, "type", STR),
        req(2, "status", STR),
        opt(3, "observedGeneration", I64),
        req(4, "lastTransitionTime", TIME),
        req(5, "reason", STR),
        req(6, "message", STR),
    ],
);

static SERVICE_STATUS: Message = msg(
    "ServiceStatus",
    &[req(1, "loadBalancer", Ty::Msg(&LOAD_BALANCER_STATUS)), list_opt(2, "conditions", Ty::Msg(&CONDITION))],
);

static SERVICE: Message = msg(
    "Service",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&SERVICE_SPEC)),
        req(3, "status", Ty::Msg(&SERVICE_STATUS)),
    ],
);

static OBJECT_REFERENCE: Message = msg(
    "ObjectReference",
    &[
        opt(1, "kind", STR),
        opt(2, "namespace", STR),
        opt(3, "name", STR),
        opt(4, "uid", STR),
        opt(5, "apiVersion", STR),
        opt(6, "resourceVersion", STR),
        opt(7, "fieldPath", STR),
    ],
);

static LOCAL_OBJECT_REFERENCE: Message = msg("LocalObjectReference", &[opt(1, "name", STR)]);

static SERVICE_ACCOUNT: Message = msg(
    "ServiceAccount",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        list_opt(2, "secrets", Ty::Msg(&OBJECT_REFERENCE)),
        list_opt(3, "imagePullSecrets", Ty::Msg(&LOCAL_OBJECT_REFERENCE)),
        ptr(4, "automountServiceAccountToken", BOOL),
    ],
);

static HOST_PATH_VOLUME_SOURCE: Message = msg("HostPathVolumeSource", &[req(1, "path", STR), ptr(2, "type", STR)]);

static EMPTY_DIR_VOLUME_SOURCE: Message =
    msg("EmptyDirVolumeSource", &[opt(1, "medium", STR), ptr(2, "sizeLimit", QUANTITY)]);

static GCE_PERSISTENT_DISK_VOLUME_SOURCE: Message = msg(
    "GCEPersistentDiskVolumeSource",
    &[req(1, "pdName", STR), opt(2, "fsType", STR), opt(3, "partition", I32), opt(4, "readOnly", BOOL)],
);

static AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE: Message = msg(
    "AWSElasticBlockStoreVolumeSource",
    &[req(1, "volumeID", STR), opt(2, "fsType", STR), opt(3, "partition", I32), opt(4, "readOnly", BOOL)],
);

static GIT_REPO_VOLUME_SOURCE: Message =
    msg("GitRepoVolumeSource", &[req(1, "repository", STR), opt(2, "revision", STR), opt(3, "directory", STR)]);

static KEY_TO_PATH: Message = msg("KeyToPath", &[req(1, "key", STR), req(2, "path", STR), ptr(3, "mode", I32)]);

static SECRET_VOLUME_SOURCE: Message = msg(
    "SecretVolumeSource",
    &[
        opt(1, "secretName", STR),
        list_opt(2, "items", Ty::Msg(&KEY_TO_PATH)),
        ptr(3, "defaultMode", I32),
        ptr(4, "optional", BOOL),
    ],
);

static NFS_VOLUME_SOURCE: Message =
    msg("NFSVolumeSource", &[req(1, "server", STR), req(2, "path", STR), opt(3, "readOnly", BOOL)]);

static ISCSI_VOLUME_SOURCE: Message = msg(
    "ISCSIVolumeSource",
    &[
        req(1, "targetPortal", STR),
        req(2, "iqn", STR),
        req(3, "lun", I32),
        opt(4, "iscsiInterface", STR),
        opt(5, "fsType", STR),
        opt(6, "readOnly", BOOL),
        list_opt(7, "portals", STR),
        opt(8, "chapAuthDiscovery", BOOL),
        ptr(10, "secretRef", Ty::Msg(&LOCAL_OBJECT_REFERENCE)),
        opt(11, "chapAuthSession", BOOL),
        ptr(12, "initiatorName", STR),
    ],
);

static GLUSTERFS_VOLUME_SOURCE: Message =
    msg("GlusterfsVolumeSource", &[req(1, "endpoints", STR), req(2, "path", STR), opt(3, "readOnly", BOOL)]);

static PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE: Message =
    msg("PersistentVolumeClaimVolumeSource", &[req(1, "claimName", STR), opt(2, "readOnly", BOOL)]);

static RBD_VOLUME_SOURCE: Message = msg(
    "RBDVolumeSource",
    &[
        list(1, "monitors", STR),
        req(2, "image", STR),
        opt(3, "fsType", STR),
        opt(4, "pool", STR),
        opt(5, "user", STR),
        opt(6, "keyring", STR),
        ptr(7, "secretRef", Ty::Msg(&LOCAL_OBJECT_REFERENCE)),
        opt(8, "readOnly", BOOL),
    ],
);

static FLEX_VOLUME_SOURCE: Message = msg(
    "FlexVolumeSource",
    &[
        req(1, "driver", STR),
        opt(2, "fsType", STR),
        ptr(3, "secretRef", Ty::Msg(&LOCAL_OBJECT_REFERENCE)),
        opt(4, "readOnly", BOOL),
        map_opt(5, "options", STR),
    ],
);

static CINDER_VOLUME_SOURCE: Message = msg(
    "CinderVolumeSource",
    &[
        req(1, "volumeID", STR),
        opt(2, "fsType", STR),
        opt(3, "readOnly", BOOL),
        ptr(4, "secretRef", Ty::Msg(&LOCAL_OBJECT_REFERENCE)),
    ],
);

static CEPH_FS_VOLUME_SOURCE: Message = msg(
    "CephFSVolumeSource",
    &[
        list(1, "monitors", STR),
        opt(2, "path", STR),
        opt(3, "user", STR),
        opt(4, "secretFile", STR),
        ptr(5, "secretRef", Ty::Msg(&LOCAL_OBJECT_REFERENCE)),
        opt(6, "readOnly", BOOL),
    ],
);

static FLOCKER_VOLUME_SOURCE: Message =
    msg("FlockerVolumeSource", &[opt(1, "datasetName", STR), opt(2, "datasetUUID", STR)]);

static OBJECT_FIELD_SELECTOR: Message =
    msg("ObjectFieldSelector", &[opt(1, "apiVersion", STR), req(2, "fieldPath", STR)]);

static RESOURCE_FIELD_SELECTOR: Message =
    msg("ResourceFieldSelector", &[opt(1, "containerName", STR), req(2, "resource", STR), req(3, "divisor", QUANTITY)]);

static DOWNWARD_API_VOLUME_FILE: Message = msg(
    "DownwardAPIVolumeFile",
    &[
        req(1, "path", STR),
        ptr(2, "fieldRef", Ty::Msg(&OBJECT_FIELD_SELECTOR)),
        ptr(3, "resourceFieldRef", Ty::Msg(&RESOURCE_FIELD_SELECTOR)),
        ptr(4, "mode", I32),
    ],
);

static DOWNWARD_API_VOLUME_SOURCE: Message = msg(
    "DownwardAPIVolumeSource",
    &[list_opt(1, "items", Ty::Msg(&DOWNWARD_API_VOLUME_FILE)), ptr(2, "defaultMode", I32)],
);

static FC_VOLUME_SOURCE: Message = msg(
    "FCVolumeSource",
    &[
        list_opt(1, "targetWWNs", STR),
        ptr(2, "lun", I32),
        opt(3, "fsType", STR),
        opt(4, "readOnly", BOOL),
        list_opt(5, "wwids", STR),
    ],
);

static AZURE_FILE_VOLUME_SOURCE: Message =
    msg("AzureFileVolumeSource", &[req(1, "secretName", STR), req(2, "shareName", STR), opt(3, "readOnly", BOOL)]);

static CONFIG_MAP_VOLUME_SOURCE: Message = msg(
    "ConfigMapVolumeSource",
    &[
        inline(1, Ty::Msg(&LOCAL_OBJECT_REFERENCE)),
        list_opt(2, "items", Ty::Msg(&KEY_TO_PATH)),
        ptr(3, "defaultMode", I32),
        ptr(4, "optional", BOOL),
    ],
);

static VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE: Message = msg(
    "VsphereVirtualDiskVolumeSource",
    &[
        req(1, "volumePath", STR),
        opt(2, "fsType", STR),
        opt(3, "storagePolicyName", STR),
        opt(4, "storagePolicyID", STR),
    ],
);

static QUOBYTE_VOLUME_SOURCE: Message = msg(
    "QuobyteVolumeSource",
    &[
        req(1, "registry", STR),
        req(2, "volume", STR),
        opt(3, "readOnly", BOOL),
        opt(4, "user", STR),
        opt(5, "group", STR),
        opt(6, "tenant", STR),
    ],
);

static AZURE_DISK_VOLUME_SOURCE: Message = msg(
    "AzureDiskVolumeSource",
    &[
        req(1, "diskName", STR),
        req(2, "diskURI", STR),
        ptr(3, "cachingMode", STR),
        ptr(4, "fsType", STR),
        ptr(5, "readOnly", BOOL),
        ptr(6, "kind", STR),
    ],
);

static PHOTON_PERSISTENT_DISK_VOLUME_SOURCE: Message =
    msg("PhotonPersistentDiskVolumeSource", &[req(1, "pdID", STR), opt(2, "fsType", STR)]);

static SECRET_PROJECTION: Message = msg(
    "SecretProjection",
    &[
        inline(1, Ty::Msg(&LOCAL_OBJECT_REFERENCE)),
        list_opt(2, "items", Ty::Msg(&KEY_TO_PATH)),
        ptr(4, "optional", BOOL),
    ],
);

static DOWNWARD_API_PROJECTION: Message =
    msg("DownwardAPIProjection", &[list_opt(1, "items", Ty::Msg(&DOWNWARD_API_VOLUME_FILE))]);

static CONFIG_MAP_PROJECTION: Message = msg(
    "ConfigMapProjection",
    &[
        inline(1, Ty::Msg(&LOCAL_OBJECT_REFERENCE)),
        list_opt(2, "items", Ty::Msg(&KEY_TO_PATH)),
        ptr(4, "optional", BOOL),
    ],
);

static SERVICE_ACCOUNT_TOKEN_PROJECTION: Message = msg(
    "ServiceAccountTokenProjection",
    &[opt(1, "audience", STR), ptr(2, "expirationSeconds", I64), req(3, "path", STR)],
);

static LABEL_SELECTOR_REQUIREMENT: Message =
    msg("LabelSelectorRequirement", &[req(1, "key", STR), req(2, "operator", STR), list_opt(3, "values", STR)]);

static LABEL_SELECTOR: Message = msg(
    "LabelSelector",
    &[map_opt(1, "matchLabels", STR), list_opt(2, "matchExpressions", Ty::Msg(&LABEL_SELECTOR_REQUIREMENT))],
);

static CLUSTER_TRUST_BUNDLE_PROJECTION: Message = msg(
    "ClusterTrustBundleProjection",
    &[
        ptr(1, "name", STR),
        ptr(2, "signerName", STR),
        ptr(3, "labelSelector", Ty::Msg(&LABEL_SELECTOR)),
        req(4, "path", STR),
        ptr(5, "optional", BOOL),
    ],
);

static VOLUME_PROJECTION: Message = msg(
    "VolumeProjection",
    &[
        ptr(1, "secret", Ty::Msg(&SECRET_PROJECTION)),
        ptr(2, "downwardAPI", Ty::Msg(&DOWNWARD_API_PROJECTION)),
        ptr(3, "configMap", Ty::Msg(&CONFIG_MAP_PROJECTION)),
        ptr(4, "serviceAccountToken", Ty::Msg(&SERVICE_ACCOUNT_TOKEN_PROJECTION)),
        ptr(5, "clusterTrustBundle", Ty::Msg(&CLUSTER_TRUST_BUNDLE_PROJECTION)),
    ],
);

static PROJECTED_VOLUME_SOURCE: Message =
    msg("ProjectedVolumeSource", &[list(1, "sources", Ty::Msg(&VOLUME_PROJECTION)), ptr(2, "defaultMode", I32)]);

static PORTWORX_VOLUME_SOURCE: Message =
    msg("PortworxVolumeSource", &[req(1, "volumeID", STR), opt(2, "fsType", STR), opt(3, "readOnly", BOOL)]);

static SCALE_IO_VOLUME_SOURCE: Message = msg(
    "ScaleIOVolumeSource",
    &[
        req(1, "gateway", STR),
        req(2, "system", STR),
        ptr_null(3, "secretRef", Ty::Msg(&LOCAL_OBJECT_REFERENCE)),
        opt(4, "sslEnabled", BOOL),
        opt(5, "protectionDomain", STR),
        opt(6, "storagePool", STR),
        opt(7, "storageMode", STR),
        opt(8, "volumeName", STR),
        opt(9, "fsType", STR),
        opt(10, "readOnly", BOOL),
    ],
);

static STORAGE_OS_VOLUME_SOURCE: Message = msg(
    "StorageOSVolumeSource",
    &[
        opt(1, "volumeName", STR),
        opt(2, "volumeNamespace", STR),
        opt(3, "fsType", STR),
        opt(4, "readOnly", BOOL),
        ptr(5, "secretRef", Ty::Msg(&LOCAL_OBJECT_REFERENCE)),
    ],
);

static CSI_VOLUME_SOURCE: Message = msg(
    "CSIVolumeSource",
    &[
        req(1, "driver", STR),
        ptr(2, "readOnly", BOOL),
        ptr(3, "fsType", STR),
        map_opt(4, "volumeAttributes", STR),
        ptr(5, "nodePublishSecretRef", Ty::Msg(&LOCAL_OBJECT_REFERENCE)),
    ],
);

static VOLUME_RESOURCE_REQUIREMENTS: Message =
    msg("VolumeResourceRequirements", &[map_opt(1, "limits", QUANTITY), map_opt(2, "requests", QUANTITY)]);

static TYPED_LOCAL_OBJECT_REFERENCE: Message =
    msg("TypedLocalObjectReference", &[ptr_null(1, "apiGroup", STR), req(2, "kind", STR), req(3, "name", STR)]);

static TYPED_OBJECT_REFERENCE: Message = msg(
    "TypedObjectReference",
    &[ptr_null(1, "apiGroup", STR), req(2, "kind", STR), req(3, "name", STR), ptr(4, "namespace", STR)],
);

static PERSISTENT_VOLUME_CLAIM_SPEC: Message = msg(
    "PersistentVolumeClaimSpec",
    &[
        list_opt(1, "accessModes", STR),
        req(2, "resources", Ty::Msg(&VOLUME_RESOURCE_REQUIREMENTS)),
        opt(3, "volumeName", STR),
        ptr(4, "selector", Ty::Msg(&LABEL_SELECTOR)),
        ptr(5, "storageClassName", STR),
        ptr(6, "volumeMode", STR),
        ptr(7, "dataSource", Ty::Msg(&TYPED_LOCAL_OBJECT_REFERENCE)),
        ptr(8, "dataSourceRef", Ty::Msg(&TYPED_OBJECT_REFERENCE)),
        ptr(9, "volumeAttributesClassName", STR),
    ],
);

static PERSISTENT_VOLUME_CLAIM_TEMPLATE: Message = msg(
    "PersistentVolumeClaimTemplate",
    &[req(1, "metadata", Ty::Msg(&OBJECT_META)), req(2, "spec", Ty::Msg(&PERSISTENT_VOLUME_CLAIM_SPEC))],
);

static EPHEMERAL_VOLUME_SOURCE: Message =
    msg("EphemeralVolumeSource", &[ptr(1, "volumeClaimTemplate", Ty::Msg(&PERSISTENT_VOLUME_CLAIM_TEMPLATE))]);

static IMAGE_VOLUME_SOURCE: Message = msg("ImageVolumeSource", &[opt(1, "reference", STR), opt(2, "pullPolicy", STR)]);

static VOLUME_SOURCE: Message = msg(
    "VolumeSource",
    &[
        ptr(1, "hostPath", Ty::Msg(&HOST_PATH_VOLUME_SOURCE)),
        ptr(2, "emptyDir", Ty::Msg(&EMPTY_DIR_VOLUME_SOURCE)),
        ptr(3, "gcePersistentDisk", Ty::Msg(&GCE_PERSISTENT_DISK_VOLUME_SOURCE)),
        ptr(4, "awsElasticBlockStore", Ty::Msg(&AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE)),
        ptr(5, "gitRepo", Ty::Msg(&GIT_REPO_VOLUME_SOURCE)),
        ptr(6, "secret", Ty::Msg(&SECRET_VOLUME_SOURCE)),
        ptr(7, "nfs", Ty::Msg(&NFS_VOLUME_SOURCE)),
        ptr(8, "iscsi", Ty::Msg(&ISCSI_VOLUME_SOURCE)),
        ptr(9, "glusterfs", Ty::Msg(&GLUSTERFS_VOLUME_SOURCE)),
        ptr(10, "persistentVolumeClaim", Ty::Msg(&PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE)),
        ptr(11, "rbd", Ty::Msg(&RBD_VOLUME_SOURCE)),
        ptr(12, "flexVolume", Ty::Msg(&FLEX_VOLUME_SOURCE)),
        ptr(13, "cinder", Ty::Msg(&CINDER_VOLUME_SOURCE)),
        ptr(14, "cephfs", Ty::Msg(&CEPH_FS_VOLUME_SOURCE)),
        ptr(15, "flocker", Ty::Msg(&FLOCKER_VOLUME_SOURCE)),
        ptr(16, "downwardAPI", Ty::Msg(&DOWNWARD_API_VOLUME_SOURCE)),
        ptr(17, "fc", Ty::Msg(&FC_VOLUME_SOURCE)),
        ptr(18, "azureFile", Ty::Msg(&AZURE_FILE_VOLUME_SOURCE)),
        ptr(19, "configMap", Ty::Msg(&CONFIG_MAP_VOLUME_SOURCE)),
        ptr(20, "vsphereVolume", Ty::Msg(&VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE)),
        ptr(21, "quobyte", Ty::Msg(&QUOBYTE_VOLUME_SOURCE)),
        ptr(22, "azureDisk", Ty::Msg(&AZURE_DISK_VOLUME_SOURCE)),
        ptr(23, "photonPersistentDisk", Ty::Msg(&PHOTON_PERSISTENT_DISK_VOLUME_SOURCE)),
        ptr(24, "portworxVolume", Ty::Msg(&PORTWORX_VOLUME_SOURCE)),
        ptr(25, "scaleIO", Ty::Msg(&SCALE_IO_VOLUME_SOURCE)),
        ptr(26, "projected", Ty::Msg(&PROJECTED_VOLUME_SOURCE)),
        ptr(27, "storageos", Ty::Msg(&STORAGE_OS_VOLUME_SOURCE)),
        ptr(28, "csi", Ty::Msg(&CSI_VOLUME_SOURCE)),
        ptr(29, "ephemeral", Ty::Msg(&EPHEMERAL_VOLUME_SOURCE)),
        ptr(30, "image", Ty::Msg(&IMAGE_VOLUME_SOURCE)),
    ],
);

static VOLUME: Message = msg("Volume", &[req(1, "name", STR), inline(2, Ty::Msg(&VOLUME_SOURCE))]);

static CONTAINER_PORT: Message = msg(
    "ContainerPort",
    &[
        opt(1, "name", STR),
        opt(2, "hostPort", I32),
        req(3, "containerPort", I32),
        opt(4, "protocol", STR),
        opt(5, "hostIP", STR),
    ],
);

static CONFIG_MAP_ENV_SOURCE: Message =
    msg("ConfigMapEnvSource", &[inline(1, Ty::Msg(&LOCAL_OBJECT_REFERENCE)), ptr(2, "optional", BOOL)]);

static SECRET_ENV_SOURCE: Message =
    msg("SecretEnvSource", &[inline(1, Ty::Msg(&LOCAL_OBJECT_REFERENCE)), ptr(2, "optional", BOOL)]);

static ENV_FROM_SOURCE: Message = msg(
    "EnvFromSource",
    &[
        opt(1, "prefix", STR),
        ptr(2, "configMapRef", Ty::Msg(&CONFIG_MAP_ENV_SOURCE)),
        ptr(3, "secretRef", Ty::Msg(&SECRET_ENV_SOURCE)),
    ],
);

static CONFIG_MAP_KEY_SELECTOR: Message = msg(
    "ConfigMapKeySelector",
    &[inline(1, Ty::Msg(&LOCAL_OBJECT_REFERENCE)), req(2, "key", STR), ptr(3, "optional", BOOL)],
);

static SECRET_KEY_SELECTOR: Message = msg(
    "SecretKeySelector",
    &[inline(1, Ty::Msg(&LOCAL_OBJECT_REFERENCE)), req(2, "key", STR), ptr(3, "optional", BOOL)],
);

static ENV_VAR_SOURCE: Message = msg(
    "EnvVarSource",
    &[
        ptr(1, "fieldRef", Ty::Msg(&OBJECT_FIELD_SELECTOR)),
        ptr(2, "resourceFieldRef", Ty::Msg(&RESOURCE_FIELD_SELECTOR)),
        ptr(3, "configMapKeyRef", Ty::Msg(&CONFIG_MAP_KEY_SELECTOR)),
        ptr(4, "secretKeyRef", Ty::Msg(&SECRET_KEY_SELECTOR)),
    ],
);

static ENV_VAR: Message =
    msg("EnvVar", &[req(1, "name", STR), opt(2, "value", STR), ptr(3, "valueFrom", Ty::Msg(&ENV_VAR_SOURCE))]);

static RESOURCE_CLAIM: Message = msg("ResourceClaim", &[req(1, "name", STR), opt(2, "request", STR)]);

static RESOURCE_REQUIREMENTS: Message = msg(
    "ResourceRequirements",
    &[
        map_opt(1, "limits", QUANTITY),
        map_opt(2, "requests", QUANTITY),
        list_opt(3, "claims", Ty::Msg(&RESOURCE_CLAIM)),
    ],
);

static CONTAINER_RESIZE_POLICY: Message =
    msg("ContainerResizePolicy", &[req(1, "resourceName", STR), req(2, "restartPolicy", STR)]);

static VOLUME_MOUNT: Message = msg(
    "VolumeMount",
    &[
        req(1, "name", STR),
        opt(2, "readOnly", BOOL),
        req(3, "mountPath", STR),
        opt(4, "subPath", STR),
        ptr(5, "mountPropagation", STR),
        opt(6, "subPathExpr", STR),
        ptr(7, "recursiveReadOnly", STR),
    ],
);

static VOLUME_DEVICE: Message = msg("VolumeDevice", &[req(1, "name", STR), req(2, "devicePath", STR)]);

static EXEC_ACTION: Message = msg("ExecAction", &[list_opt(1, "command", STR)]);

static HTTP_HEADER: Message = msg("HTTPHeader", &[req(1, "name", STR), req(2, "value", STR)]);

static HTTP_GET_ACTION: Message = msg(
    "HTTPGetAction",
    &[
        opt(1, "path", STR),
        req(2, "port", INT_OR_STRING),
        opt(3, "host", STR),
        opt(4, "scheme", STR),
        list_opt(5, "httpHeaders", Ty::Msg(&HTTP_HEADER)),
    ],
);

static TCP_SOCKET_ACTION: Message = msg("TCPSocketAction", &[req(1, "port", INT_OR_STRING), opt(2, "host", STR)]);

static GRPC_ACTION: Message = msg("GRPCAction", &[req(1, "port", I32), ptr_null(2, "service", STR)]);

static PROBE_HANDLER: Message = msg(
    "ProbeHandler",
    &[
        ptr(1, "exec", Ty::Msg(&EXEC_ACTION)),
        ptr(2, "httpGet", Ty::Msg(&HTTP_GET_ACTION)),
        ptr(3, "tcpSocket", Ty::Msg(&TCP_SOCKET_ACTION)),
        ptr(4, "grpc", Ty::Msg(&GRPC_ACTION)),
    ],
);

static PROBE: Message = msg(
    "Probe",
    &[
        inline(1, Ty::Msg(&PROBE_HANDLER)),
        opt(2, "initialDelaySeconds", I32),
        opt(3, "timeoutSeconds", I32),
        opt(4, "periodSeconds", I32),
        opt(5, "successThreshold", I32),
        opt(6, "failureThreshold", I32),
        ptr(7, "terminationGracePeriodSeconds", I64),
    ],
);

static SLEEP_ACTION: Message = msg("SleepAction", &[req(1, "seconds", I64)]);

static LIFECYCLE_HANDLER: Message = msg(
    "LifecycleHandler",
    &[
        ptr(1, "exec", Ty::Msg(&EXEC_ACTION)),
        ptr(2, "httpGet", Ty::Msg(&HTTP_GET_ACTION)),
        ptr(3, "tcpSocket", Ty::Msg(&TCP_SOCKET_ACTION)),
        ptr(4, "sleep", Ty::Msg(&SLEEP_ACTION)),
    ],
);

static LIFECYCLE: Message = msg(
    "Lifecycle",
    &[ptr(1, "postStart", Ty::Msg(&LIFECYCLE_HANDLER)), ptr(2, "preStop", Ty::Msg(&LIFECYCLE_HANDLER))],
);

static CAPABILITIES: Message = msg("Capabilities", &[list_opt(1, "add", STR), list_opt(2, "drop", STR)]);

static SE_LINUX_OPTIONS: Message =
    msg("SELinuxOptions", &[opt(1, "user", STR), opt(2, "role", STR), opt(3, "type", STR), opt(4, "level", STR)]);

static WINDOWS_SECURITY_CONTEXT_OPTIONS: Message = msg(
    "WindowsSecurityContextOptions",
    &[
        ptr(1, "gmsaCredentialSpecName", STR),
        ptr(2, "gmsaCredentialSpec", STR),
        ptr(3, "runAsUserName", STR),
        ptr(4, "hostProcess", BOOL),
    ],
);

static SECCOMP_PROFILE: Message = msg("SeccompProfile", &[req(1, "type", STR), ptr(2, "localhostProfile", STR)]);

static APP_ARMOR_PROFILE: Message = msg("AppArmorProfile", &[req(1, "type", STR), ptr(2, "localhostProfile", STR)]);

static SECURITY_CONTEXT: Message = msg(
    "SecurityContext",
    &[
        ptr(1, "capabilities", Ty::Msg(&CAPABILITIES)),
        ptr(2, "privileged", BOOL),
        ptr(3, "seLinuxOptions", Ty::Msg(&SE_LINUX_OPTIONS)),
        ptr(4, "runAsUser", I64),
        ptr(5, "runAsNonRoot", BOOL),
        ptr(6, "readOnlyRootFilesystem", BOOL),
        ptr(7, "allowPrivilegeEscalation", BOOL),
        ptr(8, "runAsGroup", I64),
        ptr(9, "procMount", STR),
        ptr(10, "windowsOptions", Ty::Msg(&WINDOWS_SECURITY_CONTEXT_OPTIONS)),
        ptr(11, "seccompProfile", Ty::Msg(&SECCOMP_PROFILE)),
        ptr(12, "appArmorProfile", Ty::Msg(&APP_ARMOR_PROFILE)),
    ],
);

static CONTAINER: Message = msg(
    "Container",
    &[
        req(1, "name", STR),
        opt(2, "image", STR),
        list_opt(3, "command", STR),
        list_opt(4, "args", STR),
        opt(5, "workingDir", STR),
        list_opt(6, "ports", Ty::Msg(&CONTAINER_PORT)),
        list_opt(7, "env", Ty::Msg(&ENV_VAR)),
        req(8, "resources", Ty::Msg(&RESOURCE_REQUIREMENTS)),
        list_opt(9, "volumeMounts", Ty::Msg(&VOLUME_MOUNT)),
        ptr(10, "livenessProbe", Ty::Msg(&PROBE)),
        ptr(11, "readinessProbe", Ty::Msg(&PROBE)),
        ptr(12, "lifecycle", Ty::Msg(&LIFECYCLE)),
        opt(13, "terminationMessagePath", STR),
        opt(14, "imagePullPolicy", STR),
        ptr(15, "securityContext", Ty::Msg(&SECURITY_CONTEXT)),
        opt(16, "stdin", BOOL),
        opt(17, "stdinOnce", BOOL),
        opt(18, "tty", BOOL),
        list_opt(19, "envFrom", Ty::Msg(&ENV_FROM_SOURCE)),
        opt(20, "terminationMessagePolicy", STR),
        list_opt(21, "volumeDevices", Ty::Msg(&VOLUME_DEVICE)),
        ptr(22, "startupProbe", Ty::Msg(&PROBE)),
        list_opt(23, "resizePolicy", Ty::Msg(&CONTAINER_RESIZE_POLICY)),
        ptr(24, "restartPolicy", STR),
    ],
);

static EPHEMERAL_CONTAINER_COMMON: Message = msg(
    "EphemeralContainerCommon",
    &[
        req(1, "name", STR),
        opt(2, "image", STR),
        list_opt(3, "command", STR),
        list_opt(4, "args", STR),
        opt(5, "workingDir", STR),
        list_opt(6, "ports", Ty::Msg(&CONTAINER_PORT)),
        list_opt(7, "env", Ty::Msg(&ENV_VAR)),
        req(8, "resources", Ty::Msg(&RESOURCE_REQUIREMENTS)),
        list_opt(9, "volumeMounts", Ty::Msg(&VOLUME_MOUNT)),
        ptr(10, "livenessProbe", Ty::Msg(&PROBE)),
        ptr(11, "readinessProbe", Ty::Msg(&PROBE)),
        ptr(12, "lifecycle", Ty::Msg(&LIFECYCLE)),
        opt(13, "terminationMessagePath", STR),
        opt(14, "imagePullPolicy", STR),
        ptr(15, "securityContext", Ty::Msg(&SECURITY_CONTEXT)),
        opt(16, "stdin", BOOL),
        opt(17, "stdinOnce", BOOL),
        opt(18, "tty", BOOL),
        list_opt(19, "envFrom", Ty::Msg(&ENV_FROM_SOURCE)),
        opt(20, "terminationMessagePolicy", STR),
        list_opt(21, "volumeDevices", Ty::Msg(&VOLUME_DEVICE)),
        ptr(22, "startupProbe", Ty::Msg(&PROBE)),
        list_opt(23, "resizePolicy", Ty::Msg(&CONTAINER_RESIZE_POLICY)),
        ptr(24, "restartPolicy", STR),
    ],
);

static EPHEMERAL_CONTAINER: Message =
    msg("EphemeralContainer", &[inline(1, Ty::Msg(&EPHEMERAL_CONTAINER_COMMON)), opt(2, "targetContainerName", STR)]);

static SYSCTL: Message = msg("Sysctl", &[req(1, "name", STR), req(2, "value", STR)]);

static POD_SECURITY_CONTEXT: Message = msg(
    "PodSecurityContext",
    &[
        ptr(1, "seLinuxOptions", Ty::Msg(&SE_LINUX_OPTIONS)),
        ptr(2, "runAsUser", I64),
        ptr(3, "runAsNonRoot", BOOL),
        list_opt(4, "supplementalGroups", I64),
        ptr(5, "fsGroup", I64),
        ptr(6, "runAsGroup", I64),
        list_opt(7, "sysctls", Ty::Msg(&SYSCTL)),
        ptr(8, "windowsOptions", Ty::Msg(&WINDOWS_SECURITY_CONTEXT_OPTIONS)),
        ptr(9, "fsGroupChangePolicy", STR),
        ptr(10, "seccompProfile", Ty::Msg(&SECCOMP_PROFILE)),
        ptr(11, "appArmorProfile", Ty::Msg(&APP_ARMOR_PROFILE)),
        ptr(12, "supplementalGroupsPolicy", STR),
        ptr(13, "seLinuxChangePolicy", STR),
    ],
);

static NODE_SELECTOR_REQUIREMENT: Message =
    msg("NodeSelectorRequirement", &[req(1, "key", STR), req(2, "operator", STR), list_opt(3, "values", STR)]);

static NODE_SELECTOR_TERM: Message = msg(
    "NodeSelectorTerm",
    &[
        list_opt(1, "matchExpressions", Ty::Msg(&NODE_SELECTOR_REQUIREMENT)),
        list_opt(2, "matchFields", Ty::Msg(&NODE_SELECTOR_REQUIREMENT)),
    ],
);

static NODE_SELECTOR: Message = msg("NodeSelector", &[list(1, "nodeSelectorTerms", Ty::Msg(&NODE_SELECTOR_TERM))]);

static PREFERRED_SCHEDULING_TERM: Message =
    msg("PreferredSchedulingTerm", &[req(1, "weight", I32), req(2, "preference", Ty::Msg(&NODE_SELECTOR_TERM))]);

static NODE_AFFINITY: Message = msg(
    "NodeAffinity",
    &[
        ptr(1, "requiredDuringSchedulingIgnoredDuringExecution", Ty::Msg(&NODE_SELECTOR)),
        list_opt(2, "preferredDuringSchedulingIgnoredDuringExecution", Ty::Msg(&PREFERRED_SCHEDULING_TERM)),
    ],
);

static POD_AFFINITY_TERM: Message = msg(
    "PodAffinityTerm",
    &[
        ptr(1, "labelSelector", Ty::Msg(&LABEL_SELECTOR)),
        list_opt(2, "namespaces", STR),
        req(3, "topologyKey", STR),
        ptr(4, "namespaceSelector", Ty::Msg(&LABEL_SELECTOR)),
        list_opt(5, "matchLabelKeys", STR),
        list_opt(6, "mismatchLabelKeys", STR),
    ],
);

static WEIGHTED_POD_AFFINITY_TERM: Message =
    msg("WeightedPodAffinityTerm", &[req(1, "weight", I32), req(2, "podAffinityTerm", Ty::Msg(&POD_AFFINITY_TERM))]);

static POD_AFFINITY: Message = msg(
    "PodAffinity",
    &[
        list_opt(1, "requiredDuringSchedulingIgnoredDuringExecution", Ty::Msg(&POD_AFFINITY_TERM)),
        list_opt(2, "preferredDuringSchedulingIgnoredDuringExecution", Ty::Msg(&WEIGHTED_POD_AFFINITY_TERM)),
    ],
);

static POD_ANTI_AFFINITY: Message = msg(
    "PodAntiAffinity",
    &[
        list_opt(1, "requiredDuringSchedulingIgnoredDuringExecution", Ty::Msg(&POD_AFFINITY_TERM)),
        list_opt(2, "preferredDuringSchedulingIgnoredDuringExecution", Ty::Msg(&WEIGHTED_POD_AFFINITY_TERM)),
    ],
);

static AFFINITY: Message = msg(
    "Affinity",
    &[
        ptr(1, "nodeAffinity", Ty::Msg(&NODE_AFFINITY)),
        ptr(2, "podAffinity", Ty::Msg(&POD_AFFINITY)),
        ptr(3, "podAntiAffinity", Ty::Msg(&POD_ANTI_AFFINITY)),
    ],
);

static TOLERATION: Message = msg(
    "Toleration",
    &[
        opt(1, "key", STR),
        opt(2, "operator", STR),
        opt(3, "value", STR),
        opt(4, "effect", STR),
        ptr(5, "tolerationSeconds", I64),
    ],
);

static HOST_ALIAS: Message = msg("HostAlias", &[req(1, "ip", STR), list_opt(2, "hostnames", STR)]);

static POD_DNS_CONFIG_OPTION: Message = msg("PodDNSConfigOption", &[opt(1, "name", STR), ptr(2, "value", STR)]);

static POD_DNS_CONFIG: Message = msg(
    "PodDNSConfig",
    &[
        list_opt(1, "nameservers", STR),
        list_opt(2, "searches", STR),
        list_opt(3, "options", Ty::Msg(&POD_DNS_CONFIG_OPTION)),
    ],
);

static POD_READINESS_GATE: Message = msg("PodReadinessGate", &[req(1, "conditionType", STR)]);

static TOPOLOGY_SPREAD_CONSTRAINT: Message = msg(
    "TopologySpreadConstraint",
    &[
        req(1, "maxSkew", I32),
        req(2, "topologyKey", STR),
        req(3, "whenUnsatisfiable", STR),
        ptr(4, "labelSelector", Ty::Msg(&LABEL_SELECTOR)),
        ptr(5, "minDomains", I32),
        ptr(6, "nodeAffinityPolicy", STR),
        ptr(7, "nodeTaintsPolicy", STR),
        list_opt(8, "matchLabelKeys", STR),
    ],
);

static POD_OS: Message = msg("PodOS", &[req(1, "name", STR)]);

static POD_SCHEDULING_GATE: Message = msg("PodSchedulingGate", &[req(1, "name", STR)]);

static POD_RESOURCE_CLAIM: Message = msg(
    "PodResourceClaim",
    &[req(1, "name", STR), ptr(3, "resourceClaimName", STR), ptr(4, "resourceClaimTemplateName", STR)],
);

static POD_SPEC: Message = msg(
    "PodSpec",
    &[
        list_opt(1, "volumes", Ty::Msg(&VOLUME)),
        list(2, "containers", Ty::Msg(&CONTAINER)),
        opt(3, "restartPolicy", STR),
        ptr(4, "terminationGracePeriodSeconds", I64),
        ptr(5, "activeDeadlineSeconds", I64),
        opt(6, "dnsPolicy", STR),
        map_opt(7, "nodeSelector", STR),
        opt(8, "serviceAccountName", STR),
        opt(9, "serviceAccount", STR),
        opt(10, "nodeName", STR),
        opt(11, "hostNetwork", BOOL),
        opt(12, "hostPID", BOOL),
        opt(13, "hostIPC", BOOL),
        ptr(14, "securityContext", Ty::Msg(&POD_SECURITY_CONTEXT)),
        list_opt(15, "imagePullSecrets", Ty::Msg(&LOCAL_OBJECT_REFERENCE)),
        opt(16, "hostname", STR),
        opt(17, "subdomain", STR),
        ptr(18, "affinity", Ty::Msg(&AFFINITY)),
        opt(19, "schedulerName", STR),
        list_opt(20, "initContainers", Ty::Msg(&CONTAINER)),
        ptr(21, "automountServiceAccountToken", BOOL),
        list_opt(22, "tolerations", Ty::Msg(&TOLERATION)),
        list_opt(23, "hostAliases", Ty::Msg(&HOST_ALIAS)),
        opt(24, "priorityClassName", STR),
        ptr(25, "priority", I32),
        ptr(26, "dnsConfig", Ty::Msg(&POD_DNS_CONFIG)),
        ptr(27, "shareProcessNamespace", BOOL),
        list_opt(28, "readinessGates", Ty::Msg(&POD_READINESS_GATE)),
        ptr(29, "runtimeClassName", STR),
        ptr(30, "enableServiceLinks", BOOL),
        ptr(31, "preemptionPolicy", STR),
        map_opt(32, "overhead", QUANTITY),
        list_opt(33, "topologySpreadConstraints", Ty::Msg(&TOPOLOGY_SPREAD_CONSTRAINT)),
        list_opt(34, "ephemeralContainers", Ty::Msg(&EPHEMERAL_CONTAINER)),
        ptr(35, "setHostnameAsFQDN", BOOL),
        ptr(36, "os", Ty::Msg(&POD_OS)),
        ptr(37, "hostUsers", BOOL),
        list_opt(38, "schedulingGates", Ty::Msg(&POD_SCHEDULING_GATE)),
        list_opt(39, "resourceClaims", Ty::Msg(&POD_RESOURCE_CLAIM)),
        ptr(40, "resources", Ty::Msg(&RESOURCE_REQUIREMENTS)),
    ],
);

static POD_CONDITION: Message = msg(
    "PodCondition",
    &[
        req(1, "type", STR),
        req(2, "status", STR),
        req(3, "lastProbeTime", TIME),
        req(4, "lastTransitionTime", TIME),
        opt(5, "reason", STR),
        opt(6, "message", STR),
    ],
);

static HOST_IP: Message = msg("HostIP", &[req(1, "ip", STR)]);

static POD_IP: Message = msg("PodIP", &[req(1, "ip", STR)]);

static CONTAINER_STATE_WAITING: Message =
    msg("ContainerStateWaiting", &[opt(1, "reason", STR), opt(2, "message", STR)]);

static CONTAINER_STATE_RUNNING: Message = msg("ContainerStateRunning", &[req(1, "startedAt", TIME)]);

static CONTAINER_STATE_TERMINATED: Message = msg(
    "ContainerStateTerminated",
    &[
        req(1, "exitCode", I32),
        opt(2, "signal", I32),
        opt(3, "reason", STR),
        opt(4, "message", STR),
        req(5, "startedAt", TIME),
        req(6, "finishedAt", TIME),
        opt(7, "containerID", STR),
    ],
);

static CONTAINER_STATE: Message = msg(
    "ContainerState",
    &[
        ptr(1, "waiting", Ty::Msg(&CONTAINER_STATE_WAITING)),
        ptr(2, "running", Ty::Msg(&CONTAINER_STATE_RUNNING)),
        ptr(3, "terminated", Ty::Msg(&CONTAINER_STATE_TERMINATED)),
    ],
);

static VOLUME_MOUNT_STATUS: Message = msg(
    "VolumeMountStatus",
    &[req(1, "name", STR), req(2, "mountPath", STR), opt(3, "readOnly", BOOL), ptr(4, "recursiveReadOnly", STR)],
);

static LINUX_CONTAINER_USER: Message =
    msg("LinuxContainerUser", &[req(1, "uid", I64), req(2, "gid", I64), list_opt(3, "supplementalGroups", I64)]);

static CONTAINER_USER: Message = msg("ContainerUser", &[ptr(1, "linux", Ty::Msg(&LINUX_CONTAINER_USER))]);

static RESOURCE_HEALTH: Message = msg("ResourceHealth", &[req(1, "resourceID", STR), opt(2, "health", STR)]);

static RESOURCE_STATUS: Message =
    msg("ResourceStatus", &[req(1, "name", STR), list_opt(2, "resources", Ty::Msg(&RESOURCE_HEALTH))]);

static CONTAINER_STATUS: Message = msg(
    "ContainerStatus",
    &[
        req(1, "name", STR),
        req(2, "state", Ty::Msg(&CONTAINER_STATE)),
        req(3, "lastState", Ty::Msg(&CONTAINER_STATE)),
        req(4, "ready", BOOL),
        req(5, "restartCount", I32),
        req(6, "image", STR),
        req(7, "imageID", STR),
        opt(8, "containerID", STR),
        ptr(9, "started", BOOL),
        map_opt(10, "allocatedResources", QUANTITY),
        ptr(11, "resources", Ty::Msg(&RESOURCE_REQUIREMENTS)),
        list_opt(12, "volumeMounts", Ty::Msg(&VOLUME_MOUNT_STATUS)),
        ptr(13, "user", Ty::Msg(&CONTAINER_USER)),
        list_opt(14, "allocatedResourcesStatus", Ty::Msg(&RESOURCE_STATUS)),
    ],
);

static POD_RESOURCE_CLAIM_STATUS: Message =
    msg("PodResourceClaimStatus", &[req(1, "name", STR), ptr(2, "resourceClaimName", STR)]);

static POD_STATUS: Message = msg(
    "PodStatus",
    &[
        opt(1, "phase", STR),
        list_opt(2, "conditions", Ty::Msg(&POD_CONDITION)),
        opt(3, "message", STR),
        opt(4, "reason", STR),
        opt(5, "hostIP", STR),
        opt(6, "podIP", STR),
        ptr(7, "startTime", TIME),
        list_opt(8, "containerStatuses", Ty::Msg(&CONTAINER_STATUS)),
        opt(9, "qosClass", STR),
        list_opt(10, "initContainerStatuses", Ty::Msg(&CONTAINER_STATUS)),
        opt(11, "nominatedNodeName", STR),
        list_opt(12, "podIPs", Ty::Msg(&POD_IP)),
        list_opt(13, "ephemeralContainerStatuses", Ty::Msg(&CONTAINER_STATUS)),
        opt(14, "resize", STR),
        list_opt(15, "resourceClaimStatuses", Ty::Msg(&POD_RESOURCE_CLAIM_STATUS)),
        list_opt(16, "hostIPs", Ty::Msg(&HOST_IP)),
    ],
);

static POD: Message = msg(
    "Pod",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&POD_SPEC)),
        req(3, "status", Ty::Msg(&POD_STATUS)),
    ],
);

static SCOPED_RESOURCE_SELECTOR_REQUIREMENT: Message = msg(
    "ScopedResourceSelectorRequirement",
    &[req(1, "scopeName", STR), req(2, "operator", STR), list_opt(3, "values", STR)],
);

static SCOPE_SELECTOR: Message =
    msg("ScopeSelector", &[list_opt(1, "matchExpressions", Ty::Msg(&SCOPED_RESOURCE_SELECTOR_REQUIREMENT))]);

static RESOURCE_QUOTA_SPEC: Message = msg(
    "ResourceQuotaSpec",
    &[map_opt(1, "hard", QUANTITY), list_opt(2, "scopes", STR), ptr(3, "scopeSelector", Ty::Msg(&SCOPE_SELECTOR))],
);

static RESOURCE_QUOTA_STATUS: Message =
    msg("ResourceQuotaStatus", &[map_opt(1, "hard", QUANTITY), map_opt(2, "used", QUANTITY)]);

static RESOURCE_QUOTA: Message = msg(
    "ResourceQuota",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&RESOURCE_QUOTA_SPEC)),
        req(3, "status", Ty::Msg(&RESOURCE_QUOTA_STATUS)),
    ],
);

static POD_TEMPLATE_SPEC: Message =
    msg("PodTemplateSpec", &[req(1, "metadata", Ty::Msg(&OBJECT_META)), req(2, "spec", Ty::Msg(&POD_SPEC))]);

static ROLLING_UPDATE_DEPLOYMENT: Message =
    msg("RollingUpdateDeployment", &[ptr(1, "maxUnavailable", INT_OR_STRING), ptr(2, "maxSurge", INT_OR_STRING)]);

static DEPLOYMENT_STRATEGY: Message =
    msg("DeploymentStrategy", &[opt(1, "type", STR), ptr(2, "rollingUpdate", Ty::Msg(&ROLLING_UPDATE_DEPLOYMENT))]);

static DEPLOYMENT_SPEC: Message = msg(
    "DeploymentSpec",
    &[
        ptr(1, "replicas", I32),
        ptr_null(2, "selector", Ty::Msg(&LABEL_SELECTOR)),
        req(3, "template", Ty::Msg(&POD_TEMPLATE_SPEC)),
        req(4, "strategy", Ty::Msg(&DEPLOYMENT_STRATEGY)),
        opt(5, "minReadySeconds", I32),
        ptr(6, "revisionHistoryLimit", I32),
        opt(7, "paused", BOOL),
        ptr(9, "progressDeadlineSeconds", I32),
    ],
);

static DEPLOYMENT_CONDITION: Message = msg(
    "DeploymentCondition",
    &[
        req(1, "type", STR),
        req(2, "status", STR),
        opt(4, "reason", STR),
        opt(5, "message", STR),
        req(6, "lastUpdateTime", TIME),
        req(7, "lastTransitionTime", TIME),
    ],
);

static DEPLOYMENT_STATUS: Message = msg(
    "DeploymentStatus",
    &[
        opt(1, "observedGeneration", I64),
        opt(2, "replicas", I32),
        opt(3, "updatedReplicas", I32),
        opt(4, "availableReplicas", I32),
        opt(5, "unavailableReplicas", I32),
        list_opt(6, "conditions", Ty::Msg(&DEPLOYMENT_CONDITION)),
        opt(7, "readyReplicas", I32),
        ptr(8, "collisionCount", I32),
    ],
);

static DEPLOYMENT: Message = msg(
    "Deployment",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&DEPLOYMENT_SPEC)),
        req(3, "status", Ty::Msg(&DEPLOYMENT_STATUS)),
    ],
);

static REPLICA_SET_SPEC: Message = msg(
    "ReplicaSetSpec",
    &[
        ptr(1, "replicas", I32),
        ptr_null(2, "selector", Ty::Msg(&LABEL_SELECTOR)),
        req(3, "template", Ty::Msg(&POD_TEMPLATE_SPEC)),
        opt(4, "minReadySeconds", I32),
    ],
);

static REPLICA_SET_CONDITION: Message = msg(
    "ReplicaSetCondition",
    &[
        req(1, "type", STR),
        req(2, "status", STR),
        req(3, "lastTransitionTime", TIME),
        opt(4, "reason", STR),
        opt(5, "message", STR),
    ],
);

static REPLICA_SET_STATUS: Message = msg(
    "ReplicaSetStatus",
    &[
        req(1, "replicas", I32),
        opt(2, "fullyLabeledReplicas", I32),
        opt(3, "observedGeneration", I64),
        opt(4, "readyReplicas", I32),
        opt(5, "availableReplicas", I32),
        list_opt(6, "conditions", Ty::Msg(&REPLICA_SET_CONDITION)),
    ],
);

static REPLICA_SET: Message = msg(
    "ReplicaSet",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&REPLICA_SET_SPEC)),
        req(3, "status", Ty::Msg(&REPLICA_SET_STATUS)),
    ],
);

static PERSISTENT_VOLUME_CLAIM_CONDITION: Message = msg(
    "PersistentVolumeClaimCondition",
    &[
        req(1, "type", STR),
        req(2, "status", STR),
        req(3, "lastProbeTime", TIME),
        req(4, "lastTransitionTime", TIME),
        opt(5, "reason", STR),
        opt(6, "message", STR),
    ],
);

static MODIFY_VOLUME_STATUS: Message =
    msg("ModifyVolumeStatus", &[opt(1, "targetVolumeAttributesClassName", STR), req(2, "status", STR)]);

static PERSISTENT_VOLUME_CLAIM_STATUS: Message = msg(
    "PersistentVolumeClaimStatus",
    &[
        opt(1, "phase", STR),
        list_opt(2, "accessModes", STR),
        map_opt(3, "capacity", QUANTITY),
        list_opt(4, "conditions", Ty::Msg(&PERSISTENT_VOLUME_CLAIM_CONDITION)),
        map_opt(5, "allocatedResources", QUANTITY),
        map_opt(7, "allocatedResourceStatuses", STR),
        ptr(8, "currentVolumeAttributesClassName", STR),
        ptr(9, "modifyVolumeStatus", Ty::Msg(&MODIFY_VOLUME_STATUS)),
    ],
);

static PERSISTENT_VOLUME_CLAIM: Message = msg(
    "PersistentVolumeClaim",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&PERSISTENT_VOLUME_CLAIM_SPEC)),
        req(3, "status", Ty::Msg(&PERSISTENT_VOLUME_CLAIM_STATUS)),
    ],
);

static ROLLING_UPDATE_STATEFUL_SET_STRATEGY: Message =
    msg("RollingUpdateStatefulSetStrategy", &[ptr(1, "partition", I32), ptr(2, "maxUnavailable", INT_OR_STRING)]);

static STATEFUL_SET_UPDATE_STRATEGY: Message = msg(
    "StatefulSetUpdateStrategy",
    &[opt(1, "type", STR), ptr(2, "rollingUpdate", Ty::Msg(&ROLLING_UPDATE_STATEFUL_SET_STRATEGY))],
);

static STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY: Message =
    msg("StatefulSetPersistentVolumeClaimRetentionPolicy", &[opt(1, "whenDeleted", STR), opt(2, "whenScaled", STR)]);

static STATEFUL_SET_ORDINALS: Message = msg("StatefulSetOrdinals", &[req(1, "start", I32)]);

static STATEFUL_SET_SPEC: Message = msg(
    "StatefulSetSpec",
    &[
        ptr(1, "replicas", I32),
        ptr_null(2, "selector", Ty::Msg(&LABEL_SELECTOR)),
        req(3, "template", Ty::Msg(&POD_TEMPLATE_SPEC)),
        list_opt(4, "volumeClaimTemplates", Ty::Msg(&PERSISTENT_VOLUME_CLAIM)),
        req(5, "serviceName", STR),
        opt(6, "podManagementPolicy", STR),
        req(7, "updateStrategy", Ty::Msg(&STATEFUL_SET_UPDATE_STRATEGY)),
        ptr(8, "revisionHistoryLimit", I32),
        opt(9, "minReadySeconds", I32),
        ptr(
            10,
            "persistentVolumeClaimRetentionPolicy",
            Ty::Msg(&STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY),
        ),
        ptr(11, "ordinals", Ty::Msg(&STATEFUL_SET_ORDINALS)),
    ],
);

static STATEFUL_SET_CONDITION: Message = msg(
    "StatefulSetCondition",
    &[
        req(1, "type", STR),
        req(2, "status", STR),
        req(3, "lastTransitionTime", TIME),
        opt(4, "reason", STR),
        opt(5, "message", STR),
    ],
);

static STATEFUL_SET_STATUS: Message = msg(
    "StatefulSetStatus",
    &[
        opt(1, "observedGeneration", I64),
        req(2, "replicas", I32),
        opt(3, "readyReplicas", I32),
        opt(4, "currentReplicas", I32),
        opt(5, "updatedReplicas", I32),
        opt(6, "currentRevision", STR),
        opt(7, "updateRevision", STR),
        ptr(9, "collisionCount", I32),
        list_opt(10, "conditions", Ty::Msg(&STATEFUL_SET_CONDITION)),
        req(11, "availableReplicas", I32),
    ],
);

static STATEFUL_SET: Message = msg(
    "StatefulSet",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&STATEFUL_SET_SPEC)),
        req(3, "status", Ty::Msg(&STATEFUL_SET_STATUS)),
    ],
);

static ROLLING_UPDATE_DAEMON_SET: Message =
    msg("RollingUpdateDaemonSet", &[ptr(1, "maxUnavailable", INT_OR_STRING), ptr(2, "maxSurge", INT_OR_STRING)]);

static DAEMON_SET_UPDATE_STRATEGY: Message = msg(
    "DaemonSetUpdateStrategy",
    &[opt(1, "type", STR), ptr(2, "rollingUpdate", Ty::Msg(&ROLLING_UPDATE_DAEMON_SET))],
);

static DAEMON_SET_SPEC: Message = msg(
    "DaemonSetSpec",
    &[
        ptr_null(1, "selector", Ty::Msg(&LABEL_SELECTOR)),
        req(2, "template", Ty::Msg(&POD_TEMPLATE_SPEC)),
        req(3, "updateStrategy", Ty::Msg(&DAEMON_SET_UPDATE_STRATEGY)),
        opt(4, "minReadySeconds", I32),
        ptr(6, "revisionHistoryLimit", I32),
    ],
);

static DAEMON_SET_CONDITION: Message = msg(
    "DaemonSetCondition",
    &[
        req(1, "type", STR),
        req(2, "status", STR),
        req(3, "lastTransitionTime", TIME),
        opt(4, "reason", STR),
        opt(5, "message", STR),
    ],
);

static DAEMON_SET_STATUS: Message = msg(
    "DaemonSetStatus",
    &[
        req(1, "currentNumberScheduled", I32),
        req(2, "numberMisscheduled", I32),
        req(3, "desiredNumberScheduled", I32),
        req(4, "numberReady", I32),
        opt(5, "observedGeneration", I64),
        opt(6, "updatedNumberScheduled", I32),
        opt(7, "numberAvailable", I32),
        opt(8, "numberUnavailable", I32),
        ptr(9, "collisionCount", I32),
        list_opt(10, "conditions", Ty::Msg(&DAEMON_SET_CONDITION)),
    ],
);

static DAEMON_SET: Message = msg(
    "DaemonSet",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&DAEMON_SET_SPEC)),
        req(3, "status", Ty::Msg(&DAEMON_SET_STATUS)),
    ],
);

static POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT: Message = msg(
    "PodFailurePolicyOnExitCodesRequirement",
    &[ptr(1, "containerName", STR), req(2, "operator", STR), list(3, "values", I32)],
);

static POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN: Message =
    msg("PodFailurePolicyOnPodConditionsPattern", &[req(1, "type", STR), req(2, "status", STR)]);

static POD_FAILURE_POLICY_RULE: Message = msg(
    "PodFailurePolicyRule",
    &[
        req(1, "action", STR),
        ptr(2, "onExitCodes", Ty::Msg(&POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT)),
        list_opt(3, "onPodConditions", Ty::Msg(&POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN)),
    ],
);

static POD_FAILURE_POLICY: Message = msg("PodFailurePolicy", &[list(1, "rules", Ty::Msg(&POD_FAILURE_POLICY_RULE))]);

static SUCCESS_POLICY_RULE: Message =
    msg("SuccessPolicyRule", &[ptr(1, "succeededIndexes", STR), ptr(2, "succeededCount", I32)]);

static SUCCESS_POLICY: Message = msg("SuccessPolicy", &[list(1, "rules", Ty::Msg(&SUCCESS_POLICY_RULE))]);

static JOB_SPEC: Message = msg(
    "JobSpec",
    &[
        ptr(1, "parallelism", I32),
        ptr(2, "completions", I32),
        ptr(3, "activeDeadlineSeconds", I64),
        ptr(4, "selector", Ty::Msg(&LABEL_SELECTOR)),
        ptr(5, "manualSelector", BOOL),
        req(6, "template", Ty::Msg(&POD_TEMPLATE_SPEC)),
        ptr(7, "backoffLimit", I32),
        ptr(8, "ttlSecondsAfterFinished", I32),
        ptr(9, "completionMode", STR),
        ptr(10, "suspend", BOOL),
        ptr(11, "podFailurePolicy", Ty::Msg(&POD_FAILURE_POLICY)),
        ptr(12, "backoffLimitPerIndex", I32),
        ptr(13, "maxFailedIndexes", I32),
        ptr(14, "podReplacementPolicy", STR),
        ptr(15, "managedBy", STR),
        ptr(16, "successPolicy", Ty::Msg(&SUCCESS_POLICY)),
    ],
);

static JOB_CONDITION: Message = msg(
    "JobCondition",
    &[
        req(1, "type", STR),
        req(2, "status", STR),
        req(3, "lastProbeTime", TIME),
        req(4, "lastTransitionTime", TIME),
        opt(5, "reason", STR),
        opt(6, "message", STR),
    ],
);

static UNCOUNTED_TERMINATED_PODS: Message =
    msg("UncountedTerminatedPods", &[list_opt(1, "succeeded", STR), list_opt(2, "failed", STR)]);

static JOB_STATUS: Message = msg(
    "JobStatus",
    &[
        list_opt(1, "conditions", Ty::Msg(&JOB_CONDITION)),
        ptr(2, "startTime", TIME),
        ptr(3, "completionTime", TIME),
        opt(4, "active", I32),
        opt(5, "succeeded", I32),
        opt(6, "failed", I32),
        opt(7, "completedIndexes", STR),
        ptr(8, "uncountedTerminatedPods", Ty::Msg(&UNCOUNTED_TERMINATED_PODS)),
        ptr(9, "ready", I32),
        ptr(10, "failedIndexes", STR),
        ptr(11, "terminating", I32),
    ],
);

static JOB: Message = msg(
    "Job",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&JOB_SPEC)),
        req(3, "status", Ty::Msg(&JOB_STATUS)),
    ],
);

static JOB_TEMPLATE_SPEC: Message =
    msg("JobTemplateSpec", &[req(1, "metadata", Ty::Msg(&OBJECT_META)), req(2, "spec", Ty::Msg(&JOB_SPEC))]);

static CRON_JOB_SPEC: Message = msg(
    "CronJobSpec",
    &[
        req(1, "schedule", STR),
        ptr(2, "startingDeadlineSeconds", I64),
        opt(3, "concurrencyPolicy", STR),
        ptr(4, "suspend", BOOL),
        req(5, "jobTemplate", Ty::Msg(&JOB_TEMPLATE_SPEC)),
        ptr(6, "successfulJobsHistoryLimit", I32),
        ptr(7, "failedJobsHistoryLimit", I32),
        ptr(8, "timeZone", STR),
    ],
);

static CRON_JOB_STATUS: Message = msg(
    "CronJobStatus",
    &[
        list_opt(1, "active", Ty::Msg(&OBJECT_REFERENCE)),
        ptr(4, "lastScheduleTime", TIME),
        ptr(5, "lastSuccessfulTime", TIME),
    ],
);

static CRON_JOB: Message = msg(
    "CronJob",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&CRON_JOB_SPEC)),
        req(3, "status", Ty::Msg(&CRON_JOB_STATUS)),
    ],
);

static CROSS_VERSION_OBJECT_REFERENCE: Message =
    msg("CrossVersionObjectReference", &[req(1, "kind", STR), req(2, "name", STR), opt(3, "apiVersion", STR)]);

static HORIZONTAL_POD_AUTOSCALER_SPEC: Message = msg(
    "HorizontalPodAutoscalerSpec",
    &[
        req(1, "scaleTargetRef", Ty::Msg(&CROSS_VERSION_OBJECT_REFERENCE)),
        ptr(2, "minReplicas", I32),
        req(3, "maxReplicas", I32),
        ptr(4, "targetCPUUtilizationPercentage", I32),
    ],
);

static HORIZONTAL_POD_AUTOSCALER_STATUS: Message = msg(
    "HorizontalPodAutoscalerStatus",
    &[
        ptr(1, "observedGeneration", I64),
        ptr(2, "lastScaleTime", TIME),
        req(3, "currentReplicas", I32),
        req(4, "desiredReplicas", I32),
        ptr(5, "currentCPUUtilizationPercentage", I32),
    ],
);

static HORIZONTAL_POD_AUTOSCALER: Message = msg(
    "HorizontalPodAutoscaler",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&HORIZONTAL_POD_AUTOSCALER_SPEC)),
        req(3, "status", Ty::Msg(&HORIZONTAL_POD_AUTOSCALER_STATUS)),
    ],
);

static SCALE_SPEC: Message = msg("ScaleSpec", &[opt(1, "replicas", I32)]);

static SCALE_STATUS: Message = msg("ScaleStatus", &[req(1, "replicas", I32), opt(2, "selector", STR)]);

static SCALE: Message = msg(
    "Scale",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&SCALE_SPEC)),
        req(3, "status", Ty::Msg(&SCALE_STATUS)),
    ],
);

static SERVICE_BACKEND_PORT: Message = msg("ServiceBackendPort", &[opt(1, "name", STR), opt(2, "number", I32)]);

static INGRESS_SERVICE_BACKEND: Message =
    msg("IngressServiceBackend", &[req(1, "name", STR), req(2, "port", Ty::Msg(&SERVICE_BACKEND_PORT))]);

static INGRESS_BACKEND: Message = msg(
    "IngressBackend",
    &[ptr(3, "resource", Ty::Msg(&TYPED_LOCAL_OBJECT_REFERENCE)), ptr(4, "service", Ty::Msg(&INGRESS_SERVICE_BACKEND))],
);

static INGRESS_TLS: Message = msg("IngressTLS", &[list_opt(1, "hosts", STR), opt(2, "secretName", STR)]);

static HTTP_INGRESS_PATH: Message = msg(
    "HTTPIngressPath",
    &[opt(1, "path", STR), req(2, "backend", Ty::Msg(&INGRESS_BACKEND)), ptr_null(3, "pathType", STR)],
);

static HTTP_INGRESS_RULE_VALUE: Message = msg("HTTPIngressRuleValue", &[list(1, "paths", Ty::Msg(&HTTP_INGRESS_PATH))]);

static INGRESS_RULE_VALUE: Message = msg("IngressRuleValue", &[ptr(1, "http", Ty::Msg(&HTTP_INGRESS_RULE_VALUE))]);

static INGRESS_RULE: Message = msg("IngressRule", &[opt(1, "host", STR), inline(2, Ty::Msg(&INGRESS_RULE_VALUE))]);

static INGRESS_SPEC: Message = msg(
    "IngressSpec",
    &[
        ptr(1, "defaultBackend", Ty::Msg(&INGRESS_BACKEND)),
        list_opt(2, "tls", Ty::Msg(&INGRESS_TLS)),
        list_opt(3, "rules", Ty::Msg(&INGRESS_RULE)),
        ptr(4, "ingressClassName", STR),
    ],
);

static INGRESS_PORT_STATUS: Message =
    msg("IngressPortStatus", &[req(1, "port", I32), req(2, "protocol", STR), ptr(3, "error", STR)]);

static INGRESS_LOAD_BALANCER_INGRESS: Message = msg(
    "IngressLoadBalancerIngress",
    &[opt(1, "ip", STR), opt(2, "hostname", STR), list_opt(4, "ports", Ty::Msg(&INGRESS_PORT_STATUS))],
);

static INGRESS_LOAD_BALANCER_STATUS: Message =
    msg("IngressLoadBalancerStatus", &[list_opt(1, "ingress", Ty::Msg(&INGRESS_LOAD_BALANCER_INGRESS))]);

static INGRESS_STATUS: Message =
    msg("IngressStatus", &[req(1, "loadBalancer", Ty::Msg(&INGRESS_LOAD_BALANCER_STATUS))]);

static INGRESS: Message = msg(
    "Ingress",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&INGRESS_SPEC)),
        req(3, "status", Ty::Msg(&INGRESS_STATUS)),
    ],
);

static POD_DISRUPTION_BUDGET_SPEC: Message = msg(
    "PodDisruptionBudgetSpec",
    &[
        ptr(1, "minAvailable", INT_OR_STRING),
        ptr(2, "selector", Ty::Msg(&LABEL_SELECTOR)),
        ptr(3, "maxUnavailable", INT_OR_STRING),
        ptr(4, "unhealthyPodEvictionPolicy", STR),
    ],
);

static POD_DISRUPTION_BUDGET_STATUS: Message = msg(
    "PodDisruptionBudgetStatus",
    &[
        opt(1, "observedGeneration", I64),
        map_opt(2, "disruptedPods", TIME),
        req(3, "disruptionsAllowed", I32),
        req(4, "currentHealthy", I32),
        req(5, "desiredHealthy", I32),
        req(6, "expectedPods", I32),
        list_opt(7, "conditions", Ty::Msg(&CONDITION)),
    ],
);

static POD_DISRUPTION_BUDGET: Message = msg(
    "PodDisruptionBudget",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&POD_DISRUPTION_BUDGET_SPEC)),
        req(3, "status", Ty::Msg(&POD_DISRUPTION_BUDGET_STATUS)),
    ],
);

static PRECONDITIONS: Message = msg("Preconditions", &[ptr(1, "uid", STR), ptr(2, "resourceVersion", STR)]);

static DELETE_OPTIONS: Message = msg(
    "DeleteOptions",
    &[
        ptr(1, "gracePeriodSeconds", I64),
        ptr(2, "preconditions", Ty::Msg(&PRECONDITIONS)),
        ptr(3, "orphanDependents", BOOL),
        ptr(4, "propagationPolicy", STR),
        list_opt(5, "dryRun", STR),
        ptr(6, "ignoreStoreReadErrorWithClusterBreakingPotential", BOOL),
    ],
);

static EVICTION: Message =
    msg("Eviction", &[req(1, "metadata", Ty::Msg(&OBJECT_META)), ptr(2, "deleteOptions", Ty::Msg(&DELETE_OPTIONS))]);

static POLICY_RULE: Message = msg(
    "PolicyRule",
    &[
        list(1, "verbs", STR),
        list_opt(2, "apiGroups", STR),
        list_opt(3, "resources", STR),
        list_opt(4, "resourceNames", STR),
        list_opt(5, "nonResourceURLs", STR),
    ],
);

static ROLE: Message =
    msg("Role", &[req(1, "metadata", Ty::Msg(&OBJECT_META)), list(2, "rules", Ty::Msg(&POLICY_RULE))]);

static SUBJECT: Message =
    msg("Subject", &[req(1, "kind", STR), opt(2, "apiGroup", STR), req(3, "name", STR), opt(4, "namespace", STR)]);

static ROLE_REF: Message = msg("RoleRef", &[req(1, "apiGroup", STR), req(2, "kind", STR), req(3, "name", STR)]);

static ROLE_BINDING: Message = msg(
    "RoleBinding",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        list_opt(2, "subjects", Ty::Msg(&SUBJECT)),
        req(3, "roleRef", Ty::Msg(&ROLE_REF)),
    ],
);

static AGGREGATION_RULE: Message =
    msg("AggregationRule", &[list_opt(1, "clusterRoleSelectors", Ty::Msg(&LABEL_SELECTOR))]);

static CLUSTER_ROLE: Message = msg(
    "ClusterRole",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        list(2, "rules", Ty::Msg(&POLICY_RULE)),
        ptr(3, "aggregationRule", Ty::Msg(&AGGREGATION_RULE)),
    ],
);

static CLUSTER_ROLE_BINDING: Message = msg(
    "ClusterRoleBinding",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        list_opt(2, "subjects", Ty::Msg(&SUBJECT)),
        req(3, "roleRef", Ty::Msg(&ROLE_REF)),
    ],
);

static PRIORITY_CLASS: Message = msg(
    "PriorityClass",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "value", I32),
        opt(3, "globalDefault", BOOL),
        opt(4, "description", STR),
        ptr(5, "preemptionPolicy", STR),
    ],
);

static BOUND_OBJECT_REFERENCE: Message = msg(
    "BoundObjectReference",
    &[opt(1, "kind", STR), opt(2, "apiVersion", STR), opt(3, "name", STR), opt(4, "uid", STR)],
);

static TOKEN_REQUEST_SPEC: Message = msg(
    "TokenRequestSpec",
    &[
        list(1, "audiences", STR),
        ptr_null(3, "boundObjectRef", Ty::Msg(&BOUND_OBJECT_REFERENCE)),
        ptr_null(4, "expirationSeconds", I64),
    ],
);

static TOKEN_REQUEST_STATUS: Message =
    msg("TokenRequestStatus", &[req(1, "token", STR), req(2, "expirationTimestamp", TIME)]);

static TOKEN_REQUEST: Message = msg(
    "TokenRequest",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&TOKEN_REQUEST_SPEC)),
        req(3, "status", Ty::Msg(&TOKEN_REQUEST_STATUS)),
    ],
);

static TOKEN_REVIEW_SPEC: Message = msg("TokenReviewSpec", &[opt(1, "token", STR), list_opt(2, "audiences", STR)]);

static USER_INFO: Message = msg(
    "UserInfo",
    &[opt(1, "username", STR), opt(2, "uid", STR), list_opt(3, "groups", STR), map_opt(4, "extra", STRING_LIST)],
);

static TOKEN_REVIEW_STATUS: Message = msg(
    "TokenReviewStatus",
    &[
        opt(1, "authenticated", BOOL),
        req(2, "user", Ty::Msg(&USER_INFO)),
        opt(3, "error", STR),
        list_opt(4, "audiences", STR),
    ],
);

static TOKEN_REVIEW: Message = msg(
    "TokenReview",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&TOKEN_REVIEW_SPEC)),
        req(3, "status", Ty::Msg(&TOKEN_REVIEW_STATUS)),
    ],
);

static SELF_SUBJECT_REVIEW_STATUS: Message = msg("SelfSubjectReviewStatus", &[req(1, "userInfo", Ty::Msg(&USER_INFO))]);

static SELF_SUBJECT_REVIEW: Message = msg(
    "SelfSubjectReview",
    &[req(1, "metadata", Ty::Msg(&OBJECT_META)), req(2, "status", Ty::Msg(&SELF_SUBJECT_REVIEW_STATUS))],
);

static FIELD_SELECTOR_REQUIREMENT: Message =
    msg("FieldSelectorRequirement", &[req(1, "key", STR), req(2, "operator", STR), list_opt(3, "values", STR)]);

static FIELD_SELECTOR_ATTRIBUTES: Message = msg(
    "FieldSelectorAttributes",
    &[opt(1, "rawSelector", STR), list_opt(2, "requirements", Ty::Msg(&FIELD_SELECTOR_REQUIREMENT))],
);

static LABEL_SELECTOR_ATTRIBUTES: Message = msg(
    "LabelSelectorAttributes",
    &[opt(1, "rawSelector", STR), list_opt(2, "requirements", Ty::Msg(&LABEL_SELECTOR_REQUIREMENT))],
);

static RESOURCE_ATTRIBUTES: Message = msg(
    "ResourceAttributes",
    &[
        opt(1, "namespace", STR),
        opt(2, "verb", STR),
        opt(3, "group", STR),
        opt(4, "version", STR),
        opt(5, "resource", STR),
        opt(6, "subresource", STR),
        opt(7, "name", STR),
        ptr(8, "fieldSelector", Ty::Msg(&FIELD_SELECTOR_ATTRIBUTES)),
        ptr(9, "labelSelector", Ty::Msg(&LABEL_SELECTOR_ATTRIBUTES)),
    ],
);

static NON_RESOURCE_ATTRIBUTES: Message = msg("NonResourceAttributes", &[opt(1, "path", STR), opt(2, "verb", STR)]);

static SUBJECT_ACCESS_REVIEW_SPEC: Message = msg(
    "SubjectAccessReviewSpec",
    &[
        ptr(1, "resourceAttributes", Ty::Msg(&RESOURCE_ATTRIBUTES)),
        ptr(2, "nonResourceAttributes", Ty::Msg(&NON_RESOURCE_ATTRIBUTES)),
        opt(3, "user", STR),
        list_opt(4, "groups", STR),
        map_opt(5, "extra", STRING_LIST),
        opt(6, "uid", STR),
    ],
);

static SUBJECT_ACCESS_REVIEW_STATUS: Message = msg(
    "SubjectAccessReviewStatus",
    &[req(1, "allowed", BOOL), opt(2, "reason", STR), opt(3, "evaluationError", STR), opt(4, "denied", BOOL)],
);

static SUBJECT_ACCESS_REVIEW: Message = msg(
    "SubjectAccessReview",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&SUBJECT_ACCESS_REVIEW_SPEC)),
        req(3, "status", Ty::Msg(&SUBJECT_ACCESS_REVIEW_STATUS)),
    ],
);

static LOCAL_SUBJECT_ACCESS_REVIEW: Message = msg(
    "LocalSubjectAccessReview",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&SUBJECT_ACCESS_REVIEW_SPEC)),
        req(3, "status", Ty::Msg(&SUBJECT_ACCESS_REVIEW_STATUS)),
    ],
);

static SELF_SUBJECT_ACCESS_REVIEW_SPEC: Message = msg(
    "SelfSubjectAccessReviewSpec",
    &[
        ptr(1, "resourceAttributes", Ty::Msg(&RESOURCE_ATTRIBUTES)),
        ptr(2, "nonResourceAttributes", Ty::Msg(&NON_RESOURCE_ATTRIBUTES)),
    ],
);

static SELF_SUBJECT_ACCESS_REVIEW: Message = msg(
    "SelfSubjectAccessReview",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&SELF_SUBJECT_ACCESS_REVIEW_SPEC)),
        req(3, "status", Ty::Msg(&SUBJECT_ACCESS_REVIEW_STATUS)),
    ],
);

static SELF_SUBJECT_RULES_REVIEW_SPEC: Message = msg("SelfSubjectRulesReviewSpec", &[opt(1, "namespace", STR)]);

static RESOURCE_RULE: Message = msg(
    "ResourceRule",
    &[
        list(1, "verbs", STR),
        list_opt(2, "apiGroups", STR),
        list_opt(3, "resources", STR),
        list_opt(4, "resourceNames", STR),
    ],
);

static NON_RESOURCE_RULE: Message =
    msg("NonResourceRule", &[list(1, "verbs", STR), list_opt(2, "nonResourceURLs", STR)]);

static SUBJECT_RULES_REVIEW_STATUS: Message = msg(
    "SubjectRulesReviewStatus",
    &[
        list(1, "resourceRules", Ty::Msg(&RESOURCE_RULE)),
        list(2, "nonResourceRules", Ty::Msg(&NON_RESOURCE_RULE)),
        req(3, "incomplete", BOOL),
        opt(4, "evaluationError", STR),
    ],
);

static SELF_SUBJECT_RULES_REVIEW: Message = msg(
    "SelfSubjectRulesReview",
    &[
        req(1, "metadata", Ty::Msg(&OBJECT_META)),
        req(2, "spec", Ty::Msg(&SELF_SUBJECT_RULES_REVIEW_SPEC)),
        req(3, "status", Ty::Msg(&SUBJECT_RULES_REVIEW_STATUS)),
    ],
);
