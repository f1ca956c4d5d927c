package ihoprauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// TestDisableUser checks that a disabled user's tokens fail at once, on
// this instance and, through the change feed, on another that had them
// cached; that their right password is answered like a wrong one and
// their reset asks mail nothing; and that EnableUser lets them log in
// again without reviving the old tokens.
func TestDisableUser(t *testing.T) {
	ctx := context.Background()
	_, st := openStore(t)
	e, other := buildEnv(t, st, nil), buildEnv(t, st, nil)
	r := e.post("/api/v1/signup", signupBody(e.none, "dis@example.com"))
	want(t, r, 200)
	tokens := e.exchange(e.none, r.str("code"), "")
	access := tokens.str("access_token")
	for _, inst := range []*env{e, other} {
		want(t, inst.do("GET", "/api/v1/user", access, nil), 200) // now cached on both
	}
	u, err := e.auth.DisableUser(ctx, mustUser(t, e, "dis@example.com").UserID)
	if err != nil || !u.Disabled() {
		t.Fatalf("DisableUser: got %v and error %v, want a disabled user", u.DisabledAt, err)
	}
	other.poll()
	for name, inst := range map[string]*env{"this instance": e, "another instance": other} {
		if r := inst.do("GET", "/api/v1/user", access, nil); r.status != 401 {
			t.Errorf("%s: bearer of a disabled user: got %s, want 401", name, r)
		}
	}
	want(t, e.post("/api/v1/refresh-token", with(e.none, "refresh_token", tokens.str("refresh_token"))), 401)
	right := e.post("/api/v1/login", with(e.none, "email", "dis@example.com", "password", goodPassword))
	wrong := e.post("/api/v1/login", with(e.none, "email", "dis@example.com", "password", goodPassword+"x"))
	if right.status != 401 || right.raw != wrong.raw {
		t.Errorf("login of a disabled user: got %s, want the answer to a wrong password, %s", right, wrong)
	}
	want(t, e.post("/api/v1/send-reset-password-code", with(e.none, "email", "dis@example.com")), 200)

	if _, err := e.auth.EnableUser(ctx, u.UserID); err != nil {
		t.Fatalf("EnableUser: %v", err)
	}
	want(t, e.post("/api/v1/login", with(e.none, "email", "dis@example.com", "password", goodPassword)), 200)
	want(t, e.do("GET", "/api/v1/user", access, nil), 401)
	checkKinds(t, e, u.UserID, ihoprauth.EventLogin, ihoprauth.EventUserEnabled,
		ihoprauth.EventLoginFailed, ihoprauth.EventLoginFailed, ihoprauth.EventUserDisabled)
	if n := e.mailsTo("dis@example.com"); n != 0 {
		t.Errorf("got %d mails to a disabled user, want none", n)
	}
}

// TestDisabledOTPUserGetsADecoy checks that an otp login of a disabled
// user answers like an unknown email's: a token, and no mail.
func TestDisabledOTPUserGetsADecoy(t *testing.T) {
	e := newEnv(t)
	want(t, e.post("/api/v1/signup", signupBody(e.otp, "dis-otp@example.com")), 200)
	e.mailedCode("dis-otp@example.com")
	e.clock.Advance(time.Hour)
	if _, err := e.auth.DisableUser(context.Background(), mustUser(t, e, "dis-otp@example.com").UserID); err != nil {
		t.Fatal(err)
	}
	r := e.post("/api/v1/login", with(e.otp, "email", "dis-otp@example.com"))
	if r.status != 200 || r.str("otp_token") == "" {
		t.Errorf("otp login of a disabled user: got %s, want an otp_token", r)
	}
	if n := e.mailsTo("dis-otp@example.com"); n != 1 {
		t.Errorf("got %d mails, want only the signup's", n)
	}
}

func TestEndLogins(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	access := e.signupNone("end@example.com")
	want(t, e.do("GET", "/api/v1/user", access, nil), 200)
	u := mustUser(t, e, "end@example.com")
	if err := e.auth.EndLogins(ctx, u.UserID); err != nil {
		t.Fatalf("EndLogins: %v", err)
	}
	want(t, e.do("GET", "/api/v1/user", access, nil), 401)
	want(t, e.post("/api/v1/login", with(e.none, "email", "end@example.com", "password", goodPassword)), 200)
	checkKinds(t, e, u.UserID, ihoprauth.EventLogin, ihoprauth.EventLoginsEnded)
	if err := e.auth.EndLogins(ctx, "unknown"); !errors.Is(err, ihoprauth.ErrNotFound) {
		t.Errorf("EndLogins of an unknown user: got error %v, want ErrNotFound", err)
	}
}

func TestListUsers(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for _, email := range []string{"amy@example.com", "Anna@example.com", "bert@example.com", "alf@example.org", "cleo@example.com"} {
		e.signupNone(email)
		e.clock.Advance(time.Minute)
	}
	if _, err := e.auth.SetRole(ctx, mustUser(t, e, "bert@example.com").UserID, "admin"); err != nil {
		t.Fatal(err)
	}
	start := e.clock.Now().Add(-5 * time.Minute)
	tests := []struct {
		name   string
		filter ihoprauth.UserFilter
		want   []string
	}{
		{"all", ihoprauth.UserFilter{}, []string{"amy", "Anna", "bert", "alf", "cleo"}},
		{"prefix, canonical", ihoprauth.UserFilter{EmailPrefix: " A"}, []string{"amy", "Anna", "alf"}},
		{"role", ihoprauth.UserFilter{Role: "admin"}, []string{"bert"}},
		{"created range", ihoprauth.UserFilter{CreatedFrom: start.Add(time.Minute), CreatedBefore: start.Add(3 * time.Minute)},
			[]string{"Anna", "bert"}},
		{"two a page", ihoprauth.UserFilter{Limit: 2}, []string{"amy", "Anna", "bert", "alf", "cleo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			f := tt.filter
			for pages := 0; ; pages++ {
				page, err := e.auth.ListUsers(ctx, "web-none", f)
				if err != nil {
					t.Fatalf("ListUsers: %v", err)
				}
				if f.Limit > 0 && len(page.Users) > f.Limit {
					t.Fatalf("got a page of %d users, want at most %d", len(page.Users), f.Limit)
				}
				for _, u := range page.Users {
					if u.PasswordHash != "" {
						t.Errorf("%s: got a password hash, want none", u.Email)
					}
					got = append(got, strings.Split(u.Email, "@")[0])
				}
				if page.Next == "" || pages > 5 {
					break
				}
				f.Cursor = page.Next
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := e.auth.ListUsers(ctx, "web-none", ihoprauth.UserFilter{Cursor: "-!"}); !errors.Is(err, ihoprauth.ErrBadCursor) {
		t.Errorf("a made-up cursor: got error %v, want ErrBadCursor", err)
	}
	if _, err := e.auth.ListUsers(ctx, "nope", ihoprauth.UserFilter{}); !errors.Is(err, ihoprauth.ErrNotFound) {
		t.Errorf("an unknown project: got error %v, want ErrNotFound", err)
	}
}

// TestDeleteUserLeavesNoPersonalData deletes a user who has signed up,
// logged in from a public address, failed a login, asked for a reset code,
// started a cookie session and has an identity at another provider linked,
// then reads every table: nothing of theirs may remain but pseudonymous
// audit events (and throttle counters, whose keys are hashes). A user who stays is read the same way, so that the
// search is known to find what is there.
func TestDeleteUserLeavesNoPersonalData(t *testing.T) {
	ctx := context.Background()
	db, st := openStore(t)
	e := buildEnv(t, st, nil, withSessions(st), func(c *ihoprauth.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	e.db = db
	s := browse(e)
	as := func(ip, agent string) { e.header = http.Header{"X-Forwarded-For": {ip}, "User-Agent": {agent}} }

	as("203.0.113.77", "Kept-Agent/1.0")
	e.signupNone("kept.person@example.com")
	as("198.51.100.23", "Erased-Agent/2.0")
	r := e.post("/api/v1/signup", signupBody(e.none, "Erased.Person@example.com", "first_name", "Erasmina",
		"last_name", "Vanishing", "mobile_number", 4915199887766, "meta", `{"note":"meta-of-erased"}`))
	want(t, r, 200)
	tokens := e.exchange(e.none, r.str("code"), "")
	want(t, e.post("/api/v1/login", with(e.none, "email", "erased.person@example.com", "password", "wrong password 1")), 401)
	want(t, e.post("/api/v1/login", with(e.none, "email", "erased.person@example.com", "password", goodPassword)), 200)
	want(t, e.post("/api/v1/send-reset-password-code", with(e.none, "email", "erased.person@example.com")), 200)
	s.startSession(tokens.str("access_token"))
	if status, _ := s.visit("GET", "/hello", "", nil); status != 200 {
		t.Fatalf("the session before DeleteUser: got %d, want 200", status)
	}
	u := mustUser(t, e, "erased.person@example.com")
	project, err := st.ProjectByClientID(ctx, "web-none")
	if err != nil {
		t.Fatal(err)
	}
	// An identity at another provider, as a sign-in with it links
	// (oauth_test.go runs those against a real provider).
	link := ihoprauth.Identity{ProjectID: project.ID, UserID: u.ID, Provider: "local", Subject: "subject-of-erased",
		Email: "erased-at-provider@example.net", CreatedAt: time.Now()}
	if err := st.CreateIdentity(ctx, &link); err != nil {
		t.Fatal(err)
	}

	if err := e.auth.DeleteUser(ctx, u.UserID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	personal := []string{"erased.person", "Erasmina", "Vanishing", "4915199887766", "meta-of-erased", u.PasswordHash,
		u.UserID, "198.51.100.23", "Erased-Agent", sha256Hex("account:" + fmt.Sprint(project.ID) + ":" + u.EmailKey),
		sha256Hex(tokens.str("access_token")), sha256Hex(tokens.str("refresh_token")),
		"subject-of-erased", "erased-at-provider"}
	for _, found := range searchTables(t, e, personal) {
		t.Errorf("after DeleteUser: %s", found)
	}
	if found := searchTables(t, e, []string{"kept.person", "203.0.113.77", "Kept-Agent"}); len(found) < 3 {
		t.Fatalf("the search found %v of the user who stays, want all three: it cannot see the tables", found)
	}

	var sessions int64
	if err := db.Table("ihoprauth_sessions").Count(&sessions).Error; err != nil || sessions != 0 {
		t.Errorf("sessions after DeleteUser: got %d and error %v, want the user's one deleted", sessions, err)
	}
	want(t, e.do("GET", "/api/v1/user", tokens.str("access_token"), nil), 401)
	if status, _ := s.visit("GET", "/hello", "", nil); status != 401 {
		t.Errorf("the session after DeleteUser: got %d, want 401", status)
	}
	checkPseudonymised(t, e)
	if err := e.auth.DeleteUser(ctx, u.UserID); !errors.Is(err, ihoprauth.ErrNotFound) {
		t.Errorf("DeleteUser again: got error %v, want ErrNotFound", err)
	}
}

// checkPseudonymised checks that the last deletion's pseudonym names the
// deleted user's events, with no address or user agent.
func checkPseudonymised(t *testing.T, e *env) {
	t.Helper()
	events, err := e.auth.Events(context.Background(), time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var pseudonym string
	for _, ev := range events {
		if ev.Kind == ihoprauth.EventUserDeleted {
			pseudonym = ev.UserID
			break
		}
	}
	if !strings.HasPrefix(pseudonym, "deleted-") || len(pseudonym) != 32 {
		t.Fatalf("got pseudonym %q in the deletion event, want deleted- and 24 hex digits", pseudonym)
	}
	trail, err := e.auth.UserEvents(context.Background(), pseudonym, time.Time{}, 100)
	if err != nil || len(trail) < 5 {
		t.Fatalf("UserEvents of the pseudonym: got %d events and error %v, want the user's trail", len(trail), err)
	}
	for _, ev := range trail {
		if ev.Kind != ihoprauth.EventUserDeleted && (ev.IP != "" || ev.UserAgent != "") {
			t.Errorf("%s event: got IP %q and user agent %q, want none", ev.Kind, ev.IP, ev.UserAgent)
		}
	}
}

// searchTables reads every ihoprauth_* table of e's database and describes
// each column value that contains one of needles.
func searchTables(t *testing.T, e *env, needles []string) []string {
	t.Helper()
	tables, err := e.db.Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, table := range tables {
		if !strings.HasPrefix(table, "ihoprauth_") {
			continue
		}
		var rows []map[string]any
		if err := e.db.Table(table).Find(&rows).Error; err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		for _, row := range rows {
			for col, v := range row {
				text := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					text = string(b)
				}
				for _, n := range needles {
					if n != "" && strings.Contains(strings.ToLower(text), strings.ToLower(n)) {
						found = append(found, fmt.Sprintf("%s.%s holds %q", table, col, n))
					}
				}
			}
		}
	}
	return found
}

func TestDeleteProject(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	access := e.signupNone("p1@example.com")
	e.signupNone("p2@example.com")
	want(t, e.post("/api/v1/signup", signupBody(e.two, "p1@example.com")), 200)
	if err := e.auth.DeleteProject(ctx, "web-none"); err != nil {
		t.Fatalf("DeleteProject: %v", err)
	}
	want(t, e.do("GET", "/api/v1/user", access, nil), 401)
	want(t, e.post("/api/v1/login", with(e.none, "email", "p1@example.com", "password", goodPassword)), 401)
	if _, err := e.auth.UserByEmail(ctx, "web-two", "p1@example.com"); err != nil {
		t.Errorf("the user of another project: got error %v, want it kept", err)
	}
	if err := e.auth.DeleteProject(ctx, "web-none"); !errors.Is(err, ihoprauth.ErrNotFound) {
		t.Errorf("DeleteProject again: got error %v, want ErrNotFound", err)
	}
}

// mustUser returns the user of the none project with that email.
func mustUser(t *testing.T, e *env, email string) ihoprauth.User {
	t.Helper()
	u, err := e.auth.UserByEmail(context.Background(), "web-none", email)
	if errors.Is(err, ihoprauth.ErrNotFound) {
		u, err = e.auth.UserByEmail(context.Background(), "web-otp", email)
	}
	if err != nil {
		t.Fatalf("UserByEmail %s: %v", email, err)
	}
	return u
}

// checkKinds checks that the newest events of the user are of the kinds
// given, newest first.
func checkKinds(t *testing.T, e *env, userID string, kinds ...string) {
	t.Helper()
	events, err := e.auth.UserEvents(context.Background(), userID, time.Time{}, len(kinds))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range events {
		got = append(got, ev.Kind)
	}
	if fmt.Sprint(got) != fmt.Sprint(kinds) {
		t.Errorf("UserEvents: got kinds %q, want %q", got, kinds)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
