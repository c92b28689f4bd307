"""Container images as containerd and the kubelet see them: references, the simulated world's
registries, pulls, and how a container's command/args combine with the image's ENTRYPOINT/CMD.

References (github.com/distribution/reference, ParseNormalizedNamed / ParseDockerRef /
FamiliarString):

    parse_reference("nginx")             -> ImageRef(domain="docker.io", path="library/nginx", tag="latest")
    .normalized == "docker.io/library/nginx:latest"     (what containerd names the image)
    .familiar   == "nginx:latest"                       (what `docker images` shows)

A bad reference raises InvalidReference with the Go library's words ("invalid reference format",
"invalid reference format: repository name (library/Nginx) must be lowercase", ...).  The kubelet
checks every image before pulling and a bad one leaves the container waiting with reason
InvalidImageName and `kubelet_invalid_image_message(image, err)`.

The catalogue: `Registry.default()` is the simulated internet's registries (docker.io,
registry.k8s.io, gcr.io, quay.io, ghcr.io; k8s.gcr.io is the old name of registry.k8s.io and
serves the same images).  Each repository has realistic tags; several tags of one build share
one Image and so one digest (nginx:latest, nginx:1.27 and nginx:1.27.3 are the same manifest).
Sizes are the compressed sizes Docker Hub lists (what containerd downloads and what the CRI
reports).  Digests are sha256 of the repository name and the build's first tag: stable across
runs, distinct across builds, and not the real upstream digests.

A lesson adds its own image:

    registry = Registry.default()
    registry.add(make_image("docker.io/acme/shop", "v1", 42 * MB,
                            ImageConfig(cmd=("/shop",), binaries=frozenset({"shop"}))),
                 aliases=("latest",))

`Registry.resolve(ref)` returns the Image, or a PullError carrying containerd 1.7's message for
the kubelet's `Failed to pull image "X": <message>` event (waiting reason ErrImagePull).
`pull_seconds(image, bandwidth)` is how long the download takes in virtual time.

`image_config_argv(config, command, args)` is containerd's rule (CRI WithProcessArgs, the same
rule Docker has) for the process a container runs; `expand(text, env)` is the kubelet's `$(VAR)`
expansion of command and args (k8s.io/kubernetes/third_party/forked/golang/expansion).

Everything here is pure and deterministic: no clock, no randomness.
"""
from __future__ import annotations

import dataclasses
import hashlib
import posixpath
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional, Sequence

# ---------------------------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------------------------

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

# The grammar of github.com/distribution/reference's regexp.go (Go's \w is ASCII: re.ASCII).
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = _ALNUM + r"(?:" + _SEPARATOR + _ALNUM + r")*"
_REMOTE_NAME = _PATH_COMPONENT + r"(?:/" + _PATH_COMPONENT + r")*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = _DOMAIN_COMPONENT + r"(?:\." + _DOMAIN_COMPONENT + r")*"
_HOST = r"(?:" + _DOMAIN_NAME + r"|\[(?:[a-fA-F0-9:]+)\])"
_DOMAIN_AND_PORT = _HOST + r"(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
_NAME = r"(?:" + _DOMAIN_AND_PORT + r"/)?" + _REMOTE_NAME

_REFERENCE_RE = re.compile(r"^(" + _NAME + r")(?::(" + _TAG + r"))?(?:@(" + _DIGEST + r"))?$", re.ASCII)
_ANCHORED_NAME_RE = re.compile(r"^(?:(" + _DOMAIN_AND_PORT + r")/)?(" + _REMOTE_NAME + r")$", re.ASCII)
_IDENTIFIER_RE = re.compile(r"^[a-f0-9]{64}$")

# go-digest: the algorithms the kubelet's binary has, and their hex lengths.
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}


class InvalidReference(ValueError):
    """An image reference distribution/reference refuses; str(err) is the Go error's text."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ImageRef:
    """A parsed, normalised reference.  `tag` is "latest" when neither a tag nor a digest was
    given (TagNameOnly), None for a digest-only reference."""
    domain: str
    path: str
    tag: Optional[str] = DEFAULT_TAG
    digest: Optional[str] = None

    @property
    def name(self) -> str:
        """docker.io/library/nginx"""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    @property
    def normalized(self) -> str:
        """containerd's name for the image (ParseDockerRef): name:tag, or name@digest when there
        is a digest (a tag beside a digest is dropped: the digest decides what is pulled)."""
        if self.digest:
            return f"{self.name}@{self.digest}"
        return f"{self.name}:{self.tag}"

    @property
    def familiar_name(self) -> str:
        """The name without docker.io/ and without library/ for an official image."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        path = self.path
        if path.startswith(OFFICIAL_REPO_PREFIX) and "/" not in path[len(OFFICIAL_REPO_PREFIX):]:
            path = path[len(OFFICIAL_REPO_PREFIX):]
        return path

    @property
    def familiar(self) -> str:
        """FamiliarString: nginx:latest, bitnami/redis:7.4, registry.k8s.io/pause:3.10."""
        out = self.familiar_name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out

    @property
    def repository_short(self) -> str:
        """The last path component: nginx, agnhost, coredns."""
        return self.path.rsplit("/", 1)[-1]

    def __str__(self) -> str:
        return self.normalized


def _split_docker_domain(name: str) -> tuple[str, str]:
    """distribution/reference's splitDockerDomain."""
    maybe_domain, sep, maybe_remote = name.partition("/")
    if not sep:
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name
    if maybe_domain == "localhost":
        domain, remote = maybe_domain, maybe_remote
    elif maybe_domain == LEGACY_DEFAULT_DOMAIN:
        domain, remote = DEFAULT_DOMAIN, maybe_remote
    elif "." in maybe_domain or ":" in maybe_domain:
        domain, remote = maybe_domain, maybe_remote
    elif maybe_domain.lower() != maybe_domain:
        # Uppercase namespaces are not allowed, so an uppercase first element is a domain.
        domain, remote = maybe_domain, maybe_remote
    else:
        domain, remote = DEFAULT_DOMAIN, name
    if domain == DEFAULT_DOMAIN and "/" not in remote:
        remote = OFFICIAL_REPO_PREFIX + remote
    return domain, remote


def _validate_digest(d: str) -> None:
    """go-digest's Digest.Validate, with its error texts."""
    algorithm, _, encoded = d.partition(":")
    if algorithm not in _DIGEST_HEX_LENGTH:
        raise InvalidReference("unsupported digest algorithm")
    if len(encoded) != _DIGEST_HEX_LENGTH[algorithm]:
        raise InvalidReference("invalid checksum digest length")
    if not re.fullmatch(r"[a-f0-9]+", encoded):
        raise InvalidReference("invalid checksum digest format")


def parse_reference(text: str) -> ImageRef:
    """ParseNormalizedNamed + TagNameOnly: a familiar or full reference, normalised.
    Raises InvalidReference with the Go library's error text."""
    if _IDENTIFIER_RE.match(text):
        raise InvalidReference(f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    domain, remainder = _split_docker_domain(text)
    remote = remainder.split(":", 1)[0]
    if remote.lower() != remote:
        raise InvalidReference(f"invalid reference format: repository name ({remote}) must be lowercase")
    full = f"{domain}/{remainder}"
    m = _REFERENCE_RE.match(full)
    if m is None:
        if _REFERENCE_RE.match(full.lower()):
            raise InvalidReference("repository name must be lowercase")
        raise InvalidReference("invalid reference format")
    name, tag, digest = m.group(1), m.group(2), m.group(3)
    nm = _ANCHORED_NAME_RE.match(name)
    ref_domain, path = (nm.group(1) or "", nm.group(2)) if nm else ("", name)
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReference(f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")
    if digest:
        _validate_digest(digest)
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return ImageRef(domain=ref_domain, path=path, tag=tag, digest=digest)


def apply_default_tag(image: str) -> str:
    """The kubelet's applyDefaultImageTag: `nginx` -> `nginx:latest`, leaving the name as
    written otherwise (the kubelet does not qualify it; containerd does).  Raises
    InvalidReference."""
    ref = parse_reference(image)
    if ref.digest is None and not image.endswith(":" + ref.tag):
        return f"{image}:{ref.tag}"
    return image


# The kubelet's waiting reasons for image trouble (pkg/kubelet/images/types.go).
INVALID_IMAGE_NAME = "InvalidImageName"
ERR_IMAGE_PULL = "ErrImagePull"
IMAGE_PULL_BACKOFF = "ImagePullBackOff"


def kubelet_invalid_image_message(image: str, err: InvalidReference | str) -> str:
    """The message of the InspectFailed event and of the InvalidImageName waiting state."""
    return f'Failed to apply default image tag "{image}": couldn\'t parse image name "{image}": {err}'


def kubelet_pull_failed_message(image: str, err: "PullError | str") -> str:
    """The Failed event's message; `image` is the pod spec's image as written."""
    return f'Failed to pull image "{image}": {err}'


# ---------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------

MB = 1_000_000
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class ImageConfig:
    """The part of an image's config the runtime uses.  `binaries` are the executables in the
    image by basename (argv[0] "/bin/sh" finds "sh")."""
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = (f"PATH={DEFAULT_PATH}",)
    working_dir: str = ""
    exposed_ports: tuple[str, ...] = ()
    user: str = ""
    stop_signal: str = "SIGTERM"
    binaries: frozenset[str] = frozenset()

    def has_binary(self, argv0: str) -> bool:
        return posixpath.basename(argv0) in self.binaries

    def env_dict(self) -> dict[str, str]:
        return dict(e.split("=", 1) for e in self.env)


@dataclass(frozen=True)
class Image:
    name: str        # docker.io/library/nginx
    tag: str         # the tag it was pulled by (by digest: the build's first tag)
    digest: str      # sha256:<64 hex>
    size: int        # compressed bytes, as the registry and the CRI report them
    config: ImageConfig

    @property
    def reference(self) -> str:
        return f"{self.name}:{self.tag}"

    @property
    def repo_digest(self) -> str:
        return f"{self.name}@{self.digest}"


def image_digest(name: str, tag: str) -> str:
    return "sha256:" + hashlib.sha256(f"{name}:{tag}".encode()).hexdigest()


def make_image(name: str, tag: str, size: int, config: ImageConfig) -> Image:
    """An Image whose digest is derived from its name and tag."""
    return Image(name=name, tag=tag, digest=image_digest(name, tag), size=int(size), config=config)


def image_id(image: Image) -> str:
    """containerStatuses[].imageID: the repo digest."""
    return image.repo_digest


def status_image(image: Image) -> str:
    """containerStatuses[].image: the normalised name with its tag."""
    return image.reference


def container_id(runtime: str, seed: str) -> str:
    """containerStatuses[].containerID: `containerd://<64 hex>`, derived from `seed`."""
    return f"{runtime}://{hashlib.sha256(seed.encode()).hexdigest()}"


# ---------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------

def _tools(text: str) -> frozenset[str]:
    return frozenset(text.split())


COREUTILS = _tools("cat ls echo sleep date env printenv hostname touch rm rmdir mkdir cp mv ln chmod chown "
                   "true false test [ seq expr head tail wc grep sed awk printf id whoami uname pwd sort "
                   "uniq cut tr tee basename dirname xargs find tar gzip du df stat readlink mktemp nproc "
                   "yes timeout base64 md5sum sha256sum dd")
# debian/ubuntu base: bash and dash, coreutils; no wget, curl, nslookup, ping, ps or kill binary.
DEBIAN = COREUTILS | _tools("sh bash dash")
# buildpack-deps (perl, python): a build environment.
BUILDPACK = DEBIAN | _tools("curl wget git gcc make ps kill xz unzip openssl ssh")
BUSYBOX = COREUTILS | _tools("sh ash kill wget nslookup ping nc ps top vi less more ip ifconfig netstat "
                             "traceroute telnet httpd watch uptime free sync busybox")
ALPINE = BUSYBOX | _tools("apk scanelf ssl_client")


def _env(*pairs: str, path: str = DEFAULT_PATH) -> tuple[str, ...]:
    return (f"PATH={path}", *pairs)


def _nginx(version: str, modern: bool = True, alpine: bool = False) -> ImageConfig:
    base = ALPINE if alpine else DEBIAN | {"curl"}
    return ImageConfig(
        entrypoint=("/docker-entrypoint.sh",) if modern else (),   # docker-entrypoint.sh since 1.19
        cmd=("nginx", "-g", "daemon off;"), env=_env(f"NGINX_VERSION={version}"),
        exposed_ports=("80/tcp",), stop_signal="SIGQUIT" if modern else "SIGTERM",
        binaries=base | {"nginx", "docker-entrypoint.sh"})


def _busybox(cmd: str = "sh") -> ImageConfig:
    return ImageConfig(cmd=(cmd,), binaries=BUSYBOX)


def _alpine() -> ImageConfig:
    return ImageConfig(cmd=("/bin/sh",), binaries=ALPINE)


def _ubuntu() -> ImageConfig:
    return ImageConfig(cmd=("/bin/bash",), binaries=DEBIAN)


def _redis(version: str, alpine: bool = False) -> ImageConfig:
    return ImageConfig(entrypoint=("docker-entrypoint.sh",), cmd=("redis-server",),
                       env=_env(f"REDIS_VERSION={version}"), working_dir="/data", exposed_ports=("6379/tcp",),
                       binaries=(ALPINE if alpine else DEBIAN) | _tools(
                           "redis-server redis-cli redis-benchmark redis-sentinel docker-entrypoint.sh gosu"))


def _mysql(major: str, version: str) -> ImageConfig:
    return ImageConfig(entrypoint=("docker-entrypoint.sh",), cmd=("mysqld",),
                       env=_env("GOSU_VERSION=1.17", f"MYSQL_MAJOR={major}", f"MYSQL_VERSION={version}"),
                       exposed_ports=("3306/tcp", "33060/tcp"),
                       binaries=DEBIAN | _tools("mysqld mysql mysqladmin mysqldump mysqlsh docker-entrypoint.sh gosu"))


def _postgres(major: str, version: str) -> ImageConfig:
    return ImageConfig(entrypoint=("docker-entrypoint.sh",), cmd=("postgres",),
                       env=_env("GOSU_VERSION=1.17", "LANG=en_US.utf8", f"PG_MAJOR={major}",
                                f"PG_VERSION={version}", "PGDATA=/var/lib/postgresql/data",
                                path=f"{DEFAULT_PATH}:/usr/lib/postgresql/{major}/bin"),
                       exposed_ports=("5432/tcp",), stop_signal="SIGINT",
                       binaries=DEBIAN | _tools("postgres psql pg_ctl initdb pg_isready pg_dump docker-entrypoint.sh gosu"))


def _perl(version: str) -> ImageConfig:
    return ImageConfig(cmd=(f"perl{version}", "-de0"), working_dir="/usr/src/app",
                       binaries=BUILDPACK | {"perl", f"perl{version}", "cpan", "cpanm"})


def _python(version: str, slim: bool = False) -> ImageConfig:
    minor = version.rsplit(".", 1)[0]
    env = _env(f"PYTHON_VERSION={version}", path=f"/usr/local/bin:{DEFAULT_PATH}")
    if minor == "3.12":
        env = (*env, "LANG=C.UTF-8")   # dropped from the 3.13 images
    return ImageConfig(cmd=("python3",), env=env,
                       binaries=(DEBIAN if slim else BUILDPACK) | {"python", "python3", f"python{minor}", "pip",
                                                                  "pip3", "pydoc3"})


def _httpd(version: str) -> ImageConfig:
    return ImageConfig(cmd=("httpd-foreground",), env=_env(
        "HTTPD_PREFIX=/usr/local/apache2", f"HTTPD_VERSION={version}", path=f"/usr/local/apache2/bin:{DEFAULT_PATH}"),
        working_dir="/usr/local/apache2", exposed_ports=("80/tcp",), stop_signal="SIGWINCH",
        binaries=DEBIAN | {"httpd", "httpd-foreground", "apachectl"})


def _static(binary: str, entrypoint: bool = True, **kw) -> ImageConfig:
    """A FROM scratch / distroless image holding one program."""
    return ImageConfig(entrypoint=(f"/{binary}",) if entrypoint else (), binaries=frozenset({binary}), **kw)


def _go_runner(binary: str) -> ImageConfig:
    # kube-apiserver & co: the go-runner base image, the binary in /usr/local/bin; kubeadm's
    # static pod manifests give the command.
    return ImageConfig(entrypoint=("/go-runner",), binaries=frozenset({binary, "go-runner"}))


_AGNHOST = ImageConfig(entrypoint=("/agnhost",), cmd=("pause",), binaries=ALPINE | _tools(
    "agnhost curl nc dig bash iperf"))

_HPA_EXAMPLE = ImageConfig(   # FROM php:5-apache + index.php
    entrypoint=("docker-php-entrypoint",), cmd=("apache2-foreground",),
    env=_env("PHP_INI_DIR=/usr/local/etc/php", "APACHE_CONFDIR=/etc/apache2", "PHP_VERSION=5.6.31"),
    working_dir="/var/www/html", exposed_ports=("80/tcp",),
    binaries=DEBIAN | _tools("curl php apache2 apache2ctl apache2-foreground docker-php-entrypoint"))

_NGINX_SLIM = ImageConfig(cmd=("nginx", "-g", "daemon off;"), exposed_ports=("80/tcp", "443/tcp"),
                          binaries=DEBIAN | {"nginx"})

# The DaemonSet example's log agent (its program: sim/runtime/sampleapps.py).
_FLUENTD = ImageConfig(cmd=("fluentd",), env=_env(), binaries=DEBIAN | _tools("fluentd ruby gem"))

# (repository, tags: the first is the build's own, the rest point at the same manifest,
#  compressed size, config)
_CATALOGUE: list[tuple[str, tuple[str, ...], float, ImageConfig]] = [
    # Docker Hub official images
    ("docker.io/library/nginx", ("1.27.3", "1.27", "mainline", "latest"), 72.1 * MB, _nginx("1.27.3")),
    ("docker.io/library/nginx", ("1.26.2", "1.26", "stable"), 71.4 * MB, _nginx("1.26.2")),
    ("docker.io/library/nginx", ("1.25.5", "1.25"), 70.6 * MB, _nginx("1.25.5")),
    ("docker.io/library/nginx", ("1.16.1",), 51.2 * MB, _nginx("1.16.1", modern=False)),
    ("docker.io/library/nginx", ("1.14.2",), 44.6 * MB, _nginx("1.14.2", modern=False)),
    ("docker.io/library/nginx", ("1.27.3-alpine", "1.27-alpine", "alpine"), 20.3 * MB, _nginx("1.27.3", alpine=True)),
    ("docker.io/library/busybox", ("1.37.0", "1.37", "latest"), 2.2 * MB, _busybox()),
    ("docker.io/library/busybox", ("1.36.1", "1.36"), 2.2 * MB, _busybox()),
    ("docker.io/library/busybox", ("1.28",), 0.73 * MB, _busybox()),
    ("docker.io/library/alpine", ("3.21", "latest"), 3.6 * MB, _alpine()),
    ("docker.io/library/alpine", ("3.20",), 3.6 * MB, _alpine()),
    ("docker.io/library/alpine", ("3.19",), 3.4 * MB, _alpine()),
    ("docker.io/library/ubuntu", ("24.04", "noble", "latest"), 29.8 * MB, _ubuntu()),
    ("docker.io/library/ubuntu", ("22.04", "jammy"), 29.5 * MB, _ubuntu()),
    ("docker.io/library/ubuntu", ("20.04", "focal"), 27.5 * MB, _ubuntu()),
    ("docker.io/library/debian", ("12.8", "12", "bookworm", "latest"), 48.5 * MB, ImageConfig(cmd=("bash",), binaries=DEBIAN)),
    ("docker.io/library/debian", ("12-slim", "bookworm-slim"), 28.2 * MB, ImageConfig(cmd=("bash",), binaries=DEBIAN)),
    ("docker.io/library/debian", ("11", "bullseye"), 53.7 * MB, ImageConfig(cmd=("bash",), binaries=DEBIAN)),
    ("docker.io/library/httpd", ("2.4.62", "2.4", "latest"), 58.1 * MB, _httpd("2.4.62")),
    ("docker.io/library/redis", ("7.4.2", "7.4", "7", "latest"), 45.3 * MB, _redis("7.4.2")),
    ("docker.io/library/redis", ("6.2.16", "6.2"), 40.2 * MB, _redis("6.2.16")),
    ("docker.io/library/redis", ("7.4.2-alpine", "alpine"), 17.2 * MB, _redis("7.4.2", alpine=True)),
    ("docker.io/library/mysql", ("9.1.0", "9.1", "9", "latest"), 172.5 * MB, _mysql("innovation", "9.1.0-1.el9")),
    ("docker.io/library/mysql", ("8.4.3", "8.4"), 168.3 * MB, _mysql("8.4", "8.4.3-1.el9")),
    ("docker.io/library/mysql", ("8.0.40", "8.0"), 165.8 * MB, _mysql("8.0", "8.0.40-1.el9")),
    ("docker.io/library/postgres", ("17.2", "17", "latest"), 153.4 * MB, _postgres("17", "17.2-1.pgdg120+1")),
    ("docker.io/library/postgres", ("16.6", "16"), 151.2 * MB, _postgres("16", "16.6-1.pgdg120+1")),
    ("docker.io/library/postgres", ("15.10", "15"), 150.1 * MB, _postgres("15", "15.10-1.pgdg120+1")),
    ("docker.io/library/perl", ("5.40.0", "5.40", "latest"), 321.5 * MB, _perl("5.40.0")),
    ("docker.io/library/perl", ("5.34.0",), 331.0 * MB, _perl("5.34.0")),
    ("docker.io/library/python", ("3.13.1", "3.13", "latest"), 381.4 * MB, _python("3.13.1")),
    ("docker.io/library/python", ("3.12.8", "3.12"), 378.9 * MB, _python("3.12.8")),
    ("docker.io/library/python", ("3.13.1-slim", "3.13-slim", "slim"), 44.9 * MB, _python("3.13.1", slim=True)),
    ("docker.io/library/python", ("3.12.8-slim", "3.12-slim"), 44.4 * MB, _python("3.12.8", slim=True)),
    ("docker.io/library/hello-world", ("latest",), 0.013 * MB, ImageConfig(cmd=("/hello",), binaries=frozenset({"hello"}))),
    ("docker.io/curlimages/curl", ("8.11.1", "latest"), 10.9 * MB, ImageConfig(
        entrypoint=("/entrypoint.sh",), cmd=("curl",), user="curl_user", working_dir="/home/curl_user",
        binaries=ALPINE | {"curl", "entrypoint.sh"})),
    ("docker.io/kicbase/echo-server", ("1.0",), 2.1 * MB, _static("echo-server", exposed_ports=("8080/tcp",))),
    # the docs' resource exercises (assign memory / CPU resources to containers)
    ("docker.io/polinux/stress", ("1.0.4", "latest"), 4.3 * MB, ImageConfig(binaries=ALPINE | {"stress"})),
    ("docker.io/vish/stress", ("latest",), 3.6 * MB, ImageConfig(entrypoint=("/stress", "-logtostderr"),
                                                                 binaries=frozenset({"stress"}))),
    # registry.k8s.io (k8s.gcr.io is its old name)
    ("registry.k8s.io/pause", ("3.10.1",), 0.32 * MB, _static("pause", user="65535:65535")),
    ("registry.k8s.io/pause", ("3.10",), 0.32 * MB, _static("pause", user="65535:65535")),
    ("registry.k8s.io/pause", ("3.9",), 0.32 * MB, _static("pause", user="65535:65535")),
    ("registry.k8s.io/hpa-example", ("latest",), 181.5 * MB, _HPA_EXAMPLE),
    ("registry.k8s.io/e2e-test-images/agnhost", ("2.53",), 51.2 * MB, _AGNHOST),
    ("registry.k8s.io/e2e-test-images/agnhost", ("2.40",), 50.1 * MB, _AGNHOST),
    ("registry.k8s.io/e2e-test-images/agnhost", ("2.39",), 49.9 * MB, _AGNHOST),
    ("registry.k8s.io/e2e-test-images/jessie-dnsutils", ("1.3",), 112.0 * MB, ImageConfig(
        cmd=("bash",), binaries=DEBIAN | _tools("nslookup dig host ping curl wget"))),
    ("registry.k8s.io/busybox", ("latest",), 0.68 * MB, _busybox()),
    ("registry.k8s.io/busybox", ("1.27.2", "1.27"), 0.67 * MB, _busybox()),   # the docs' downward API examples
    # docs' liveness-http example: FROM scratch + /server, no ENTRYPOINT (the pod gives args: [/server])
    ("registry.k8s.io/liveness", ("latest",), 2.3 * MB, _static("server", entrypoint=False)),
    ("registry.k8s.io/goproxy", ("0.1",), 2.6 * MB, _static("goproxy", exposed_ports=("8080/tcp",))),
    ("registry.k8s.io/nginx-slim", ("0.27",), 41.8 * MB, _NGINX_SLIM),
    # the docs' StatefulSet basics tutorial (application/web/web.yaml and its rolling update)
    ("registry.k8s.io/nginx-slim", ("0.24",), 41.2 * MB, _NGINX_SLIM),
    ("registry.k8s.io/nginx-slim", ("0.21",), 40.6 * MB, _NGINX_SLIM),
    ("registry.k8s.io/nginx-slim", ("0.8",), 20.1 * MB, _NGINX_SLIM),
    # kubeadm's control plane, v1.36.4
    ("registry.k8s.io/kube-apiserver", ("v1.36.4",), 28.9 * MB, _go_runner("kube-apiserver")),
    ("registry.k8s.io/kube-controller-manager", ("v1.36.4",), 26.4 * MB, _go_runner("kube-controller-manager")),
    ("registry.k8s.io/kube-scheduler", ("v1.36.4",), 20.6 * MB, _go_runner("kube-scheduler")),
    ("registry.k8s.io/kube-proxy", ("v1.36.4",), 30.8 * MB, ImageConfig(binaries=_tools(
        "kube-proxy go-runner iptables ip6tables iptables-wrapper conntrack ipset"))),
    ("registry.k8s.io/etcd", ("3.6.5-0",), 23.6 * MB, ImageConfig(
        exposed_ports=("2379/tcp", "2380/tcp"), binaries=_tools("etcd etcdctl etcdutl"))),
    # the docs' gRPC liveness probe example runs this older etcd
    ("registry.k8s.io/etcd", ("3.5.1-0",), 98.9 * MB, ImageConfig(
        exposed_ports=("2379/tcp", "2380/tcp"), binaries=_tools("etcd etcdctl etcdutl sh"))),
    ("registry.k8s.io/coredns/coredns", ("v1.12.1",), 20.9 * MB, _static(
        "coredns", user="nonroot:nonroot", exposed_ports=("53/tcp", "53/udp"))),
    # CNI plugins' node agents (kube-flannel.yml, calico.yaml; sim/cni/)
    ("ghcr.io/flannel-io/flannel", ("v0.26.7",), 33.6 * MB, ImageConfig(
        entrypoint=("/opt/bin/flanneld",), binaries=ALPINE | {"flanneld", "mk-bridge"})),
    ("docker.io/calico/node", ("v3.29.3",), 142.5 * MB, ImageConfig(
        entrypoint=("/usr/bin/calico-node",), binaries=_tools("calico-node start_runit bird felix"))),
    # ingress-nginx's controller (sim/ingressnginx.py; its real ENTRYPOINT is dumb-init)
    ("registry.k8s.io/ingress-nginx/controller", ("v1.12.1",), 105.4 * MB, ImageConfig(
        cmd=("/nginx-ingress-controller",), user="www-data", exposed_ports=("80/tcp", "443/tcp"),
        binaries=ALPINE | {"nginx-ingress-controller", "wait-shutdown", "nginx", "dumb-init", "dbg"})),
    # other registries
    ("gcr.io/google-samples/node-hello", ("1.0",), 253.0 * MB, ImageConfig(
        cmd=("/bin/sh", "-c", "node server.js"), exposed_ports=("8080/tcp",), working_dir="/",
        binaries=BUILDPACK | {"node", "npm"})),
    ("gcr.io/google-samples/hello-app", ("1.0",), 10.2 * MB, ImageConfig(
        cmd=("/hello-app",), env=_env("PORT=8080"), binaries=frozenset({"hello-app"}))),
    ("gcr.io/google-samples/hello-app", ("2.0",), 10.2 * MB, ImageConfig(
        cmd=("/hello-app",), env=_env("PORT=8080"), binaries=frozenset({"hello-app"}))),
    ("quay.io/prometheus/prometheus", ("v3.0.1", "latest"), 118.3 * MB, ImageConfig(
        entrypoint=("/bin/prometheus",),
        cmd=("--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"),
        working_dir="/prometheus", user="nobody", exposed_ports=("9090/tcp",),
        binaries=BUSYBOX | {"prometheus", "promtool"})),
    # the DaemonSet page's example (https://k8s.io/examples/controllers/daemonset.yaml)
    ("quay.io/fluentd_elasticsearch/fluentd", ("v5.0.1",), 142.7 * MB, _FLUENTD),
    ("quay.io/fluentd_elasticsearch/fluentd", ("v2.5.2",), 139.4 * MB, _FLUENTD),   # the example's earlier image
    ("ghcr.io/stefanprodan/podinfo", ("6.7.1", "latest"), 15.6 * MB, ImageConfig(
        cmd=("./podinfo",), working_dir="/home/app", user="app", exposed_ports=("9898/tcp",),
        binaries=ALPINE | {"podinfo", "podcli", "curl"})),
]

# Old registry names that serve another's images (the pulled image keeps the name asked for).
DOMAIN_ALIASES = {"k8s.gcr.io": "registry.k8s.io"}

# ---------------------------------------------------------------------------------------------
# Pulling
# ---------------------------------------------------------------------------------------------

# A cloud VM pulling from a registry's CDN: ~50 MB/s.
DEFAULT_NODE_BANDWIDTH = 50 * MB
# Resolving the tag (token, HEAD manifest, GET manifest and config): a few round trips.
REGISTRY_ROUND_TRIP_SECONDS = 0.3
# The node's resolver: containerd is a host process and uses the host's /etc/resolv.conf
# (systemd-resolved's stub), not the cluster's DNS Service.
NODE_RESOLVER = "127.0.0.53:53"


class PullError(Exception):
    """A failed pull: containerd's message and the kubelet's waiting reason."""

    def __init__(self, message: str, reason: str = ERR_IMAGE_PULL):
        super().__init__(message)
        self.message = message
        self.reason = reason

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PullError) and (self.message, self.reason) == (other.message, other.reason)

    def __hash__(self) -> int:
        return hash((self.message, self.reason))

    def __repr__(self) -> str:
        return f"PullError({self.message!r}, {self.reason!r})"


def pull_seconds(image: Image, bandwidth_bytes_per_second: float = DEFAULT_NODE_BANDWIDTH) -> float:
    """Virtual seconds to pull `image`: one registry round trip to resolve the reference, then
    the compressed layers at the node's bandwidth."""
    return REGISTRY_ROUND_TRIP_SECONDS + image.size / bandwidth_bytes_per_second


def _is_localhost(host: str) -> bool:
    return host in ("localhost", "::1", "[::1]") or host.startswith("127.")


class Registry:
    """The registries of the simulated world: repository name -> tag -> Image."""

    def __init__(self) -> None:
        self.hosts: set[str] = set()
        self.repositories: dict[str, dict[str, Image]] = {}

    @classmethod
    def default(cls) -> "Registry":
        r = cls()
        for name, tags, size, config in _CATALOGUE:
            r.add(make_image(name, tags[0], round(size), config), aliases=tags[1:])
        return r

    def add(self, image: Image, aliases: Iterable[str] = ()) -> Image:
        """Publish `image` under its tag and `aliases` (more tags for the same manifest).  Its
        registry host becomes reachable.  A tag already present is moved, as a push moves it."""
        ref = parse_reference(image.reference)
        if ref.name != image.name:
            raise ValueError(f"image name {image.name!r} is not normalised (expected {ref.name!r})")
        self.hosts.add(ref.domain)
        tags = self.repositories.setdefault(image.name, {})
        for tag in (image.tag, *aliases):
            tags[tag] = image
        return image

    def tags(self, name: str) -> list[str]:
        """The tags of a repository, given by any reference to it ([] when unknown)."""
        ref = parse_reference(name)
        return sorted(self.repositories.get(self._canonical_name(ref), {}))

    @staticmethod
    def _canonical_name(ref: ImageRef) -> str:
        domain = DOMAIN_ALIASES.get(ref.domain, ref.domain)
        return f"{domain}/{ref.path}"

    def resolve(self, ref: ImageRef | str) -> Image | PullError:
        """The image a pull of `ref` fetches, or containerd's error.  A string is parsed first
        (InvalidReference propagates: the kubelet never sends such a name)."""
        if isinstance(ref, str):
            ref = parse_reference(ref)
        spec = ref.normalized
        domain = DOMAIN_ALIASES.get(ref.domain, ref.domain)

        def fail(why: str) -> PullError:
            return PullError(f'failed to pull and unpack image "{spec}": failed to resolve reference "{spec}": {why}')

        if domain not in self.hosts and ref.domain not in self.hosts:
            host = ref.domain.rsplit(":", 1)[0] if not ref.domain.endswith("]") else ref.domain
            manifest = ref.digest or ref.tag
            if _is_localhost(host):
                port = ref.domain.rsplit(":", 1)[1] if ref.domain != host else "80"
                return fail(f'failed to do request: Head "http://{ref.domain}/v2/{ref.path}/manifests/{manifest}": '
                            f"dial tcp 127.0.0.1:{port}: connect: connection refused")
            return fail(f'failed to do request: Head "https://{ref.domain}/v2/{ref.path}/manifests/{manifest}": '
                        f"dial tcp: lookup {host} on {NODE_RESOLVER}: no such host")
        tags = self.repositories.get(f"{domain}/{ref.path}")
        if tags is None:
            if domain == DEFAULT_DOMAIN:
                return fail("pull access denied, repository does not exist or may require authorization: "
                            "server message: insufficient_scope: authorization failed")
            return fail(f"{spec}: not found")
        if ref.digest:
            image = next((i for i in tags.values() if i.digest == ref.digest), None)
        else:
            image = tags.get(ref.tag)
        if image is None:
            return fail(f"{spec}: not found")
        # containerd names the image as asked: through an alias domain, by an alias tag.
        return dataclasses.replace(image, name=ref.name, tag=ref.tag if not ref.digest else image.tag)


# ---------------------------------------------------------------------------------------------
# The process a container runs
# ---------------------------------------------------------------------------------------------

class NoCommandSpecified(ValueError):
    """Neither the container nor the image names a program (CreateContainerError)."""

    def __init__(self) -> None:
        super().__init__("no command specified")


def expand(text: str, env: Mapping[str, str]) -> str:
    """The kubelet's expansion of `$(VAR)` in a container's command and args: a defined VAR is
    replaced, `$$` is a literal `$`, an undefined `$(VAR)` stays as written, any other `$` is
    kept with the character after it."""
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    n = len(text)
    while cursor < n:
        if text[cursor] == "$" and cursor + 1 < n:
            out.append(text[checkpoint:cursor])
            rest = text[cursor + 1:]
            if rest[0] == "$":
                out.append("$")
                advance = 1
            elif rest[0] == "(":
                close = rest.find(")", 1)
                if close == -1:
                    out.append("$(")
                    advance = 1
                else:
                    var = rest[1:close]
                    out.append(env[var] if var in env else f"$({var})")
                    advance = close + 1
            else:
                out.append("$" + rest[0])
                advance = 1
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


def image_config_argv(config: ImageConfig, command: Optional[Sequence[str]] = None,
                      args: Optional[Sequence[str]] = None,
                      env: Optional[Mapping[str, str]] = None) -> list[str]:
    """The argv of a container's process.  `command` replaces the image's ENTRYPOINT and drops
    its CMD; `args` alone replace the CMD after the ENTRYPOINT; neither: ENTRYPOINT + CMD.
    With `env`, the container's command and args are first `$(VAR)`-expanded as the kubelet
    does (the image's own ENTRYPOINT/CMD never are).  Raises NoCommandSpecified when the result
    is empty."""
    command = list(command or ())
    args = list(args or ())
    if env is not None:
        command = [expand(c, env) for c in command]
        args = [expand(a, env) for a in args]
    if not command:
        if not args:
            args = list(config.cmd)
        if not (len(config.entrypoint) == 1 and config.entrypoint[0] == ""):
            command = list(config.entrypoint)
    argv = command + args
    if not argv:
        raise NoCommandSpecified()
    return argv
