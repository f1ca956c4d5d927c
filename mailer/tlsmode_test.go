package mailer_test

import (
	"testing"

	"github.com/ihoprauth/ihoprauth/mailer"
)

func TestParseTLSMode(t *testing.T) {
	tests := []struct {
		in      string
		want    mailer.TLSMode
		wantErr bool
	}{
		{in: "", want: mailer.TLSStartTLS},
		{in: "starttls", want: mailer.TLSStartTLS},
		{in: "STARTTLS", want: mailer.TLSStartTLS},
		{in: "tls", want: mailer.TLSImplicit},
		{in: "opportunistic", want: mailer.TLSOpportunistic},
		{in: "none", want: mailer.TLSNone},
		{in: "ssl", wantErr: true},
		{in: " tls", wantErr: true},
		{in: "yes", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := mailer.ParseTLSMode(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseTLSMode(%q): got error %v, want error: %v", tt.in, err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("ParseTLSMode(%q): got %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	for _, mode := range []mailer.TLSMode{mailer.TLSStartTLS, mailer.TLSImplicit, mailer.TLSOpportunistic, mailer.TLSNone} {
		if got, err := mailer.ParseTLSMode(mode.String()); got != mode || err != nil {
			t.Errorf("ParseTLSMode(%q): got %v, %v, want %v, nil", mode.String(), got, err, mode)
		}
	}
}
