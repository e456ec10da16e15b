package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/rapportcrm/rapport/core/errcode"
)

// table is what a listing command prints: column names and rows.
type table struct {
	Columns []string
	Rows    [][]string
}

// write prints t as format: "table" (aligned text), "json" (an array of
// objects keyed by column) or "csv" (with a header row).
func (t table) write(w io.Writer, format string) error {
	switch format {
	case "", "table":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for i, c := range t.Columns {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprintln(tw)
		for _, r := range t.Rows {
			for i, c := range r {
				if i > 0 {
					fmt.Fprint(tw, "\t")
				}
				fmt.Fprint(tw, c)
			}
			fmt.Fprintln(tw)
		}
		return tw.Flush()
	case "json":
		out := make([]map[string]string, 0, len(t.Rows))
		for _, r := range t.Rows {
			obj := make(map[string]string, len(r))
			for i, c := range r {
				obj[t.Columns[i]] = c
			}
			out = append(out, obj)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(t.Columns); err != nil {
			return err
		}
		if err := cw.WriteAll(t.Rows); err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	}
	return errcode.Input("output", "unknown output format %q: use table, json or csv", format)
}
