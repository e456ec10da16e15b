package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/rapportcrm/rapport/core/store/storetest"
)

// chromium finds a Chromium or Chrome binary; without one the test is
// skipped, or fails when RAPPORT_REQUIRE_BROWSER=1.
func chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("RAPPORT_REQUIRE_BROWSER") == "1" {
		t.Fatal("RAPPORT_REQUIRE_BROWSER=1 but no chromium found (apt-get install chromium)")
	}
	t.Skip("no chromium found; set RAPPORT_REQUIRE_BROWSER=1 to fail instead")
	return ""
}

// browser is a headless Chromium tab recording what the page does that a
// test must check: console errors, exceptions, errors it logs (CSP
// violations, failed loads) and every URL it requests.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	errors   []string
	requests []string
	shots    string
	n        int
}

type step = chromedp.Action[chromedp.Void]

func newBrowser(t testing.TB) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.WindowSize(1440, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{ctx: ctx, shots: t.TempDir()}
	if dir := os.Getenv("RAPPORT_SCREENSHOTS"); dir != "" {
		b.shots = filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "-"))
		if err := os.MkdirAll(b.shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == "error" || ev.Type == "assert" {
				var args []string
				for _, a := range ev.Args {
					args = append(args, strings.TrimSpace(string(a.Value)+" "+a.Description))
				}
				b.errors = append(b.errors, "console: "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.errors = append(b.errors, "exception: "+msg)
		case *log.EventEntryAdded:
			if ev.Entry.Level == "error" {
				b.errors = append(b.errors, fmt.Sprintf("log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, ev.Request.URL)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		callErr(chromedp.Call(ctx, network.Enable, network.EnableParams{})),
		callErr(chromedp.Call(ctx, log.Enable, cdp.Empty{})),
		callErr(chromedp.Call(ctx, runtime.Enable, cdp.Empty{})),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func callErr[T any](_ T, err error) error { return err }

// do runs steps, failing the test (with a screenshot) when one fails.
func (b *browser) do(t testing.TB, what string, steps ...step) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.screenshot(t, "failed-"+strings.ReplaceAll(what, " ", "-"))
		t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

// eval returns the value of the JavaScript expression js.
func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// text returns the text of the element sel (a CSS selector).
func text(t *testing.T, b *browser, sel string) string {
	t.Helper()
	return eval[string](t, b, fmt.Sprintf(`document.querySelector(%q)?.textContent ?? "(no element)"`, sel))
}

// screenshot saves the page as NN-name.png in the screenshot directory.
func (b *browser) screenshot(t testing.TB, name string) {
	t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	b.n++
	p := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Error(err)
	}
}

// js runs the JavaScript expression src.
func js(src string) step {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](src)(ctx, t)
		return err
	})
}

// until waits until the JavaScript expression cond is true. It asks
// again when the page navigates while it asks.
func until(cond string) step {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		for {
			ok, err := chromedp.Evaluate[bool](cond)(ctx, t)
			if err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s: %v (last error: %v)", cond, ctx.Err(), err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// atPath waits until the page's path (and query) is want.
func atPath(want string) step {
	return until(fmt.Sprintf(`location.pathname + location.search === %q`, want))
}

func visible(sel string) step   { return chromedp.WaitVisible(chromedp.CSS(sel)) }
func click(sel string) step     { return chromedp.Click(chromedp.CSS(sel)) }
func typeIn(sel, v string) step { return chromedp.SendKeys(chromedp.CSS(sel), v) }

// drag drags the card of deal to the column of stage with the mouse, as
// a person does: the browser's own input events (a press on the card,
// moves in steps to the column's list, a release there), which it turns
// into the pointer and mouse events the page sees. Both are scrolled into
// view first, and each must be what is under the pointer.
func drag(deal, stage string) step {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		at, err := chromedp.Evaluate[[]float64](fmt.Sprintf(`(() => {
			const card = document.querySelector('[data-deal=%[1]q]');
			const col = document.querySelector('[data-stage=%[2]q]');
			if (!card || !col) return [];
			col.scrollIntoView({block: 'nearest', inline: 'nearest'});
			card.scrollIntoView({block: 'nearest', inline: 'nearest'});
			const a = card.getBoundingClientRect(), b = col.querySelector('.col-list').getBoundingClientRect();
			const from = [a.left + a.width / 2, a.top + Math.min(a.height / 2, 12)];
			const to = [b.left + b.width / 2, b.top + Math.min(b.height / 2, 30)];
			if (document.elementFromPoint(...from)?.closest('[data-deal]') !== card) return [];
			if (document.elementFromPoint(...to)?.closest('[data-stage]') !== col) return [];
			return [...from, ...to];
		})()`, deal, stage))(ctx, t)
		if err != nil {
			return err
		}
		if len(at) != 4 {
			return fmt.Errorf("drag: card %s or column %s missing or covered", deal, stage)
		}
		x0, y0, x1, y1 := at[0], at[1], at[2], at[3]
		steps := []step{
			chromedp.MouseEvent(chromedp.MouseMoved, x0, y0),
			chromedp.MouseEvent(chromedp.MousePressed, x0, y0, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		}
		for i := 1; i <= 10; i++ {
			f := float64(i) / 10
			steps = append(steps, chromedp.MouseEvent(chromedp.MouseMoved, x0+(x1-x0)*f, y0+(y1-y0)*f, chromedp.ButtonLeft))
		}
		steps = append(steps, chromedp.MouseEvent(chromedp.MouseReleased, x1, y1, chromedp.ButtonLeft, chromedp.ClickCount(1)))
		_, err = chromedp.Steps(steps...)(ctx, t)
		return err
	})
}

// TestWebApp drives the web app in Chromium against `rapport serve --demo`:
// sign-up from an invitation, the pipeline board, moving a deal by drag and
// drop (kept after a reload, refused for a viewer), a session that ends,
// record values shown as text, GraphiQL; all without a request to another
// origin and without a console error.
func TestWebApp(t *testing.T) {
	// Runs beside the package's other process-driving tests: they
	// mostly wait on the processes they start.
	t.Parallel()
	chromium(t)
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			db := storetest.URL(t, dialect)
			s := startServer(t, db, "--demo")
			testWebApp(t, s, db)
		})
	}
}

func testWebApp(t *testing.T, s *server, db string) {
	// The server's own pages and their headers.
	res, err := http.Get(s.url + "/board")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); res.StatusCode != 200 || !strings.Contains(csp, "script-src 'self';") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("/board: %d %v", res.StatusCode, res.Header)
	}

	// The data the test looks for: a deal to drag and one whose contact's
	// name is markup, both with the largest amounts of the default
	// pipeline's first stage, so that they head its column.
	status, out := s.query(t, s.token, `{ pipelines(where: {isDefault: true}) { edges { node { id stages { id name position kind } } } } }`)
	if status != 200 || out["errors"] != nil {
		t.Fatalf("pipelines: %d %v", status, out)
	}
	var stages []stage
	decode(t, out, &stages, "data", "pipelines", "edges", 0, "node", "stages")
	pipeline := dig(out, "data", "pipelines", "edges", 0, "node", "id").(string)
	sortStages(stages)
	if len(stages) < 3 {
		t.Fatalf("stages %v", stages)
	}
	first, second := stages[0], stages[1]
	const evil = `<script>window.__xss=1</script><img src=x onerror=window.__xss=2>`
	status, out = s.query(t, s.token, fmt.Sprintf(`mutation { createContact(input: {firstName: %q, lastName: "Tester"}) { id } }`, evil))
	if status != 200 || out["errors"] != nil {
		t.Fatalf("createContact: %d %v", status, out)
	}
	contact := dig(out, "data", "createContact", "id").(string)
	status, out = s.query(t, s.token, fmt.Sprintf(`mutation {
		move: createDeal(input: {name: "Browser drag deal", amount: 99999999, pipelineID: %q, stageID: %q}) { id }
		evil: createDeal(input: {name: %q, amount: 99999998, pipelineID: %q, stageID: %q, contactID: %q}) { id } }`,
		pipeline, first.ID, evil, pipeline, first.ID, contact))
	if status != 200 || out["errors"] != nil {
		t.Fatalf("createDeal: %d %v", status, out)
	}
	moved := dig(out, "data", "move", "id").(string)
	evilDeal := dig(out, "data", "evil", "id").(string)

	base := s.url
	invite := func(email, role string) string {
		t.Helper()
		got, err := run(t, "member", "invite", "--db", db, "--workspace", "demo", "--email", email, "--role", role, "--base-url", base)
		if err != nil {
			t.Fatalf("member invite: %v", err)
		}
		return strings.TrimSpace(got)
	}

	b := newBrowser(t)
	card := func(deal, stage string) string {
		return fmt.Sprintf(`!!document.querySelector('[data-stage=%q] [data-deal=%q]')`, stage, deal)
	}
	boardReady := `document.querySelector('#board')?.dataset.loaded === 'true'`

	// Signed out, the board sends to sign-in, which shows the server's error.
	b.do(t, "open the board signed out", chromedp.Navigate(base+"/board"), atPath("/signin?next=%2Fboard"), visible("#email"))
	b.do(t, "wrong password", typeIn("#email", "nobody@example.com"), typeIn("#password", "wrong password"),
		click(`#signin button[type=submit]`), until(`document.querySelector('#signin-error').textContent.length > 0`))
	b.screenshot(t, "signin-error")
	// Failures are throttled: the page says how long to wait.
	for i := 0; i < 6 && !strings.Contains(text(t, b, "#signin-error"), "Try again in"); i++ {
		b.do(t, "wrong password again", js(`document.querySelector('#signin-error').textContent = ''`),
			click(`#signin button[type=submit]`), until(`document.querySelector('#signin-error').textContent.length > 0`))
	}
	if got := text(t, b, "#signin-error"); !strings.Contains(got, "Too many attempts. Try again in") {
		t.Errorf("throttled sign-in shows %q", got)
	}
	b.screenshot(t, "signin-throttled")

	// Sign up from an invitation: a field error shows next to its field.
	link := invite("dana@example.com", "member")
	if !strings.Contains(link, "/signup?token=") {
		t.Fatalf("invite link %q", link)
	}
	b.do(t, "open the invitation", chromedp.Navigate(link), visible("#name"))
	if got := text(t, b, "#invite-email"); got != "dana@example.com" {
		t.Errorf("invitation shows %q", got)
	}
	b.screenshot(t, "signup")
	b.do(t, "short password", typeIn("#name", "Dana Scully"), typeIn("#password", "short"),
		click(`#signup button[type=submit]`), until(`document.querySelector('#password-error').textContent.length > 0`))
	b.screenshot(t, "signup-field-error")
	b.do(t, "sign up", js(`document.querySelector("#password").value = ""`), typeIn("#password", "a good long password"),
		click(`#signup button[type=submit]`), atPath("/board"), until(boardReady), until(card(moved, first.ID)))
	if got := text(t, b, "#account-name"); got != "Dana Scully" {
		t.Errorf("shell shows %q", got)
	}

	// Record values are text.
	b.do(t, "markup as text", until(card(evilDeal, first.ID)))
	if got := text(t, b, fmt.Sprintf(`[data-deal=%q] .contact`, evilDeal)); got != evil+" Tester" {
		t.Errorf("contact shown as %q", got)
	}
	if got := text(t, b, fmt.Sprintf(`[data-deal=%q] .deal-name`, evilDeal)); got != evil {
		t.Errorf("deal name shown as %q", got)
	}
	if !eval[bool](t, b, `window.__xss === undefined && !document.querySelector('.card img, .card script')`) {
		t.Error("markup in a record ran or made elements")
	}
	b.screenshot(t, "board")

	// Drag the deal to the next stage; a reload shows it there, and so does the API.
	b.do(t, "drag", drag(moved, second.ID), until(card(moved, second.ID)))
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, out = s.query(t, s.token, fmt.Sprintf(`{ node(id: %q) { ... on Deal { stageID } } }`, moved))
		if dig(out, "data", "node", "stageID") == second.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the drag the deal is in %v, want %s", dig(out, "data", "node", "stageID"), second.ID)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.do(t, "reload", chromedp.Reload(), until(boardReady), until(card(moved, second.ID)))
	if !eval[bool](t, b, `document.querySelector('#board-error').hidden`) {
		t.Error("the board shows an error after a move")
	}
	b.screenshot(t, "board-moved")

	// A session that ends sends the next call to sign-in, then back.
	other := eval[string](t, b, `[...document.querySelectorAll('#pipeline-picker option')].map(o => o.value).find(v => v !== document.querySelector('#pipeline-picker').value)`)
	if _, err := chromedp.Call(b.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	b.do(t, "pick another pipeline",
		js(fmt.Sprintf(`(() => { const p = document.querySelector('#pipeline-picker'); p.value = %q; p.dispatchEvent(new Event('change')); return true })()`, other)),
		atPath("/signin?next="+url.QueryEscape("/board/"+other)), visible("#email"),
		typeIn("#email", "dana@example.com"), typeIn("#password", "a good long password"),
		click(`#signin button[type=submit]`), atPath("/board/"+other), until(boardReady))
	b.screenshot(t, "board-other-pipeline")

	// A viewer's move is refused and rolled back, with the error shown.
	b.do(t, "sign out", click("#signout"), atPath("/signin"))
	b.do(t, "viewer signs up", chromedp.Navigate(invite("fox@example.com", "viewer")), visible("#name"),
		typeIn("#name", "Fox Mulder"), typeIn("#password", "trust no one at all"),
		click(`#signup button[type=submit]`), atPath("/board"), until(boardReady), until(card(moved, second.ID)))
	b.do(t, "viewer drags", drag(moved, stages[2].ID), until(`!document.querySelector('#board-error').hidden`), until(card(moved, second.ID)))
	if got := text(t, b, "#board-error"); !strings.Contains(got, "Not moved") {
		t.Errorf("viewer's refused move shows %q", got)
	}
	b.screenshot(t, "board-viewer-refused")
	_, out = s.query(t, s.token, fmt.Sprintf(`{ node(id: %q) { ... on Deal { stageID } } }`, moved))
	if got := dig(out, "data", "node", "stageID"); got != second.ID {
		t.Errorf("a viewer moved the deal to %v", got)
	}

	// A reset link sets a new password and signs in.
	b.do(t, "viewer signs out", click("#signout"), atPath("/signin"))
	reset, err := run(t, "member", "reset-link", "--db", db, "--email", "dana@example.com", "--base-url", base)
	if err != nil || !strings.Contains(reset, "/reset?token=") {
		t.Fatalf("reset-link: %q %v", reset, err)
	}
	b.do(t, "reset page", chromedp.Navigate(strings.TrimSpace(reset)), visible("#password"))
	b.screenshot(t, "reset")
	b.do(t, "reset", typeIn("#password", "another long password"), click(`#reset button[type=submit]`),
		atPath("/board"), until(boardReady))
	if got := text(t, b, "#account-name"); got != "Dana Scully" {
		t.Errorf("after the reset the shell shows %q", got)
	}

	// A second workspace: the switcher moves the session there.
	for _, args := range [][]string{
		{"workspace", "create", "second", "--name", "Second Workspace"},
		{"member", "add", "--workspace", "second", "--email", "dana@example.com", "--name", "Dana Scully", "--role", "admin"},
	} {
		if _, err := run(t, append([]string{"--db", db}, args...)...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	b.do(t, "switch workspace", chromedp.Reload(), until(boardReady), visible("#workspace-switcher"),
		js(`(() => { const s = document.querySelector('#workspace-switcher'); s.value = 'second'; s.dispatchEvent(new Event('change')); return true })()`),
		until(`document.querySelector('#workspace-switcher')?.value === 'second' && /admin/.test(document.querySelector('.role')?.textContent ?? '')`),
		until(`!!document.querySelector('main h1')`))
	b.screenshot(t, "second-workspace")
	b.do(t, "back to demo",
		js(`(() => { const s = document.querySelector('#workspace-switcher'); s.value = 'demo'; s.dispatchEvent(new Event('change')); return true })()`),
		until(`document.querySelector('#workspace-switcher')?.value === 'demo'`), until(boardReady))

	// The other sections and GraphiQL, whose fetcher loads the schema.
	b.do(t, "contacts", click(`nav a[href="/contacts"]`), atPath("/contacts"), until(`document.querySelector('#list')?.dataset.loaded === 'true'`))
	if got := text(t, b, "#list-count"); !strings.HasPrefix(got, "100 of ") {
		t.Errorf("contacts list shows %q", got)
	}
	b.screenshot(t, "contacts")
	b.do(t, "deals", click(`nav a[href="/deals"]`), atPath("/deals"), until(`document.querySelector('#list')?.dataset.loaded === 'true'`))
	if !eval[bool](t, b, fmt.Sprintf(`[...document.querySelectorAll('#list td')].some(td => td.textContent === %q) && window.__xss === undefined`, evil)) {
		t.Error("the deals list does not show the deal whose name is markup as text")
	}
	b.screenshot(t, "deals")
	b.do(t, "graphiql", chromedp.Navigate(base+"/graphiql"), visible(".graphiql-container"),
		until(`!!document.querySelector('.graphiql-query-editor')`),
		// The schema loaded: the documentation explorer lists the root types.
		click(`[aria-label="Show Documentation Explorer"]`),
		until(`/Query/.test(document.querySelector('.graphiql-doc-explorer')?.textContent ?? '')`))
	b.screenshot(t, "graphiql")

	b.assertClean(t, base)
	t.Logf("screenshots in %s", b.shots)
}

// assertClean fails the test for each console error, exception or error
// the page logged and for each request to an origin other than base. The
// refusals a test provokes (4xx answers from /graphql and /auth/) are
// logged by the browser as failed loads and are not errors.
func (b *browser) assertClean(t *testing.T, base string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		if strings.HasPrefix(e, "log (network): Failed to load resource: the server responded with a status of 4") &&
			(strings.HasSuffix(e, base+"/graphql") || strings.Contains(e, base+"/auth/")) {
			continue
		}
		t.Errorf("browser: %s", e)
	}
	if len(b.requests) < 3 {
		t.Errorf("only %d requests recorded", len(b.requests))
	}
	for _, u := range b.requests {
		if !strings.HasPrefix(u, base+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
			t.Errorf("request to another origin: %s", u)
		}
	}
}

// signedIn invites email to the demo workspace of the server s (on the
// database db) with role, signs up in a new browser and returns it on the
// board.
func signedIn(t *testing.T, s *server, db, email, name, role string) *browser {
	t.Helper()
	got, err := run(t, "member", "invite", "--db", db, "--workspace", "demo", "--email", email, "--role", role, "--base-url", s.url)
	if err != nil {
		t.Fatalf("member invite: %v", err)
	}
	b := newBrowser(t)
	b.do(t, "sign up "+email, chromedp.Navigate(strings.TrimSpace(got)), visible("#name"),
		typeIn("#name", name), typeIn("#password", "a good long password"),
		click(`#signup button[type=submit]`), atPath("/board"),
		until(`document.querySelector('#board')?.dataset.loaded === 'true'`))
	return b
}

// dig walks v by map keys and slice indexes; nil when a step is missing.
func dig(v any, steps ...any) any {
	for _, s := range steps {
		switch k := s.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// decode decodes the value at steps of v into dst.
func decode(t *testing.T, v any, dst any, steps ...any) {
	t.Helper()
	b, _ := json.Marshal(dig(v, steps...))
	if err := json.Unmarshal(b, dst); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}

type stage struct {
	ID, Name, Kind string
	Position       int
}

func sortStages(s []stage) {
	slices.SortFunc(s, func(a, b stage) int { return a.Position - b.Position })
}
