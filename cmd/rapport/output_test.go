package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/automation"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/demo"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/internal/round"
)

// TestTableCells renders typed cells: JSON has numbers as numbers
// (rounded), missing values, NaN and ±Inf as null, times in RFC 3339 UTC;
// CSV has numbers unquoted, missing cells empty and formula-like text
// escaped with a quote.
func TestTableCells(t *testing.T) {
	third, berlin := 1.0/3, time.FixedZone("CET", 3600)
	at := time.Date(2025, 3, 15, 10, 30, 0, 0, berlin)
	m := crm.Money(54855)
	tb := table{Columns: []string{"name", "count", "rate", "missing", "money", "nan", "inf", "at", "ok", "noise", "negative"},
		Rows: [][]any{{"=HYPERLINK(\"http://x\",\"y\")", 3, &third, (*float64)(nil), &m, math.NaN(), math.Inf(-1), at, true, 548.5500000000001, -28.09917355371901}}}
	var b bytes.Buffer
	if err := tb.write(&b, "json"); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"name": "=HYPERLINK(\"http://x\",\"y\")", "count": 3.0, "rate": 0.333333, "missing": nil, "money": 548.55,
		"nan": nil, "inf": nil, "at": "2025-03-15T09:30:00Z", "ok": true, "noise": 548.55, "negative": -28.0992}
	if len(got) != 1 || len(got[0]) != len(want) {
		t.Fatalf("json %s", b.String())
	}
	for k, v := range want {
		if got[0][k] != v {
			t.Errorf("json %s: %#v, want %#v", k, got[0][k], v)
		}
	}
	// The keys come in column order.
	if !strings.HasPrefix(strings.TrimSpace(b.String()), "[\n  {\n    \"name\": ") || strings.Index(b.String(), `"count"`) > strings.Index(b.String(), `"rate"`) {
		t.Errorf("json keys out of order: %s", b.String())
	}

	b.Reset()
	if err := tb.write(&b, "csv"); err != nil {
		t.Fatal(err)
	}
	if want := "name,count,rate,missing,money,nan,inf,at,ok,noise,negative\n" +
		`"'=HYPERLINK(""http://x"",""y"")",3,0.333333,,548.55,,,2025-03-15T09:30:00Z,true,548.55,-28.0992` + "\n"; b.String() != want {
		t.Errorf("csv:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestCSVEscaping: a text cell that a spreadsheet would evaluate is
// prefixed with a quote; numbers, negative ones included, and plain text
// are left alone.
func TestCSVEscaping(t *testing.T) {
	for _, c := range []struct {
		cell any
		want string
	}{
		{"=1+2", "'=1+2"},
		{"+SUM(A1:A9)", "'+SUM(A1:A9)"},
		{"-2+3", "'-2+3"},
		{"@cmd", "'@cmd"},
		{"\tx", "'\tx"},
		{"\rx", "\"'\rx\""},
		{"Ann", "Ann"},
		{"a=b", "a=b"},
		{"-", "'-"},
		{-3, "-3"},
		{-2.5, "-2.5"},
		{crm.Money(-2050), "-20.50"},
		{"-12.5", "-12.5"}, // text that is a plain number is a number to a spreadsheet too
		{"", ""},
		{nil, ""},
	} {
		var b bytes.Buffer
		if err := (table{Columns: []string{"c"}, Rows: [][]any{{c.cell}}}).write(&b, "csv"); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSuffix(strings.TrimPrefix(b.String(), "c\n"), "\n"); got != c.want {
			t.Errorf("%q: %q, want %q", c.cell, got, c.want)
		}
	}
}

// TestCSVExportOfFormulaName: a contact named like a formula comes out of
// a real export escaped (the member list's name column).
func TestCSVExportOfFormulaName(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "csv.db")
	if _, err := run(t, "--db", db, "workspace", "create", "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "--db", db, "member", "add", "-w", "acme", "--email", "eve@example.com", "--name", `=HYPERLINK("http://evil","x")`); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "--db", db, "member", "list", "-w", "acme", "-o", "csv")
	if err != nil || !strings.Contains(out, `,"'=HYPERLINK(""http://evil"",""x"")",eve@example.com,member,`) {
		t.Errorf("member list csv: %v\n%s", err, out)
	}
}

// outputCase is a command with --output, and what its JSON must hold.
type outputCase struct {
	name string
	args []string
	// rows is false for the commands whose JSON is a document rather
	// than an array of rows (report, plugin compare, bench score).
	document bool
	// empty allows no rows.
	empty bool
	// numbers, times and bools are columns that must be numbers (or
	// null), RFC 3339 UTC times (or null) and booleans.
	numbers, times, bools []string
	// text are columns whose strings may look like numbers.
	text []string
}

var snakeKey = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// TestJSONOutputIsTyped runs every command that has --output with
// -o json on the demo workspace and checks that its JSON is typed:
// numbers are numbers, missing values null (never ""), times RFC 3339 in
// UTC, booleans booleans, and every key snake_case.
func TestJSONOutputIsTyped(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "typed.db")
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := automation.Migrate(ctx, st); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, st.Client, demo.Options{}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	must := func(args ...string) string {
		t.Helper()
		out, err := run(t, append([]string{"--db", db}, args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out
	}
	must("token", "create", "-w", "demo", "--role", "viewer")
	must("token", "create", "-w", "demo", "--role", "admin", "--name", "ci")
	auto := filepath.Join(dir, "auto.json")
	os.WriteFile(auto, []byte(`{"name": "Weekly", "schedule": {"subject": "deal", "cron": "0 9 * * 1", "timezone": "Europe/Berlin"},
		"condition": {"field": "deal.amount", "op": "gt", "value": 100},
		"actions": [{"type": "create_activity", "subject": "Follow up"}]}`), 0o600)
	must("automation", "create", "-w", "demo", "-f", auto)
	pkgDir := filepath.Join(dir, "pkg")
	os.MkdirAll(pkgDir, 0o755)
	must("plugin", "pack", "../../plugins/idic", "--dir", pkgDir)
	pkgs, _ := filepath.Glob(filepath.Join(pkgDir, "*.rpk"))
	if len(pkgs) != 1 {
		t.Fatalf("packages %v", pkgs)
	}

	period := []string{"period"}
	for _, c := range []outputCase{
		{name: "workspace list", args: []string{"workspace", "list"}, times: []string{"created_at"}},
		{name: "member list", args: []string{"member", "list", "-w", "demo"}, times: []string{"created_at"}},
		{name: "token list", args: []string{"token", "list", "-w", "demo"}, times: []string{"created_at"}},
		{name: "automation list", args: []string{"automation", "list", "-w", "demo"}, bools: []string{"enabled"}, times: []string{"next_run"}},
		{name: "automation runs", args: []string{"automation", "runs", "-w", "demo"}, empty: true, numbers: []string{"attempts"}, times: []string{"fired_at"}},
		{name: "automation deliveries", args: []string{"automation", "deliveries", "-w", "demo"}, empty: true,
			numbers: []string{"attempts", "response"}, times: []string{"delivered_at"}},
		{name: "metrics churn", args: []string{"metrics", "churn", "-w", "demo"}, text: period,
			numbers: []string{"customers_start", "customers_end", "new", "reactivated", "churned", "churn_rate", "revenue", "starting_revenue", "lost_revenue", "revenue_churn_rate"}},
		{name: "metrics retention", args: []string{"metrics", "retention", "-w", "demo"}, text: period,
			numbers: []string{"customers_start", "customers_end", "new", "reactivated", "retained", "retention_rate", "starting_revenue", "retained_revenue", "net_revenue_retention"}},
		{name: "metrics clv", args: []string{"metrics", "clv", "-w", "demo"}, text: []string{"measure"}},
		{name: "metrics clv --top", args: []string{"metrics", "clv", "-w", "demo", "--top", "3"},
			numbers: []string{"rank", "orders", "revenue", "margin"}, times: []string{"first_order", "last_order"}},
		{name: "metrics conversion", args: []string{"metrics", "conversion", "-w", "demo"},
			numbers: []string{"step", "entered", "reached", "skipped", "conversion", "from_first"}},
		{name: "metrics forecast", args: []string{"metrics", "forecast", "-w", "demo"}, text: []string{"expected_close"},
			numbers: []string{"deals", "amount", "weighted"}},
		{name: "metrics cohorts", args: []string{"metrics", "cohorts", "-w", "demo"}, text: []string{"cohort"}, numbers: []string{"size", "month_0"}},
		{name: "metrics deals", args: []string{"metrics", "deals", "-w", "demo"}, text: period,
			numbers: []string{"created", "open_at_start", "won", "lost", "win_rate", "won_amount", "average_won", "average_cycle_days", "sales_velocity_per_day"}},
		{name: "metrics engagement", args: []string{"metrics", "engagement", "-w", "demo"}, text: period,
			numbers: []string{"contacts", "activities", "outbound_emails", "replied", "reply_rate"}},
		{name: "plugin list", args: []string{"plugin", "list"}},
		{name: "plugin test", args: []string{"plugin", "test", "../../plugins/idic"}},
		{name: "plugin inputs", args: []string{"plugin", "inputs", "--subject", "contact", "-w", "demo"}},
		{name: "plugin verify", args: []string{"plugin", "verify", pkgs[0]}, numbers: []string{"bytes"}},
		{name: "score", args: []string{"score", "-w", "demo", "--subject", "organization", "--plugin", "idic", "--version", "1.1.0"},
			numbers: []string{"subjects", "scored", "batches", "failed_batches"}},
		{name: "segment", args: []string{"segment", "-w", "demo", "--subject", "contact", "--plugin", "valuechain", "--version", "1.0.0"},
			numbers: []string{"subjects", "segmented", "entered", "left", "stayed", "batches", "failed_batches"}, times: []string{"started_at", "finished_at"}},
		{name: "segment runs", args: []string{"segment", "runs", "-w", "demo"},
			numbers: []string{"subjects", "segmented", "entered", "left", "stayed", "batches", "failed_batches"}, times: []string{"started_at", "finished_at"}},
		{name: "report", args: []string{"report", "--workspace", "demo", "--plugin", "fiveprocess"}, document: true},
		{name: "plugin compare", args: []string{"plugin", "compare", "--workspace", "demo", "--subject", "contact", "--baseline", "idic", "--candidate", "idic@1.1.0"}, document: true},
		{name: "bench score", args: []string{"bench", "score", "--n", "600", "--batch", "200", "--plugin", filepath.Join(extensiontest.Plugins(t), "faulty")}, document: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"--db", db}, c.args...)
			out, err := run(t, append(args, "-o", "json")...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var v any
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("%v\n%.500s", err, out)
			}
			checkTyped(t, "", v, c.text)
			if c.document {
				checkDocument(t, c.name, v)
				return
			}
			rows, ok := v.([]any)
			if !ok || (len(rows) == 0 && !c.empty) {
				t.Fatalf("not an array of rows: %.500s", out)
			}
			for i, r := range rows {
				row, ok := r.(map[string]any)
				if !ok {
					t.Fatalf("row %d is %T", i, r)
				}
				for _, col := range c.numbers {
					if x, ok := row[col]; !ok {
						t.Errorf("row %d lacks %s", i, col)
					} else if _, isNum := x.(float64); x != nil && !isNum {
						t.Errorf("row %d: %s is %#v, not a number", i, col, x)
					}
				}
				for _, col := range c.times {
					if x, ok := row[col]; !ok {
						t.Errorf("row %d lacks %s", i, col)
					} else if s, isStr := x.(string); x != nil && (!isStr || !isUTCTime(s)) {
						t.Errorf("row %d: %s is %#v, not an RFC 3339 UTC time", i, col, x)
					}
				}
				for _, col := range c.bools {
					if _, ok := row[col].(bool); !ok {
						t.Errorf("row %d: %s is %#v, not a boolean", i, col, row[col])
					}
				}
			}
		})
	}
}

// checkTyped walks a decoded JSON value: every key is snake_case, no
// string is empty (missing is null) or a number (unless under a text
// key), and every string that starts like a time is RFC 3339 in UTC.
func checkTyped(t *testing.T, path string, v any, text []string) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if !snakeKey.MatchString(k) {
				t.Errorf("%s: key %q is not snake_case", path, k)
			}
			if containsString(text, k) {
				continue
			}
			checkTyped(t, path+"."+k, e, text)
		}
	case []any:
		for i, e := range v {
			checkTyped(t, path+"["+strconv.Itoa(i)+"]", e, text)
		}
	case string:
		if v == "" && !strings.HasSuffix(path, ".summary") && !strings.HasSuffix(path, ".unit") && !strings.HasSuffix(path, ".chart") {
			t.Errorf("%s: an empty string where a missing value is null", path)
		}
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			t.Errorf("%s: the number %q is a string", path, v)
		}
		if regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T`).MatchString(v) && !isUTCTime(v) {
			t.Errorf("%s: %q is not an RFC 3339 UTC time", path, v)
		}
	}
}

// checkDocument checks the numeric members of report, compare and bench
// JSON.
func checkDocument(t *testing.T, name string, v any) {
	t.Helper()
	doc, _ := v.(map[string]any)
	num := func(path string, x any, nullable bool) {
		if _, ok := x.(float64); !ok && !(nullable && x == nil) {
			t.Errorf("%s: %#v is not a number", path, x)
		}
	}
	switch name {
	case "report":
		sections, _ := doc["sections"].([]any)
		kpis := 0
		for _, s := range sections {
			sec, _ := s.(map[string]any)
			for _, k := range sec["kpis"].([]any) {
				kpi := k.(map[string]any)
				num("kpi value", kpi["value"], false)
				num("kpi target", kpi["target"], true)
				kpis++
			}
			for _, s := range sec["series"].([]any) {
				for _, x := range s.(map[string]any)["values"].([]any) {
					num("series value", x, true)
				}
			}
		}
		if len(sections) < 3 || kpis == 0 {
			t.Errorf("report: %d sections, %d KPIs", len(sections), kpis)
		}
	case "plugin compare":
		for _, k := range []string{"subjects", "mean_shift", "top_k", "top_k_overlap", "label_change_count"} {
			num(k, doc[k], false)
		}
		num("rank_correlation", doc["rank_correlation"], true)
	case "bench score":
		for _, k := range []string{"items", "batch", "native_items_per_s", "wasm_items_per_s", "wasm_to_native"} {
			num(k, doc[k], false)
		}
	}
}

func isUTCTime(s string) bool {
	at, err := time.Parse(time.RFC3339, s)
	return err == nil && strings.HasSuffix(s, "Z") && at.Location() == time.UTC
}

func containsString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// TestMetricsChurnJSON: churn_rate is a number (or null for a period
// with no customers at its start), never a string.
func TestMetricsChurnJSON(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "churn.db")
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, st.Client, demo.Options{}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, err := run(t, "--db", db, "metrics", "churn", "-w", "demo", "--period", "quarter", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) == 0 {
		t.Fatalf("%v\n%s", err, out)
	}
	numbers := 0
	for _, r := range rows {
		switch rate := r["churn_rate"].(type) {
		case float64:
			numbers++
			if rate < 0 || rate > 1 || round.Measure(rate) != rate {
				t.Errorf("churn_rate %v not rounded to six significant digits", rate)
			}
		case nil:
		default:
			t.Errorf("churn_rate %#v is not a number", rate)
		}
		if _, ok := r["customers_start"].(float64); !ok {
			t.Errorf("customers_start %#v", r["customers_start"])
		}
	}
	if numbers == 0 {
		t.Errorf("no period has a churn rate:\n%s", out)
	}
}
