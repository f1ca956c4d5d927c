package ihoprauth

import (
	_ "embed"
	"encoding/json"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 description of every endpoint, request
// body, answer and error of the API, written for the default BasePath. The
// end-to-end tests validate every request and response they make against
// it, so it cannot drift from the code.
//
//go:embed openapi.json
var openAPIDocument []byte

// documentedBasePath is the server URL written in openAPIDocument.
const documentedBasePath = "/api/v1"

// handleOpenAPI answers GET BasePath/openapi.json with the document, its
// server URL set to the BasePath the Auth is mounted at, so that clients
// generated from it call the right paths.
func (a *Auth) handleOpenAPI(_ *http.Request, _ *input) (any, error) {
	if a.cfg.BasePath == documentedBasePath {
		return json.RawMessage(openAPIDocument), nil
	}
	return openAPIFor(a.cfg.BasePath)
}

// openAPIFor returns the document with its server URL set to basePath.
func openAPIFor(basePath string) (json.RawMessage, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		return nil, err
	}
	servers, err := json.Marshal([]map[string]string{{
		"url":         basePath,
		"description": "The base path the API is mounted at (Config.BasePath).",
	}})
	if err != nil {
		return nil, err
	}
	doc["servers"] = servers
	return json.Marshal(doc)
}
