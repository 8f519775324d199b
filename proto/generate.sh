#!/usr/bin/env bash
# Regenerate the Python stubs of proto/ into OUT (default services/); run from the repo root.
# Stubs land in chatdb/<area>/v1/ packages of their own; never edit them by hand.
set -euo pipefail
out="${1:-services}"
python="$(cd "$(dirname "${PYTHON:-python}")" 2>/dev/null && pwd)/$(basename "${PYTHON:-python}")"
[ -x "$python" ] || python="${PYTHON:-python}"
mapfile -t files < <(cd proto && find chatdb -name '*.proto' | sort)
find "$out/chatdb" -path '*/v1/*' \( -name '*_pb2*.py' -o -name '*_pb2*.pyi' \) -delete 2>/dev/null || true
(cd proto && "$python" -m grpc_tools.protoc -I. \
  --python_out="../$out" --pyi_out="../$out" --grpc_python_out="../$out" "${files[@]}")
for dir in $(cd proto && find chatdb -type d -name v1); do
  printf '"""Generated from proto/%s by make proto. Do not edit."""\n' "$dir" > "$out/$dir/__init__.py"
done
