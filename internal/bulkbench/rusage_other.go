//go:build !linux

package bulkbench

import "os"

func maxRSS(*os.ProcessState) int64 { return 0 }
