package main

import (
	"fmt"
	"strings"

	"github.com/ihoprauth/ihoprauth"
)

// printUsage tells a newcomer how to call the server. Secrets are printed
// only when they were generated here (the demo projects).
func printUsage(addr string, specs []ihoprauth.ProjectSpec, demo bool, smtp string) {
	base := "http://" + addr
	fmt.Printf("ihoprauth example listening on %s\n\nProjects:\n", base)
	for _, s := range specs {
		secret := "(as given with -project)"
		switch {
		case s.Public && s.ClientSecret == "":
			secret = "(none: public client)"
		case demo:
			secret = s.ClientSecret
		}
		fmt.Printf("  %-9s client_id=%-14s client_secret=%s\n", s.Type, s.ClientID, secret)
	}
	if smtp == "" {
		fmt.Println("\nNo -smtp given: every mail, codes included, is printed to stderr.")
	} else {
		fmt.Printf("\nMail goes through the SMTP server at %s.\n", smtp)
	}
	fmt.Printf("\nThe API is at %s/api/v1/ and the app's protected route at %s/hello.\n", base, base)
	if demo {
		fmt.Println("To follow the README's curl walk-through, paste into your shell:")
		fmt.Printf("\n  export BASE=%s", base)
		for _, s := range specs {
			fmt.Printf(" %s_SECRET=%s", strings.ToUpper(strings.ReplaceAll(string(s.Type), "-", "_")), s.ClientSecret)
		}
		fmt.Printf("\n\nand follow the README from its first command:\n\n")
		fmt.Println(`  curl -s $BASE/api/v1/signup -H 'Content-Type: application/json' -d '{"client_id":"demo-none",` + "\n" +
			`    "client_secret":"'$NONE_SECRET'","email":"ada@example.com","password":"correct horse battery",` + "\n" +
			`    "first_name":"Ada","last_name":"Lovelace","mobile_number":11223344,"meta":"{\"address\":\"NJ\"}"}'`)
	}
	fmt.Println("\nStop with Ctrl-C.")
}
