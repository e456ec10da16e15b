package metrics

import (
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect"
)

// sqlDialect writes the few expressions that differ between SQLite and
// PostgreSQL. Everything else in this package's SQL is common to both.
//
// Time in SQLite: ent stores a time.Time through the modernc driver as the
// text of time.Time.String(), e.g. "2025-03-04 05:06:07.123 +0000 UTC"
// (the fraction is optional, and a monotonic " m=+0.1" suffix may follow).
// SQLite's date functions do not read that layout, but its first 19
// characters are the wall clock in the stored offset. So a value whose
// offset is +0000 (what Rapport writes: the server runs in UTC and the API
// normalises) is bucketed from its leading digits directly; any other
// offset is converted to UTC with datetime(…, '±N minutes'); any layout
// SQLite itself understands (RFC 3339, "…Z") goes through datetime().
// PostgreSQL stores timestamptz and buckets AT TIME ZONE 'UTC'.
type sqlDialect struct{ name string }

func (d sqlDialect) sqlite() bool { return d.name == dialect.SQLite }

// utc returns an expression for the column as UTC text
// "YYYY-MM-DD HH:MM:SS" (SQLite), or the column itself (PostgreSQL).
func (d sqlDialect) utc(col string) string {
	if !d.sqlite() {
		return col
	}
	return fmt.Sprintf("(CASE WHEN instr(%[1]s, ' +0000 ') > 0 THEN substr(%[1]s, 1, 19) ELSE %[2]s END)", col, sqliteSlowUTC(col))
}

// sqliteSlowUTC converts a time.Time.String() text with any offset, or any
// layout SQLite reads, to UTC text.
func sqliteSlowUTC(col string) string {
	off := fmt.Sprintf("substr(%[1]s, 20 + instr(substr(%[1]s, 20), ' '), 5)", col)
	return fmt.Sprintf("(CASE WHEN %[2]s GLOB '[+-][0-9][0-9][0-9][0-9]' "+
		"THEN datetime(substr(%[1]s, 1, 19), ((CASE WHEN substr(%[2]s, 1, 1) = '-' THEN 1 ELSE -1 END) * (substr(%[2]s, 2, 2) * 60 + substr(%[2]s, 4, 2))) || ' minutes') "+
		"ELSE datetime(%[1]s) END)", col, off)
}

// period returns an integer expression numbering the period of the
// column's time exactly as Period.index does in Go.
func (d sqlDialect) period(col string, p Period) string {
	if d.sqlite() {
		y := func(t string) string { return "CAST(substr(" + t + ", 1, 4) AS INTEGER)" }
		m := func(t string) string { return "CAST(substr(" + t + ", 6, 2) AS INTEGER)" }
		f := func(t string) string {
			switch p {
			case Quarter:
				return fmt.Sprintf("(%s * 4 + (%s - 1) / 3)", y(t), m(t))
			case Year:
				return y(t)
			}
			return fmt.Sprintf("(%s * 12 + %s - 1)", y(t), m(t))
		}
		return fmt.Sprintf("(CASE WHEN instr(%[1]s, ' +0000 ') > 0 THEN %[2]s ELSE %[3]s END)", col, f(col), f(sqliteSlowUTC(col)))
	}
	// date_part returns a double; EXTRACT a numeric, which is slower.
	u := col + " AT TIME ZONE 'UTC'"
	y := "CAST(date_part('year', " + u + ") AS INTEGER)"
	m := "CAST(date_part('month', " + u + ") AS INTEGER)"
	switch p {
	case Quarter:
		return fmt.Sprintf("(%s * 4 + (%s - 1) / 3)", y, m)
	case Year:
		return y
	}
	return fmt.Sprintf("(%s * 12 + %s - 1)", y, m)
}

// at is a query argument for a time compared with utc(col).
func (d sqlDialect) at(t time.Time) any {
	if d.sqlite() {
		return t.UTC().Format("2006-01-02 15:04:05")
	}
	return t.UTC()
}

// roughlyBefore is an argument for a cheap, index-friendly upper bound on
// a raw time column: in SQLite the stored text is compared as is, so the
// bound is a day late to allow for any UTC offset, and an exact test on
// utc(col) or period(col) must follow. In PostgreSQL it is exact.
func (d sqlDialect) roughlyBefore(t time.Time) any {
	if d.sqlite() {
		return t.UTC().AddDate(0, 0, 1).Format("2006-01-02")
	}
	return t.UTC()
}

// greatest returns the larger of two numbers.
func (d sqlDialect) greatest(a, b string) string {
	if d.sqlite() {
		return "max(" + a + ", " + b + ")"
	}
	return "GREATEST(" + a + ", " + b + ")"
}

// days returns the number of days (fractional) from expression a to b,
// where both are utc(col) expressions or time arguments.
func (d sqlDialect) days(a, b string) string {
	if d.sqlite() {
		return "(julianday(" + b + ") - julianday(" + a + "))"
	}
	return "CAST(EXTRACT(EPOCH FROM (" + b + ") - (" + a + ")) / 86400.0 AS DOUBLE PRECISION)"
}

// plusSeconds returns expression t shifted by n seconds.
func (d sqlDialect) plusSeconds(t string, n int64) string {
	if d.sqlite() {
		return fmt.Sprintf("datetime(%s, '+%d seconds')", t, n)
	}
	return fmt.Sprintf("(%s + INTERVAL '%d seconds')", t, n)
}

// args collects query arguments and hands out their $n placeholders,
// which both SQLite (modernc) and PostgreSQL read.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}

// list returns "$i, $j, …" for the values.
func (a *args) list(vs ...any) string {
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = a.add(v)
	}
	return strings.Join(ps, ", ")
}

// sum returns SUM(expr) as a 64-bit integer: PostgreSQL widens a sum of
// bigint to numeric, which is cast back (sums of cents stay far below
// 2^63; see crm.MaxMoney).
func (d sqlDialect) sum(expr string) string {
	if d.sqlite() {
		return "SUM(" + expr + ")"
	}
	return "CAST(SUM(" + expr + ") AS BIGINT)"
}

// scan names a table read whole for one workspace. SQLite would otherwise
// walk the (workspace_id, …) index and fetch every row from the table by
// rowid, which is several times slower than reading the table in order
// when, as SQLite deployments are, most rows belong to the workspace.
// PostgreSQL's planner chooses for itself.
//
// alias, when not empty, names the table in the query.
func (d sqlDialect) scan(table, alias string) string {
	if alias != "" {
		table += " AS " + alias
	}
	if d.sqlite() {
		return table + " NOT INDEXED"
	}
	return table
}

// byCustomerMonth names the orders table read through the
// order_customer_month index (see customerMonth). SQLite is told to use
// it; PostgreSQL's planner finds it.
func (d sqlDialect) byCustomerMonth() string {
	if d.sqlite() {
		return "orders INDEXED BY order_customer_month"
	}
	return "orders"
}

// floorInt returns the whole part of a non-negative number as an integer.
func (d sqlDialect) floorInt(x string) string {
	if d.sqlite() {
		return "CAST(" + x + " AS INTEGER)"
	}
	return "CAST(FLOOR(" + x + ") AS INTEGER)"
}

// unindexed returns the column in a form SQLite's planner will not use an
// index for, so that a more selective index is chosen (e.g. orders by
// contact rather than by workspace). PostgreSQL is left to its planner.
func (d sqlDialect) unindexed(col string) string {
	if d.sqlite() {
		return "+" + col
	}
	return col
}

// key returns a text expression to group by. PostgreSQL compares it
// bytewise (COLLATE "C"), much faster than a database's linguistic
// collation and all grouping needs; SQLite always compares bytewise.
func (d sqlDialect) key(expr string) string {
	if d.sqlite() {
		return expr
	}
	return expr + ` COLLATE "C"`
}
