package extension_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/extensionbinding"
	"github.com/rapportcrm/rapport/core/ent/score"
	"github.com/rapportcrm/rapport/core/ent/timelineevent"
	"github.com/rapportcrm/rapport/core/ent/workspaceplugin"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/pluginpkg"
)

// wsRegistry is a registry with no server plugins and workspace plugins
// on under cfg.
func wsRegistry(t testing.TB, cfg extension.WorkspacePluginConfig) *extension.Registry {
	t.Helper()
	e, err := wasm.NewEngine(wasm.Config{CacheDir: filepath.Join(os.TempDir(), "rapport-wasm-test-cache")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := extension.NewRegistry(context.Background(), extension.Config{Dirs: []string{t.TempDir()}, Engine: e})
	if err != nil {
		t.Fatal(err)
	}
	r.EnableWorkspacePlugins(cfg)
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

var (
	packOnce sync.Once
	packs    map[string][]byte
	packErr  error
)

// packages packs the test plugins: leadscore, faulty, and leadscore with
// other bytes under the same version.
func packages(t testing.TB) map[string][]byte {
	t.Helper()
	dir := extensiontest.Plugins(t)
	packOnce.Do(func() {
		packs = map[string][]byte{}
		for _, name := range []string{"leadscore", "faulty"} {
			if packs[name], _, packErr = pluginpkg.PackDir(filepath.Join(dir, name), pluginpkg.PackOptions{}); packErr != nil {
				return
			}
		}
		other := filepath.Join(os.TempDir(), "rapport-leadscore-other")
		if packErr = extensiontest.CopyPlugin(filepath.Join(dir, "leadscore"), other); packErr != nil {
			return
		}
		m, _ := os.ReadFile(filepath.Join(other, "plugin.json"))
		os.WriteFile(filepath.Join(other, "plugin.json"), []byte(strings.Replace(string(m), "Scores leads", "Scores the leads", 1)), 0o644)
		packs["leadscore-other"], _, packErr = pluginpkg.PackDir(other, pluginpkg.PackOptions{})
	})
	if packErr != nil {
		t.Fatal(packErr)
	}
	return packs
}

func testKey(t testing.TB) pluginpkg.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(extensiontest.Root(), "sdk", "pluginpkg", "testdata", "test.key"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := pluginpkg.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestWorkspacePlugins(t *testing.T) {
	pk := packages(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := wsRegistry(t, extension.WorkspacePluginConfig{})
		a := workspace(t, st, "alpha", 30)
		b := workspace(t, st, "beta", 10)
		row, err := r.Install(a, st.Client, pk["leadscore"])
		if err != nil {
			t.Fatal(err)
		}
		if row.Name != "leadscore" || row.Version != "1.0.0" || len(row.Sha256) != 64 || row.Size != int64(len(pk["leadscore"])) {
			t.Fatalf("installed %+v", row)
		}
		// The same bytes again: the same install.
		again, err := r.Install(a, st.Client, pk["leadscore"])
		if err != nil || again.ID != row.ID {
			t.Fatalf("second install: %v, %v", again, err)
		}
		// Other bytes under the same name and version: CONFLICT.
		if _, err := r.Install(a, st.Client, pk["leadscore-other"]); errcode.Of(err) != errcode.Conflict {
			t.Fatalf("other bytes: %v", err)
		}
		bind := extension.BindInput{Point: sdk.PointScore, SubjectType: "lead", Plugin: "leadscore", Version: "1.0.0"}
		if _, err := r.Bind(a, st.Client, bind); err != nil {
			t.Fatal(err)
		}
		run, err := r.ScoreSubjects(a, st.Client, extension.ScoreOptions{SubjectType: "lead"})
		if err != nil || run.Scored != 30 || run.Plugin != "leadscore@1.0.0" {
			t.Fatalf("run %+v, %v", run, err)
		}
		// B sees nothing of it: not listed, not bindable, not removable.
		list, err := r.ListFor(b, st.Client)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range list {
			if p.Manifest.Name == "leadscore" {
				t.Fatalf("beta lists %s", p.Ref())
			}
		}
		if _, err := r.Bind(b, st.Client, bind); errcode.Of(err) != errcode.NotFound {
			t.Fatalf("beta bound alpha's plugin: %v", err)
		}
		if err := r.Uninstall(b, st.Client, "leadscore", "1.0.0", true); errcode.Of(err) != errcode.NotFound {
			t.Fatalf("beta uninstalled alpha's plugin: %v", err)
		}
		// A binding B wrote by hand (as a stale row would be) does not
		// reach A's plugin either.
		if _, err := st.Client.ExtensionBinding.Create().SetPoint("score").SetPlugin("leadscore").SetVersion("1.0.0").Save(b); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ScoreSubjects(b, st.Client, extension.ScoreOptions{SubjectType: "lead"}); errcode.Of(err) != errcode.NotFound {
			t.Fatalf("beta scored with alpha's plugin: %v", err)
		}
		if n, _ := st.Client.Score.Query().Count(b); n != 0 {
			t.Fatalf("beta has %d scores", n)
		}
		list, err = r.ListFor(a, st.Client)
		if err != nil || len(list) != 1 || list[0].Origin() != extension.OriginWorkspace || list[0].Status != "ready" {
			t.Fatalf("alpha lists %v, %v", list, err)
		}
		// B installs the same bytes: its own install, the same module.
		if _, err := r.Install(b, st.Client, pk["leadscore"]); err != nil {
			t.Fatal(err)
		}
		if n := extension.LoadedPackages(r); n != 1 {
			t.Fatalf("%d packages loaded for one package installed twice", n)
		}
		// Uninstalling a bound plugin needs force, which unbinds it.
		if err := r.Uninstall(a, st.Client, "leadscore", "1.0.0", false); errcode.Of(err) != errcode.Conflict || !strings.Contains(err.Error(), "score (lead)") {
			t.Fatalf("uninstall while bound: %v", err)
		}
		if err := r.Uninstall(a, st.Client, "leadscore", "1.0.0", true); err != nil {
			t.Fatal(err)
		}
		if n, _ := st.Client.ExtensionBinding.Query().Where(extensionbinding.PluginEQ("leadscore")).Count(a); n != 0 {
			t.Fatalf("%d bindings left after a forced uninstall", n)
		}
		if _, err := r.ScoreSubjects(a, st.Client, extension.ScoreOptions{SubjectType: "lead"}); errcode.Of(err) != errcode.NotFound {
			t.Fatalf("scored after uninstall: %v", err)
		}
		// B's install is untouched.
		if n, _ := st.Client.WorkspacePlugin.Query().Count(b); n != 1 {
			t.Fatalf("beta holds %d plugins", n)
		}
		// Both are in A's timeline, with who did them, without the package.
		evs, err := st.Client.TimelineEvent.Query().Where(timelineevent.SubjectTypeEQ(ent.TypeWorkspacePlugin), timelineevent.SubjectIDEQ(row.ID)).All(a)
		if err != nil || len(evs) != 2 || evs[0].Action != timelineevent.ActionCreate || evs[1].Action != timelineevent.ActionDelete {
			t.Fatalf("timeline %v, %v", evs, err)
		}
		for _, c := range evs[0].Changes {
			if c.Field == "archive" || c.Field == "manifest" {
				t.Fatalf("the timeline lists the %s", c.Field)
			}
		}
	})
}

func TestWorkspacePluginRefusals(t *testing.T) {
	pk := packages(t)
	key := testKey(t)
	signed, err := pluginpkg.Sign(pk["leadscore"], key, pluginpkg.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := pluginpkg.GenerateKey("stranger")
	strangers, err := pluginpkg.Sign(pk["leadscore"], other, pluginpkg.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tampered := append([]byte{}, signed...)
	{
		p, _ := pluginpkg.Read(signed, pluginpkg.Limits{})
		files := map[string][]byte{}
		for k, v := range p.Files {
			files[k] = v
		}
		files["plugin.json"] = []byte(strings.Replace(string(files["plugin.json"]), `"hot": {"type": "number", "default": 70}`, `"hot": {"type": "number", "default": 1}`, 1))
		if tampered, err = pluginpkg.Pack(files, pluginpkg.PackOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	fixture := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(extensiontest.Root(), "sdk", "pluginpkg", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	strict := extension.WorkspacePluginConfig{Policy: pluginpkg.Policy{Trusted: []pluginpkg.PublicKey{key.Public()}, RequireSigned: true}}
	tests := []struct {
		name string
		cfg  extension.WorkspacePluginConfig
		pkg  []byte
		code errcode.Code
		want string
	}{
		{"unsigned under require-signed", strict, pk["leadscore"], errcode.BadUserInput, "not signed"},
		{"untrusted key", strict, strangers, errcode.BadUserInput, "signed by an untrusted key"},
		{"changed after signing", strict, tampered, errcode.BadUserInput, "changed after it was signed"},
		{"memory over the cap", extension.WorkspacePluginConfig{MaxMemoryPages: 128}, pk["leadscore"], errcode.BadUserInput, "workspace-plugin-max-memory"},
		{"timeout over the cap", extension.WorkspacePluginConfig{MaxTimeout: time.Second}, pk["leadscore"], errcode.BadUserInput, "workspace-plugin-max-timeout"},
		{"package over the cap", extension.WorkspacePluginConfig{MaxPackageSize: 1000}, pk["leadscore"], errcode.BadUserInput, "workspace-plugin-max-size"},
		{"checksum mismatch", extension.WorkspacePluginConfig{}, fixture("tampered.rpk"), errcode.BadUserInput, `"plugin.wasm" does not match its checksum`},
		{"path traversal", extension.WorkspacePluginConfig{}, fixture("traversal.rpk"), errcode.BadUserInput, "outside the package"},
		{"absolute path", extension.WorkspacePluginConfig{}, fixture("absolute.rpk"), errcode.BadUserInput, "absolute path"},
		{"symlink", extension.WorkspacePluginConfig{}, fixture("symlink.rpk"), errcode.BadUserInput, "symbolic link"},
		{"hard link", extension.WorkspacePluginConfig{}, fixture("hardlink.rpk"), errcode.BadUserInput, "hard link"},
		{"device", extension.WorkspacePluginConfig{}, fixture("device.rpk"), errcode.BadUserInput, "device"},
		{"duplicate", extension.WorkspacePluginConfig{}, fixture("duplicate.rpk"), errcode.BadUserInput, "appears twice"},
		{"unlisted file", extension.WorkspacePluginConfig{}, fixture("unlisted.rpk"), errcode.BadUserInput, "not listed"},
		{"listed, missing", extension.WorkspacePluginConfig{}, fixture("missing.rpk"), errcode.BadUserInput, "does not hold"},
		{"gzip bomb", extension.WorkspacePluginConfig{}, fixture("bomb.rpk"), errcode.BadUserInput, "contents are over"},
		{"process plugin", extension.WorkspacePluginConfig{}, fixture("process.rpk"), errcode.BadUserInput, "process plugin"},
		{"foreign import", extension.WorkspacePluginConfig{}, fixture("badimport.rpk"), errcode.BadUserInput, `"socket" from "env"`},
		{"not a plugin module", extension.WorkspacePluginConfig{}, fixture("good.rpk"), errcode.BadUserInput, "does not load"},
		{"garbage", extension.WorkspacePluginConfig{}, fixture("garbage.rpk"), errcode.BadUserInput, "not a tar archive"},
	}
	st := storetest.Open(t, "sqlite")
	a := workspace(t, st, "alpha", 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := wsRegistry(t, tt.cfg)
			_, err := r.Install(a, st.Client, tt.pkg)
			if errcode.Of(err) != tt.code || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v; want %s with %q", err, tt.code, tt.want)
			}
			if n, _ := st.Client.WorkspacePlugin.Query().Count(a); n != 0 {
				t.Fatalf("%d plugins stored", n)
			}
		})
	}
	// Trusted signature: installed.
	r := wsRegistry(t, strict)
	if _, err := r.Install(a, st.Client, signed); err != nil {
		t.Fatal(err)
	}
	// A member may not install or uninstall.
	v := tenancy.FromContext(a)
	member := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: v.WorkspaceID, Role: tenancy.RoleMember})
	if _, err := r.Install(member, st.Client, signed); errcode.Of(err) != errcode.Forbidden {
		t.Fatalf("member install: %v", err)
	}
	if err := r.Uninstall(member, st.Client, "leadscore", "1.0.0", true); errcode.Of(err) != errcode.Forbidden {
		t.Fatalf("member uninstall: %v", err)
	}
	// The count cap.
	capped := wsRegistry(t, extension.WorkspacePluginConfig{MaxCount: 1})
	if _, err := capped.Install(a, st.Client, pk["faulty"]); errcode.Of(err) != errcode.BadUserInput || !strings.Contains(err.Error(), "workspace-plugin-max-count") {
		t.Fatalf("over the count: %v", err)
	}
	// Off: refused.
	e, _ := wasm.NewEngine(wasm.Config{})
	off, err := extension.NewRegistry(context.Background(), extension.Config{Dirs: []string{t.TempDir()}, Engine: e})
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close(context.Background())
	if _, err := off.Install(a, st.Client, pk["faulty"]); errcode.Of(err) != errcode.Forbidden {
		t.Fatalf("workspace plugins off: %v", err)
	}
	// A name the server's plugins hold.
	server := registry(t, plugins(t))
	server.EnableWorkspacePlugins(extension.WorkspacePluginConfig{})
	if _, err := server.Install(a, st.Client, pk["faulty"]); errcode.Of(err) != errcode.Conflict {
		t.Fatalf("server's name: %v", err)
	}
	if n, _ := st.Client.WorkspacePlugin.Query().Count(a); n != 1 {
		t.Fatalf("%d plugins stored", n)
	}
}

// TestWorkspacePluginTwoServers: one upload, through one server, is served
// by another server over the same PostgreSQL database.
func TestWorkspacePluginTwoServers(t *testing.T) {
	pk := packages(t)
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	open := func() *store.Store {
		st, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	st1 := open()
	if _, err := st1.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st2 := open()
	e2, err := wasm.NewEngine(wasm.Config{}) // no shared compilation cache
	if err != nil {
		t.Fatal(err)
	}
	r1 := wsRegistry(t, extension.WorkspacePluginConfig{})
	r2, err := extension.NewRegistry(ctx, extension.Config{Dirs: []string{t.TempDir()}, Engine: e2})
	if err != nil {
		t.Fatal(err)
	}
	r2.EnableWorkspacePlugins(extension.WorkspacePluginConfig{})
	defer r2.Close(ctx)
	a := workspace(t, st1, "alpha", 40)
	if _, err := r1.Install(a, st1.Client, pk["leadscore"]); err != nil {
		t.Fatal(err)
	}
	if _, err := r1.Bind(a, st1.Client, extension.BindInput{Point: sdk.PointScore, SubjectType: "lead", Plugin: "leadscore", Version: "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	run, err := r2.ScoreSubjects(a, st2.Client, extension.ScoreOptions{SubjectType: "lead", Now: now})
	if err != nil || run.Scored != 40 {
		t.Fatalf("second server: %+v, %v", run, err)
	}
	if _, err := r1.ScoreSubjects(a, st1.Client, extension.ScoreOptions{SubjectType: "lead", Now: now.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if extension.LoadedPackages(r2) != 1 {
		t.Fatal("the second server did not load the package")
	}
	// Both servers' scores agree.
	s1, _ := st1.Client.Score.Query().Where(score.ComputedAtGT(now)).Order(ent.Asc(score.FieldSubjectID)).All(a)
	s2, _ := st1.Client.Score.Query().Where(score.ComputedAtLTE(now)).Order(ent.Asc(score.FieldSubjectID)).All(a)
	if len(s1) != 40 || len(s2) != 40 {
		t.Fatalf("%d and %d scores", len(s1), len(s2))
	}
	for i := range s1 {
		if s1[i].SubjectID != s2[i].SubjectID || s1[i].Value-s2[i].Value > 0.01 || s2[i].Value-s1[i].Value > 0.01 {
			t.Fatalf("subject %s: %v on one server, %v on the other", s1[i].SubjectID, s1[i].Value, s2[i].Value)
		}
	}
	_ = workspaceplugin.FieldName
}

// TestWorkspacePluginFaultsIsolated: A's plugin loops, bombs its memory or
// traps; each batch fails with PLUGIN_FAILED within the caps while B's
// scoring, run beside it, completes with the scores it gives alone.
func TestWorkspacePluginFaultsIsolated(t *testing.T) {
	pk := packages(t)
	st := storetest.Open(t, "sqlite")
	r := wsRegistry(t, extension.WorkspacePluginConfig{MaxMemoryPages: 256, MaxTimeout: 2 * time.Second})
	a := workspace(t, st, "alpha", 20)
	b := workspace(t, st, "beta", 1500)
	if _, err := r.Install(a, st.Client, pk["faulty"]); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Install(b, st.Client, pk["leadscore"]); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Bind(b, st.Client, extension.BindInput{Point: sdk.PointScore, SubjectType: "lead", Plugin: "leadscore", Version: "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := r.ScoreSubjects(b, st.Client, extension.ScoreOptions{SubjectType: "lead", Now: now}); err != nil {
		t.Fatal(err)
	}
	alone := map[string]float64{}
	scores, _ := st.Client.Score.Query().All(b)
	for _, s := range scores {
		alone[string(s.SubjectID)] = s.Value
	}
	for i, mode := range []string{"loop", "bomb", "crash"} {
		t.Run(mode, func(t *testing.T) {
			if _, err := r.Bind(a, st.Client, extension.BindInput{Point: sdk.PointScore, SubjectType: "lead", Plugin: "faulty", Version: "0.1.0", Config: map[string]any{"Mode": mode}}); err != nil {
				t.Fatal(err)
			}
			at := now.Add(time.Duration(i+1) * time.Minute)
			var wg sync.WaitGroup
			var aErr error
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, aErr = r.ScoreSubjects(a, st.Client, extension.ScoreOptions{SubjectType: "lead", Now: at})
			}()
			run, err := r.ScoreSubjects(b, st.Client, extension.ScoreOptions{SubjectType: "lead", Now: now})
			wg.Wait()
			if errcode.Of(aErr) != errcode.PluginFailed {
				t.Fatalf("alpha's %s plugin: %v", mode, aErr)
			}
			if err != nil || run.Scored != 1500 || run.FailedBatches != 0 {
				t.Fatalf("beta beside it: %+v, %v", run, err)
			}
			if n, _ := st.Client.Score.Query().Count(a); n != 0 {
				t.Fatalf("alpha has %d scores", n)
			}
			scores, _ := st.Client.Score.Query().Where(score.ComputedAtEQ(now)).All(b)
			for _, s := range scores {
				if alone[string(s.SubjectID)] != s.Value {
					t.Fatalf("beta's %s scored %v beside the %s plugin, %v alone", s.SubjectID, s.Value, mode, alone[string(s.SubjectID)])
				}
			}
		})
	}
}
