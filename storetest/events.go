package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

func testEvents(t *testing.T, newStore newStoreFunc) {
	t.Run("RecordEvent round trip", testRecordEvent(newStore))
	t.Run("Events order, since and limit", testEventsQuery(newStore))
}

func testRecordEvent(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		tests := []struct {
			name  string
			event func(f *fixture) ihoprauth.Event
		}{
			{"all fields", func(f *fixture) ihoprauth.Event {
				return ihoprauth.Event{Kind: ihoprauth.EventLoginFailed, ProjectID: f.project.ID,
					UserID: f.user.UserID, IP: "2001:db8::1", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)",
					Result: "wrong password", At: t0}
			}},
			{"no project or account", func(*fixture) ihoprauth.Event {
				return ihoprauth.Event{Kind: ihoprauth.EventThrottled, IP: "203.0.113.7",
					Result: "address over the failure cap", Count: 37, At: t0.Add(time.Second)}
			}},
			{"long user agent", func(f *fixture) ihoprauth.Event {
				return ihoprauth.Event{Kind: ihoprauth.EventLogin, ProjectID: f.project.ID,
					UserID: f.user.UserID, IP: "192.0.2.1", UserAgent: strings.Repeat("agent ", 500),
					Result: "ok", At: t0.Add(time.Minute)}
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, newStore)
				first := f.recordEvent(t, ihoprauth.Event{Kind: ihoprauth.EventSignup, At: t0.Add(-time.Hour)})
				e := tt.event(f)
				want := e
				if err := f.store.RecordEvent(f.ctx, &e); err != nil {
					t.Fatalf("RecordEvent: got error %v, want nil", err)
				}
				if e.ID == 0 || e.ID == first.ID {
					t.Fatalf("ID: got %d, want a new non-zero ID (other event %d)", e.ID, first.ID)
				}
				want.ID, want.Count = e.ID, max(want.Count, 1) // a Count below 1 is stored as 1
				checkEvents(t, f, want.At, 10, []ihoprauth.Event{want})
			})
		}
	}
}

func testEventsQuery(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		// events[i] happened i seconds after t0; they are recorded out of
		// time order.
		events := make([]ihoprauth.Event, 5)
		for _, i := range []int{2, 0, 4, 1, 3} {
			events[i] = f.recordEvent(t, ihoprauth.Event{Kind: fmt.Sprint("event ", i), ProjectID: f.project.ID,
				IP: "192.0.2.1", Result: "ok", At: t0.Add(time.Duration(i) * time.Second)})
		}
		elsewhere := time.FixedZone("UTC-5", -5*60*60)
		tests := []struct {
			name  string
			since time.Time
			limit int
			want  []int
		}{
			{"all, newest first", t0, 10, []int{4, 3, 2, 1, 0}},
			{"since is inclusive", t0.Add(2 * time.Second), 10, []int{4, 3, 2}},
			{"since a microsecond later", t0.Add(2*time.Second + time.Microsecond), 10, []int{4, 3}},
			{"since in another zone", t0.Add(2 * time.Second).In(elsewhere), 10, []int{4, 3, 2}},
			{"since after all", t0.Add(5 * time.Second), 10, nil},
			{"limit keeps the newest", t0, 2, []int{4, 3}},
			{"limit equal to the matches", t0.Add(2 * time.Second), 3, []int{4, 3, 2}},
			{"limit one", t0.Add(-time.Hour), 1, []int{4}},
			{"limit zero", t0, 0, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var want []ihoprauth.Event
				for _, i := range tt.want {
					want = append(want, events[i])
				}
				checkEvents(t, f, tt.since, tt.limit, want)
			})
		}
	}
}

func (f *fixture) recordEvent(t *testing.T, e ihoprauth.Event) ihoprauth.Event {
	t.Helper()
	if err := f.store.RecordEvent(f.ctx, &e); err != nil {
		t.Fatalf("RecordEvent: %v", err)
	}
	return e
}

// checkEvents checks that Events(since, limit) returns want, in order.
func checkEvents(t *testing.T, f *fixture, since time.Time, limit int, want []ihoprauth.Event) {
	t.Helper()
	got, err := f.store.Events(f.ctx, since, limit)
	if err != nil {
		t.Fatalf("Events: got error %v, want nil", err)
	}
	if len(got) != len(want) {
		t.Fatalf("Events: got %d events %v, want %d %v", len(got), kinds(got), len(want), kinds(want))
	}
	for i := range got {
		t.Run(fmt.Sprint("event ", i+1), func(t *testing.T) { checkEqual(t, got[i], want[i]) })
	}
}

// kinds lists the Kind of each event.
func kinds(events []ihoprauth.Event) []string {
	var k []string
	for _, e := range events {
		k = append(k, e.Kind)
	}
	return k
}
