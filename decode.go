package ihoprauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// input is a decoded request body: each top-level field as the client sent
// it, JSON or form, with the field errors found so far.
//
// Decoding is strict on purpose (ASVS 15.3): duplicate keys, trailing data
// and invalid UTF-8 are refused instead of resolved silently, and keys match
// field names exactly, never case-insensitively as encoding/json would.
type input struct {
	json map[string]json.RawMessage
	form map[string]string
	errs map[string][]string
}

// decodeInput reads r's body, at most limit bytes, as JSON or as a form. An
// empty body is an empty input whatever its Content-Type.
func decodeInput(r *http.Request, limit int64) (*input, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return &input{}, nil // a GET, say: nothing to read
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errTooLarge
		}
		return nil, badRequest("The request body could not be read.")
	}
	in := &input{}
	if len(bytes.TrimSpace(body)) == 0 {
		return in, nil
	}
	if !utf8.Valid(body) {
		return nil, badRequest("The request body is not valid UTF-8.")
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err != nil:
		return nil, errMediaType
	case mt == "application/json" || (len(mt) > 5 && mt[len(mt)-5:] == "+json"):
		in.json, err = decodeJSONObject(body)
	case mt == "application/x-www-form-urlencoded" && body[0] == '{':
		return nil, badRequest("The body looks like JSON but was sent as a form: send Content-Type: application/json.")
	case mt == "application/x-www-form-urlencoded":
		in.form, err = decodeForm(body)
	default:
		return nil, errMediaType
	}
	if err != nil {
		return nil, err
	}
	return in, nil
}

func decodeJSONObject(body []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil {
		return nil, notJSON(dec, body)
	} else if tok != json.Delim('{') {
		return nil, badRequest("The request body must be a JSON object.")
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, notJSON(dec, body)
		}
		key := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, notJSON(dec, body)
		}
		if _, dup := fields[key]; dup {
			return nil, badRequest("The field " + quoteField(key) + " appears more than once.")
		}
		fields[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, notJSON(dec, body)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("The request body has data after the JSON object.")
	}
	return fields, nil
}

// notJSON says where the JSON went wrong, with a hint for the commonest
// slip: a code with a leading zero sent as a number.
func notJSON(dec *json.Decoder, body []byte) error {
	msg := "The request body is not valid JSON (near byte " + strconv.FormatInt(dec.InputOffset(), 10) + ")."
	if leadingZero.Match(body) {
		msg += ` A number cannot start with 0: send such a code as a string, like "012345".`
	}
	return badRequest(msg)
}

var leadingZero = regexp.MustCompile(`:\s*0[0-9]`)

func decodeForm(body []byte) (map[string]string, error) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, badRequest("The form body could not be parsed.")
	}
	form := make(map[string]string, len(vals))
	for k, v := range vals {
		if len(v) > 1 {
			return nil, badRequest("The field " + quoteField(k) + " appears more than once.")
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v[0]) {
			return nil, badRequest("The form body is not valid UTF-8.")
		}
		form[k] = v[0]
	}
	return form, nil
}

// quoteField names a client-sent key in a message, cut short and stripped of
// anything that is not printable.
func quoteField(k string) string {
	if utf8.RuneCountInString(k) > 40 {
		k = string([]rune(k)[:40]) + "…"
	}
	if hasControl(k) {
		return "(unprintable)"
	}
	return `"` + k + `"`
}

func (in *input) fail(field, msg string) {
	if in.errs == nil {
		in.errs = map[string][]string{}
	}
	if len(in.errs[field]) == 0 {
		in.errs[field] = append(in.errs[field], msg)
	}
}

// err returns the 422 for the failures found, or nil.
func (in *input) err() error {
	if len(in.errs) == 0 {
		return nil
	}
	return invalid(in.errs)
}

// value returns the field's text and whether it was sent. A JSON null counts
// as not sent. A JSON value of another type than string is a failure unless
// number is set and the value is a JSON number, whose literal text is used.
func (in *input) value(name string, number bool) (string, bool) {
	if in.form != nil {
		v, ok := in.form[name]
		return v, ok
	}
	raw, ok := in.json[name]
	if !ok || string(raw) == "null" {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			in.fail(name, "The "+name+" must be a string.")
			return "", false
		}
		return s, true
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if number {
			return string(raw), true
		}
	}
	if number {
		in.fail(name, "The "+name+" must be a string or a number.")
	} else {
		in.fail(name, "The "+name+" must be a string.")
	}
	return "", false
}

// has reports whether the field was sent with a value other than null.
func (in *input) has(name string) bool {
	if in.form != nil {
		_, ok := in.form[name]
		return ok
	}
	raw, ok := in.json[name]
	return ok && string(raw) != "null"
}

// str returns a string field, failing it when it is required and missing or
// empty, longer than max code points, or holds control characters.
func (in *input) str(name string, required bool, max int) string {
	s, ok := in.value(name, false)
	return in.check(name, s, ok, required, max)
}

func (in *input) check(name, s string, ok, required bool, max int) string {
	if _, failed := in.errs[name]; failed {
		return ""
	}
	switch {
	case !ok || s == "":
		if required {
			in.fail(name, "The "+name+" field is required.")
		}
		return ""
	case utf8.RuneCountInString(s) > max:
		in.fail(name, "The "+name+" may not be greater than "+strconv.Itoa(max)+" characters.")
		return ""
	case hasControl(s):
		in.fail(name, "The "+name+" must not contain control characters.")
		return ""
	}
	return s
}

// secret returns a password-like field exactly as sent: no trimming, control
// characters allowed, only a byte cap against abuse.
func (in *input) secret(name string, required bool) string {
	s, ok := in.value(name, false)
	if _, failed := in.errs[name]; failed {
		return ""
	}
	if !ok || s == "" {
		if required {
			in.fail(name, "The "+name+" field is required.")
		}
		return ""
	}
	if len(s) > maxPasswordBytes*2 {
		in.fail(name, "The "+name+" is too long.")
		return ""
	}
	return s
}

// code returns an emailed code as its 6-digit text. Clients send it as a
// JSON number (a leading zero is lost, so numbers are zero-padded) or as a
// string of exactly six digits.
func (in *input) code(name string) string {
	s, ok := in.value(name, true)
	if _, failed := in.errs[name]; failed {
		return ""
	}
	if !ok || s == "" {
		in.fail(name, "The "+name+" field is required.")
		return ""
	}
	isNumber := in.form == nil && in.json[name][0] != '"'
	if isNumber && allDigits(s) && len(s) < 6 {
		s = "000000"[len(s):] + s
	}
	if len(s) != 6 || !allDigits(s) {
		in.fail(name, "The "+name+" must be a 6-digit code.")
		return ""
	}
	return s
}

// mobile returns the mobile number as text: a JSON integer or any string.
func (in *input) mobile(name string, required bool) string {
	s, ok := in.value(name, true)
	if ok && in.form == nil && in.json[name][0] != '"' && !allDigits(s) {
		in.fail(name, "The "+name+" must be a string or a number made of digits only.")
		return ""
	}
	return in.check(name, s, ok, required, maxMobile)
}

// meta returns the meta field as stored text: a string as it is, a JSON
// object as its compact JSON text. set reports whether it was sent at all;
// a JSON null is sent and clears it.
func (in *input) meta(name string) (val *string, set bool) {
	if in.form != nil {
		v, ok := in.form[name]
		if !ok {
			return nil, false
		}
		return in.metaText(name, v), true
	}
	raw, ok := in.json[name]
	if !ok {
		return nil, false
	}
	switch raw[0] {
	case 'n':
		return nil, true
	case '"':
		var s string
		_ = json.Unmarshal(raw, &s)
		return in.metaText(name, s), true
	case '{':
		var b bytes.Buffer
		_ = json.Compact(&b, raw)
		return in.metaText(name, b.String()), true
	}
	in.fail(name, "The "+name+" must be a string or a JSON object.")
	return nil, false
}

func (in *input) metaText(name, s string) *string {
	switch {
	case len(s) > maxMeta:
		in.fail(name, "The "+name+" may not be greater than "+strconv.Itoa(maxMeta)+" bytes.")
		return nil
	case strings.ContainsRune(s, 0):
		// PostgreSQL cannot store NUL in text, and no client needs it.
		in.fail(name, "The "+name+" must not contain NUL characters.")
		return nil
	}
	return &s
}

// flag returns a boolean field: JSON true/false, or in a form "1", "true",
// "0" or "false".
func (in *input) flag(name string) bool {
	if in.form != nil {
		switch in.form[name] {
		case "1", "true":
			return true
		case "", "0", "false":
			return false
		}
	} else {
		switch string(in.json[name]) {
		case "true":
			return true
		case "", "false", "null":
			return false
		}
	}
	in.fail(name, "The "+name+" must be true or false.")
	return false
}

// Length limits of fields, in code points unless said otherwise.
const (
	maxName     = 255
	maxEmail    = 254
	maxMobile   = 32
	maxRole     = 64
	maxOpaque   = 256
	maxClientID = 191
	maxMeta     = 16 << 10 // bytes
)

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			return true
		}
	}
	return false
}
