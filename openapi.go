package ihoprauth

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 description of every endpoint, request
// body, answer and error of the API, written for the default Config. The
// end-to-end tests validate every request and response they make against
// it, so it cannot drift from the code.
//
//go:embed openapi.json
var openAPIDocument []byte

// What openAPIDocument says of the settings it depends on: the server URL
// (Config.BasePath), the least length of a new password
// (Config.MinPasswordLength) and the name of the session cookie (the
// default of NewSessionManager).
const (
	documentedBasePath    = "/api/v1"
	documentedMinPassword = 8
	documentedCookie      = "__Host-ihoprauth"
)

// handleOpenAPI answers GET BasePath/openapi.json with the document, set to
// this Auth's settings where the document depends on them, so that clients
// generated from it call the right paths and check what this server checks.
func (a *Auth) handleOpenAPI(_ *http.Request, _ *input) (any, error) {
	cookie := documentedCookie
	if a.cfg.Sessions != nil {
		cookie = a.cfg.Sessions.Cookie.Name
	}
	if a.cfg.BasePath == documentedBasePath && a.cfg.MinPasswordLength == documentedMinPassword && cookie == documentedCookie {
		return json.RawMessage(openAPIDocument), nil
	}
	return openAPIFor(a.cfg.BasePath, a.cfg.MinPasswordLength, cookie)
}

// openAPIFor returns the document with its server URL set to basePath, the
// minLength of a new password to minPassword and logout's cookie parameter
// named cookie.
func openAPIFor(basePath string, minPassword int, cookie string) (json.RawMessage, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(openAPIDocument))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	doc["servers"].([]any)[0].(map[string]any)["url"] = basePath
	object(doc, "components", "schemas", "NewPassword")["minLength"] = minPassword
	logout := object(doc, "paths", "/logout", "post")
	for _, p := range logout["parameters"].([]any) {
		if p := p.(map[string]any); p["in"] == "cookie" {
			p["name"] = cookie
		}
	}
	return json.Marshal(doc)
}

// object returns the JSON object at path in doc, which must be there.
func object(doc map[string]any, path ...string) map[string]any {
	for _, key := range path {
		doc = doc[key].(map[string]any)
	}
	return doc
}
