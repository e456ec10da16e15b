package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/automation"
	"github.com/rapportcrm/rapport/core/ent"
	entautomation "github.com/rapportcrm/rapport/core/ent/automation"
	"github.com/rapportcrm/rapport/core/ent/automationrun"
	"github.com/rapportcrm/rapport/core/ent/delivery"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// automationFile is an automation as written in a file for
// `rapport automation create --file`.
type automationFile struct {
	Name      string           `json:"name"`
	Enabled   *bool            `json:"enabled,omitempty"`
	Event     string           `json:"event,omitempty"`
	Schedule  map[string]any   `json:"schedule,omitempty"`
	Condition map[string]any   `json:"condition,omitempty"`
	Actions   []map[string]any `json:"actions"`
}

func readAutomationFile(cmd *cobra.Command, path string) (automation.Input, error) {
	var r io.Reader = cmd.InOrStdin()
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return automation.Input{}, err
		}
		defer f.Close()
		r = f
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var af automationFile
	if err := dec.Decode(&af); err != nil {
		return automation.Input{}, errcode.Input("file", "reading the automation: %v", err)
	}
	return automation.Input{Name: af.Name, Enabled: af.Enabled, Event: af.Event, Schedule: af.Schedule,
		Condition: af.Condition, Actions: af.Actions}, nil
}

// inWorkspace opens the store and returns a context acting as the
// workspace's admin.
func (g *globals) inWorkspace(cmd *cobra.Command, slug string) (*store.Store, *tenancy.Viewer, error) {
	st, err := g.openStore(cmd.Context())
	if err != nil {
		return nil, nil, err
	}
	ws, err := access.WorkspaceBySlug(cmd.Context(), st.Client, slug)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin}, nil
}

func newAutomationCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "automation",
		Short: "Manage automations: triggers on record events, idle records or cron schedules, and their actions",
		Long: `An automation fires on a record event (e.g. deal.stage_changed) or a
schedule, when the record meets its condition, and runs its actions in
order: webhook, create_activity, assign_owner, run_plugin, send_email.
Automations are JSON files, e.g.

  {"name": "Big proposals", "event": "deal.stage_changed",
   "condition": {"and": [{"field": "deal.stage", "op": "eq", "value": "Proposal"},
                         {"field": "deal.amount", "op": "gte", "value": 10000}]},
   "actions": [{"type": "webhook", "url": "https://example.com/hook", "secret": "at-least-16-chars"}]}

A schedule fires on the records of a subject (deal, contact, lead,
organization, activity) that meet the condition:

  {"subject": "deal", "idle_days": 14}
      once for each deal left unchanged for 14 days;
  {"subject": "contact", "cron": "0 8 1 * *", "timezone": "Europe/Berlin"}
      for every contact at each tick: here the 1st of each month at 08:00;
  {"subject": "deal", "cron": "0 9 * * 1", "timezone": "Europe/Berlin", "idle_days": 14}
      at each tick (Mondays at 09:00) for the deals unchanged for 14 days.

cron has five fields (minute hour day-of-month month day-of-week) or is one
of @hourly, @daily, @weekly, @monthly, @yearly, and may not tick more often
than every 5 minutes; timezone is an IANA name, UTC when omitted. The first
tick to fire is the first after the automation is created, updated or
enabled; after the workers were down, only the latest missed tick fires.
"rapport automation list" shows each schedule and when it ticks next
(next_run). A weekly follow-up of stale proposals:

  {"name": "Follow up stale proposals", "schedule": {"subject": "deal", "cron": "0 9 * * 1",
     "timezone": "Europe/Berlin", "idle_days": 14},
   "condition": {"field": "deal.stage", "op": "eq", "value": "Proposal"},
   "actions": [{"type": "create_activity", "subject": "Follow up on {{deal.name}}", "due_in_days": 2}]}`,
	}
	var (
		slug, file, output, status, autID, runID string
		limit                                    int
	)
	wsFlag := func(c *cobra.Command) {
		c.Flags().StringVarP(&slug, "workspace", "w", "", "workspace slug (required)")
		_ = c.MarkFlagRequired("workspace")
	}
	save := func(update bool) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			in, err := readAutomationFile(cmd, file)
			if err != nil {
				return err
			}
			st, v, err := g.inWorkspace(cmd, slug)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := tenancy.NewContext(cmd.Context(), v)
			var a *ent.Automation
			if update {
				a, err = automation.Update(ctx, st.Client, pulid.ID(args[0]), in)
			} else {
				a, err = automation.Create(ctx, st.Client, in)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), a.ID)
			return nil
		}
	}
	create := &cobra.Command{Use: "create --workspace SLUG --file FILE", Short: "Create an automation from a JSON file (- for stdin) and print its ID",
		Args: cobra.NoArgs, RunE: save(false)}
	update := &cobra.Command{Use: "update --workspace SLUG --file FILE ID", Short: "Replace an automation's definition",
		Args: cobra.ExactArgs(1), RunE: save(true)}
	for _, c := range []*cobra.Command{create, update} {
		wsFlag(c)
		c.Flags().StringVarP(&file, "file", "f", "-", "the automation as JSON; - reads stdin")
	}

	list := &cobra.Command{
		Use:   "list --workspace SLUG",
		Short: "List a workspace's automations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, v, err := g.inWorkspace(cmd, slug)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := tenancy.NewContext(cmd.Context(), v)
			as, err := st.Client.Automation.Query().Order(entautomation.ByCreatedAt(), entautomation.ByID()).All(ctx)
			if err != nil {
				return err
			}
			t := table{Columns: []string{"id", "name", "enabled", "trigger", "next_run", "condition", "actions"}}
			now := time.Now()
			for _, a := range as {
				trigger := a.Event
				if trigger == "" {
					trigger = "schedule " + compactJSON(a.Schedule)
				}
				t.Rows = append(t.Rows, []any{a.ID, a.Name, a.Enabled, trigger, automation.NextRun(a, now),
					rawJSON(compactJSON(a.Condition)), rawJSON(compactJSON(automation.Redacted(a.Actions)))})
			}
			return t.write(cmd.OutOrStdout(), output)
		},
	}
	wsFlag(list)
	list.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")

	toggle := func(enabled bool) *cobra.Command {
		use, short := "enable", "Turn an automation on"
		if !enabled {
			use, short = "disable", "Turn an automation off"
		}
		c := &cobra.Command{
			Use: use + " --workspace SLUG ID", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				st, v, err := g.inWorkspace(cmd, slug)
				if err != nil {
					return err
				}
				defer st.Close()
				if _, err := automation.SetEnabled(tenancy.NewContext(cmd.Context(), v), st.Client, pulid.ID(args[0]), enabled); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), use+"d", args[0])
				return nil
			},
		}
		wsFlag(c)
		return c
	}

	del := &cobra.Command{
		Use: "delete --workspace SLUG ID", Short: "Delete an automation (its runs stay as history)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, v, err := g.inWorkspace(cmd, slug)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := automation.Delete(tenancy.NewContext(cmd.Context(), v), st.Client, pulid.ID(args[0])); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "deleted", args[0])
			return nil
		},
	}
	wsFlag(del)

	runs := &cobra.Command{
		Use:   "runs --workspace SLUG",
		Short: "List automation runs, newest first: trigger, record, status, attempts, last error",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, v, err := g.inWorkspace(cmd, slug)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := tenancy.NewContext(cmd.Context(), v)
			q := st.Client.AutomationRun.Query().Order(automationrun.ByFiredAt(sql.OrderDesc()), automationrun.ByID(sql.OrderDesc())).Limit(limit)
			if autID != "" {
				q.Where(automationrun.AutomationID(pulid.ID(autID)))
			}
			if status != "" {
				s := automationrun.Status(status)
				if err := automationrun.StatusValidator(s); err != nil {
					return errcode.Input("status", "%v", err)
				}
				q.Where(automationrun.StatusEQ(s))
			}
			rs, err := q.All(ctx)
			if err != nil {
				return err
			}
			t := table{Columns: []string{"id", "automation", "trigger", "subject", "status", "attempts", "steps", "fired_at", "error"}}
			for _, r := range rs {
				var steps []string
				for _, s := range r.Steps {
					steps = append(steps, fmt.Sprintf("%s:%s/%d", s.Type, s.Status, s.Attempts))
				}
				t.Rows = append(t.Rows, []any{r.ID, r.AutomationID, r.Trigger, optional(string(r.SubjectID)), r.Status,
					r.Attempts, optional(strings.Join(steps, " ")), r.FiredAt, optional(r.Error)})
			}
			return t.write(cmd.OutOrStdout(), output)
		},
	}
	wsFlag(runs)
	runs.Flags().StringVar(&autID, "automation", "", "only the runs of this automation")
	runs.Flags().StringVar(&status, "status", "", "only runs in this status: pending, running, succeeded, failed")
	runs.Flags().IntVar(&limit, "limit", 50, "at most this many runs")
	runs.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")

	deliveries := &cobra.Command{
		Use:   "deliveries --workspace SLUG",
		Short: "List webhook and email deliveries, newest first, with attempts and last error",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, v, err := g.inWorkspace(cmd, slug)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := tenancy.NewContext(cmd.Context(), v)
			q := st.Client.Delivery.Query().Order(delivery.ByCreatedAt(sql.OrderDesc()), delivery.ByID(sql.OrderDesc())).Limit(limit)
			if runID != "" {
				q.Where(delivery.RunID(pulid.ID(runID)))
			}
			ds, err := q.All(ctx)
			if err != nil {
				return err
			}
			t := table{Columns: []string{"id", "run", "kind", "target", "status", "attempts", "response", "delivered_at", "last_error"}}
			for _, d := range ds {
				var resp any // missing
				if d.ResponseStatus != nil {
					resp = *d.ResponseStatus
				}
				t.Rows = append(t.Rows, []any{d.ID, d.RunID, d.Kind, d.Target, d.Status,
					d.Attempts, resp, d.DeliveredAt, optional(d.LastError)})
			}
			return t.write(cmd.OutOrStdout(), output)
		},
	}
	wsFlag(deliveries)
	deliveries.Flags().StringVar(&runID, "run", "", "only the deliveries of this run")
	deliveries.Flags().IntVar(&limit, "limit", 50, "at most this many deliveries")
	deliveries.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")

	cmd.AddCommand(create, update, list, toggle(true), toggle(false), del, runs, deliveries)
	return cmd
}

func compactJSON(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" || string(b) == "{}" {
		return ""
	}
	return string(b)
}
