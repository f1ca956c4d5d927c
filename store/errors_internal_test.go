package store

import (
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
	gormmysql "gorm.io/driver/mysql"
)

// TestGaleraNodeErrorsAreUnavailable: the errors of a MariaDB or Galera
// node that cannot answer now are 503, those of a wrong request are not
// (docs/design.md, D46).
func TestGaleraNodeErrorsAreUnavailable(t *testing.T) {
	dialector := gormmysql.Open("")
	for _, tt := range []struct {
		number uint16
		want   bool
	}{
		{1047, true}, // WSREP has not yet prepared node for application use
		{1053, true}, // server shutdown in progress
		{1927, true}, // connection was killed
		{2013, true}, // lost connection during query
		{1062, false},
		{1146, false},
	} {
		t.Run(fmt.Sprint(tt.number), func(t *testing.T) {
			err := fmt.Errorf("query: %w", &mysql.MySQLError{Number: tt.number, Message: "x"})
			if got := unavailable(dialector, err); got != tt.want {
				t.Errorf("unavailable(error %d): got %v, want %v", tt.number, got, tt.want)
			}
		})
	}
}
