package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// stepTimeout bounds one step of the browser test.
const stepTimeout = 30 * time.Second

var browserShots = flag.String("browser-shots", "",
	"save a screenshot of every step of TestBrowser in this directory")

// TestBrowser clicks through the example's page at / in headless Chromium
// the way a newcomer would, in each kind of project: sign up, read the code
// in the dev inbox, see the user, open /account with the session cookie and
// log out. Each step waits for what a user waits for (a notice, a card
// shown), never for a time. On failure it saves a screenshot of the tab and
// logs its path.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping the browser test: no Chromium at %s (install Debian's chromium package; .ci/run does)", chromiumPath)
	}
	e := &browserEnv{browser: startBrowser(t)}
	e.base, e.mails = startExample(t, "-admin", adminEmail)
	t.Run("two-step", e.twoStep)
	t.Run("otp", e.otp)
	t.Run("none", e.none)
	t.Run("admin", e.admin)
	t.Run("passkey", e.passkey)
}

// adminEmail gets role admin when it signs up (the example's -admin).
const adminEmail = "margaret@example.com"

// admin signs up as the -admin address in web-none, where the none
// subtest made Ada, sees the project's users in the admin card, disables
// and enables Ada, then deletes her.
func (e *browserEnv) admin(t *testing.T) {
	app, _ := e.open(t, "web-none")
	app.signUp(adminEmail, password, "Margaret", "Hamilton")
	app.waitSignedIn(adminEmail)
	ada := `#admin-users tr[data-email="ada@example.com"]`
	app.waitVisible(ada)
	app.do("disable Ada", chromedp.Click(chromedp.CSS(ada+` button[data-action="disable"]`)))
	app.waitNotice("success", "User disabled")
	app.wantText(ada+" .state", "disabled")
	app.do("enable Ada", chromedp.Click(chromedp.CSS(ada+` button[data-action="enable"]`)))
	app.waitNotice("success", "User enabled")
	app.wantText(ada+" .state", "enabled")
	app.do("delete Ada, confirming", chromedp.Click(chromedp.CSS(ada+` button[data-action="delete"]`)))
	app.wantText(ada+` button[data-action="delete"]`, "Really delete?")
	app.do("confirm", chromedp.Click(chromedp.CSS(ada+` button[data-action="delete"]`)))
	app.waitNotice("success", "User deleted")
	value(app, "wait for Ada's row to go", chromedp.Poll[bool](fmt.Sprintf(`document.querySelectorAll(%s).length === 0`, jsString(ada)),
		chromedp.WithPollingTimeout(stepTimeout)))
	app.logOut()
}

// browserEnv is the example and the browser that the subtests share.
type browserEnv struct {
	base    string
	mails   *output // the example's stderr
	browser context.Context
}

const password, newPassword = "correct horse battery", "a new long passphrase"

// twoStep signs up, refreshes and logs out, resets the password, logs in
// again and logs out on the account page.
func (e *browserEnv) twoStep(t *testing.T) {
	app, side := e.open(t, "web-two-step")
	const email = "grace@example.com"
	app.signUp(email, password, "Grace", "Hopper")
	app.enterCode(side, e.mails, e.base, "two-step", email, 1)
	app.wantUser(email, "Grace Hopper")
	side.wantAccount(e.base, 200, email)

	app.do("refresh the tokens", chromedp.Click(chromedp.CSS("#refresh")))
	app.waitNotice("success", "New access and refresh tokens")
	side.wantAccount(e.base, 200, email)
	app.logOut()
	side.wantAccount(e.base, 401, "")

	app.do("ask for a reset code",
		chromedp.Click(chromedp.CSS(`.tabs [data-tab="reset"]`)),
		chromedp.SendKeys(chromedp.CSS(`#reset-request-form [name=email]`), email),
		chromedp.Click(chromedp.CSS(`#reset-request-form button[type=submit]`)),
	)
	app.waitVisible("#reset-form")
	code := side.readCode(e.mails, e.base, "reset", email, 1)
	app.do("set a new password",
		chromedp.SendKeys(chromedp.CSS(`#reset-form [name=code]`), code),
		chromedp.SendKeys(chromedp.CSS(`#reset-form [name=password]`), newPassword),
		chromedp.Click(chromedp.CSS(`#reset-form button[type=submit]`)),
	)
	app.waitNotice("success", "Password changed")

	app.do("log in with the new password",
		chromedp.SendKeys(chromedp.CSS(`#login-form [name=password]`), newPassword),
		chromedp.Click(chromedp.CSS(`#login-form button[type=submit]`)),
	)
	app.enterCode(side, e.mails, e.base, "two-step", email, 2)
	side.wantAccount(e.base, 200, email)

	side.do("log out on the account page", chromedp.Click(chromedp.CSS("#logout")))
	_ = value(side, "wait for the logout", chromedp.Poll[bool](
		`document.getElementById('logout-status').textContent.startsWith('Logged out')`,
		chromedp.WithPollingTimeout(stepTimeout)))
	side.wantAccount(e.base, 401, "")
	app.do("reload the user with the ended login", chromedp.Click(chromedp.CSS("#reload-user")))
	app.waitNotice("error", "Your login has ended")
	app.waitVisible("#signed-out")
}

// otp signs up without a password, then logs in with a mailed code alone.
func (e *browserEnv) otp(t *testing.T) {
	app, side := e.open(t, "web-otp")
	const email = "katherine@example.com"
	app.signUp(email, "", "Katherine", "Johnson")
	app.enterCode(side, e.mails, e.base, "otp", email, 1)
	app.wantUser(email, "Katherine Johnson")
	app.logOut()

	app.do("log in with the email alone",
		chromedp.Click(chromedp.CSS(`.tabs [data-tab="login"]`)),
		chromedp.SendKeys(chromedp.CSS(`#login-form [name=email]`), email),
		chromedp.Click(chromedp.CSS(`#login-form button[type=submit]`)),
	)
	app.enterCode(side, e.mails, e.base, "otp", email, 2)
	side.wantAccount(e.base, 200, email)
	app.logOut()
	side.wantAccount(e.base, 401, "")
}

// none signs up and is signed in at once.
func (e *browserEnv) none(t *testing.T) {
	app, side := e.open(t, "web-none")
	const email = "ada@example.com"
	app.signUp(email, password, "Ada", "Lovelace")
	app.waitSignedIn(email)
	app.wantUser(email, "Ada Lovelace")
	side.wantAccount(e.base, 200, email)
	app.logOut()
	side.wantAccount(e.base, 401, "")
}

// open opens the page in a new tab with project chosen, and a second tab
// for the inbox and /account. The test fails if the page throws an
// exception or breaks its Content-Security-Policy.
func (e *browserEnv) open(t *testing.T, project string, setUp ...chromedp.Action[chromedp.Void]) (app, side tab) {
	return e.openAt(t, e.base, project, setUp...)
}

// openAt is open on the page at base, after the setUp actions on the
// app's tab.
func (e *browserEnv) openAt(t *testing.T, base, project string, setUp ...chromedp.Action[chromedp.Void]) (app, side tab) {
	app, side = newTab(t, e.browser, "app"), newTab(t, e.browser, "side")
	if len(setUp) > 0 {
		app.do("set up the tab", setUp...)
	}
	errs := watchConsole(app)
	t.Cleanup(func() {
		for _, err := range errs() {
			t.Errorf("the page's console: %v", err)
		}
	})
	app.do("open the page and choose "+project,
		chromedp.Navigate(base+"/"),
		chromedp.WaitReady(chromedp.CSS(`body[data-ready="true"]`)),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[value=%q]`, project))),
	)
	return app, side
}

// startBrowser starts headless Chromium with a profile of its own.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	return ctx
}

// tab is one browser tab; its steps stop the test on failure, with a
// screenshot.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
}

func newTab(t *testing.T, browser context.Context, name string) tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening tab %s: %v", name, err)
	}
	return tab{t: t, name: name, ctx: ctx}
}

// do runs the actions of one step.
func (tb tab) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.fail(step, err)
	}
	tb.shot(step)
}

// value runs one step that reads a value.
func value[T any](tb tab, step string, action chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		tb.fail(step, err)
	}
	return v
}

// waitVisible waits until the element sel is shown, and fails at once if
// the page shows an error instead.
func (tb tab) waitVisible(sel string) {
	tb.t.Helper()
	js := fmt.Sprintf(`(() => {
		const n = document.querySelector('#notice.error:not([hidden])');
		if (n && %s !== '#signed-out') return 'error: ' + n.textContent;
		const el = document.querySelector(%s);
		return el !== null && el.checkVisibility() ? 'ok' : false;
	})()`, jsString(sel), jsString(sel))
	got := value(tb, "wait for "+sel, chromedp.Poll[string](js, chromedp.WithPollingTimeout(stepTimeout)))
	if got != "ok" {
		tb.fail("wait for "+sel, fmt.Errorf("the page says %q", got))
	}
	tb.shot("shows " + sel)
}

// waitNotice waits for a notice of that kind (success, info, error) that
// starts with prefix, and fails at once on another error notice.
func (tb tab) waitNotice(kind, prefix string) {
	tb.t.Helper()
	js := fmt.Sprintf(`(() => {
		const n = document.querySelector('#notice:not([hidden])');
		if (n === null) return false;
		const wanted = n.classList.contains(%s) && n.textContent.startsWith(%s);
		return wanted || n.classList.contains('error') ? n.className + '|' + n.textContent : false;
	})()`, jsString(kind), jsString(prefix))
	step := fmt.Sprintf("wait for the %s notice %q", kind, prefix)
	got := value(tb, step, chromedp.Poll[string](js, chromedp.WithPollingTimeout(stepTimeout)))
	class, text, _ := strings.Cut(got, "|")
	if class != "notice "+kind || !strings.HasPrefix(text, prefix) {
		tb.fail(step, fmt.Errorf("got the notice %q: %q", class, text))
	}
	tb.shot(step)
}

// signUp fills in the signup form and sends it; an empty password is left
// out (otp projects have no password field).
func (tb tab) signUp(email, password, first, last string) {
	tb.t.Helper()
	actions := []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.CSS(`#signup-form [name=email]`), email)}
	if password != "" {
		actions = append(actions, chromedp.SendKeys(chromedp.CSS(`#signup-form [name=password]`), password))
	}
	tb.do("sign up as "+email, append(actions,
		chromedp.SendKeys(chromedp.CSS(`#signup-form [name=first_name]`), first),
		chromedp.SendKeys(chromedp.CSS(`#signup-form [name=last_name]`), last),
		chromedp.SendKeys(chromedp.CSS(`#signup-form [name=mobile_number]`), "5550100"),
		chromedp.Click(chromedp.CSS(`#signup-form button[type=submit]`)),
	)...)
}

// enterCode reads the n-th mail of that kind to email in the dev inbox (in
// the other tab), enters its code on the page and waits until the user is
// signed in.
func (tb tab) enterCode(inbox tab, mails *output, base, kind, email string, n int) {
	tb.t.Helper()
	tb.waitVisible("#code-step")
	code := inbox.readCode(mails, base, kind, email, n)
	tb.do("enter the code",
		chromedp.SendKeys(chromedp.CSS(`#code-form [name=code]`), code),
		chromedp.Click(chromedp.CSS(`#code-form button[type=submit]`)),
	)
	tb.waitSignedIn(email)
}

// waitSignedIn waits for what a user waits for after a login: the notice
// that they are signed in as email, which the page shows once the session
// cookie is set, with the signed-in card.
func (tb tab) waitSignedIn(email string) {
	tb.t.Helper()
	tb.waitNotice("success", "Signed in as "+email+".")
	tb.waitVisible("#signed-in")
}

// wantUser checks that the signed-in user shown is email, named name.
func (tb tab) wantUser(email, name string) {
	tb.t.Helper()
	user := value(tb, "read the user", chromedp.Text(chromedp.CSS("#user")))
	if !strings.Contains(user, email) || !strings.Contains(user, name) {
		tb.fail("read the user", fmt.Errorf("got %q, want %s and %s", user, name, email))
	}
}

// wantText waits until the element sel shows text.
func (tb tab) wantText(sel, text string) {
	tb.t.Helper()
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%s); return el !== null && el.textContent === %s; })()`,
		jsString(sel), jsString(text))
	value(tb, fmt.Sprintf("wait for %s to show %q", sel, text), chromedp.Poll[bool](js, chromedp.WithPollingTimeout(stepTimeout)))
}

// logOut logs out on the page.
func (tb tab) logOut() {
	tb.t.Helper()
	tb.do("log out", chromedp.Click(chromedp.CSS("#logout")))
	tb.waitNotice("success", "Logged out")
	tb.waitVisible("#signed-out")
}

// readCode opens the dev inbox once the n-th mail of that kind to email was
// sent, and returns the code in the newest one.
func (tb tab) readCode(mails *output, base, kind, email string, n int) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if _, err := mails.await(ctx, mailTo(kind, email), n); err != nil {
		tb.fail(fmt.Sprintf("wait for %s mail %d to %s", kind, n, email), err)
	}
	tb.do("open the dev inbox", chromedp.Navigate(base+"/dev/inbox"))
	js := fmt.Sprintf(`[...document.querySelectorAll('#mails .mail')]
		.find((m) => m.querySelector('.kind').textContent === %s && m.querySelector('.meta b').textContent === %s)
		?.querySelector('.mail-text').textContent ?? ''`, jsString(kind), jsString(email))
	text := value(tb, "read the newest "+kind+" mail", chromedp.Evaluate[string](js))
	code := regexp.MustCompile(`\b[0-9]{6}\b`).FindString(text)
	if code == "" {
		tb.fail("read the code", fmt.Errorf("no 6-digit code in the newest %s mail to %s: %q", kind, email, text))
	}
	return code
}

// wantAccount opens /account and checks its status and, for a 200, that it
// shows email.
func (tb tab) wantAccount(base string, status int64, email string) {
	tb.t.Helper()
	step := fmt.Sprintf("open /account, want %d", status)
	resp := value(tb, step, chromedp.NavigateResponse(base+"/account"))
	if resp.Status != status {
		tb.fail(step, fmt.Errorf("got %d %s", resp.Status, resp.StatusText))
	}
	tb.shot(step)
	if status != http.StatusOK {
		return
	}
	if got := value(tb, "read /account", chromedp.Text(chromedp.CSS("#account"))); !strings.Contains(got, email) {
		tb.fail("read /account", fmt.Errorf("got %q, want %s", got, email))
	}
}

// fail saves a screenshot of the tab in a new directory that outlives the
// test, logs its path and stops the test.
func (tb tab) fail(step string, err error) {
	tb.t.Helper()
	where := "no screenshot"
	if dir, mkErr := os.MkdirTemp("", "ihoprauth-browser-"); mkErr == nil {
		where = tb.save(dir, "failure-"+tb.name)
	}
	tb.t.Fatalf("%s (tab %s): %v\nscreenshot: %s", step, tb.name, err, where)
}

// shot saves a screenshot of the step when -browser-shots is given.
var shotCount struct {
	sync.Mutex
	n int
}

func (tb tab) shot(step string) {
	if *browserShots == "" {
		return
	}
	shotCount.Lock()
	shotCount.n++
	name := fmt.Sprintf("%02d-%s-%s", shotCount.n, tb.name, step)
	shotCount.Unlock()
	tb.t.Logf("screenshot: %s", tb.save(*browserShots, name))
}

// save writes a full-page PNG of the tab to dir and returns its path, or
// why it could not.
func (tb tab) save(dir, name string) string {
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "none: " + err.Error()
	}
	path := filepath.Join(dir, regexp.MustCompile(`[^a-zA-Z0-9-]+`).ReplaceAllString(name, "-")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "none: " + err.Error()
	}
	return path
}

// watchConsole collects the uncaught exceptions of the tab's page and the
// Content-Security-Policy violations; the result returns them so far.
func watchConsole(tb tab) func() []error {
	var mu sync.Mutex
	var errs []error
	messages := chromedp.Console(tb.ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s:%d: %s", m.URL, m.Line+1, m.Text))
				mu.Unlock()
			}
		}
	}()
	return func() []error {
		mu.Lock()
		defer mu.Unlock()
		return errs
	}
}

// mailTo matches the start of a mail of that kind to the address to, as
// the example's dev mailer writes it to stderr.
func mailTo(kind, to string) *regexp.Regexp {
	return regexp.MustCompile(regexp.QuoteMeta("--- mail (" + kind + ")\nTo: " + to + "\n"))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
