// The Go SDK of ChatDB. The stubs' go_package paths (github.com/chatdb/chatdb/gen/go/...)
// make this directory the root of module github.com/chatdb/chatdb. Run `go mod tidy`
// once (online) to record the grpc, protobuf and genproto versions for module builds;
// offline builds use GOPATH mode (see README.md).
module github.com/chatdb/chatdb

go 1.19
