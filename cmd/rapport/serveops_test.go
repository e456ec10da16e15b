package main

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/errcode"
)

// serve's limit flags: the defaults turn every quota on with the values
// documented on the flags, 0 turns a rate off, and values out of range are
// refused naming the flag.
func TestLimitFlags(t *testing.T) {
	tests := []struct {
		args      []string
		field     string
		tokenRate float64
		costBurst int
		maxBody   int64
	}{
		{nil, "", 20, 250_000, 8 << 20},
		{[]string{"--rate-token=0", "--max-body=2"}, "", 0, 250_000, 2 << 20},
		{[]string{"--cost-burst=7"}, "", 20, 7, 8 << 20},
		{[]string{"--rate-token=-1"}, "rate-token", 0, 0, 0},
		{[]string{"--rate-workspace-burst=0"}, "rate-workspace-burst", 0, 0, 0},
		{[]string{"--max-body=0"}, "max-body", 0, 0, 0},
		{[]string{"--plugin-calls-per-workspace=-2"}, "plugin-calls-per-workspace", 0, 0, 0},
	}
	for _, tt := range tests {
		var f limitFlags
		cmd := &cobra.Command{}
		f.register(cmd)
		if err := cmd.ParseFlags(tt.args); err != nil {
			t.Fatal(err)
		}
		l, q, err := f.apply(nil)
		if tt.field != "" {
			if errcode.FieldOf(err) != tt.field {
				t.Errorf("%v: err %v, want one naming %s", tt.args, err, tt.field)
			}
			continue
		}
		if err != nil || q.TokenRate != tt.tokenRate || q.CostBurst != tt.costBurst || l.MaxBody != tt.maxBody ||
			q.WorkspaceRate != 50 || l.MaxComplexity != 50_000 {
			t.Errorf("%v: %+v %+v %v", tt.args, l, q, err)
		}
	}
}
