// Package processrpc holds what both ends of the process transport must
// agree on: the go-plugin handshake, the negotiated protocol versions, the
// gRPC plugin sets that serve and dispense the Process service of
// sdk/proto/rapport/plugin/v1/process.proto, and the gRPC settings, codec
// (Frame, Codec) and credentials (HostCredentials, ServerCredentials) that
// carry calls with as few copies and system calls as the protocol allows.
// The plugin side (sdk/process) and the host side (core/extension/process)
// import it; it is not part of the SDK's public surface.
package processrpc

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/pluginpb"
)

// Handshake is checked when a plugin process starts: the host sets the
// cookie in the plugin's environment and the plugin refuses to serve
// without it. It is a usability check (a plugin run by hand says what it
// is), not security. ProtocolVersion is the version a host assumes when
// a plugin does not negotiate.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "RAPPORT_PLUGIN_COOKIE",
	MagicCookieValue: "8c1d2f0e-rapport-process-plugin-v1",
}

// Protocol versions of the transport; see process.proto.
const (
	// ProtocolUnary has Hello and Call.
	ProtocolUnary = 1
	// ProtocolStream adds Exchange.
	ProtocolStream = 2
)

// Versions are the protocol versions this code speaks, oldest first.
var Versions = []int{ProtocolUnary, ProtocolStream}

// Name is the plugin's name in the go-plugin sets.
const Name = "rapport"

// Sizes of the transport.
const (
	// ChunkSize is the most request or answer bytes one Frame carries.
	ChunkSize = 1 << 20
	// MaxMessage bounds one gRPC message: a Frame, or a whole request of
	// protocol 1.
	MaxMessage = 256 << 20
	// Window is the HTTP/2 flow-control window of a stream and of the
	// connection, large enough that a batch goes out without waiting.
	Window = 4 << 20
)

// ServerOptions are the gRPC server options a plugin serves with: the
// sizes above, Codec for every service, and pooled receive buffers.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessage), grpc.MaxSendMsgSize(MaxMessage),
		grpc.InitialWindowSize(Window), grpc.InitialConnWindowSize(Window),
		grpc.ReadBufferSize(256 << 10), grpc.WriteBufferSize(256 << 10),
		grpc.ForceServerCodec(Codec), grpc.RecvBufferPool(buffers),
	}
}

// DialOptions are the gRPC options a host dials a plugin with: the sizes
// above, Codec for every call, and pooled receive buffers.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessage), grpc.MaxCallSendMsgSize(MaxMessage), grpc.ForceCodec(Codec)),
		grpc.WithInitialWindowSize(Window), grpc.WithInitialConnWindowSize(Window),
		grpc.WithReadBufferSize(256 << 10), grpc.WithWriteBufferSize(256 << 10),
		grpc.WithRecvBufferPool(buffers),
	}
}

// Remote is what a host dispenses: the negotiated protocol version and
// the Process client.
type Remote struct {
	Version int
	Client  pluginpb.ProcessClient
}

// grpcPlugin is the go-plugin side of one protocol version.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	version int
	server  pluginpb.ProcessServer
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginpb.RegisterProcessServer(s, p.server)
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Remote{Version: p.version, Client: pluginpb.NewProcessClient(c)}, nil
}

// Sets returns the versioned plugin sets: served by server when it is not
// nil (plugin side), dispensing Remote otherwise (host side). versions
// default to Versions.
func Sets(server pluginpb.ProcessServer, versions ...int) map[int]plugin.PluginSet {
	if len(versions) == 0 {
		versions = Versions
	}
	out := make(map[int]plugin.PluginSet, len(versions))
	for _, v := range versions {
		out[v] = plugin.PluginSet{Name: &grpcPlugin{version: v, server: server}}
	}
	return out
}

// Point numbers, as in the WASM ABI.
const (
	PointScore   uint32 = 1
	PointSegment uint32 = 2
	PointReport  uint32 = 3
)

// PointNumber returns the number of point, or 0.
func PointNumber(point sdk.Point) uint32 {
	switch point {
	case sdk.PointScore:
		return PointScore
	case sdk.PointSegment:
		return PointSegment
	case sdk.PointReport:
		return PointReport
	}
	return 0
}

// ReattachEnv names the environment variable that points a host at plugin
// processes already running in debug mode, instead of starting them: a
// JSON object from plugin name to Reattach.
const ReattachEnv = "RAPPORT_PLUGIN_REATTACH"

// DebugEnv, when set to 1 in a plugin's environment, serves it in debug
// mode, as does its -debug flag.
const DebugEnv = "RAPPORT_PLUGIN_DEBUG"

// Reattach is go-plugin's ReattachConfig as JSON.
type Reattach struct {
	Protocol        string `json:"protocol"`
	ProtocolVersion int    `json:"protocol_version"`
	Pid             int    `json:"pid"`
	Test            bool   `json:"test"`
	Addr            struct {
		Network string `json:"network"`
		String  string `json:"string"`
	} `json:"addr"`
}

// NewReattach turns a go-plugin ReattachConfig into its JSON form.
func NewReattach(rc *plugin.ReattachConfig) Reattach {
	r := Reattach{Protocol: string(rc.Protocol), ProtocolVersion: rc.ProtocolVersion, Pid: rc.Pid, Test: rc.Test}
	if rc.Addr != nil {
		r.Addr.Network, r.Addr.String = rc.Addr.Network(), rc.Addr.String()
	}
	return r
}

// Config returns the go-plugin ReattachConfig r describes.
func (r Reattach) Config() (*plugin.ReattachConfig, error) {
	var addr net.Addr
	var err error
	switch r.Addr.Network {
	case "unix":
		addr, err = net.ResolveUnixAddr("unix", r.Addr.String)
	case "tcp":
		addr, err = net.ResolveTCPAddr("tcp", r.Addr.String)
	default:
		return nil, fmt.Errorf("reattach: unknown network %q (want unix or tcp)", r.Addr.Network)
	}
	if err != nil {
		return nil, fmt.Errorf("reattach: %w", err)
	}
	return &plugin.ReattachConfig{Protocol: plugin.Protocol(r.Protocol), ProtocolVersion: r.ProtocolVersion, Addr: addr, Pid: r.Pid, Test: r.Test}, nil
}

// ReattachFromEnv returns the reattach configuration that ReattachEnv
// gives for the plugin called name, or nil when it gives none.
func ReattachFromEnv(name string) (*plugin.ReattachConfig, error) {
	raw := os.Getenv(ReattachEnv)
	if raw == "" {
		return nil, nil
	}
	var all map[string]Reattach
	if err := json.Unmarshal([]byte(raw), &all); err != nil {
		return nil, fmt.Errorf("%s: want a JSON object from plugin name to reattach config: %w", ReattachEnv, err)
	}
	r, ok := all[name]
	if !ok {
		return nil, nil
	}
	return r.Config()
}
