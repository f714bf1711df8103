#!/usr/bin/env bash
# The whole test suite, as CI runs it: one debug build shared by every test.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v protoc >/dev/null || missing+=(protobuf-compiler)
command -v etcd >/dev/null || missing+=(etcd-server)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The official Python client, used by the client-compatibility test.
python3 -c 'import kubernetes' 2>/dev/null || python3 -m pip install -q kubernetes

cargo build --workspace --all-targets
cargo test --workspace --no-fail-fast
