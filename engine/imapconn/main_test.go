package imapconn

import (
	"os"
	"testing"

	"github.com/mailwarden/mailwarden/internal/dovecottest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	dovecottest.StopShared()
	os.Exit(code)
}
