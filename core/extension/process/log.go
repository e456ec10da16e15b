package process

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger returns the hclog logger go-plugin writes to (its own
// messages and the plugin's log lines): JSON lines turned into records of
// log, at info level and above.
func newHCLogger(log *slog.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: slogWriter{log}, JSONFormat: true, Level: hclog.Info})
}

// slogWriter logs each JSON line hclog writes.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(p, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var entry map[string]any
		if err := json.Unmarshal(line, &entry); err != nil {
			w.log.Info(string(line))
			continue
		}
		msg, _ := entry["@message"].(string)
		level, _ := entry["@level"].(string)
		keys := make([]string, 0, len(entry))
		for k := range entry {
			if k != "@message" && k != "@level" && k != "@timestamp" && k != "@caller" && k != "timestamp" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		attrs := make([]any, 0, 2*len(keys))
		for _, k := range keys {
			attrs = append(attrs, strings.TrimPrefix(k, "@"), entry[k])
		}
		w.log.Log(context.Background(), slogLevel(level), msg, attrs...)
	}
	return len(p), nil
}

func slogLevel(l string) slog.Level {
	switch l {
	case "trace", "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
