"""sim/runtime/images.py: references, the registry catalogue, pull errors and timing, the ids the
kubelet reports, and how command/args combine with an image's ENTRYPOINT/CMD."""
import re

import pytest

from sim.runtime.images import (
    ImageConfig, InvalidReference, NoCommandSpecified, PullError, Registry, apply_default_tag, container_id,
    expand, image_config_argv, image_id, kubelet_invalid_image_message, kubelet_pull_failed_message,
    make_image, parse_reference, pull_seconds, status_image, MB,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def registry():
    return Registry.default()


# --- references ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, normalized, familiar", [
    ("nginx", "docker.io/library/nginx:latest", "nginx:latest"),
    ("nginx:1.27", "docker.io/library/nginx:1.27", "nginx:1.27"),
    ("library/nginx", "docker.io/library/nginx:latest", "nginx:latest"),
    ("docker.io/nginx", "docker.io/library/nginx:latest", "nginx:latest"),
    ("index.docker.io/library/nginx:1.25", "docker.io/library/nginx:1.25", "nginx:1.25"),
    ("bitnami/redis:7.4", "docker.io/bitnami/redis:7.4", "bitnami/redis:7.4"),
    ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
    ("localhost:5000/app", "localhost:5000/app:latest", "localhost:5000/app:latest"),
    ("localhost/app:v2", "localhost/app:v2", "localhost/app:v2"),
])
def test_normalisation(text, normalized, familiar):
    ref = parse_reference(text)
    assert ref.normalized == normalized
    assert ref.familiar == familiar


def test_reference_parts():
    ref = parse_reference("nginx")
    assert (ref.domain, ref.path, ref.tag, ref.digest) == ("docker.io", "library/nginx", "latest", None)
    assert ref.name == "docker.io/library/nginx" and ref.repository_short == "nginx"
    agn = parse_reference("registry.k8s.io/e2e-test-images/agnhost:2.53")
    assert (agn.domain, agn.path, agn.tag, agn.repository_short) == (
        "registry.k8s.io", "e2e-test-images/agnhost", "2.53", "agnhost")
    local = parse_reference("localhost:5000/team/app:v1")
    assert (local.domain, local.path, local.tag) == ("localhost:5000", "team/app", "v1")


def test_digest_reference_has_no_default_tag_and_a_tag_beside_a_digest_is_dropped():
    ref = parse_reference(f"nginx@{DIGEST}")
    assert ref.tag is None and ref.digest == DIGEST
    assert ref.normalized == f"docker.io/library/nginx@{DIGEST}"
    both = parse_reference(f"nginx:1.27@{DIGEST}")
    assert both.normalized == f"docker.io/library/nginx@{DIGEST}"    # ParseDockerRef
    assert both.familiar == f"nginx:1.27@{DIGEST}"                     # FamiliarString keeps both


@pytest.mark.parametrize("text, message", [
    ("Nginx", "invalid reference format: repository name (library/Nginx) must be lowercase"),
    ("library/NGINX:1.27", "invalid reference format: repository name (library/NGINX) must be lowercase"),
    ("nginx::bad", "invalid reference format"),
    ("nginx:", "invalid reference format"),
    ("nginx:bad tag", "invalid reference format"),
    ("-nginx", "invalid reference format"),
    ("", "invalid reference format"),
    ("nginx@sha256:abc", "invalid reference format"),                 # under 32 hex digits
    ("nginx@sha256:" + "a" * 40, "invalid checksum digest length"),
    ("nginx@md5:" + "a" * 32, "unsupported digest algorithm"),
    ("a" * 64, f"invalid repository name ({'a' * 64}), cannot specify 64-byte hexadecimal strings"),
])
def test_invalid_references(text, message):
    with pytest.raises(InvalidReference) as err:
        parse_reference(text)
    assert str(err.value) == message


def test_kubelet_messages():
    with pytest.raises(InvalidReference) as err:
        parse_reference("nginx::bad")
    assert kubelet_invalid_image_message("nginx::bad", err.value) == (
        'Failed to apply default image tag "nginx::bad": couldn\'t parse image name "nginx::bad": '
        'invalid reference format')
    assert kubelet_pull_failed_message("nginx:nope", PullError("boom")) == 'Failed to pull image "nginx:nope": boom'


def test_kubelet_applies_the_default_tag_without_qualifying_the_name():
    assert apply_default_tag("nginx") == "nginx:latest"
    assert apply_default_tag("nginx:1.27") == "nginx:1.27"
    assert apply_default_tag("localhost:5000/app") == "localhost:5000/app:latest"
    assert apply_default_tag(f"nginx@{DIGEST}") == f"nginx@{DIGEST}"


# --- the catalogue and resolving -----------------------------------------------------------------

def test_resolve_by_tag_with_realistic_config(registry):
    nginx = registry.resolve("nginx:1.27")
    assert nginx.name == "docker.io/library/nginx" and nginx.tag == "1.27"
    assert 60 * MB < nginx.size < 80 * MB
    assert nginx.config.entrypoint == ("/docker-entrypoint.sh",)
    assert nginx.config.cmd == ("nginx", "-g", "daemon off;")
    assert nginx.config.exposed_ports == ("80/tcp",)
    assert nginx.config.has_binary("/usr/sbin/nginx") and nginx.config.has_binary("curl")
    busybox = registry.resolve("busybox:1.28")
    assert busybox.config.cmd == ("sh",) and busybox.size < 3 * MB
    assert {"wget", "nslookup", "sleep", "sh"} <= busybox.config.binaries
    ubuntu = registry.resolve("ubuntu")
    assert ubuntu.config.has_binary("bash") and not ubuntu.config.has_binary("wget")
    assert not ubuntu.config.has_binary("curl") and not ubuntu.config.has_binary("nslookup")
    pause = registry.resolve("registry.k8s.io/pause:3.10")
    assert pause.config.binaries == {"pause"} and pause.size < 1 * MB
    assert registry.resolve("perl:5.34.0").config.cmd == ("perl5.34.0", "-de0")
    assert registry.resolve("python:3.12-slim").size < registry.resolve("python:3.12").size / 5


def test_tags_of_one_build_share_a_digest_and_builds_differ(registry):
    latest, minor, patch = (registry.resolve(f"nginx:{t}") for t in ("latest", "1.27", "1.27.3"))
    assert latest.digest == minor.digest == patch.digest
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", latest.digest)
    assert registry.resolve("nginx:1.14.2").digest != latest.digest
    assert Registry.default().resolve("nginx:1.27").digest == minor.digest      # deterministic
    assert registry.resolve("nginx:1.14.2").config.entrypoint == ()          # before docker-entrypoint.sh


def test_control_plane_and_docs_images_exist(registry):
    for ref in ("registry.k8s.io/kube-apiserver:v1.36.4", "registry.k8s.io/kube-controller-manager:v1.36.4",
                "registry.k8s.io/kube-scheduler:v1.36.4", "registry.k8s.io/kube-proxy:v1.36.4",
                "registry.k8s.io/etcd:3.6.5-0", "registry.k8s.io/coredns/coredns:v1.12.1",
                "registry.k8s.io/hpa-example", "registry.k8s.io/e2e-test-images/agnhost:2.53",
                "registry.k8s.io/busybox", "registry.k8s.io/liveness", "registry.k8s.io/goproxy:0.1",
                "registry.k8s.io/nginx-slim:0.8", "nginx:1.14.2", "busybox:1.28", "perl:5.34.0"):
        assert not isinstance(registry.resolve(ref), PullError), ref


def test_resolve_by_digest(registry):
    img = registry.resolve("redis:7.4")
    by_digest = registry.resolve(f"redis@{img.digest}")
    assert by_digest.digest == img.digest and by_digest.size == img.size
    assert registry.resolve(f"redis:whatever@{img.digest}").digest == img.digest   # the digest decides
    missing = registry.resolve(f"redis@{DIGEST}")
    assert missing.message == (
        f'failed to pull and unpack image "docker.io/library/redis@{DIGEST}": failed to resolve reference '
        f'"docker.io/library/redis@{DIGEST}": docker.io/library/redis@{DIGEST}: not found')


def test_k8s_gcr_io_serves_registry_k8s_io_images_under_the_name_asked(registry):
    old = registry.resolve("k8s.gcr.io/pause:3.9")
    new = registry.resolve("registry.k8s.io/pause:3.9")
    assert old.digest == new.digest and old.size == new.size
    assert old.name == "k8s.gcr.io/pause" and image_id(old) == f"k8s.gcr.io/pause@{new.digest}"


def test_unknown_repository_on_docker_hub(registry):
    err = registry.resolve("nginxx:nope")
    assert isinstance(err, PullError) and err.reason == "ErrImagePull"
    assert err.message == (
        'failed to pull and unpack image "docker.io/library/nginxx:nope": failed to resolve reference '
        '"docker.io/library/nginxx:nope": pull access denied, repository does not exist or may require '
        'authorization: server message: insufficient_scope: authorization failed')


def test_unknown_tag(registry):
    err = registry.resolve("nginx:nope")
    assert err.reason == "ErrImagePull"
    assert err.message == (
        'failed to pull and unpack image "docker.io/library/nginx:nope": failed to resolve reference '
        '"docker.io/library/nginx:nope": docker.io/library/nginx:nope: not found')


def test_unknown_repository_on_another_registry(registry):
    err = registry.resolve("registry.k8s.io/nope:1")
    assert err.reason == "ErrImagePull"
    assert err.message == (
        'failed to pull and unpack image "registry.k8s.io/nope:1": failed to resolve reference '
        '"registry.k8s.io/nope:1": registry.k8s.io/nope:1: not found')


def test_unknown_registry_host(registry):
    err = registry.resolve("registry.example.com:5000/team/app:v1")
    assert err.reason == "ErrImagePull"
    assert err.message == (
        'failed to pull and unpack image "registry.example.com:5000/team/app:v1": failed to resolve reference '
        '"registry.example.com:5000/team/app:v1": failed to do request: '
        'Head "https://registry.example.com:5000/v2/team/app/manifests/v1": '
        'dial tcp: lookup registry.example.com on 127.0.0.53:53: no such host')
    local = registry.resolve("localhost:5000/app")
    assert local.message.endswith(
        'Head "http://localhost:5000/v2/app/manifests/latest": dial tcp 127.0.0.1:5000: connect: connection refused')


def test_a_lesson_adds_its_own_image():
    r = Registry.default()
    assert isinstance(r.resolve("acme.io/shop:v1"), PullError)
    img = r.add(make_image("acme.io/shop", "v1", 42 * MB, ImageConfig(cmd=("/shop",), binaries=frozenset({"shop"}))),
                aliases=("latest",))
    assert r.resolve("acme.io/shop:v1") == img
    assert r.resolve("acme.io/shop").digest == img.digest
    assert r.tags("acme.io/shop") == ["latest", "v1"]
    assert "not found" in r.resolve("acme.io/shop:v2").message
    with pytest.raises(ValueError):
        r.add(make_image("nginx", "x", 1, ImageConfig()))    # names are stored normalised


# --- pulls and ids -------------------------------------------------------------------------------

def test_pull_seconds_scales_with_size(registry):
    small, big = registry.resolve("busybox"), registry.resolve("perl")
    bw = 50 * MB
    assert pull_seconds(small, bw) == pytest.approx(0.3 + small.size / bw)
    assert pull_seconds(big, bw) > 6.0 > 0.35 > pull_seconds(small, bw)
    assert pull_seconds(big, bw / 2) - 0.3 == pytest.approx(2 * (pull_seconds(big, bw) - 0.3))


def test_ids_as_the_kubelet_reports_them(registry):
    img = registry.resolve("nginx:1.27")
    assert status_image(img) == "docker.io/library/nginx:1.27"
    assert re.fullmatch(r"docker\.io/library/nginx@sha256:[0-9a-f]{64}", image_id(img))
    cid = container_id("containerd", "pod-uid/app/0")
    assert re.fullmatch(r"containerd://[0-9a-f]{64}", cid)
    assert cid == container_id("containerd", "pod-uid/app/0") != container_id("containerd", "pod-uid/app/1")


# --- command, args and $(VAR) ---------------------------------------------------------------------

NGINX = ImageConfig(entrypoint=("/docker-entrypoint.sh",), cmd=("nginx", "-g", "daemon off;"))


def test_argv_neither_command_nor_args_is_entrypoint_plus_cmd():
    assert image_config_argv(NGINX, None, None) == ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]


def test_argv_command_only_replaces_entrypoint_and_drops_cmd():
    assert image_config_argv(NGINX, ["sleep", "10"], None) == ["sleep", "10"]


def test_argv_args_only_replace_cmd_after_entrypoint():
    assert image_config_argv(NGINX, [], ["nginx", "-T"]) == ["/docker-entrypoint.sh", "nginx", "-T"]


def test_argv_command_and_args():
    assert image_config_argv(NGINX, ["sh", "-c"], ["echo hi"]) == ["sh", "-c", "echo hi"]


def test_argv_with_nothing_to_run_is_an_error():
    with pytest.raises(NoCommandSpecified, match="no command specified"):
        image_config_argv(ImageConfig(), None, None)
    assert image_config_argv(ImageConfig(), None, ["/server"]) == ["/server"]    # docs' liveness example


def test_argv_expands_container_command_and_args_only():
    image = ImageConfig(entrypoint=("/run", "$(HOME)"))
    assert image_config_argv(image, None, ["$(GREETING) $(NAME)"], env={"GREETING": "hello", "HOME": "/root"}) == [
        "/run", "$(HOME)", "hello $(NAME)"]


@pytest.mark.parametrize("text, expected", [
    ("$(A)", "1"),
    ("x-$(A)-$(B)-y", "x-1-two-y"),
    ("$(UNDEFINED)", "$(UNDEFINED)"),
    ("$$(A)", "$(A)"),
    ("$$", "$"),
    ("cost: $5", "cost: $5"),
    ("trailing $", "trailing $"),
    ("$(A", "$(A"),
    ("$()", "$()"),
    ("no refs", "no refs"),
])
def test_expand(text, expected):
    assert expand(text, {"A": "1", "B": "two"}) == expected
