#!/usr/bin/env bash
# Regenerate the Python stubs of proto/ with `buf generate` (template: buf.gen.yaml).
# Usage: proto/generate.sh [BASE]   — stubs land in BASE/clients/api/chatdb/<area>/v1/ (BASE defaults to .).
# Run from the repository root with PYTHON pointing at the project's interpreter.
set -euo pipefail
base="${1:-.}"
python="${PYTHON:-python3}"
python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")"
bin="$(dirname "$python")"
find "$base/clients/api/chatdb" -path '*/v1/*' \( -name '*_pb2*.py' -o -name '*_pb2*.pyi' \) -delete 2>/dev/null || true
CHATDB_PYTHON="$python" PATH="$bin:$PATH" "$bin/buf" generate -o "$base"
for dir in $(cd proto && find chatdb -type d -name v1); do
  printf '"""Generated from proto/%s by make proto. Do not edit."""\n' "$dir" > "$base/clients/api/$dir/__init__.py"
done
