package bulkbench

import (
	"os"
	"syscall"
)

// maxRSS is the peak resident set size of an exited process, in KiB.
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}
