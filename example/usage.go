package main

import (
	"fmt"
	"strings"

	"github.com/ihoprauth/ihoprauth"
)

// printUsage tells a newcomer where to click and how to call the server.
// Secrets are printed only when they were generated here (the demo
// projects).
func printUsage(base string, specs []ihoprauth.ProjectSpec, demo bool, smtp string) {
	fmt.Printf("ihoprauth example listening on %s\n\nProjects:\n", base)
	public := 0
	for _, s := range specs {
		secret := "(as given with -project)"
		switch {
		case s.Public && s.ClientSecret == "":
			secret = "(none: public client, for the page)"
			public++
		case s.Public:
			public++
		case demo:
			secret = s.ClientSecret
		}
		fmt.Printf("  %-9s client_id=%-14s client_secret=%s\n", s.Type, s.ClientID, secret)
	}
	if smtp == "" {
		fmt.Printf("\nNo -smtp given: every mail, codes included, is printed to stderr and shown at\n"+
			"%s/dev/inbox (for development only: whoever can open it can read every code).\n", base)
	} else {
		fmt.Printf("\nMail goes through the SMTP server at %s.\n", smtp)
	}
	fmt.Printf("\nThe API is at %s/api/v1/. The app's own pages:\n"+
		"  %s/account  server-rendered, for the session cookie the page gets at login\n"+
		"  %s/hello    JSON, for a bearer token\n", base, base, base)
	if demo {
		printCurlStart(base, specs)
	}
	if public == 0 {
		fmt.Println("\nThe page at / needs a public project (-project TYPE:CLIENT_ID::public); there is none.")
	}
	fmt.Printf("\nOpen %s/ in a browser to sign up, log in and see the protected page.\n", base)
	fmt.Println("Stop with Ctrl-C.")
}

// printCurlStart prints the line that sets the variables of the README's
// curl walk-through, and its first command.
func printCurlStart(base string, specs []ihoprauth.ProjectSpec) {
	fmt.Println("\nTo follow the README's curl walk-through, paste into your shell:")
	fmt.Printf("\n  export BASE=%s", base)
	for _, s := range specs {
		if !s.Public {
			fmt.Printf(" %s_SECRET=%s", strings.ToUpper(strings.ReplaceAll(string(s.Type), "-", "_")), s.ClientSecret)
		}
	}
	fmt.Printf("\n\nand follow the README from its first command:\n\n")
	fmt.Println(`  curl -s $BASE/api/v1/signup -H 'Content-Type: application/json' -d '{"client_id":"demo-none",` + "\n" +
		`    "client_secret":"'$NONE_SECRET'","email":"ada@example.com","password":"correct horse battery",` + "\n" +
		`    "first_name":"Ada","last_name":"Lovelace","mobile_number":11223344,"meta":"{\"address\":\"NJ\"}"}'`)
}
