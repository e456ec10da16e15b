// Command fakeplugin is a process plugin for tests; its first argument
// selects how it behaves:
//
//	good      a scorer (sdk/process.Serve) of log1p(estimated_value), with
//	          config {"sleep_ms": N, "mark": PATH}: it creates PATH, then
//	          sleeps N ms before answering
//	v1        the same scorer behind protocol version 1 only (an older
//	          plugin binary: unary calls, no streams)
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
	r, err := sdk.DecodeScoreRequest(req.Request, true)
	if err != nil {
		return &pluginpb.CallResponse{Response: sdk.AppendError(nil, err.Error()), Error: true}, nil
	}
	resp, err := score(nil, r)
	if err != nil {
		return &pluginpb.CallResponse{Response: sdk.AppendError(nil, err.Error()), Error: true}, nil
	}
	return &pluginpb.CallResponse{Response: sdk.AppendScoreResponse(nil, resp)}, nil
}

func (s *server) Exchange(stream pluginpb.Process_ExchangeServer) error {
	for {
		f, err := stream.Recv()
		if err != nil {
			return nil
		}
		if f.Last {
			if err := stream.Send(&pluginpb.Frame{Data: []byte{0xff, 0xff, 0xff}, Last: true}); err != nil {
				return err
			}
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
	switch mode {
	case "v1":
		versions = []int{processrpc.ProtocolUnary}
	case "cookie":
		handshake.MagicCookieValue = "some other host"
	case "protocol":
		versions = []int{99}
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: processrpc.Sets(&server{mode: mode}, versions...),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return plugin.DefaultGRPCServer(append(opts, processrpc.ServerOptions()...))
		},
		Logger: hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: hclog.Warn}),
	})
}
