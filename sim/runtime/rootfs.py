"""The files an image brings (its root filesystem, as far as lessons look at it) and the ones
the kubelet adds to every container (/etc/hosts, /etc/hostname, /etc/resolv.conf, the service
account's token): what `kubectl exec web -- ls /usr/share/nginx/html` or `cat /etc/os-release`
show.  Programs read and write these through the container's FileSystem."""
from __future__ import annotations

from sim.runtime.images import Image

# The official image's welcome page (615 bytes, as `curl -I` on any nginx shows).
NGINX_INDEX = ("<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n<style>\n"
               "html { color-scheme: light dark; }\nbody { width: 35em; margin: 0 auto;\n"
               "font-family: Tahoma, Verdana, Arial, sans-serif; }\n</style>\n</head>\n<body>\n"
               "<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully installed and\n"
               "working. Further configuration is required.</p>\n\n<p>For online documentation and support please refer to\n"
               '<a href="http://nginx.org/">nginx.org</a>.<br/>\nCommercial support is available at\n'
               '<a href="http://nginx.com/">nginx.com</a>.</p>\n\n<p><em>Thank you for using nginx.</em></p>\n'
               "</body>\n</html>\n")
NGINX_DEFAULT_CONF = """server {
    listen       80;
    listen  [::]:80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
"""
OS_RELEASE = {
    "debian": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
              'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n',
    "ubuntu": 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION="24.04.1 LTS (Noble Numbat)"\n'
              'VERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n',
    "alpine": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.21.0\nPRETTY_NAME="Alpine Linux v3.21"\n',
}
# Which base each repository is built on (for /etc/os-release); busybox has none.
BASES = {"alpine": "alpine", "ubuntu": "ubuntu", "busybox": None, "pause": None}


def image_files(image: Image) -> dict[str, str]:
    repo = image.name.rsplit("/", 1)[-1]
    base = BASES.get(repo, "alpine" if "alpine" in image.tag else "debian")
    files: dict[str, str] = {}
    if base:
        files["/etc/os-release"] = OS_RELEASE[base]
    if repo == "nginx":
        files["/usr/share/nginx/html/index.html"] = NGINX_INDEX
        files["/usr/share/nginx/html/50x.html"] = "<!DOCTYPE html>\n<html>\n<head>\n<title>Error</title>\n</head>\n</html>\n"
        files["/etc/nginx/conf.d/default.conf"] = NGINX_DEFAULT_CONF
        files["/etc/nginx/nginx.conf"] = "user  nginx;\nworker_processes  auto;\n\nevents {\n    worker_connections  1024;\n}\n\n" \
                                         "http {\n    include /etc/nginx/conf.d/*.conf;\n}\n"
    if repo == "hello-app":
        # The binary, whose source prints its version (2.0 is the build that says 2.0.0): the
        # program reads it from here, as the image holds nothing else (distroless).
        files["/hello-app"] = f"\x7fELF hello-app {'2.0.0' if image.tag.startswith('2') else '1.0.0'}"
    if repo == "httpd":
        files["/usr/local/apache2/htdocs/index.html"] = "<html><body><h1>It works!</h1></body></html>\n"
    return files


def kubelet_files(pod: dict, hostname: str, pod_ip: str | None, cluster_dns: str = "10.96.0.10") -> dict[str, str]:
    """/etc/hosts, /etc/hostname and /etc/resolv.conf as the kubelet writes them for a pod on the
    pod network (its dnsPolicy and dnsConfig: sim/kubelet/dns.py), and the service account's files when they are mounted."""
    from sim.kubelet.dns import CLUSTER_DOMAIN, resolv_conf   # the kubelet's GetPodDNS (imported late: no cycle)
    md, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    ns = md.get("namespace") or "default"
    # managedHostsFileContent: the pod's FQDN first when it has a subdomain
    # (GeneratePodHostNameAndDomain: <hostname>.<subdomain>.<ns>.svc.<cluster domain>).
    fqdn = f"{hostname}.{spec['subdomain']}.{ns}.svc.{CLUSTER_DOMAIN}\t" if spec.get("subdomain") else ""
    files = {"/etc/hostname": hostname + "\n",
             "/etc/hosts": ("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                            "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
                            + (f"{pod_ip}\t{fqdn}{hostname}\n" if pod_ip else "")),
             "/etc/resolv.conf": resolv_conf(pod, [cluster_dns] if cluster_dns else [])}
    if spec.get("automountServiceAccountToken") is not False:
        sa = "/var/run/secrets/kubernetes.io/serviceaccount"
        files[f"{sa}/namespace"] = ns
        files[f"{sa}/token"] = "eyJhbGciOiJSUzI1NiJ9.simulated-service-account-token.signature"
        files[f"{sa}/ca.crt"] = "-----BEGIN CERTIFICATE-----\n(the cluster's CA, simulated)\n-----END CERTIFICATE-----\n"
    return files
