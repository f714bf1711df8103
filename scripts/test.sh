#!/usr/bin/env bash
# The whole test suite, as CI runs it: one debug build shared by every test.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v protoc >/dev/null || missing+=(protobuf-compiler)
command -v etcd >/dev/null || missing+=(etcd-server)
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
# The node agent's tests run real containers: runc, Debian's CNI plugins, busybox for the test
# image, a local registry and skopeo for pull tests, containerd as a second CRI runtime, iproute2
# and nsenter for the tests' network namespaces, nftables for the service proxy and NetworkPolicy.
command -v runc >/dev/null || missing+=(runc)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
[ -x /bin/busybox ] || missing+=(busybox-static)
command -v skopeo >/dev/null || missing+=(skopeo)
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v ip >/dev/null || missing+=(iproute2)
command -v nft >/dev/null || missing+=(nftables)
command -v containerd >/dev/null || missing+=(containerd)
command -v nsenter >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The official Python client, used by the client-compatibility test.
python3 -c 'import kubernetes' 2>/dev/null || python3 -m pip install -q kubernetes

cargo build --workspace --all-targets
cargo test --workspace --no-fail-fast
