package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/store"
)

// schemaOf describes db's ihoprauth tables: each table's columns (name,
// type, nullability) and indexes (name, columns, uniqueness), sorted, so
// that two schemas can be compared.
func schemaOf(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	m := db.Migrator()
	tables, err := m.GetTables()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, table := range tables {
		if !strings.HasPrefix(table, "ihoprauth_") {
			continue
		}
		cols, err := m.ColumnTypes(table)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			null, _ := c.Nullable()
			out = append(out, fmt.Sprintf("%s.%s %s null=%v", table, c.Name(), strings.ToLower(c.DatabaseTypeName()), null))
		}
		indexes, err := m.GetIndexes(table)
		if err != nil {
			t.Fatal(err)
		}
		for _, ix := range indexes {
			unique, _ := ix.Unique()
			out = append(out, fmt.Sprintf("%s index %s %v unique=%v", table, ix.Name(), ix.Columns(), unique))
		}
	}
	slices.Sort(out)
	return out
}

// applySQL runs stmts on db, as a DBA would.
func applySQL(t *testing.T, db *gorm.DB, stmts []string) {
	t.Helper()
	for _, s := range stmts {
		if err := db.Exec(s).Error; err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestMigrationSQL builds a database from the statements MigrationSQL
// prints, and upgrades one at step 7 the same way: each ends with the
// schema that Migrate makes, and a Store with NoMigrate accepts it.
func TestMigrationSQL(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		migrated := testdb.Open(t, backend)
		newStore(t, migrated)
		want := schemaOf(t, migrated)
		if stmts, err := store.MigrationSQL(ctx, migrated); err != nil || len(stmts) != 0 {
			t.Fatalf("MigrationSQL of an up-to-date database: got %q, %v; want nothing", stmts, err)
		}

		t.Run("new database", func(t *testing.T) {
			db := testdb.Open(t, backend)
			_, err := store.New(ctx, db, store.Config{NoMigrate: true})
			if !errors.Is(err, store.ErrSchemaBehind) || !strings.Contains(err.Error(), "1 (create tables)") {
				t.Fatalf("New with NoMigrate on an empty database: got %v, want ErrSchemaBehind naming step 1", err)
			}
			stmts, err := store.MigrationSQL(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if got := schemaOf(t, db); len(got) != 0 {
				t.Fatalf("MigrationSQL changed the database: %v", got)
			}
			applySQL(t, db, stmts)
			if got := schemaOf(t, db); !slices.Equal(got, want) {
				t.Fatalf("the schema from MigrationSQL:\n%s\nwant the one Migrate makes:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			checkNoMigrateWorks(t, db)
		})

		t.Run("upgrade from step 7", func(t *testing.T) {
			db := testdb.Open(t, backend)
			newStore(t, db)
			for _, stmt := range []string{
				"ALTER TABLE ihoprauth_changes DROP COLUMN project_id",
				"ALTER TABLE ihoprauth_events DROP COLUMN actor",
				"DROP TABLE ihoprauth_api_keys",
				"DELETE FROM ihoprauth_schema_migrations WHERE version IN (8, 9)",
			} {
				if err := db.Exec(stmt).Error; err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			_, err := store.New(ctx, db, store.Config{NoMigrate: true})
			if !errors.Is(err, store.ErrSchemaBehind) || !strings.Contains(err.Error(), "8 (") || strings.Contains(err.Error(), "7 (") {
				t.Fatalf("New with NoMigrate at step 7: got %v, want ErrSchemaBehind naming steps 8 and 9 only", err)
			}
			stmts, err := store.MigrationSQL(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			joined := strings.Join(stmts, ";\n")
			for _, s := range []string{"ihoprauth_api_keys", "project_id", "actor", "VALUES (8,", "VALUES (9,"} {
				if !strings.Contains(joined, s) {
					t.Errorf("MigrationSQL at step 7 does not mention %s:\n%s", s, joined)
				}
			}
			if strings.Contains(joined, "ihoprauth_users") {
				t.Errorf("MigrationSQL at step 7 touches the users table:\n%s", joined)
			}
			applySQL(t, db, stmts)
			if got := schemaOf(t, db); !slices.Equal(got, want) {
				t.Fatalf("the schema after the upgrade:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			checkNoMigrateWorks(t, db)
		})
	})
}

// checkNoMigrateWorks opens a Store with NoMigrate on db and uses it.
func checkNoMigrateWorks(t *testing.T, db *gorm.DB) {
	t.Helper()
	st, err := store.New(context.Background(), db, store.Config{NoMigrate: true})
	if err != nil {
		t.Fatalf("New with NoMigrate after the statements: %v", err)
	}
	p := ihoprauth.Project{ClientID: "web", Type: ihoprauth.TypeNone, SecretHash: "0123"}
	if err := st.SaveProject(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendChange(context.Background(), ihoprauth.Change{ProjectID: p.ID}); err != nil {
		t.Fatal(err)
	}
}
