// Package pluginpb is the Go code generated from the plugin contract in
// sdk/proto/rapport/plugin/v1/plugin.proto and from the process transport
// in process.proto beside it. Hosts and plugins in Go use the sdk package's
// columnar codec, which speaks the same wire format as these messages; the
// process runtime serves the Process gRPC service defined here.
package pluginpb

//go:generate sh -c "protoc --proto_path=../proto --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --go_out=../.. --go_opt=module=github.com/rapportcrm/rapport rapport/plugin/v1/plugin.proto"
//go:generate sh -c "protoc --proto_path=../proto --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --plugin=protoc-gen-go-grpc=$(go tool -n protoc-gen-go-grpc) --go_out=../.. --go_opt=module=github.com/rapportcrm/rapport --go-grpc_out=../.. --go-grpc_opt=module=github.com/rapportcrm/rapport rapport/plugin/v1/process.proto"
