"""The Python `kubernetes` client against a Helmsman cluster.

Run by tests/python/main.rs with the cluster's kubeconfig as argv[1]. Exits
non-zero (with a traceback) on the first failed check.
"""
import json
import sys
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

config.load_kube_config(config_file=sys.argv[1])
core = client.CoreV1Api()
apps = client.AppsV1Api()
NS = "pyns"


def expect_status(fn, code, reason=None):
    try:
        fn()
    except ApiException as e:
        assert e.status == code, (e.status, e.body)
        if reason:
            assert reason in e.body, e.body
        return
    raise AssertionError(f"expected HTTP {code}")


core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NS)))

# ConfigMap: create, read, replace, stale replace, patch (strategic dict, json list), list, delete
cm = core.create_namespaced_config_map(NS, client.V1ConfigMap(
    metadata=client.V1ObjectMeta(name="cfg", labels={"app": "py", "tier": "a"}), data={"k": "v"}))
assert cm.metadata.uid and cm.metadata.resource_version
got = core.read_namespaced_config_map("cfg", NS)
assert got.data == {"k": "v"}
got.data["k"] = "v2"
replaced = core.replace_namespaced_config_map("cfg", NS, got)
assert replaced.data["k"] == "v2"
got.data["k"] = "stale"
expect_status(lambda: core.replace_namespaced_config_map("cfg", NS, got), 409, "Conflict")
patched = core.patch_namespaced_config_map("cfg", NS, {"data": {"extra": "1"}})
assert patched.data == {"k": "v2", "extra": "1"}
patched = core.patch_namespaced_config_map("cfg", NS, [{"op": "remove", "path": "/data/extra"}])
assert patched.data == {"k": "v2"}
core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="other", labels={"app": "other"})))
lst = core.list_namespaced_config_map(NS, label_selector="app=py")
assert [i.metadata.name for i in lst.items] == ["cfg"], lst.items
lst = core.list_namespaced_config_map(NS, label_selector="app in (py,other),tier!=b")
assert sorted(i.metadata.name for i in lst.items) == ["cfg", "other"]
lst = core.list_namespaced_config_map(NS, field_selector="metadata.name=other")
assert [i.metadata.name for i in lst.items] == ["other"]
empty = core.list_namespaced_config_map(NS, label_selector="nothing=here")
assert empty.items == []
expect_status(lambda: core.list_namespaced_config_map(NS, label_selector="a in (("), 400)
expect_status(lambda: core.read_namespaced_config_map("nope", NS), 404, "NotFound")
expect_status(lambda: core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cfg"))), 409, "AlreadyExists")

# Deployment through AppsV1Api, with scale and status views
dep = client.V1Deployment(
    metadata=client.V1ObjectMeta(name="web", labels={"app": "web"}),
    spec=client.V1DeploymentSpec(
        replicas=2,
        selector=client.V1LabelSelector(match_labels={"app": "web"}),
        template=client.V1PodTemplateSpec(
            metadata=client.V1ObjectMeta(labels={"app": "web"}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox:1.36")]))))
d = apps.create_namespaced_deployment(NS, dep)
assert d.metadata.generation == 1 and d.spec.replicas == 2
d = apps.patch_namespaced_deployment("web", NS, {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox:1.37"}]}}}})
assert d.spec.template.spec.containers[0].image == "busybox:1.37" and d.metadata.generation == 2
sc = apps.read_namespaced_deployment_scale("web", NS)
assert sc.spec.replicas == 2 and sc.status.selector == "app=web", sc
apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 4}})
assert apps.read_namespaced_deployment("web", NS).spec.replicas == 4
# (the leader's controllers update the Deployment's status meanwhile: a
# stale read gets 409 first, as in Kubernetes, so read again and retry)
for attempt in range(20):
    d = apps.read_namespaced_deployment("web", NS)
    d.spec.replicas = -1
    try:
        apps.replace_namespaced_deployment("web", NS, d)
        raise AssertionError("negative replicas were accepted")
    except ApiException as e:
        if e.status == 409:
            continue
        assert e.status == 422 and json.loads(e.body)["reason"] == "Invalid", (e.status, e.body)
        break
else:
    raise AssertionError("the Deployment kept changing for 20 attempts")
lst = apps.list_deployment_for_all_namespaces(label_selector="app=web")
assert [i.metadata.name for i in lst.items] == ["web"]

# watch without resourceVersion: synthetic ADDED for what exists, then live events
seen = []
def watcher():
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_config_map, NS, timeout_seconds=20):
        seen.append((ev["type"], ev["object"].metadata.name))
        if ev["type"] == "DELETED" and ev["object"].metadata.name == "live":
            w.stop()
t = threading.Thread(target=watcher)
t.start()
deadline = time.time() + 20
while len(seen) < 2 and time.time() < deadline:
    time.sleep(0.1)
assert sorted(seen[:2]) == [("ADDED", "cfg"), ("ADDED", "other")], seen
core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="live")))
core.patch_namespaced_config_map("live", NS, {"data": {"x": "y"}})
core.delete_namespaced_config_map("live", NS)
t.join(30)
assert seen[2:] == [("ADDED", "live"), ("MODIFIED", "live"), ("DELETED", "live")], seen

# watch from a resourceVersion: exactly the later events
rv = core.list_namespaced_config_map(NS).metadata.resource_version
core.create_namespaced_config_map(NS, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="after")))
events = []
for ev in watch.Watch().stream(core.list_namespaced_config_map, NS, resource_version=rv, timeout_seconds=5):
    events.append((ev["type"], ev["object"].metadata.name))
    if len(events) == 1:
        break
assert events == [("ADDED", "after")], events

# delete
core.delete_namespaced_config_map("cfg", NS)
expect_status(lambda: core.read_namespaced_config_map("cfg", NS), 404)
apps.delete_namespaced_deployment("web", NS)
print("python client: all checks passed")
