package ihoprauth

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"testing"
)

// FuzzDecodeInput feeds any body under any content type to the request
// decoder and every field accessor: none may panic, and every refusal is a
// client error (400, 413, 415 or 422), never a 5xx.
func FuzzDecodeInput(f *testing.F) {
	for _, seed := range []struct{ ctype, body string }{
		{"application/json", `{"email":"a@b.c","password":"x","otp_code":12345,"mobile_number":5550100,"meta":{"a":[1,2]}}`},
		{"application/json", `{"otp_code":"012345","meta":"text","all":true}`},
		{"application/json", `{"email":"a@b.c","email":"d@e.f"}`},
		{"application/json; charset=utf-8", `{"r\u006fle":"admin","ROLE":"x"}`},
		{"application/x-www-form-urlencoded", "email=a%40b.c&otp_code=000001&all=1"},
		{"application/x-www-form-urlencoded", `{"looks":"like json"}`},
		{"text/plain", "hello"},
		{"", ""},
	} {
		f.Add(seed.ctype, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		r := httptest.NewRequest("POST", "/api/v1/login", bytes.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		in, err := decodeInput(r, 4<<10)
		if err != nil {
			checkClientError(t, err)
			return
		}
		readEmail(in, "email")
		in.str("first_name", true, maxName)
		in.secret("password", false)
		in.code("otp_code")
		in.mobile("mobile_number", false)
		in.meta("meta")
		in.flag("all")
		if err := in.err(); err != nil {
			checkClientError(t, err)
		}
	})
}

func checkClientError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 {
		t.Fatalf("got %v, want a 4xx *Error", err)
	}
}
