#!/bin/sh
# Regenerates the Go stubs in gen/ from proto/ (commit the result; never edit it).
#
# Needs protoc, protoc-gen-go and protoc-gen-go-grpc on PATH; on Debian or Ubuntu:
#   apt-get install -y protobuf-compiler protoc-gen-go protoc-gen-go-grpc
# Every proto file's go_package is github.com/chatdb/chatdb/gen/go/chatdb/<area>/v1,
# and this directory is the root of that module, so the stubs land in gen/go/chatdb/.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
proto_root=$(cd "$here/../../proto" && pwd)
module=github.com/chatdb/chatdb

includes="-I $proto_root"
# Well-known types (google/protobuf/*.proto) ship with protoc; add their directory when it is separate.
for dir in /usr/include /usr/local/include; do
  if [ -f "$dir/google/protobuf/timestamp.proto" ]; then
    includes="$includes -I $dir"
    break
  fi
done

rm -rf "$here/gen"
mkdir -p "$here/gen"
# shellcheck disable=SC2046,SC2086  # word splitting of the include flags and file list is intended
protoc $includes \
  --go_out="$here" --go_opt=module="$module" \
  --go-grpc_out="$here" --go-grpc_opt=module="$module" \
  $(cd "$proto_root" && find chatdb -name '*.proto' | sort)
echo "generated: $(find "$here/gen" -name '*.go' | wc -l) files in $here/gen"
