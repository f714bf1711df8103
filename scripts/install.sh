#!/usr/bin/env bash
# Install what r8s needs on a fresh Debian 12 machine, build it, and start `r8s server` with the
# embedded store. Run as root from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# protobuf-compiler: etcd-client's build needs protoc. etcd-server: the etcd backend's tests.
# runc, CNI plugins, iproute2 and nftables: the node agent runs real containers.
apt-get install -y -qq build-essential pkg-config protobuf-compiler etcd-server python3-pip \
  runc containernetworking-plugins iproute2 nftables busybox-static >/dev/null

if ! command -v cargo >/dev/null; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi
cargo build --release --bin r8s
install -m 0755 target/release/r8s /usr/local/bin/r8s

mkdir -p /var/lib/r8s/agent/images
# An offline image (Debian's static busybox), imported by the agent at start.
[ -f /var/lib/r8s/agent/images/busybox.tar ] ||
  r8s image build-busybox --reference docker.io/library/busybox:1.35 /var/lib/r8s/agent/images/busybox.tar
nohup /usr/local/bin/r8s server --data-dir /var/lib/r8s --write-kubeconfig /etc/r8s/kubeconfig.yaml \
  >/var/log/r8s.log 2>&1 &
for _ in $(seq 1 100); do
  [ -s /etc/r8s/kubeconfig.yaml ] && break
  sleep 0.1
done
echo "r8s server started (log: /var/log/r8s.log)"
echo "export KUBECONFIG=/etc/r8s/kubeconfig.yaml"
