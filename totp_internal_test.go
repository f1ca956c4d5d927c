package ihoprauth

import (
	"testing"
	"time"

	"github.com/pquerna/otp/hotp"
)

// TestTOTPStepWindow checks the window and the single use of totpStep: the
// code of the step before, the current and the next one pass, two steps
// away do not, and neither does a step at or before the last one used.
func TestTOTPStepWindow(t *testing.T) {
	secret := []byte("12345678901234567890") // RFC 6238 appendix B
	now := time.Date(2026, 3, 17, 11, 43, 58, 0, time.UTC)
	current := now.Unix() / totpPeriod
	codeOf := func(step int64) string {
		code, err := hotp.GenerateCodeCustom(base32NoPad.EncodeToString(secret), uint64(step), totpOpts)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	tests := []struct {
		name   string
		step   int64 // the step whose code is sent
		after  int64 // the last step used
		wantOK bool
	}{
		{"current", current, 0, true},
		{"previous", current - 1, 0, true},
		{"next", current + 1, 0, true},
		{"two before", current - 2, 0, false},
		{"two after", current + 2, 0, false},
		{"the last one used", current, current, false},
		{"before the last one used", current - 1, current, false},
		{"after the last one used", current + 1, current, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := totpStep(secret, codeOf(tt.step), now, tt.after)
			if ok != tt.wantOK || (ok && step != tt.step) {
				t.Errorf("got step %d, %v, want %d, %v", step, ok, tt.step, tt.wantOK)
			}
		})
	}
	// RFC 6238 appendix B, SHA-1, T = 59 s: 94287082, of which apps show
	// the last six digits.
	if step, ok := totpStep(secret, "287082", time.Unix(59, 0), 0); !ok || step != 1 {
		t.Errorf("RFC 6238 test vector: got step %d, %v, want 1, true", step, ok)
	}
}

// BenchmarkTOTPVerify is the cost of checking one TOTP code: three HMAC-SHA1
// codes (the window) and their comparisons, with no database.
func BenchmarkTOTPVerify(b *testing.B) {
	secret := []byte("12345678901234567890")
	now := time.Date(2026, 3, 17, 11, 43, 58, 0, time.UTC)
	for b.Loop() {
		totpStep(secret, "000000", now, 0)
	}
}
