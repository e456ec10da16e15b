// Command fakeplugin is a process plugin for tests; its first argument
// selects how it behaves:
//
//	good      a scorer (sdk/process.Serve) of log1p(estimated_value), with
//	          config {"sleep_ms": N, "mark": PATH}: it creates PATH, then
//	          sleeps N ms before answering
//	v1        the same scorer behind protocol version 1 only (an older
//	          plugin binary: unary calls, no streams)
//	v2plain   the same scorer behind protocol version 2, written with the
//	          generated code and served with gRPC's default options and
//	          codec (a plugin built with another SDK, or an older one)
//	cookie    expects another magic cookie
//	protocol  speaks only protocol version 99
//	abi       says it speaks ABI 7
//	garbage   answers every call with bytes that are not a response
//	noscore   implements no point
package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/rapportcrm/rapport/internal/processrpc"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/pluginpb"
	"github.com/rapportcrm/rapport/sdk/process"
)

type config struct {
	SleepMS int    `json:"sleep_ms"`
	Mark    string `json:"mark"`
}

func score(ctx sdk.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	var cfg config
	if len(req.Config) > 0 {
		if err := json.Unmarshal(req.Config, &cfg); err != nil {
			return nil, err
		}
	}
	if cfg.Mark != "" {
		os.WriteFile(cfg.Mark, []byte("called"), 0o644)
	}
	time.Sleep(time.Duration(cfg.SleepMS) * time.Millisecond)
	amount := req.Batch.Numbers("estimated_value")
	resp := sdk.NewScoreResponse(req.Batch.Count, "amount")
	for i := range req.Batch.Count {
		v := amount[i]
		if math.IsNaN(v) || v < 0 {
			v = 0
		}
		resp.Values[i] = math.Log1p(v)
		resp.SetContribution(i, 0, resp.Values[i])
	}
	return resp, nil
}

// server is a hand-written Process service for the modes that break the
// contract.
type server struct {
	pluginpb.UnimplementedProcessServer
	mode string
}

func (s *server) Hello(context.Context, *pluginpb.HelloRequest) (*pluginpb.HelloResponse, error) {
	if s.mode == "abi" {
		return &pluginpb.HelloResponse{Abi: 7, Points: []string{"score"}}, nil
	}
	return &pluginpb.HelloResponse{Abi: sdk.ABIVersion, Points: []string{"score"}}, nil
}

func (s *server) Call(_ context.Context, req *pluginpb.CallRequest) (*pluginpb.CallResponse, error) {
	if s.mode == "garbage" {
		return &pluginpb.CallResponse{Response: []byte{0xff, 0xff, 0xff}}, nil
	}
	out, isErr := answer(req.Request)
	return &pluginpb.CallResponse{Response: out, Error: isErr}, nil
}

// answer scores an encoded request: the encoded response, or an Error
// message and true.
func answer(req []byte) ([]byte, bool) {
	r, err := sdk.DecodeScoreRequest(req, true)
	if err != nil {
		return sdk.AppendError(nil, err.Error()), true
	}
	resp, err := score(nil, r)
	if err != nil {
		return sdk.AppendError(nil, err.Error()), true
	}
	return sdk.AppendScoreResponse(nil, resp), false
}

func (s *server) Exchange(stream pluginpb.Process_ExchangeServer) error {
	var req []byte
	for {
		f, err := stream.Recv()
		if err != nil {
			return nil
		}
		req = append(req, f.Data...)
		if !f.Last {
			continue
		}
		out, isErr := []byte{0xff, 0xff, 0xff}, false
		if s.mode != "garbage" {
			out, isErr = answer(req)
		}
		req = req[:0]
		for first := true; first || len(out) > 0; first = false {
			n := min(len(out), processrpc.ChunkSize)
			if err := stream.Send(&pluginpb.Frame{Data: out[:n], Last: n == len(out), Error: isErr}); err != nil {
				return err
			}
			out = out[n:]
		}
	}
}

func main() {
	mode := "good"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "good":
		process.Serve(sdk.Plugin{Score: score})
		return
	case "noscore":
		process.Serve(sdk.Plugin{})
		return
	}
	handshake := processrpc.Handshake
	versions := []int{processrpc.ProtocolUnary, processrpc.ProtocolStream}
	// Served as by go-plugin's defaults, with none of this SDK's options,
	// codec or buffers, but large enough messages for protocol 1.
	options := []grpc.ServerOption{grpc.MaxRecvMsgSize(processrpc.MaxMessage), grpc.MaxSendMsgSize(processrpc.MaxMessage)}
	switch mode {
	case "v1":
		versions = []int{processrpc.ProtocolUnary}
	case "v2plain":
		versions = []int{processrpc.ProtocolStream}
	case "cookie":
		handshake.MagicCookieValue = "some other host"
	case "protocol":
		versions = []int{99}
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: processrpc.Sets(&server{mode: mode}, versions...),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return plugin.DefaultGRPCServer(append(opts, options...))
		},
		Logger: hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: hclog.Warn}),
	})
}
