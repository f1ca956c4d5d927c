package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/ihoprauth/ihoprauth"
)

// projectSpecs returns the projects to serve and whether their secrets were
// made up here (and so must be printed).
func projectSpecs(flags []string) ([]ihoprauth.ProjectSpec, bool, error) {
	if len(flags) == 0 {
		return demoProjects(), true, nil
	}
	var specs []ihoprauth.ProjectSpec
	for _, f := range flags {
		spec, err := parseProject(f)
		if err != nil {
			return nil, false, err
		}
		specs = append(specs, spec)
	}
	return specs, false, nil
}

// warnUnverifiedAdmins says what -admin means in a none project: signup
// there proves no ownership of the email, so whoever signs up first with an
// -admin address becomes admin.
func warnUnverifiedAdmins(specs []ihoprauth.ProjectSpec, admins []string) {
	if len(admins) == 0 {
		return
	}
	for _, s := range specs {
		if s.Type == ihoprauth.TypeNone {
			fmt.Fprintf(os.Stderr, "warning: project %s is of type none, which never verifies an email: "+
				"whoever signs up there first as an -admin address gets role admin.\n", s.ClientID)
		}
	}
}

// setUp saves the projects and gives existing -admin users their role.
func setUp(ctx context.Context, auth *ihoprauth.Auth, specs []ihoprauth.ProjectSpec, admins []string) error {
	for _, spec := range specs {
		if _, err := auth.SaveProject(ctx, spec); err != nil {
			return err
		}
		for _, email := range admins {
			u, err := auth.UserByEmail(ctx, spec.ClientID, email)
			if errors.Is(err, ihoprauth.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if _, err := auth.SetRole(ctx, u.UserID, "admin"); err != nil {
				return err
			}
		}
	}
	return nil
}

func randomSecret() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}
