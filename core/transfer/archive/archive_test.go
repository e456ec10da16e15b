package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/demo"
	gen "github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/automationrun"
	"github.com/rapportcrm/rapport/core/ent/delivery"
	"github.com/rapportcrm/rapport/core/ent/extensionbinding"
	"github.com/rapportcrm/rapport/core/ent/score"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/schema"
)

func TestMain(m *testing.M) { storetest.Main(m) }

var demoNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func admin(ctx context.Context, ws pulid.ID) context.Context {
	return tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws, Role: tenancy.RoleAdmin})
}

// enrich adds to the demo what it lacks: a plugin package, a binding with
// its segmentation run, segment and memberships, scores, an assessment
// answer, an automation with a run and a delivery, a soft-deleted contact,
// a required custom field added after the records, and a tag deleted for
// good (whose timeline entries then name a record the archive lacks).
func enrich(t *testing.T, ctx context.Context, c *gen.Client, ws pulid.ID) {
	t.Helper()
	ctx = admin(ctx, ws)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	contacts, err := c.Contact.Query().Limit(3).All(ctx)
	must(err)
	stages, err := c.Stage.Query().Limit(2).All(ctx)
	must(err)
	_, err = c.WorkspacePlugin.Create().SetName("acme-score").SetVersion("1.0.0").SetSha256(strings.Repeat("ab", 32)).
		SetSize(5).SetManifest([]byte(`{"name":"acme-score"}`)).SetArchive([]byte{0, 1, 2, 254, 255}).SetInstalledBy("member:mem_01jd8z2x9t3v4w5y6z7a8b9c0d").Save(ctx)
	must(err)
	b, err := c.ExtensionBinding.Create().SetPoint(extensionbinding.PointSegment).SetPlugin("acme-score").SetVersion("1.0.0").
		SetConfig(map[string]any{"stage": string(stages[0].ID), "n": 3}).Save(ctx)
	must(err)
	sctx := schema.Segmentation(ctx)
	run, err := c.SegmentRun.Create().SetBindingID(b.ID).SetPlugin("acme-score@1.0.0").SetSubjectType("contact").
		SetStatus("succeeded").SetSubjects(3).SetEntered(3).Save(sctx)
	must(err)
	seg, err := c.Segment.Create().SetKey("vip").SetName("VIP").SetBindingID(b.ID).SetSource("acme-score@1.0.0").Save(sctx)
	must(err)
	for _, ct := range contacts {
		must(c.SegmentMembership.Create().SetSegmentID(seg.ID).SetSubjectType(segmentmembership.SubjectTypeContact).
			SetSubjectID(ct.ID).SetRunID(run.ID).SetWeight(0.5).Exec(sctx))
		must(c.Score.Create().SetSubjectType(score.SubjectTypeContact).SetSubjectID(ct.ID).SetPlugin("acme-score").
			SetPluginVersion("1.0.0").SetValue(42).SetLabel("hot").Exec(ctx))
	}
	must(c.AssessmentAnswer.Create().SetPlugin("acme-score").SetQuestion("fit").SetAnswer(3).SetAnsweredBy("member:x").Exec(ctx))
	aut, err := c.Automation.Create().SetName("Notify").SetEvent("deal.stage_changed").
		SetCondition(map[string]any{"stage_id": string(stages[1].ID)}).
		SetActions([]map[string]any{{"type": "webhook", "url": "https://hooks.example/x", "secret": "s3cret"}}).Save(ctx)
	must(err)
	evt := pulid.New("evt")
	ar, err := c.AutomationRun.Create().SetAutomationID(aut.ID).SetKey(string(aut.ID) + ":" + string(evt)).SetTrigger("deal.stage_changed").
		SetEventID(evt).SetSubjectType("contact").SetSubjectID(contacts[0].ID).SetStatus(automationrun.StatusSucceeded).
		SetActions(aut.Actions).Save(ctx)
	must(err)
	must(c.Delivery.Create().SetRunID(ar.ID).SetAutomationID(aut.ID).SetKey(string(ar.ID) + ":0").SetStep(0).
		SetKind(delivery.KindWebhook).SetTarget("https://hooks.example/x").SetStatus(delivery.StatusDelivered).Exec(ctx))
	must(c.Contact.DeleteOneID(contacts[2].ID).Exec(ctx))
	must(c.CustomField.Create().SetEntity("contact").SetKey("tier").SetLabel("Tier").SetType("text").SetRequired(true).Exec(ctx))
	tg, err := c.Tag.Create().SetName("doomed").Save(ctx)
	must(err)
	must(c.Tag.DeleteOneID(tg.ID).Exec(ctx))
}

// lines reads an archive into its lines per type.
func lines(t *testing.T, b []byte) (*manifest, map[string][]string) {
	t.Helper()
	var m *manifest
	out := map[string][]string{}
	err := scan(bytes.NewReader(b), int64(len(b)), func(mm *manifest) error { m = mm; return nil }, func(k *kind, _ int, line []byte) error {
		out[k.name] = append(out[k.name], string(line))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m, out
}

// canonical is a record with the workspace-specific parts taken out.
func canonical(t *testing.T, line string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	// Tags are a set: their order is their IDs'.
	if tags, ok := m["tags"].([]any); ok {
		sort.Slice(tags, func(i, j int) bool { return tags[i].(string) < tags[j].(string) })
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := st.Client
		res, err := demo.Seed(ctx, c, demo.Options{Now: demoNow})
		if err != nil {
			t.Fatal(err)
		}
		src := res.Workspace.ID
		enrich(t, ctx, c, src)

		other, err := access.CreateWorkspace(ctx, c, "other", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Contact.Create().SetLastName("Leaky").SetEmail("leak@other.example").Exec(admin(ctx, other.ID)); err != nil {
			t.Fatal(err)
		}
		target, err := access.CreateWorkspace(ctx, c, "restored", "Restored")
		if err != nil {
			t.Fatal(err)
		}
		members, err := c.Member.Query().All(tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: src, Role: tenancy.RoleViewer}))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range members {
			if _, err := access.AddMember(tenancy.System(ctx), c, target.ID, m.Name, m.Email, tenancy.Role(m.Role)); err != nil {
				t.Fatal(err)
			}
		}

		var arch bytes.Buffer
		start := time.Now()
		counts, err := Write(tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: src, Role: tenancy.RoleViewer}), c, &arch)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d records, %d bytes in %v: %v", counts.Total(), arch.Len(), time.Since(start), counts)
		if bytes.Contains(arch.Bytes(), []byte("Leaky")) {
			t.Error("the archive holds another workspace's record")
		}
		for _, k := range kinds {
			if counts[k.name] == 0 && k.name != "custom_fields" {
				t.Errorf("no %s archived", k.name)
			}
		}

		tctx := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: target.ID, Role: tenancy.RoleViewer})
		own, err := c.TimelineEvent.Query().Count(tctx)
		if err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		restored, d, err := restore(admin(ctx, target.ID), c, bytes.NewReader(arch.Bytes()), int64(arch.Len()))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("restored %d records in %v", restored.Total(), time.Since(start))
		if !reflect.DeepEqual(restored, counts) {
			t.Errorf("restored %v, archived %v", restored, counts)
		}
		if n, err := c.Event.Query().Count(tctx); err != nil || n != 0 {
			t.Errorf("the restore wrote %d events (%v)", n, err)
		}

		var again bytes.Buffer
		if _, err := Write(tctx, c, &again); err != nil {
			t.Fatal(err)
		}
		_, before := lines(t, arch.Bytes())
		_, after := lines(t, again.Bytes())
		_, againLines := lines(t, again.Bytes())
		restoredIDs := map[pulid.ID]bool{}
		for _, n := range d.ids {
			restoredIDs[n] = true
		}
		// Map the source's IDs as the restore did; nothing is minted here.
		mapID := func(s string) string {
			return idInText.ReplaceAllStringFunc(s, func(id string) string {
				for _, m := range []map[pulid.ID]pulid.ID{d.ids, d.members, d.loose} {
					if n, ok := m[pulid.ID(id)]; ok {
						return string(n)
					}
				}
				return id
			})
		}
		if len(after["timeline_events"]) != len(before["timeline_events"])+own {
			t.Errorf("timeline: %d archived and %d the target's own, %d after", len(before["timeline_events"]), own, len(after["timeline_events"]))
		}
		after["timeline_events"] = after["timeline_events"][:0]
		for _, l := range againLines["timeline_events"] {
			if r := canonical(t, l); restoredIDs[pulid.ID(r["id"].(string))] {
				after["timeline_events"] = append(after["timeline_events"], l)
			}
		}
		for _, k := range kinds {
			if len(before[k.name]) != len(after[k.name]) {
				t.Errorf("%s: %d archived, %d restored", k.name, len(before[k.name]), len(after[k.name]))
				continue
			}
			if k.reference {
				continue
			}
			got := map[any]map[string]any{}
			for _, l := range after[k.name] {
				r := canonical(t, l)
				got[r["id"]] = r
			}
			bad := 0
			for _, l := range before[k.name] {
				want := canonical(t, mapID(l))
				if g := got[want["id"]]; !reflect.DeepEqual(g, want) && bad < 3 {
					bad++
					t.Errorf("%s differs:\n got %v\nwant %v", k.name, g, want)
				}
			}
		}

		// The metrics of both workspaces agree.
		q := metrics.Query{From: demoNow.AddDate(-2, 0, 0), To: demoNow}
		svc := metrics.ForClient(c)
		srcReport, err := svc.Report(tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: src, Role: tenancy.RoleViewer}), q)
		if err != nil {
			t.Fatal(err)
		}
		dstReport, err := svc.Report(tctx, q)
		if err != nil {
			t.Fatal(err)
		}
		sb, _ := json.Marshal(srcReport)
		db, _ := json.Marshal(dstReport)
		var gotV, wantV any
		_ = json.Unmarshal(db, &gotV)
		_ = json.Unmarshal([]byte(mapID(string(sb))), &wantV)
		if got, want := string(db), mapID(string(sb)); !near(gotV, wantV) {
			dir, _ := os.MkdirTemp("", "archive-metrics-")
			_ = os.WriteFile(filepath.Join(dir, "want.json"), []byte(want), 0o600)
			_ = os.WriteFile(filepath.Join(dir, "got.json"), []byte(got), 0o600)
			t.Errorf("metrics differ: see %s", dir)
		}

		// A second restore is refused and changes nothing.
		_, err = Restore(admin(ctx, target.ID), c, bytes.NewReader(arch.Bytes()), int64(arch.Len()))
		if errcode.Of(err) != errcode.BadUserInput || !strings.Contains(err.Error(), "contacts") {
			t.Errorf("restore into a non-empty workspace: %v", err)
		}
		if n, _ := c.Contact.Query().Count(tctx); n != res.Counts.Contacts-1 {
			t.Errorf("target holds %d contacts after a refused restore", n)
		}

		// Corrupt archives are refused and leave the target empty.
		empty, err := access.CreateWorkspace(ctx, c, "empty", "")
		if err != nil {
			t.Fatal(err)
		}
		ectx := admin(ctx, empty.ID)
		m, files := lines(t, arch.Bytes())
		broken := map[string][]string{}
		for name, ls := range files {
			broken[name] = ls
		}
		broken["deals"] = append([]string(nil), files["deals"]...)
		last := len(broken["deals"]) - 1
		broken["deals"][last] = regexp.MustCompile(`"pipeline_id":"[^"]+"`).ReplaceAllString(broken["deals"][last], `"pipeline_id":"`+string(pulid.New("pip"))+`"`)
		for name, data := range map[string][]byte{
			"truncated":   arch.Bytes()[:arch.Len()*2/3],
			"missing ref": build(t, m, broken),
		} {
			_, err := Restore(ectx, c, bytes.NewReader(data), int64(len(data)))
			if errcode.Of(err) != errcode.BadUserInput {
				t.Errorf("%s: %v", name, err)
			}
			t.Logf("%s: %v", name, err)
			if err := checkEmpty(schema.IncludeDeleted(ectx), c); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}

// build writes an archive of m and the files' lines.
func build(t testing.TB, m *manifest, files map[string][]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	mb, _ := json.Marshal(m)
	put := func(name string, b []byte) {
		if err := writeEntry(tw, name, time.Unix(0, 0), int64(len(b)), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	put(manifestName, mb)
	for _, k := range kinds {
		if ls, ok := files[k.name]; ok {
			put(k.file(), []byte(strings.Join(ls, "\n")+"\n"))
		}
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// TestHostile checks that malformed archives are refused with an error
// that says what is wrong.
func TestHostile(t *testing.T) {
	good := &manifest{Format: Format, Version: Version, Counts: Counts{"tags": 1, "contacts": 1}}
	tagLine := `{"id":"tag_01jd8z2x9t3v4w5y6z7a8b9c0d","name":"x"}`
	conLine := `{"id":"con_01jd8z2x9t3v4w5y6z7a8b9c0d","last_name":"A","tags":["tag_01jd8z2x9t3v4w5y6z7a8b9c0d"]}`
	raw := func(entries ...[2]string) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		for _, e := range entries {
			_ = tw.WriteHeader(&tar.Header{Name: e[0], Mode: 0o644, Size: int64(len(e[1])), Typeflag: tar.TypeReg})
			_, _ = io.WriteString(tw, e[1])
		}
		tw.Close()
		zw.Close()
		return buf.Bytes()
	}
	mj := func(m *manifest) string { b, _ := json.Marshal(m); return string(b) }
	v2 := *good
	v2.Version = 2
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"not gzip", "not a workspace archive", []byte("hello")},
		{"traversal", `unexpected entry "../tags.jsonl"`, raw([2]string{manifestName, mj(good)}, [2]string{"../tags.jsonl", tagLine})},
		{"unknown entry", `unexpected entry "extra.txt"`, raw([2]string{manifestName, mj(good)}, [2]string{"extra.txt", "x"})},
		{"no manifest", "not a workspace archive", raw([2]string{"tags.jsonl", tagLine})},
		{"version", "format version 2", raw([2]string{manifestName, mj(&v2)})},
		{"order", "repeated or out of order", raw([2]string{manifestName, mj(good)}, [2]string{"tags.jsonl", tagLine}, [2]string{"tags.jsonl", tagLine})},
		{"missing", `entry "tags.jsonl" is missing`, raw([2]string{manifestName, mj(good)}, [2]string{"contacts.jsonl", conLine})},
		{"missing tag", "contacts.jsonl line 1: tags", raw([2]string{manifestName, mj(&manifest{Format: Format, Version: 1, Counts: Counts{"contacts": 1}})}, [2]string{"contacts.jsonl", conLine})},
		{"count", "the manifest counts 2", raw([2]string{manifestName, mj(&manifest{Format: Format, Version: 1, Counts: Counts{"tags": 2}})}, [2]string{"tags.jsonl", tagLine})},
		{"unknown field", `tags.jsonl line 1: unknown field "evil"`, raw([2]string{manifestName, mj(good)}, [2]string{"tags.jsonl", `{"id":"tag_01jd8z2x9t3v4w5y6z7a8b9c0d","evil":1}`})},
		{"wrong prefix", "not an ID of a Tag", raw([2]string{manifestName, mj(good)}, [2]string{"tags.jsonl", `{"id":"con_01jd8z2x9t3v4w5y6z7a8b9c0d"}`})},
		{"long line", "line 1: longer than", raw([2]string{manifestName, mj(good)}, [2]string{"tags.jsonl", `{"id":"` + strings.Repeat("x", maxLine+10) + `"}`})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeAll(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err == nil || !strings.Contains(err.Error(), tc.want) || errcode.Of(err) != errcode.BadUserInput {
				t.Errorf("got %v, want an input error with %q", err, tc.want)
			}
		})
	}
	ok := raw([2]string{manifestName, mj(good)}, [2]string{"tags.jsonl", tagLine}, [2]string{"contacts.jsonl", conLine})
	if err := decodeAll(bytes.NewReader(ok), int64(len(ok))); err != nil {
		t.Errorf("a good archive: %v", err)
	}
}

// decodeAll reads and decodes an archive without a database.
func decodeAll(r io.Reader, size int64) error {
	d := newDecoder(map[string]pulid.ID{})
	return scan(r, size, func(*manifest) error { return nil }, func(k *kind, n int, line []byte) error {
		rec, err := d.decode(k, n, line)
		if err == nil && rec != nil {
			_, m := k.create(offline)
			err = apply(m, rec)
		}
		return err
	})
}

// FuzzRead feeds the archive reader and decoder arbitrary bytes: they
// must refuse what they cannot read, never panic nor hang.
func FuzzRead(f *testing.F) {
	m := &manifest{Format: Format, Version: Version, Counts: Counts{"tags": 1, "contacts": 1, "timeline_events": 1}}
	f.Add(build(f, m, map[string][]string{
		"tags":            {`{"id":"tag_01jd8z2x9t3v4w5y6z7a8b9c0d","name":"x"}`},
		"contacts":        {`{"id":"con_01jd8z2x9t3v4w5y6z7a8b9c0d","last_name":"A","custom_fields":{"a":1},"tags":["tag_01jd8z2x9t3v4w5y6z7a8b9c0d"]}`},
		"timeline_events": {`{"id":"tle_01jd8z2x9t3v4w5y6z7a8b9c0d","action":"create","subject_type":"Contact","subject_id":"con_01jd8z2x9t3v4w5y6z7a8b9c0d","actor":"member:mem_01jd8z2x9t3v4w5y6z7a8b9c0e","changes":[{"field":"organization_id","after":"org_01jd8z2x9t3v4w5y6z7a8b9c0d"}]}`},
	}))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Add([]byte("manifest.json"))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := decodeAll(bufio.NewReader(bytes.NewReader(data)), int64(len(data)))
		if err != nil && errcode.Of(err) != errcode.BadUserInput {
			t.Fatalf("not an input error: %v", err)
		}
	})
}

// offline builds mutations without a database.
var offline = gen.NewClient()

// near reports whether two decoded JSON values are equal, numbers to a
// relative 1e-9: sums over rows read in another order may differ in the
// last bits.
func near(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && math.Abs(x-y) <= 1e-9*math.Max(1, math.Max(math.Abs(x), math.Abs(y)))
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !near(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !near(v, y[k]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
