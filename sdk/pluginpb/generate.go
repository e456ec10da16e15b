// Package pluginpb is the Go code generated from the plugin contract in
// sdk/proto/rapport/plugin/v1/plugin.proto. Hosts and plugins in Go use the
// sdk package's columnar codec, which speaks the same wire format; this
// package serves gRPC and checks that the two agree.
package pluginpb

//go:generate sh -c "protoc --proto_path=../proto --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --go_out=../.. --go_opt=module=github.com/rapportcrm/rapport rapport/plugin/v1/plugin.proto"
